"""Completion routines (QueueUserAPC) delivered to Python threads."""
import threading

import pytest

import wsevent


def test_routine_runs_in_the_alertable_waiting_thread():
    ev = wsevent.Event()
    me = wsevent.thread_id()
    ran_in = []
    t = threading.Timer(0.05, wsevent.queue_completion,
                        args=(me, lambda: ran_in.append(threading.get_ident())))
    t.start()
    assert wsevent.wait_for_multiple([ev], alertable=True, timeout=10) == wsevent.WAIT_IO_COMPLETION
    assert ran_in == [threading.get_ident()]


def test_non_alertable_waits_leave_routines_queued():
    ev = wsevent.Event()
    ran = []
    wsevent.queue_completion(wsevent.thread_id(), lambda: ran.append(1))
    assert ev.wait(0.02) is False
    assert wsevent.wait_any([ev], 0.02) is None
    assert ran == []
    assert wsevent.sleep(0, alertable=True) is True
    assert ran == [1]


def test_exception_in_a_routine_comes_out_of_the_wait():
    def boom():
        raise KeyError("from the routine")

    wsevent.queue_completion(wsevent.thread_id(), boom)
    with pytest.raises(KeyError, match="from the routine"):
        wsevent.wait_for_multiple([wsevent.Event()], alertable=True, timeout=1)
    # Nothing is left queued or stuck.
    assert wsevent.sleep(0, alertable=True) is False


def test_thread_id_of_an_exited_thread_is_refused():
    import time
    ids = []
    t = threading.Thread(target=lambda: ids.append(wsevent.thread_id()))
    t.start()
    t.join()
    # join() returns when the Python part is done; the OS thread (whose
    # exit closes the id) may still be finishing.  Routines queued to it
    # meanwhile are discarded with it.
    deadline = time.monotonic() + 10
    while True:
        try:
            wsevent.queue_completion(ids[0], lambda: None)
        except wsevent.Error as e:
            assert e.name == "WSEVENT_EINVAL_HANDLE"
            break
        assert time.monotonic() < deadline, "the id outlived its thread"
        time.sleep(0.01)


def test_c_provider_queues_a_python_callable_from_its_own_thread(c_provider):
    ran_in = []
    c_provider.queue_later(wsevent.thread_id(),
                           lambda: ran_in.append(threading.get_ident()), delay_ms=30)
    r = wsevent.wait_for_multiple([wsevent.Event()], alertable=True, timeout=10)
    assert r == wsevent.WAIT_IO_COMPLETION
    assert ran_in == [threading.get_ident()]


def test_completion_needs_a_callable():
    with pytest.raises(TypeError, match="callable"):
        wsevent.completion(3)
