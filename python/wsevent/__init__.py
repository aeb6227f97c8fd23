"""Windows Sockets event objects for Python.

``wsevent.Event`` is a drop-in replacement for ``threading.Event`` that C
code (a "provider") can signal from any thread through its ``handle``.
``wait_any``/``wait_all`` wait on many events at once, as
``WaitForMultipleObjects`` does, and ``wait_async``, ``wait_any_async`` and
``wait_all_async`` do the same for asyncio, with no thread per waiter.
"""

import asyncio as _asyncio
import enum as _enum
import os as _os
import threading as _threading
import weakref as _weakref

from . import _wsevent
from ._wsevent import (  # noqa: F401
    Error,
    Event,
    MAXIMUM_WAIT_EVENTS,
    Operation,
    TIMEOUT_MAX,
    WAIT_EVENT_0,
    WAIT_FAILED,
    WAIT_IO_COMPLETION,
    WAIT_TIMEOUT,
    _C_API,
    _CAPI,
    _completion_release,
    _completion_routine,
    __version__,
    accept_overlapped,
    close_socket,
    completion,
    connect_overlapped,
    queue_completion,
    recv_into_overlapped,
    recv_overlapped,
    recvfrom_overlapped,
    send_overlapped,
    sendto_overlapped,
    sleep,
    strerror,
    timer_cancel,
    timer_start,
    wait_all,
    wait_any,
    wait_for_multiple,
)

# The core's return codes: WSEVENT_OK, WSEVENT_EINVAL_HANDLE, ...
_codes = {k: v for k, v in vars(_wsevent).items() if k.startswith("WSEVENT_")}
globals().update(_codes)

__all__ = sorted(_codes) + [
    "completion", "Error", "Event", "FD", "NetworkEvents",
    "enum_network_events", "event_select", "get_include", "timer_cancel",
    "recv", "recv_into", "send", "accept",
    "Operation", "recv_overlapped", "recv_into_overlapped",
    "recvfrom_overlapped", "send_overlapped", "sendto_overlapped",
    "accept_overlapped", "connect_overlapped", "close_socket",
    "timer_start", "MAXIMUM_WAIT_EVENTS", "TIMEOUT_MAX", "WAIT_EVENT_0",
    "WAIT_FAILED", "WAIT_IO_COMPLETION", "WAIT_TIMEOUT", "queue_completion",
    "sleep", "strerror", "thread_id", "wait_all", "wait_all_async",
    "wait_any", "wait_any_async", "wait_async", "wait_for_multiple",
]


def get_include():
    """The directory holding wsevent.h, wsevent_provider.h and
    wsevent_python.h, for C extensions that use the C API (-I option)."""
    return _os.path.join(_os.path.dirname(__file__), "include")


# ---- thread ids --------------------------------------------------------------

_ids = _weakref.WeakKeyDictionary()  # threading.Thread -> its wsevent id
_local = _threading.local()


class _ThreadEnd:
    """Kept in a threading.local: CPython clears a thread's locals when the
    thread ends, before join() returns, so its wsevent id ends there too
    (routines still queued to it are released, and queueing to it is
    refused), not later when the OS thread finally exits."""

    __slots__ = ("thread",)

    def __init__(self, thread):
        self.thread = thread

    def __del__(self):
        _ids.pop(self.thread, None)
        _wsevent._thread_end()


def thread_id(thread=None):
    """The wsevent id of the calling thread, for queue_completion and for C
    providers; or, given a threading.Thread, that thread's id, which it has
    once it called thread_id() itself.  An id ends when its thread ends
    (before join() returns)."""
    current = _threading.current_thread()
    if thread is None or thread is current:
        ident = _wsevent._thread_id()
        if getattr(_local, "end", None) is None:
            _local.end = _ThreadEnd(current)
        _ids[current] = ident
        return ident
    if not isinstance(thread, _threading.Thread):
        raise TypeError(f"thread must be a threading.Thread, not {type(thread).__name__}")
    try:
        return _ids[thread]
    except KeyError:
        state = "has ended" if thread.ident is not None and not thread.is_alive() \
            else "has not called wsevent.thread_id() yet"
        raise ValueError(f"{thread.name} has no wsevent thread id: it {state}") from None


# ---- network events ------------------------------------------------------------

class FD(_enum.IntFlag):
    """Network event bits for event_select, with Winsock's values."""
    READ = 1 << 0
    WRITE = 1 << 1
    OOB = 1 << 2
    ACCEPT = 1 << 3
    CONNECT = 1 << 4
    CLOSE = 1 << 5
    QOS = 1 << 6                       # Windows only: refused
    GROUP_QOS = 1 << 7                 # Windows only: refused
    ROUTING_INTERFACE_CHANGE = 1 << 8  # Windows only: refused
    ADDRESS_LIST_CHANGE = 1 << 9       # Windows only: refused


FD_READ, FD_WRITE, FD_OOB, FD_ACCEPT, FD_CONNECT, FD_CLOSE = (
    FD.READ, FD.WRITE, FD.OOB, FD.ACCEPT, FD.CONNECT, FD.CLOSE)
__all__ += ["FD_READ", "FD_WRITE", "FD_OOB", "FD_ACCEPT", "FD_CONNECT", "FD_CLOSE"]


# Every mask as an FD value, made once: FD(bits) costs microseconds, and a
# server enumerates once per message.
_FD_OF = tuple(FD(bits) for bits in range(1 << 10))
_FD_BITS = tuple(FD(1 << i) for i in range(10))


def event_select(sock, event, mask):
    """WSAEventSelect: signal ``event`` when a network event of ``mask``
    (FD flags) occurs on ``sock`` (a socket object or a descriptor).  A new
    select replaces the previous one; mask 0 cancels (event may be None).
    The socket becomes non-blocking, as on Windows; a socket object is told
    so too (``setblocking(False)``), so that its methods agree."""
    _wsevent._event_select(sock, event, mask)
    setblocking = getattr(sock, "setblocking", None)
    if setblocking is not None:
        setblocking(False)


# What an enumeration found (a C type: a server makes one per message).
NetworkEvents = _wsevent.NetworkEvents
# WSAEnumNetworkEvents: the record since the last call, cleared, and the
# event reset, in one atomic step.
enum_network_events = _wsevent.enum_network_events


# ---- the socket calls that re-enable network events -------------------------
#
# On Windows, recv re-enables FD_READ, accept FD_ACCEPT, a send that would
# block FD_WRITE.  A socket object's own methods go past wsevent, which then
# re-enables those bits when the program next waits or enumerates; these
# calls re-enable them exactly as Winsock does, and accept() passes the
# listener's selection on to the new socket, as Winsock copies it.


recv = _wsevent.recv
recv_into = _wsevent.recv_into
send = _wsevent.send


def accept(sock):
    """socket.accept through wsevent: ``(conn, address)``.  ``conn`` has the
    listener's event_select (event and mask) and is non-blocking."""
    import socket as _socket
    fd = _wsevent._accept(sock)
    if isinstance(sock, _socket.socket):
        conn = _socket.socket(sock.family, sock.type, sock.proto, fileno=fd)
    else:
        conn = _socket.socket(fileno=fd)
    if _wsevent._accepted(conn):
        conn.setblocking(False)  # as the descriptor is: methods agree
    try:
        address = conn.getpeername()
    except OSError:
        address = None  # the peer is already gone; the socket is still valid
    return conn, address


# ---- asyncio ------------------------------------------------------------------
#
# Each running loop that awaits events keeps one completion port (_Port)
# while it has waits, registered with loop.add_reader.  An awaited wait is
# an asynchronous wait on the port: the core satisfies it, and consumes its
# auto-reset events, at the moment it would satisfy a blocking wait, and
# queues a packet; the loop's reader takes the packets on the loop's own
# thread.  So a manual-reset pulse is seen, every set of an auto-reset
# event goes to exactly one waiter, closing an event from any thread
# reaches the awaiting task through the loop, and no descriptor is held
# per event.  A timeout is decided on the loop's thread against the core:
# a wait the core satisfied before the timeout was handled is satisfied
# (as a Windows wait whose object is signaled when its timeout expires),
# never handed back, which would make the event look unset for a moment
# and let a set land on it while it is set again, lost.  A task cancelled
# after its wait consumed a signal gives the signal back: the event is set
# again.

class _Wait:
    __slots__ = ("events", "wait_all", "future", "id", "delivered", "__weakref__")

    def __init__(self, events, wait_all, future):
        self.events = events
        self.wait_all = wait_all
        self.future = future
        self.id = None
        self.delivered = False

    def give_back(self, result, index):
        """Set again what this wait consumed and nobody will use."""
        if result != _wsevent.WSEVENT_OK:
            return
        taken = self.events if self.wait_all else (self.events[index],)
        for event in taken:
            if not event.manual_reset:
                try:
                    event.set()
                except (ValueError, Error):
                    pass  # closed since: nothing to give back to


class _LoopPort:
    """A loop's port while it has waits; only the loop's thread uses it.
    It holds no strong reference to its loop nor to its waits (whose
    futures hold the loop): only the awaiting coroutines do, so an
    abandoned loop and its tasks can be collected; a collected coroutine
    still leaves through finish().  The port is released (reader removed,
    port closed) when its last wait ends."""

    __slots__ = ("port", "fd", "loop", "waits", "next_key", "__weakref__")

    def __init__(self, loop):
        self.port = _wsevent._Port()
        self.fd = self.port.fileno()
        self.loop = _weakref.ref(loop)
        self.waits = {}  # key -> weakref to _Wait
        self.next_key = 1
        loop.add_reader(self.fd, self._ready)

    def _ready(self):
        for key, result, index in self.port.take():
            ref = self.waits.pop(key, None)
            wait = ref() if ref is not None else None
            if wait is None:
                continue
            if wait.future.done():  # its task gave up before this came
                wait.give_back(result, index)
            else:
                wait.future.set_result((result, index))
        self.release_if_idle()

    def start(self, events, wait_all):
        wait = _Wait(events, wait_all, self.loop().create_future())
        key = self.next_key
        self.next_key += 1
        wait.id = self.port.wait(events, key, wait_all)
        self.waits[key] = _weakref.ref(wait)
        return key, wait

    def expire(self, key, wait):
        """The wait's timeout, on the loop's thread: its outcome if the
        core satisfied it meanwhile (its packet not taken yet), else None
        (timed out)."""
        if wait.future.done() or self.waits.pop(key, None) is None:
            return  # delivered, or its task gave up
        wait.future.set_result(self.port.cancel(wait.id))
        self.release_if_idle()

    def finish(self, key, wait):
        """The awaiting coroutine is leaving, for any reason."""
        if self.waits.pop(key, None) is not None:
            outcome = self.port.cancel(wait.id)
            if outcome is not None:  # satisfied, not yet delivered
                wait.give_back(*outcome)
        elif (not wait.delivered and wait.future.done() and
              not wait.future.cancelled() and wait.future.result() is not None):
            wait.give_back(*wait.future.result())  # delivered, not taken
        self.release_if_idle()

    def release_if_idle(self):
        if self.waits or self.port is None:
            return
        loop = self.loop()
        if loop is not None and _loop_ports.get(loop) is self:
            del _loop_ports[loop]
            try:
                loop.remove_reader(self.fd)
            except (RuntimeError, ValueError, OSError):
                pass  # the loop is closed
        self.port.close()
        self.port = None


_loop_ports = _weakref.WeakKeyDictionary()  # loop -> _LoopPort


def _forget_loop_ports():
    # A fork child's ports are closed by the core; its loops start afresh.
    _loop_ports.clear()


_os.register_at_fork(after_in_child=_forget_loop_ports)


def _events_of(events, fname):
    if isinstance(events, Event):
        raise TypeError(f"{fname}() expects an iterable of Event objects, not Event")
    try:
        events = tuple(events)
    except TypeError:
        if not hasattr(type(events), "__iter__"):
            raise TypeError(f"{fname}() expects an iterable of Event objects, "
                            f"not {type(events).__name__}") from None
        raise
    if not events:
        raise ValueError(f"{fname}() needs at least one event")
    for i, event in enumerate(events):
        if not isinstance(event, Event):
            raise TypeError(f"{fname}() expects Event objects, got "
                            f"{type(event).__name__} at index {i}")
    return events


async def _await(events, wait_all, timeout):
    """Await until the wait is satisfied: the index it reports, or None
    after timeout seconds (None: forever); wsevent.Error if an event was
    closed meanwhile."""
    loop = _asyncio.get_running_loop()
    port = _loop_ports.get(loop)
    if port is None:
        port = _loop_ports[loop] = _LoopPort(loop)
    try:
        key, wait = port.start(events, wait_all)
    except BaseException:
        port.release_if_idle()
        raise
    expiry = None
    try:
        if timeout is not None:
            expiry = loop.call_later(timeout, port.expire, key, wait)
        outcome = await wait.future
        wait.delivered = True
    finally:
        if expiry is not None:
            expiry.cancel()
        port.finish(key, wait)
    if outcome is None:
        return None  # timed out
    result, index = outcome
    if result != _wsevent.WSEVENT_OK:
        error = Error(f"the event at index {index} was closed while awaited")
        error.code, error.name, error.index = (result, "WSEVENT_ECLOSED", index)
        raise error
    return index


async def wait_async(event, timeout=None):
    """Await until ``event`` is signaled: True, or False after ``timeout``
    seconds (None: forever; a negative timeout polls).  An auto-reset
    event is consumed, as by ``wait()``; a set followed at once by a clear
    still wakes the awaiter, as it wakes a waiting thread."""
    if not isinstance(event, Event):
        raise TypeError(f"wait_async() expects an Event, not {type(event).__name__}")
    timeout = _wsevent._timeout(timeout)
    if event.wait(0):
        return True
    if timeout == 0:
        return False
    return await _await((event,), False, timeout) is not None


Event.wait_async = wait_async


def _check_awaitable(op):
    if op.routine is not None:
        raise TypeError("an operation started with a routine completes "
                        "through it: start it without one to await it")


async def _operation_wait(op, timeout):
    """Await op's completion: True, or False after timeout seconds."""
    event = op.event
    loop = _asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    pause = 0.001
    while not op.done():
        left = None if deadline is None else deadline - loop.time()
        if left is not None and left <= 0:
            return False
        if await wait_async(event, left) and not op.done():
            # Set for something else: another operation that shares the
            # event (Windows leaves that undefined), or the program.  A
            # signal that was not ours goes back to whoever it was for,
            # and this operation is watched by polling, never by spinning.
            if not event.manual_reset:
                event.set()
            await _asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
    return True


def _operation_await(op):
    """``await op``: the operation's result, once it completed, on the
    running loop (no thread per operation).  Cancelling the awaiting task
    cancels the operation; if it had completed first, its outcome stays in
    the Operation (``op.result()``): keep it where a task may be cancelled
    (``asyncio.wait_for``, ``asyncio.timeout``), or use ``result_async``
    with a timeout, which never drops what an operation moved."""
    _check_awaitable(op)
    try:
        yield from _operation_wait(op, None).__await__()
    except BaseException:
        op.cancel()
        raise
    return op.result()


async def _operation_result_async(op, timeout=None):
    """Await the result; after ``timeout`` seconds (None: forever) cancel
    the operation and raise TimeoutError, unless it completed first: then
    its result, as on Windows a completed operation stays completed.  A
    send cancelled half-way reports what went in ``op.bytes``."""
    _check_awaitable(op)
    timeout = _wsevent._timeout(timeout)
    try:
        done = await _operation_wait(op, timeout)
    except BaseException:
        op.cancel()
        raise
    if not done and op.cancel():
        raise TimeoutError("the operation did not complete in time; it was "
                           "cancelled")
    return op.result()


Operation.result_async = _operation_result_async
Operation.__await__ = _operation_await


async def wait_any_async(events, timeout=None):
    """Await until any of ``events`` is signaled: the lowest signaled index
    (as ``wait_any``, consuming that event if auto-reset), or None after
    ``timeout`` seconds."""
    events = _events_of(events, "wait_any_async")
    timeout = _wsevent._timeout(timeout)
    index = wait_any(events, 0)
    if index is not None or timeout == 0:
        return index
    return await _await(events, False, timeout)


async def wait_all_async(events, timeout=None):
    """Await until all ``events`` are signaled at one instant (auto-reset
    ones consumed together, as ``wait_all``): True, or False after
    ``timeout`` seconds, with nothing consumed."""
    events = _events_of(events, "wait_all_async")
    timeout = _wsevent._timeout(timeout)
    if wait_all(events, 0):
        return True
    if timeout == 0:
        return False
    return await _await(events, True, timeout) is not None
