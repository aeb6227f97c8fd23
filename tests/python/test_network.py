"""event_select / enum_network_events over loopback sockets, and timers."""
import errno
import os
import resource
import select
import socket
import struct
import time

import pytest

import wsevent
from wsevent import FD


def listener():
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen(64)
    return l


def tcp_pair():
    l = listener()
    c = socket.create_connection(l.getsockname())
    s, _ = l.accept()
    l.close()
    return c, s


def next_events(sock, ev):
    assert ev.wait(5)
    return wsevent.enum_network_events(sock, ev)


def test_accept_with_errors_per_bit():
    l = listener()
    ev = wsevent.Event()
    wsevent.event_select(l, ev, FD.ACCEPT)
    c = socket.create_connection(l.getsockname())
    ne = next_events(l, ev)
    assert ne.events == FD.ACCEPT and ne.errors == {FD.ACCEPT: 0}
    l.accept()[0].close()
    c.close()


def test_select_takes_descriptors_and_makes_sockets_non_blocking():
    import fcntl
    import os
    l = listener()
    ev = wsevent.Event()
    wsevent.event_select(l.fileno(), ev, FD.ACCEPT | FD.CLOSE)
    assert fcntl.fcntl(l.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
    m = listener()
    wsevent.event_select(m, ev, FD.ACCEPT)
    assert m.getblocking() is False  # a socket object is told, too


def test_connect_success_and_refused():
    l = listener()
    ev = wsevent.Event()
    c = socket.socket()
    wsevent.event_select(c, ev, FD.CONNECT | FD.WRITE)
    assert c.connect_ex(l.getsockname()) in (0, errno.EINPROGRESS)
    seen = FD(0)
    while seen != FD.CONNECT | FD.WRITE:
        ne = next_events(c, ev)
        seen |= ne.events
        if FD.CONNECT in ne.events:
            assert ne.errors[FD.CONNECT] == 0
    addr = l.getsockname()
    l.close()
    r = socket.socket()
    ev2 = wsevent.Event()
    wsevent.event_select(r, ev2, FD.CONNECT)
    # Linux may refuse a loopback connect in the call itself, where Windows
    # says WSAEWOULDBLOCK: either way FD_CONNECT reports the refusal.
    assert r.connect_ex(addr) in (errno.EINPROGRESS, errno.ECONNREFUSED)
    ne = next_events(r, ev2)
    assert ne.events == FD.CONNECT and ne.errors[FD.CONNECT] == errno.ECONNREFUSED


def test_read_with_data_left_over_is_recorded_again():
    c, s = tcp_pair()
    ev = wsevent.Event()
    wsevent.event_select(s, ev, FD.READ)
    c.send(b"0123456789")
    assert next_events(s, ev).events == FD.READ
    # As on Windows, nothing is recorded again until a read...
    assert not ev.is_set()
    # ...but socket.recv goes past wsevent, so a new wait re-enables FD_READ
    # itself and finds the data still there.
    assert next_events(s, ev).events == FD.READ
    assert s.recv(100) == b"0123456789"
    assert wsevent.enum_network_events(s, ev).events == FD(0)
    assert not ev.wait(0)


def test_write_after_a_full_buffer():
    c, s = tcp_pair()
    ev = wsevent.Event()
    wsevent.event_select(c, ev, FD.WRITE)
    assert wsevent.enum_network_events(c, ev).events == FD.WRITE
    sent = 0
    try:
        while True:
            sent += c.send(b"x" * 65536)
    except BlockingIOError:
        pass
    assert wsevent.enum_network_events(c, ev).events == FD(0)
    got = 0
    while got < sent:
        got += len(s.recv(1 << 20))
    assert next_events(c, ev).events == FD.WRITE


def test_oob_graceful_close_and_reset():
    c, s = tcp_pair()
    ev = wsevent.Event()
    wsevent.event_select(s, ev, FD.OOB | FD.READ | FD.CLOSE)
    c.send(b"!", socket.MSG_OOB)
    assert FD.OOB in next_events(s, ev).events
    s.recv(1, socket.MSG_OOB)
    c.send(b"bye")
    c.close()
    data, closed = b"", None
    for _ in range(10):
        ne = next_events(s, ev)
        if FD.CLOSE in ne.events:
            closed = ne.errors[FD.CLOSE]
            break
        if FD.READ in ne.events:
            try:
                data += s.recv(100)
            except BlockingIOError:
                pass
    assert data == b"bye" and closed == 0

    c, s = tcp_pair()
    ev = wsevent.Event()  # the first half may have left the old one set
    wsevent.event_select(s, ev, FD.CLOSE)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    ne = next_events(s, ev)
    assert ne.events == FD.CLOSE and ne.errors[FD.CLOSE] == errno.ECONNRESET


def test_a_reset_before_the_select_is_a_close_and_recv_still_raises_it():
    c, s = tcp_pair()
    c.send(b"abc")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    p = select.poll()  # until the reset has arrived (POLLHUP is always asked)
    p.register(s, 0)
    assert p.poll(5000)
    ev = wsevent.Event()
    wsevent.event_select(s, ev, FD.READ | FD.WRITE | FD.CLOSE)
    ne = next_events(s, ev)
    assert ne.events == FD.CLOSE and ne.errors[FD.CLOSE] == errno.ECONNRESET
    assert wsevent.recv(s, 100) == b"abc"
    with pytest.raises(ConnectionResetError):
        wsevent.recv(s, 100)  # not a clean end of stream
    s.close()


def test_udp_read_and_write():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    ev = wsevent.Event(manual_reset=False)
    wsevent.event_select(u, ev, FD.READ | FD.WRITE)
    assert wsevent.enum_network_events(u, ev).events == FD.WRITE
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"d", u.getsockname())
    assert next_events(u, ev).events == FD.READ


def test_reselect_and_cancel():
    c, s = tcp_pair()
    e1, e2 = wsevent.Event(), wsevent.Event()
    wsevent.event_select(s, e1, FD.READ)
    wsevent.event_select(s, e2, FD.READ)
    c.send(b"x")
    assert e2.wait(5) and not e1.is_set()
    wsevent.event_select(s, None, 0)
    assert wsevent.enum_network_events(s).events == FD(0)


def test_closed_socket_is_dropped_and_others_keep_working():
    c, s = tcp_pair()
    c2, s2 = tcp_pair()
    ev, other = wsevent.Event(), wsevent.Event()
    wsevent.event_select(s, ev, FD.READ)
    wsevent.event_select(s2, other, FD.READ)
    fd = s.fileno()
    s.close()
    with pytest.raises(wsevent.Error) as info:
        wsevent.enum_network_events(fd)
    assert info.value.name == "WSEVENT_ENOTSOCK"
    c2.send(b"y")
    assert next_events(s2, other).events == FD.READ


def test_enumeration_trusts_only_the_socket_object_that_was_selected():
    # The selected object, still open on its descriptor, is enumerated
    # without the check that the number is still its socket; anything else
    # (an int, another object on a reused number) gets the check.
    c, s = tcp_pair()
    ev = wsevent.Event()
    mask = FD.READ | FD.CLOSE
    wsevent.event_select(s, ev, mask)
    c.send(b"y")
    assert ev.wait(5)  # set by recording: nothing was enumerated yet
    fd = s.fileno()
    # A socket put on the number behind the object's back (a program bug:
    # Python's own socket object would then close a stranger): the object
    # is trusted and sees its selection's record; an int is checked, and
    # the check drops the selection.
    c2, s2 = tcp_pair()
    os.dup2(s2.fileno(), fd)
    assert wsevent.enum_network_events(s, ev).events == FD.READ
    assert not ev.is_set()
    assert wsevent.enum_network_events(fd).events == FD(0)
    assert wsevent._wsevent._socket_selection(fd) == (0, 0)
    # Closed, and the number reused by a socket nobody selected: the new
    # object is not the one remembered, so the stale selection is dropped.
    c3, s3 = tcp_pair()
    wsevent.event_select(s3, ev, FD.READ)
    n = s3.fileno()
    s3.close()
    fresh = socket.socket()
    os.dup2(fresh.fileno(), n)  # (a no-op if fresh got n)
    reused = fresh if fresh.fileno() == n else socket.socket(fileno=n)
    assert wsevent.enum_network_events(reused).events == FD(0)
    assert wsevent._wsevent._socket_selection(n) == (0, 0)
    for x in {c, c2, s, s2, c3, fresh, reused}:
        x.close()


def test_accepted_socket_objects_are_trusted_as_selected():
    l = listener()
    ev = wsevent.Event()
    wsevent.event_select(l, ev, FD.ACCEPT | FD.READ | FD.CLOSE)
    c = socket.create_connection(l.getsockname())
    assert ev.wait(5)  # FD_ACCEPT: left in the record, never enumerated
    conn, _ = wsevent.accept(l)
    ev.clear()
    c.send(b"hi")
    assert ev.wait(5)  # set by recording conn's FD_READ
    # Trusted (no check): a file put behind its back is not noticed; an
    # int is checked, and the check drops the selection.
    other = socket.socket()
    os.dup2(other.fileno(), conn.fileno())
    assert wsevent.enum_network_events(conn, ev).events == FD.READ
    assert wsevent.enum_network_events(conn.fileno()).events == FD(0)
    assert wsevent._wsevent._socket_selection(conn) == (0, 0)
    for x in (c, conn, other, l):
        x.close()


def test_a_thousand_sockets_at_once():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    pairs = [socket.socketpair() for _ in range(1000)]
    evs = [wsevent.Event(manual_reset=False) for _ in pairs]
    for (a, _), ev in zip(pairs, evs):
        wsevent.event_select(a, ev, FD.READ)
    for _, b in pairs:
        b.send(b"z")
    seen = set()
    while len(seen) < 1000:
        i = wsevent.wait_any(evs, 5)
        assert i is not None
        # A set may land after the enumeration that took its record (the
        # reactor sets events once its lock is released): a spurious
        # wake-up, which finds nothing recorded.
        ne = wsevent.enum_network_events(pairs[i][0])
        if i in seen:
            assert not ne.read
            continue
        assert ne.read
        seen.add(i)
        pairs[i][0].recv(1)
    for a, b in pairs:
        a.close()
        b.close()


def test_timers_one_shot_and_periodic():
    ev = wsevent.Event(manual_reset=False)
    t0 = time.monotonic()
    t = wsevent.timer_start(ev, 0.05)
    assert ev.wait(5) and time.monotonic() - t0 >= 0.049
    assert not ev.wait(0.1)
    with pytest.raises(wsevent.Error):
        wsevent.timer_cancel(t)  # finished
    t = wsevent.timer_start(ev, 0, period=0.02)
    for _ in range(3):
        assert ev.wait(5)
    wsevent.timer_cancel(t)
    ev.wait(0)
    assert not ev.wait(0.1)


@pytest.mark.parametrize("call,exc", [
    (lambda: wsevent.event_select(socket.socket(), wsevent.Event(), FD.QOS), wsevent.Error),
    (lambda: wsevent.event_select(socket.socket(), wsevent.Event(), 1 << 12), ValueError),
    (lambda: wsevent.event_select(socket.socket(), wsevent.Event(), "r"), TypeError),
    (lambda: wsevent.event_select("s", wsevent.Event(), FD.READ), TypeError),
    (lambda: wsevent.event_select(socket.socket(), None, FD.READ), TypeError),
    (lambda: wsevent.event_select(__import__("os").pipe()[0], wsevent.Event(), FD.READ), wsevent.Error),
    (lambda: wsevent.enum_network_events(socket.socket(), 5), TypeError),
    (lambda: wsevent.timer_start(wsevent.Event(), -1), ValueError),
    (lambda: wsevent.timer_start(wsevent.Event(), None), TypeError),
    (lambda: wsevent.timer_start(wsevent.Event(), 1e9), OverflowError),
    (lambda: wsevent.timer_cancel("t"), TypeError),
], ids=["qos", "unknown-bit", "mask-type", "sock-type", "no-event", "pipe",
        "event-type", "negative-due", "none-due", "huge-due", "cancel-type"])
def test_network_and_timer_bad_inputs(call, exc):
    with pytest.raises(exc):
        call()


# ---- the calls wsevent sees re-enable exactly as Winsock's --------------------

def test_recv_through_wsevent_reenables_read_as_winsock():
    c, s = tcp_pair()
    ev = wsevent.Event()
    wsevent.event_select(s, ev, FD.READ)
    c.send(b"0123456789")
    assert next_events(s, ev).events == FD.READ
    assert wsevent.recv(s, 4) == b"0123"
    assert ev.is_set()  # data remains: recorded again at once
    assert wsevent.enum_network_events(s, ev).events == FD.READ
    buf = bytearray(16)
    assert wsevent.recv_into(s, buf) == 6 and bytes(buf[:6]) == b"456789"
    assert not ev.wait(0.05)  # all read: nothing more
    with pytest.raises(BlockingIOError):
        wsevent.recv(s, 10)
    assert wsevent.recv(s, 0) == b""
    c.close()
    s.settimeout(5)  # (Python keeps the descriptor non-blocking)
    assert s.recv(10) == b""


def test_recv_gives_each_byte_once_whatever_the_sizes_and_threads():
    # Small and bulk reads in turn (recv reads small ones into a kept
    # buffer, bulk ones into the bytes object), from four threads at once,
    # each on its own connection: every byte arrives once, in order.
    import threading
    errors = []

    def run(k):
        try:
            c, s = tcp_pair()
            s.settimeout(5)
            sizes = [1, 70000, 3, 65536, 64, 65537, 4096, 100]
            sent, got = [], []
            for rnd in range(24):
                chunk = bytes([65 + k * 24 + rnd]) * (rnd * 3000 + 1)
                sent.append(chunk)
                c.sendall(chunk)
                want = len(chunk)
                while want:
                    try:
                        data = wsevent.recv(s, sizes[(rnd + want) % len(sizes)])
                    except BlockingIOError:
                        continue
                    got.append(data)
                    want -= len(data)
            assert b"".join(got) == b"".join(sent)
            c.close()
            s.close()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_accept_through_wsevent_passes_the_selection_on():
    l = listener()
    ev = wsevent.Event()
    wsevent.event_select(l, ev, FD.ACCEPT | FD.READ | FD.CLOSE)
    c = socket.create_connection(l.getsockname())
    assert next_events(l, ev).events == FD.ACCEPT
    conn, addr = wsevent.accept(l)
    assert addr == c.getsockname()
    assert conn.gettimeout() == 0.0  # non-blocking, as the selection made it
    assert wsevent._wsevent._socket_selection(conn) == (ev.handle, int(FD.ACCEPT | FD.READ | FD.CLOSE))
    c.send(b"hi")
    assert next_events(conn, ev).events == FD.READ
    assert wsevent.recv(conn, 10) == b"hi"
    c.close()
    assert next_events(conn, ev).events == FD.CLOSE
    with pytest.raises(BlockingIOError):
        wsevent.accept(l)  # nobody else waits
    conn.close()
    l.close()


def test_send_through_wsevent_reenables_write_only_when_it_blocks():
    c, s = tcp_pair()
    ev = wsevent.Event()
    wsevent.event_select(c, ev, FD.WRITE)
    assert next_events(c, ev).events == FD.WRITE
    assert wsevent.send(c, b"x" * 100) == 100
    assert not ev.wait(0.05)  # a send that did not block re-enables nothing
    sent = 0
    with pytest.raises(BlockingIOError):
        while True:
            sent += wsevent.send(c, memoryview(b"y" * 65536))
    assert not ev.is_set()
    got = 0
    while got < sent + 100:
        got += len(s.recv(1 << 20))
    assert next_events(c, ev).events == FD.WRITE  # room again
    s.close()
    with pytest.raises(OSError) as info:
        for _ in range(100):
            wsevent.send(c, b"z" * 65536)
            time.sleep(0.01)
    assert info.value.errno in (errno.EPIPE, errno.ECONNRESET)  # no SIGPIPE


def test_socket_call_helpers_check_their_arguments():
    c, s = tcp_pair()
    with pytest.raises(TypeError):
        wsevent.recv(s, "10")
    with pytest.raises(ValueError):
        wsevent.recv(s, -1)
    with pytest.raises(ValueError):
        wsevent.recv_into(s, bytearray(4), 5)
    with pytest.raises(TypeError):
        wsevent.recv_into(s, b"read-only")
    with pytest.raises(TypeError):
        wsevent.send(s, "text")
    with pytest.raises(TypeError):
        wsevent.send(s, b"x", "0")
    with pytest.raises(ValueError):
        wsevent.send(-1, b"x")
    s.close()
    with pytest.raises(ValueError):  # a closed socket object has fileno -1
        wsevent.recv(s, 1)
    with pytest.raises(OSError) as info:
        wsevent.accept(c)  # not listening
    assert info.value.errno == errno.EINVAL
    c.close()


def test_network_events_have_a_boolean_per_bit():
    c, s = tcp_pair()
    ev = wsevent.Event()
    wsevent.event_select(s, ev, FD.READ | FD.WRITE | FD.CLOSE)
    c.send(b"x")
    seen = FD(0)
    while seen != FD.READ | FD.WRITE:
        ne = next_events(s, ev)
        seen |= ne.events
        for name in ("read", "write", "oob", "accept", "connect", "close"):
            assert getattr(ne, name) == (FD[name.upper()] in ne.events)
    c.close()
    s.close()


def test_network_events_is_a_small_read_only_record():
    a, b = socket.socketpair()
    ev = wsevent.Event()
    wsevent.event_select(a, ev, FD.READ)
    b.send(b"x")
    assert ev.wait(5)
    ne = wsevent.enum_network_events(a, ev)
    assert (ne.read, ne.write, ne.oob, ne.accept, ne.connect, ne.close) == (
        True, False, False, False, False, False)
    assert repr(ne) == "NetworkEvents(events=<FD.READ: 1>, errors={<FD.READ: 1>: 0})"
    assert isinstance(ne, wsevent.NetworkEvents)
    with pytest.raises(TypeError):
        wsevent.NetworkEvents()
    with pytest.raises(AttributeError):
        ne.read = False
    assert wsevent.recv(a, 10) == b"x"
    assert wsevent.enum_network_events(a).events == FD(0)
    a.close()
    b.close()
    ev.close()
