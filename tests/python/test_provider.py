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


# ---- the typemaps, through tests/helpers/probe.i ----------------------------

def test_integers_of_every_width_round_trip_and_refuse_what_does_not_fit():
    import probe
    assert probe.probe_i8(-128) == -128 and probe.probe_u8(255) == 255
    assert probe.probe_short(-32768) == -32768 and probe.probe_u16(65535) == 65535
    assert probe.probe_u32(2**32 - 1) == 2**32 - 1
    assert probe.probe_i64(-2**63) == -2**63 and probe.probe_u64(2**64 - 1) == 2**64 - 1
    assert probe.probe_size(2**64 - 1) == 2**64 - 1
    for fn, value in [(probe.probe_i8, 128), (probe.probe_u8, -1), (probe.probe_u16, 65536),
                      (probe.probe_u32, 2**32), (probe.probe_size, -1)]:
        with pytest.raises(OverflowError):
            fn(value)


def test_an_event_argument_takes_none_for_no_event_but_not_0_or_a_bool():
    import probe
    ev = wsevent.Event()
    assert probe.probe_event(ev) == ev.handle == probe.probe_event(ev.handle)
    assert probe.probe_event(None) == 0
    with pytest.raises(ValueError, match="0 is not a handle"):
        probe.probe_event(0)
    with pytest.raises(TypeError):
        probe.probe_event(True)


def test_a_routine_alone_completes_an_operation_started_with_no_event():
    ran = []
    op = device.device_start(None, 0, lambda: ran.append(1))
    assert op > 0
    device.device_complete(op)
    deadline = time.monotonic() + 10
    while not ran and time.monotonic() < deadline:
        wsevent.sleep(0.01, alertable=True)
    assert ran == [1] and device.device_result(op) == wsevent.WSEVENT_OK
    assert device.device_start(None, 0, None) == wsevent.WSEVENT_EINVAL


def test_a_callable_before_an_argument_that_fails_is_not_kept():
    import weakref
    import probe

    class Routine:
        def __call__(self):
            pass

    def released(call):
        r = Routine()
        ref = weakref.ref(r)
        call(r)
        del r
        gc.collect()
        return ref() is None

    def bad_int(r):
        with pytest.raises(TypeError):
            probe.probe_keep(r, "x")  # converted after the callable

    assert released(bad_int)
    assert released(lambda r: probe.probe_keep(r, -1))  # refused: released
    assert released(lambda r: probe.probe_keep(r, 3))  # kept, then released
    with pytest.raises(TypeError, match="callable"):
        probe.probe_keep(42, 1)
