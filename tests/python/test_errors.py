"""Errors and API details (issue 12: items 6, 10-16)."""
import errno
import gc
import inspect
import pathlib
import re
import socket
import sys
import threading
import time
import weakref

import pytest

import wsevent


def test_exceptions_raised_by_the_iterable_propagate():
    def broken():
        yield wsevent.Event()
        raise RuntimeError("from the generator")

    with pytest.raises(RuntimeError, match="from the generator"):
        wsevent.wait_any(broken(), 0)
    with pytest.raises(RuntimeError, match="from the generator"):
        wsevent.wait_all(broken(), 0)

    def interrupted():
        yield wsevent.Event()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wsevent.wait_any(interrupted(), 0)
    with pytest.raises(TypeError, match="iterable of Event objects, not int"):
        wsevent.wait_any(5, 0)


def test_a_waited_list_emptied_by_another_thread_does_not_close_its_events():
    """12.6: the wait holds its own references."""
    events = [wsevent.Event() for _ in range(3)]
    result = []

    def waiter():
        result.append(wsevent.wait_any(events, 10))

    t = threading.Thread(target=waiter)
    t.start()
    target = weakref.ref(events[2])
    while not t.is_alive():
        pass
    keep = events[2]
    del events[:]  # the caller's list is emptied...
    gc.collect()
    keep.set()  # ...but the wait still owns the events and sees the set
    t.join()
    assert result == [2]
    assert target() is keep


def test_an_unknown_mask_is_reported_in_hex():
    with socket.socket() as s, pytest.raises(ValueError) as info:
        wsevent.event_select(s, wsevent.Event(), 1 << 20)
    assert "0x100000" in str(info.value) or "1048576" in str(info.value)
    assert "%" not in str(info.value)


def test_error_has_a_real_errno_or_none_and_keeps_the_code():
    assert issubclass(wsevent.Error, OSError)
    ev = wsevent.Event()
    h = ev.handle
    borrowed = wsevent.Event.from_handle(h)
    ev.close()
    with pytest.raises(ValueError):  # a borrowed event whose owner closed it
        borrowed.set()
    with pytest.raises(wsevent.Error) as info:
        wsevent.timer_cancel(12345)
    e = info.value
    assert e.errno == errno.EBADF and e.code == wsevent.WSEVENT_EINVAL_HANDLE
    assert e.name == "WSEVENT_EINVAL_HANDLE" and e.index is None
    assert "Errno -" not in str(e)

    # Closing an event a thread waits on ends that wait with ECLOSED. Python
    # cannot see when the thread has entered the wait: a close that comes
    # first makes the wait's handle invalid instead. Retry until a close
    # lands inside the wait; either outcome must be one of these two.
    codes = []
    for attempt in range(50):
        closing = wsevent.Event()
        errors = []

        def waiter():
            try:
                wsevent.wait_any([wsevent.Event(), closing], 10)
            except wsevent.Error as exc:
                errors.append(exc)

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.002 * (attempt + 1))
        closing.close()
        t.join(10)
        assert not t.is_alive() and len(errors) == 1
        codes.append(errors[0].code)
        assert errors[0].code in (wsevent.WSEVENT_ECLOSED, wsevent.WSEVENT_EINVAL_HANDLE)
        if errors[0].code == wsevent.WSEVENT_ECLOSED:
            assert errors[0].errno is None and errors[0].index == 1
            break
    assert codes[-1] == wsevent.WSEVENT_ECLOSED, codes

def test_timer_errors_name_what_is_wrong():
    ev = wsevent.Event()
    with pytest.raises(ValueError, match="due"):
        wsevent.timer_start(ev, -1)
    with pytest.raises(ValueError, match="period"):
        wsevent.timer_start(ev, 1, period=-0.5)
    with pytest.raises(ValueError, match="due"):
        wsevent.timer_start(ev, float("nan"))
    with pytest.raises(TypeError, match="due"):
        wsevent.timer_start(ev, "1")
    t = wsevent.timer_start(ev, 0)
    assert ev.wait(5)
    with pytest.raises(wsevent.Error, match="finished"):
        wsevent.timer_cancel(t)  # a one-shot timer that fired


def test_queueing_to_a_python_thread_ident_says_what_to_use():
    with pytest.raises(ValueError, match=r"wsevent.thread_id\(\)"):
        wsevent.queue_completion(threading.get_ident(), print)
    # Another thread's ident may look like one of ours by chance: then it
    # is an unknown id, and the message still says what to use.
    idents = []
    t = threading.Thread(target=lambda: idents.append(threading.get_ident()))
    t.start()
    t.join()
    with pytest.raises((ValueError, wsevent.Error), match=r"wsevent.thread_id\(\)"):
        wsevent.queue_completion(idents[0], print)


def test_strerror_range_checks_its_code():
    assert wsevent.strerror(wsevent.WSEVENT_EINVAL) == "invalid parameter"
    with pytest.raises(OverflowError):
        wsevent.strerror(2 ** 33)
    with pytest.raises(OverflowError):
        wsevent.strerror(-2 ** 40)
    with pytest.raises(TypeError):
        wsevent.strerror("1")


def test_positional_only_functions_say_so():
    for f in (wsevent.queue_completion, wsevent.strerror, wsevent.completion,
              wsevent.timer_cancel):
        params = inspect.signature(f).parameters.values()
        assert all(p.kind == p.POSITIONAL_ONLY for p in params), f
        with pytest.raises(TypeError):
            f(**{p.name: 1 for p in params})


def test_version_is_the_one_in_the_header():
    header = pathlib.Path(__file__).parents[2] / "core" / "include" / "wsevent.h"
    version = re.search(r'WSEVENT_VERSION_STRING "([^"]+)"', header.read_text()).group(1)
    assert wsevent.__version__ == version


def test_error_index_is_there_on_every_error():
    assert wsevent.Error("x").index is None
    assert wsevent.Error("x").code is None


def test_the_c_api_header_ships_with_the_package():
    include = pathlib.Path(wsevent.get_include())
    for name in ("wsevent.h", "wsevent_provider.h", "wsevent_python.h"):
        assert (include / name).is_file(), name
