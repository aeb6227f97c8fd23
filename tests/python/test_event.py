"""wsevent.Event: the threading.Event contract, and what it adds."""
import gc
import threading
import time

import pytest

import wsevent


def test_new_event_is_manual_reset_and_unset_like_threading_event():
    ev = wsevent.Event()
    assert ev.manual_reset is True
    assert ev.is_set() is False
    assert ev.wait(0) is False


def test_set_wait_clear_match_threading_event():
    for ev in (wsevent.Event(), threading.Event()):
        ev.set()
        assert ev.is_set() is True
        assert ev.wait() is True
        assert ev.wait(0.01) is True
        ev.clear()
        assert ev.is_set() is False
        assert ev.wait(0.01) is False
        assert ev.wait(timeout=0) is False


def test_reset_is_an_alias_of_clear():
    ev = wsevent.Event(initial_state=True)
    ev.reset()
    assert not ev.is_set()


def test_auto_reset_wait_consumes_and_is_set_does_not():
    ev = wsevent.Event(manual_reset=False, initial_state=True)
    assert ev.manual_reset is False
    assert ev.is_set() and ev.is_set()
    assert ev.wait(0) is True
    assert ev.wait(0) is False


def test_repr_has_the_shape_of_threading_event():
    ev = wsevent.Event()
    assert repr(ev) == f"<wsevent.Event at {hex(id(ev))}: unset>"
    ev.set()
    assert repr(ev).endswith(": set>")
    ev.close()
    assert repr(ev).endswith(": closed>")


def test_context_manager_closes():
    with wsevent.Event() as ev:
        assert not ev.closed
    assert ev.closed
    with pytest.raises(ValueError):
        ev.wait(0)


def test_handle_is_a_64_bit_int_and_unique():
    a, b = wsevent.Event(), wsevent.Event()
    assert isinstance(a.handle, int) and 0 < a.handle < 2**64
    assert a.handle != b.handle


def test_wait_is_released_by_another_python_thread():
    ev = wsevent.Event()
    threading.Timer(0.05, ev.set).start()
    t0 = time.monotonic()
    assert ev.wait(10) is True
    assert time.monotonic() - t0 < 5


def test_wait_timeout_elapses():
    ev = wsevent.Event()
    t0 = time.monotonic()
    assert ev.wait(0.1) is False
    assert time.monotonic() - t0 >= 0.1


def test_manual_reset_set_releases_every_waiting_thread():
    ev = wsevent.Event()
    results = []
    threads = [threading.Thread(target=lambda: results.append(ev.wait(10)))
               for _ in range(20)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    ev.set()
    for t in threads:
        t.join()
    assert results == [True] * 20


def test_auto_reset_set_releases_exactly_one_thread():
    ev = wsevent.Event(manual_reset=False)
    woken = []
    threads = [threading.Thread(target=lambda: woken.append(ev.wait(1)))
               for _ in range(5)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    ev.set()
    for t in threads:
        t.join()
    assert sorted(woken) == [False] * 4 + [True]


def test_fileno_is_readable_while_set():
    import select
    ev = wsevent.Event()
    fd = ev.fileno()
    assert fd == ev.fileno()
    assert select.select([fd], [], [], 0)[0] == []
    ev.set()
    assert select.select([fd], [], [], 0)[0] == [fd]
    ev.clear()
    assert select.select([fd], [], [], 0)[0] == []


def test_wait_releases_the_gil():
    ev = wsevent.Event()
    counter = [0]

    def spin():
        while not ev.is_set():
            counter[0] += 1
        return

    t = threading.Thread(target=spin)
    t.start()
    before = counter[0]
    assert ev.wait(0.2) is False  # another Python thread runs meanwhile
    progressed = counter[0] - before
    ev.set()
    t.join()
    assert progressed > 1000


def test_close_while_another_thread_waits_raises_closed_error():
    ev = wsevent.Event()
    errors = []

    def waiter():
        try:
            ev.wait(10)
        except wsevent.Error as e:
            errors.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.05)
    ev.close()
    t.join()
    assert len(errors) == 1
    assert errors[0].name == "WSEVENT_ECLOSED"
    assert errors[0].code == wsevent.WSEVENT_ECLOSED
    assert errors[0].errno is None  # no system errno says "closed under a wait"


def test_set_from_a_c_thread_wakes_a_python_waiter(c_provider):
    ev = wsevent.Event(manual_reset=False)
    c_provider.set_later(ev, delay_ms=30)
    assert ev.wait(10) is True


def test_garbage_collected_event_gives_the_c_provider_invalid_handle(c_provider):
    ev = wsevent.Event()
    handle = ev.handle
    assert c_provider.set_now(handle) == wsevent.WSEVENT_OK
    del ev
    gc.collect()
    assert c_provider.set_now(handle) == wsevent.WSEVENT_EINVAL_HANDLE
    fresh = wsevent.Event()  # may reuse the slot, with a new generation
    assert c_provider.set_now(handle) == wsevent.WSEVENT_EINVAL_HANDLE
    assert not fresh.is_set()


def test_provider_closing_the_handle_makes_python_calls_raise(upcalls):
    import ctypes
    ev = wsevent.Event()
    table = ctypes.cast(upcalls, ctypes.POINTER(ctypes.c_void_p))
    x_close = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64)(table[2])
    assert ctypes.cast(upcalls, ctypes.POINTER(ctypes.c_int))[0] >= 1
    assert x_close(ev.handle) == 0
    with pytest.raises(wsevent.Error) as info:
        ev.set()
    assert info.value.name == "WSEVENT_EINVAL_HANDLE"
    ev.close()  # harmless


def test_subclassing_works_like_threading_event():
    class Mine(wsevent.Event):
        pass

    m = Mine(initial_state=True)
    assert m.is_set() and isinstance(m, wsevent.Event)


def test_fork_child_can_use_inherited_and_new_events():
    import os
    ev = wsevent.Event(initial_state=True)
    ev.fileno()
    pid = os.fork()
    if pid == 0:
        ok = ev.is_set() and wsevent.Event(initial_state=True).wait(0)
        ev.clear()
        os._exit(0 if ok and not ev.is_set() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert ev.is_set()  # the child's clear stayed in the child
