"""Windows Sockets event objects for Python.

``wsevent.Event`` is a drop-in replacement for ``threading.Event`` that C
code (a "provider") can signal from any thread through its ``handle``.
``wait_any``/``wait_all`` wait on many events at once, as
``WaitForMultipleObjects`` does, and ``wait_async``/``wait_any_async`` do
the same for asyncio without a thread per waiter.
"""

import asyncio as _asyncio
import enum as _enum
import weakref as _weakref

from ._wsevent import (  # noqa: F401
    Error,
    Event,
    MAXIMUM_WAIT_EVENTS,
    TIMEOUT_MAX,
    WAIT_EVENT_0,
    WAIT_IO_COMPLETION,
    WAIT_TIMEOUT,
    _C_API,
    _completion_routine,
    completion,
    event_select as _event_select,
    timer_cancel,
    timer_start,
    queue_completion,
    sleep,
    strerror,
    thread_id,
    wait_all,
    wait_any,
    wait_for_multiple,
)

from . import _wsevent

# The core's return codes: WSEVENT_OK, WSEVENT_EINVAL_HANDLE, ...
_codes = {k: v for k, v in vars(_wsevent).items() if k.startswith("WSEVENT_")}
globals().update(_codes)

__all__ = sorted(_codes) + [
    "completion", "Error", "Event", "FD", "NetworkEvents", "enum_network_events",
    "event_select", "timer_cancel", "timer_start", "MAXIMUM_WAIT_EVENTS", "TIMEOUT_MAX", "WAIT_EVENT_0",
    "WAIT_IO_COMPLETION", "WAIT_TIMEOUT", "queue_completion", "sleep",
    "strerror", "thread_id", "wait_all", "wait_any", "wait_any_async",
    "wait_async", "wait_for_multiple",
]


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


class NetworkEvents:
    """What enum_network_events found: ``events`` (FD flags) and ``errors``
    (FD bit -> errno value, 0 for success) for the bits that occurred."""

    __slots__ = ("events", "errors")

    def __init__(self, events, errors):
        self.events = events
        self.errors = errors

    def __repr__(self):
        return f"NetworkEvents(events={self.events!r}, errors={self.errors!r})"


def event_select(sock, event, mask):
    """WSAEventSelect: signal ``event`` when a network event of ``mask``
    (FD flags) occurs on ``sock`` (a socket object or a descriptor).  A new
    select replaces the previous one; mask 0 cancels (event may be None).
    The socket becomes non-blocking, as on Windows; a socket object is told
    so too (``setblocking(False)``), so that its methods agree."""
    _event_select(sock, event, mask)
    setblocking = getattr(sock, "setblocking", None)
    if setblocking is not None:
        setblocking(False)


def enum_network_events(sock, event=None):
    """WSAEnumNetworkEvents: return the network events recorded for ``sock``
    since the last call, clear the record and reset ``event`` (if given), in
    one atomic step."""
    bits, codes = _wsevent._enum_network_events(sock, event)
    events = FD(bits)
    errors = {FD(1 << i): codes[i] for i in range(len(codes)) if bits & (1 << i)}
    return NetworkEvents(events, errors)


class _Readers:
    """One loop reader per event descriptor, shared by every coroutine that
    awaits that event in this loop (add_reader keeps one callback per fd)."""

    def __init__(self, loop):
        self.loop = loop
        self.callbacks = {}  # fd -> list of callables; each returns True when done

    def add(self, fd, callback):
        callbacks = self.callbacks.get(fd)
        if callbacks is None:
            callbacks = self.callbacks[fd] = []
            self.loop.add_reader(fd, self._ready, fd)
        callbacks.append(callback)

    def remove(self, fd, callback):
        callbacks = self.callbacks.get(fd)
        if callbacks is None:
            return
        try:
            callbacks.remove(callback)
        except ValueError:
            pass
        if not callbacks:
            del self.callbacks[fd]
            self.loop.remove_reader(fd)

    def _ready(self, fd):
        # Oldest first: for an auto-reset event only the first claimant wins.
        for callback in list(self.callbacks.get(fd, ())):
            callback()


_readers_by_loop = _weakref.WeakKeyDictionary()


def _readers(loop):
    readers = _readers_by_loop.get(loop)
    if readers is None:
        readers = _readers_by_loop[loop] = _Readers(loop)
    return readers


async def _await_ready(events, try_claim, timeout):
    """Wait in the running loop until try_claim() returns non-None."""
    result = try_claim()
    if result is not None:
        return result
    if timeout is not None and timeout == 0:
        return None
    loop = _asyncio.get_running_loop()
    readers = _readers(loop)
    future = loop.create_future()

    def on_ready():
        if future.done():
            return
        try:
            claimed = try_claim()
        except BaseException as exc:  # a closed or invalid event
            future.set_exception(exc)
            return
        if claimed is not None:
            future.set_result(claimed)

    def on_close(event):
        if not future.done():
            future.set_exception(ValueError("event closed while awaited"))
        # Unregister before the descriptor is closed under the loop.
        readers.remove(event.fileno(), on_ready)

    registered = []
    try:
        for event in events:
            fd = event.fileno()
            readers.add(fd, on_ready)
            event._add_close_callback(on_close)
            registered.append((event, fd))
        # A set may have landed before the reader was installed.
        on_ready()
        if timeout is None:
            return await future
        try:
            return await _asyncio.wait_for(future, timeout)
        except _asyncio.TimeoutError:
            return None
    finally:
        for event, fd in registered:
            readers.remove(fd, on_ready)
            event._remove_close_callback(on_close)


async def wait_async(event, timeout=None):
    """Await until ``event`` is signaled: True, or False after ``timeout``
    seconds.  Uses the event's descriptor with ``loop.add_reader``: no thread
    per waiter.  An auto-reset event is consumed, as by ``wait()``."""
    if not isinstance(event, Event):
        raise TypeError(f"wait_async() expects an Event, not {type(event).__name__}")
    _check_timeout(timeout)
    result = await _await_ready([event], lambda: True if event.wait(0) else None,
                                timeout)
    return result is not None


Event.wait_async = wait_async


async def wait_any_async(events, timeout=None):
    """Await until any of ``events`` is signaled: the lowest signaled index
    (as ``wait_any``), or None after ``timeout`` seconds."""
    events = list(events)
    if not events:
        raise ValueError("wait_any_async() needs at least one event")
    for i, event in enumerate(events):
        if not isinstance(event, Event):
            raise TypeError("wait_any_async() expects Event objects, got "
                            f"{type(event).__name__} at index {i}")
    _check_timeout(timeout)
    return await _await_ready(events, lambda: wait_any(events, 0), timeout)


def _check_timeout(timeout):
    """The blocking calls' rules, checked before anything is registered."""
    if timeout is None:
        return
    if not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number or None, not {type(timeout).__name__}")
    if timeout != timeout:
        raise ValueError("timeout must not be NaN")
    if timeout < 0:
        raise ValueError("timeout must be non-negative")
    if timeout > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
