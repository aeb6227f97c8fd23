"""The sample provider, wrapped by SWIG, driven from Python."""
import gc
import random
import threading
import time

import pytest

import wsevent

import device  # build/swig/py, built by `make`


def test_provider_signals_from_its_thread_while_we_wait_any():
    evs = [wsevent.Event(manual_reset=False) for _ in range(3)]
    device.device_start(evs[2], 30, None)
    assert wsevent.wait_any(evs, 10) == 2


def test_provider_signals_while_we_wait_all():
    evs = [wsevent.Event(manual_reset=False) for _ in range(3)]
    for i, ev in enumerate(evs):
        device.device_start(ev, 10 + 10 * i, None)
    assert wsevent.wait_all(evs, 10) is True
    assert not any(e.is_set() for e in evs)


def test_handles_and_events_are_both_accepted():
    ev = wsevent.Event()
    op = device.device_start(ev.handle, 0, None)
    assert device.device_complete(op) == 0
    assert ev.wait(10)


def test_completion_runs_in_the_script_thread_only_in_alertable_waits():
    ev = wsevent.Event()
    ran = []
    op = device.device_start(ev, 0, lambda: ran.append(threading.get_ident()))
    device.device_complete(op)
    assert ev.wait(10)                       # not alertable: nothing runs
    deadline = time.monotonic() + 10
    while device.device_result(op) == 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert ran == []
    assert wsevent.sleep(10, alertable=True) is True
    assert ran == [threading.get_ident()]


def test_provider_created_event_comes_back_as_an_owning_event():
    ev = device.device_open_event(1)
    assert isinstance(ev, wsevent.Event) and ev.manual_reset is False
    op = device.device_start(ev, 0, None)
    device.device_complete(op)
    assert ev.wait(10)
    assert device.device_open_event(0).manual_reset is True


def wait_result(op):
    deadline = time.monotonic() + 10
    while device.device_result(op) == 1:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    return device.device_result(op)


def test_closing_the_event_first_gives_the_provider_invalid_handle():
    ev = wsevent.Event()
    op = device.device_start(ev, 0, None)
    ev.close()
    device.device_complete(op)
    assert wait_result(op) == wsevent.WSEVENT_EINVAL_HANDLE


def test_collecting_the_event_first_gives_the_provider_invalid_handle():
    ev = wsevent.Event()
    op = device.device_start(ev, 0, None)
    del ev
    gc.collect()
    device.device_complete(op)
    assert wait_result(op) == wsevent.WSEVENT_EINVAL_HANDLE


def test_bad_arguments_raise():
    with pytest.raises(TypeError):
        device.device_start("x", 1, None)
    with pytest.raises(TypeError):
        device.device_start(wsevent.Event(), 1, 42)
    closed = wsevent.Event()
    closed.close()
    with pytest.raises(ValueError):
        device.device_start(closed, 1, None)


def test_thousands_of_operations_none_lost_none_twice():
    n = 2000
    rng = random.Random(7)
    evs = [wsevent.Event(manual_reset=False) for _ in range(n)]
    completions = []
    for i, ev in enumerate(evs):
        device.device_start(ev, rng.randint(1, 60), lambda i=i: completions.append(i))
    pending = list(range(n))
    seen = []
    while pending:
        k = wsevent.wait_any([evs[i] for i in pending], 20)
        assert k is not None, f"{len(pending)} operations never signalled"
        seen.append(pending.pop(k))
    assert sorted(seen) == list(range(n))
    assert not any(e.is_set() for e in evs)   # each signalled exactly once
    deadline = time.monotonic() + 20
    while len(completions) < n and time.monotonic() < deadline:
        wsevent.sleep(0.05, alertable=True)
    assert sorted(completions) == list(range(n))
