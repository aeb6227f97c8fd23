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


def test_queueing_to_a_joined_thread_is_refused_at_once():
    """12.16: join() returns after the thread's id ended."""
    ids = []
    t = threading.Thread(target=lambda: ids.append(wsevent.thread_id()))
    t.start()
    t.join()
    with pytest.raises(wsevent.Error, match="no such thread") as info:
        wsevent.queue_completion(ids[0], lambda: None)
    assert info.value.name == "WSEVENT_EINVAL_HANDLE"


def test_routines_of_a_thread_that_ends_are_released_not_leaked():
    """12.16: a thread that never waits alertably drops its routines'
    callables when it ends; none runs."""
    import gc
    import weakref
    got_id, go = threading.Event(), threading.Event()
    ids, ran = [], []

    def worker():
        ids.append(wsevent.thread_id())
        got_id.set()
        go.wait()

    class Routine:
        def __call__(self):
            ran.append(1)

    t = threading.Thread(target=worker)
    t.start()
    got_id.wait()
    routine = Routine()
    alive = weakref.ref(routine)
    wsevent.queue_completion(ids[0], routine)
    del routine
    go.set()
    t.join()
    gc.collect()
    assert alive() is None
    assert ran == []


def test_the_id_of_another_thread():
    got_id, go = threading.Event(), threading.Event()
    seen = []

    def worker():
        seen.append(wsevent.thread_id())
        got_id.set()
        go.wait()

    t = threading.Thread(target=worker)
    with pytest.raises(ValueError, match="not called"):
        wsevent.thread_id(t)
    t.start()
    got_id.wait()
    assert wsevent.thread_id(t) == seen[0] != wsevent.thread_id()
    assert wsevent.thread_id(threading.current_thread()) == wsevent.thread_id()
    go.set()
    t.join()
    with pytest.raises(ValueError, match="ended"):
        wsevent.thread_id(t)
    with pytest.raises(TypeError):
        wsevent.thread_id(42)


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
