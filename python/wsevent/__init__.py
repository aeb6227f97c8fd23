"""Windows Sockets event objects for Python.

``wsevent.Event`` is a drop-in replacement for ``threading.Event`` that C
code (a "provider") can signal from any thread through its ``handle``.
``wait_any``/``wait_all`` wait on many events at once, as
``WaitForMultipleObjects`` does, and ``wait_async``/``wait_any_async`` do
the same for asyncio without a thread per waiter.
"""

import asyncio as _asyncio
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
    "completion", "Error", "Event", "MAXIMUM_WAIT_EVENTS", "TIMEOUT_MAX", "WAIT_EVENT_0",
    "WAIT_IO_COMPLETION", "WAIT_TIMEOUT", "queue_completion", "sleep",
    "strerror", "thread_id", "wait_all", "wait_any", "wait_any_async",
    "wait_async", "wait_for_multiple",
]


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
