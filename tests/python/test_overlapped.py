"""Overlapped socket I/O: wsevent.Operation over real sockets."""
import asyncio
import gc
import os
import socket
import threading
import time
import weakref

import pytest

import wsevent


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def tcp():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    yield server, client
    for s in (listener, client, server):
        s.close()


def test_a_receive_pends_then_completes_and_sets_its_event(pair):
    a, b = pair
    op = wsevent.recv_overlapped(a, 100)
    assert not op.done() and op.kind == "recv"
    assert not op.event.is_set()
    with pytest.raises(wsevent.Error) as e:
        op.result()
    assert e.value.code == wsevent.WSEVENT_IO_INCOMPLETE
    b.send(b"hello")
    assert op.event.wait(5)
    assert op.done()
    assert op.result() == b"hello"
    assert op.result() == b"hello"  # the same outcome every time


def test_a_receive_with_data_there_completes_at_once_and_still_signals(pair):
    a, b = pair
    b.send(b"now")
    ev = wsevent.Event()
    op = wsevent.recv_overlapped(a, 10, event=ev)
    assert op.done() and op.event is ev and ev.is_set()
    assert op.result() == b"now"


def test_end_of_stream_gives_empty_bytes(pair):
    a, b = pair
    op = wsevent.recv_overlapped(a, 10)
    b.shutdown(socket.SHUT_WR)
    assert op.result(wait=True) == b""


def test_recv_into_keeps_the_buffer_until_completion(pair):
    a, b = pair
    buf = bytearray(8)
    op = wsevent.recv_into_overlapped(a, buf)
    with pytest.raises(BufferError):
        buf.extend(b"x")  # exported to the pending operation
    b.send(b"1234")
    assert op.result(wait=True) == 4
    assert buf[:4] == b"1234"
    buf.extend(b"x")  # let go once complete


def test_sends_gather_buffers_and_complete_whole_in_order(tcp):
    server, client = tcp
    big = bytes(range(256)) * 16384  # 4 MiB: far beyond the socket buffer
    first = wsevent.send_overlapped(server, [big[:1000], memoryview(big)[1000:]])
    second = wsevent.send_overlapped(server, bytearray(b"tail"))
    got = bytearray()
    reader = threading.Thread(target=lambda: [
        got.extend(client.recv(1 << 20)) for _ in iter(lambda: len(got) < len(big) + 4, False)])
    reader.start()
    assert first.result(wait=True) == len(big)
    assert second.result(wait=True) == 4
    reader.join(10)
    assert bytes(got) == big + b"tail"


def test_queued_receives_take_every_byte_once_in_order(tcp):
    server, client = tcp
    data = bytes(i * 7 % 251 for i in range(50000))
    ops = [wsevent.recv_overlapped(server, 37) for _ in range(32)]
    client.sendall(data)
    got = bytearray()
    while len(got) < len(data):
        op = ops.pop(0)
        chunk = op.result(wait=True)
        assert chunk
        got += chunk
        ops.append(wsevent.recv_overlapped(server, 37))
    assert bytes(got) == data
    for op in ops:
        op.cancel()


def test_ten_thousand_operations_account_for_every_byte(tcp):
    server, client = tcp
    data = bytes(i * 13 % 256 for i in range(60000))
    sender = threading.Thread(target=client.sendall, args=(data,))
    sender.start()
    got, ops = bytearray(), 0
    pending = [wsevent.recv_overlapped(server, 1 + i % 5) for i in range(8)]
    while len(got) < len(data):
        op = pending.pop(0)
        got += op.result(wait=True)
        ops += 1
        pending.append(wsevent.recv_overlapped(server, 1 + ops % 5))
    sender.join()
    assert ops >= 10000
    assert bytes(got) == data
    for op in pending:
        assert op.cancel()


def test_a_reset_by_the_peer_raises_connection_reset(tcp):
    import struct
    server, client = tcp
    op = wsevent.recv_overlapped(server, 10)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
    with pytest.raises(ConnectionResetError):
        op.result(wait=True)


def test_a_routine_runs_in_the_starting_threads_alertable_wait(pair):
    a, b = pair
    seen = []
    op = wsevent.recv_overlapped(
        a, 10, routine=lambda o: seen.append((o, o.result(), threading.get_ident())))
    assert op.event is None
    b.send(b"rt")
    op.result(wait=True)
    assert seen == []  # not until an alertable wait
    assert wsevent.sleep(5, alertable=True) is True
    assert seen == [(op, b"rt", threading.get_ident())]


def test_an_error_in_a_routine_comes_out_of_the_wait(pair):
    a, b = pair

    def boom(op):
        raise ValueError("from the routine")

    wsevent.send_overlapped(a, b"x", routine=boom)
    with pytest.raises(ValueError, match="from the routine"):
        wsevent.sleep(5, alertable=True)


def test_a_routine_whose_thread_ends_is_released(pair):
    a, b = pair
    refs = []

    def start():
        op = wsevent.recv_overlapped(a, 10, routine=lambda o: None)
        refs.append(weakref.ref(op))
        b.send(b"z")
        op.result(wait=True)  # done, routine queued, never run here

    t = threading.Thread(target=start)
    t.start()
    t.join()
    # The OS thread ends (and its routines are released) a moment after
    # join() returns; any later call into the module drops them.
    deadline = time.monotonic() + 10
    while refs[0]() is not None and time.monotonic() < deadline:
        time.sleep(0.001)
        wsevent.recv_overlapped(b, 0).cancel()  # a call that collects releases
        gc.collect()
    assert refs[0]() is None


def test_cancel_completes_aborted_and_later_operations_still_run(pair):
    a, b = pair
    first = wsevent.recv_overlapped(a, 10)
    second = wsevent.recv_overlapped(a, 10)
    assert second.cancel() is True
    assert second.cancel() is False
    with pytest.raises(wsevent.Error) as e:
        second.result()
    assert e.value.code == wsevent.WSEVENT_EABORTED
    b.send(b"one")
    assert first.result(wait=True) == b"one"


def test_close_socket_aborts_pending_operations():
    a, b = socket.socketpair()
    op = wsevent.recv_overlapped(a, 10)
    wsevent.close_socket(a)
    assert a.fileno() == -1
    with pytest.raises(wsevent.Error) as e:
        op.result(wait=True)
    assert e.value.code == wsevent.WSEVENT_EABORTED
    b.close()


def test_a_collected_pending_operation_is_cancelled_and_writes_nothing(pair):
    a, b = pair
    buf = bytearray(16)
    op = wsevent.recv_into_overlapped(a, buf)
    del op
    gc.collect()
    b.send(b"after")
    assert a.recv(16) == b"after"  # nobody took it
    assert buf == bytearray(16)


def test_accept_and_connect():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepting = wsevent.accept_overlapped(listener)
    client = socket.socket()
    connecting = wsevent.connect_overlapped(client, listener.getsockname())
    assert connecting.result(wait=True) is None
    conn, address = accepting.result(wait=True)
    assert isinstance(conn, socket.socket)
    assert address == client.getsockname()
    client.send(b"hi")
    assert conn.recv(2) == b"hi"
    for s in (listener, client, conn):
        s.close()


def test_sockets_accept_overlapped_made_are_vouched_for_while_they_hold_their_fd():
    # An operation that must wait skips the check that the descriptor is
    # still the record's socket when it starts on the very object that
    # accept_overlapped made, still open.
    import os
    listener = socket.create_server(("127.0.0.1", 0))
    accepting = wsevent.accept_overlapped(listener)
    client = socket.create_connection(listener.getsockname())
    conn, _ = accepting.result(wait=True)
    seen = []
    wsevent.recv_overlapped(conn, 10, routine=seen.append)
    client.send(b"a")
    assert wsevent.sleep(5, alertable=True) is True
    assert seen[0].result() == b"a"
    # Another socket on the number behind the object's back (a program
    # bug): the object is trusted, and its receive waits on the old
    # socket's record, which nothing reports.
    other_client = socket.create_connection(listener.getsockname())
    other, _ = listener.accept()
    fd = conn.fileno()
    os.dup2(other.fileno(), fd)
    wsevent.recv_overlapped(conn, 10, routine=seen.append)
    other_client.send(b"b")
    assert wsevent.sleep(0.1, alertable=True) is False
    assert len(seen) == 1
    # The descriptor as an int is not vouched for: checked, the old record
    # goes (its receive aborted) and the new socket's byte comes in.
    wsevent.recv_overlapped(fd, 10, routine=seen.append)
    while len(seen) < 3:
        assert wsevent.sleep(5, alertable=True) is True
    with pytest.raises(wsevent.Error) as e:
        seen[1].result()
    assert e.value.code == wsevent.WSEVENT_EABORTED
    assert seen[2].result() == b"b"
    wsevent.close_socket(conn)
    for s in (listener, client, other_client, other):
        s.close()


def test_a_refused_connect_raises_the_systems_error():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    address = listener.getsockname()
    listener.close()
    client = socket.socket()
    op = wsevent.connect_overlapped(client, address)
    with pytest.raises(ConnectionRefusedError):
        op.result(wait=True)
    client.close()


def test_datagrams_with_addresses():
    u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u1.bind(("127.0.0.1", 0))
    u2.bind(("127.0.0.1", 0))
    op = wsevent.recvfrom_overlapped(u1, 100)
    sent = wsevent.sendto_overlapped(u2, b"datagram", u1.getsockname())
    assert sent.result(wait=True) == 8
    assert op.result(wait=True) == (b"datagram", u2.getsockname())
    u1.close()
    u2.close()


def test_await_operations_on_one_loop_thread(tcp):
    server, client = tcp

    async def main():
        loop = asyncio.get_running_loop()
        reads = [wsevent.recv_overlapped(server, 1) for _ in range(5)]
        loop.call_later(0.02, client.send, b"abcde")
        return [await op for op in reads]

    assert asyncio.run(main()) == [b"a", b"b", b"c", b"d", b"e"]


def test_cancelling_an_awaiting_task_cancels_the_operation(pair):
    a, b = pair

    async def main():
        op = wsevent.recv_overlapped(a, 10)
        task = asyncio.ensure_future(op)
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return op

    op = asyncio.run(main())
    assert op.done()
    b.send(b"kept")
    assert a.recv(10) == b"kept"


def test_a_reused_event_is_reset_by_the_start_and_awaiting_never_spins(pair):
    """The Winsock loop reuses one event for each receive without resetting
    it (Windows' start resets it).  Awaiting must wait, not spin: a ticker
    task keeps running meanwhile."""
    a, b = pair
    ev = wsevent.Event()

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        t = asyncio.ensure_future(ticker())
        b.send(b"one")
        assert await wsevent.recv_overlapped(a, 10, event=ev) == b"one"
        assert ev.is_set()
        op = wsevent.recv_overlapped(a, 10, event=ev)
        assert not ev.is_set()
        asyncio.get_running_loop().call_later(0.1, b.send, b"two")
        start = time.process_time()
        assert await op == b"two"
        cpu = time.process_time() - start
        t.cancel()
        return ticks, cpu

    ticks, cpu = asyncio.run(main())
    assert ticks >= 5
    assert cpu < 0.09  # waited, not spun through the 0.1 s


@pytest.mark.parametrize("manual", [True, False])
def test_operations_sharing_one_event_are_each_awaited_to_their_end(pair, manual):
    """Two pending receives on one event (Windows leaves it undefined): the
    first completion sets it for both awaiters; the other one neither spins
    nor steals the signal, and completes when its own data comes."""
    a, b = pair
    ev = wsevent.Event(manual_reset=manual)

    async def main():
        op1 = wsevent.recv_overlapped(a, 5, event=ev)
        op2 = wsevent.recv_overlapped(a, 5, event=ev)
        t1 = asyncio.ensure_future(op1)
        t2 = asyncio.ensure_future(op2)
        b.send(b"first")
        assert await asyncio.wait_for(t1, 5) == b"first"
        start = time.process_time()
        await asyncio.sleep(0.2)
        assert not t2.done()
        busy = time.process_time() - start
        b.send(b"again")
        assert await asyncio.wait_for(t2, 5) == b"again"
        return busy

    assert asyncio.run(main()) < 0.1


def test_result_async_with_a_timeout_never_drops_what_an_operation_moved():
    """Cancelling a task whose receive completed drops the data with the
    Operation (asyncio.wait_for, asyncio.timeout); result_async(timeout)
    decides against the operation itself, as Windows would."""
    a, b = socket.socketpair()
    a.setblocking(False)
    total = 200_000

    async def main():
        async def feed():
            for _ in range(total // 100):
                b.send(b"y" * 100)
                await asyncio.sleep(0)
            b.shutdown(socket.SHUT_WR)

        f = asyncio.ensure_future(feed())
        got, timeouts = 0, 0
        while True:
            try:
                data = await wsevent.recv_overlapped(a, 150).result_async(0.0001)
            except TimeoutError:
                timeouts += 1
                continue
            if not data:
                break
            got += len(data)
        await f
        return got, timeouts

    got, timeouts = asyncio.run(main())
    assert got == total
    a.close()
    b.close()


def test_result_async_times_out_by_cancelling_and_reports_a_partial_send():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    size = 64 << 20  # more than the kernel's buffers take while nobody reads

    async def main():
        op = wsevent.recv_overlapped(server, 10)
        with pytest.raises(TimeoutError):
            await op.result_async(0.02)
        assert op.done() and op.bytes == 0
        with pytest.raises(wsevent.Error) as e:
            op.result()
        assert e.value.code == wsevent.WSEVENT_EABORTED
        big = wsevent.send_overlapped(server, b"z" * size)
        with pytest.raises(TimeoutError):
            await big.result_async(0.05)
        return big.bytes

    sent = asyncio.run(main())
    assert 0 < sent < size
    got = 0
    client.settimeout(1)
    while got < sent:
        got += len(client.recv(1 << 16))
    assert got == sent  # what op.bytes says went is what the peer gets
    for s in (listener, client, server):
        s.close()


def test_a_completed_accept_nobody_took_is_closed_with_its_operation():
    listener = socket.create_server(("127.0.0.1", 0))
    before = len(os.listdir("/proc/self/fd"))
    clients = []
    for _ in range(20):
        op = wsevent.accept_overlapped(listener)
        clients.append(socket.create_connection(listener.getsockname()))
        deadline = time.monotonic() + 5
        while not op.done() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert op.done()
        del op
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) - before - len(clients) <= 5
    clients[0].settimeout(5)
    assert clients[0].recv(10) == b""  # the server's end went
    for c in clients:
        c.close()
    listener.close()


def test_accept_and_connect_tell_the_socket_object_it_is_non_blocking():
    listener = socket.create_server(("127.0.0.1", 0))
    op = wsevent.accept_overlapped(listener)
    assert listener.getblocking() is False
    client = socket.socket()
    cop = wsevent.connect_overlapped(client, listener.getsockname())
    assert client.getblocking() is False
    cop.result(wait=True)
    conn, _ = op.result(wait=True)
    with pytest.raises(BlockingIOError):
        listener.accept()  # as a non-blocking socket says
    for s in (listener, client, conn):
        s.close()


def test_a_truncated_datagram_says_so_in_its_flags():
    u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u1.bind(("127.0.0.1", 0))
    op = wsevent.recvfrom_overlapped(u1, 4)
    assert op.flags is None and op.bytes is None  # pending
    u2.sendto(b"too long", u1.getsockname())
    data, _ = op.result(wait=True)
    assert data == b"too "
    assert op.flags & socket.MSG_TRUNC and op.bytes == 4
    ok = wsevent.recvfrom_overlapped(u1, 100)
    u2.sendto(b"fits", u1.getsockname())
    assert ok.result(wait=True)[0] == b"fits" and ok.flags == 0
    u1.close()
    u2.close()


def test_close_socket_on_a_closed_socket_object_does_nothing(pair):
    a, b = pair
    wsevent.close_socket(a)
    assert a.fileno() == -1
    assert wsevent.close_socket(a) is None  # as sock.close(), twice


def test_an_operation_with_a_routine_cannot_be_awaited(pair):
    a, b = pair
    op = wsevent.recv_overlapped(a, 1, routine=lambda o: None)

    async def main():
        await op

    with pytest.raises(TypeError, match="routine"):
        asyncio.run(main())
    op.cancel()
    wsevent.sleep(0, alertable=True)


def test_wrong_inputs_get_clear_errors(pair, tmp_path):
    a, b = pair
    with pytest.raises(TypeError):
        wsevent.recv_overlapped("not a socket", 10)
    with pytest.raises(ValueError, match="negative"):
        wsevent.recv_overlapped(a, -1)
    with pytest.raises(OverflowError):
        wsevent.recv_overlapped(a, 1 << 70)
    with pytest.raises(TypeError, match="writable"):
        wsevent.recv_into_overlapped(a, b"immutable")
    with pytest.raises(TypeError, match="bytes-like"):
        wsevent.send_overlapped(a, "text")
    with pytest.raises(TypeError, match="bytes-like"):
        wsevent.send_overlapped(a, [b"ok", 3])
    with pytest.raises(TypeError, match="Event or None"):
        wsevent.recv_overlapped(a, 1, event=42)
    closed = wsevent.Event()
    closed.close()
    with pytest.raises(ValueError):
        wsevent.recv_overlapped(a, 1, event=closed)
    with pytest.raises(TypeError, match="callable"):
        wsevent.recv_overlapped(a, 1, routine=3)
    with pytest.raises(wsevent.Error) as e:
        with open(tmp_path / "f", "wb") as f:
            wsevent.recv_overlapped(f, 1)
    assert e.value.code == wsevent.WSEVENT_ENOTSOCK
    with pytest.raises(wsevent.Error) as e:
        wsevent.recv_overlapped(a, 1, socket.MSG_PEEK)
    assert e.value.code == wsevent.WSEVENT_EINVAL
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pytest.raises(TypeError, match="host, port"):
        wsevent.sendto_overlapped(u, b"x", ("127.0.0.1",))
    with pytest.raises(TypeError, match="tuple"):
        wsevent.sendto_overlapped(u, b"x", "127.0.0.1:9")
    with pytest.raises(OverflowError):
        wsevent.sendto_overlapped(u, b"x", ("127.0.0.1", 70000))
    u.close()
    with pytest.raises(TypeError):
        wsevent.Operation()
    n = socket.socket()
    with pytest.raises(OSError):
        wsevent.send_overlapped(n, b"never connected")
    n.close()


def test_the_stub_names_everything_the_package_exports():
    import ast
    import pathlib
    stub = ast.parse(pathlib.Path(wsevent.__file__).with_name("__init__.pyi").read_text())
    names = set()
    for node in stub.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    assert [n for n in wsevent.__all__ if n not in names] == []
