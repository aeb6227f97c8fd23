"""wsevent.Event as a drop-in for threading.Event (issue 12: items 7-9)."""
import threading
import time

import pytest

import wsevent


@pytest.mark.parametrize("Event", [threading.Event, wsevent.Event])
def test_a_negative_timeout_polls_as_threading_does(Event):
    ev = Event()
    assert ev.wait(-1) is False
    assert ev.wait(-0.001) is False
    ev.set()
    assert ev.wait(-5) is True


def test_negative_timeouts_poll_in_every_wait():
    a, b = wsevent.Event(), wsevent.Event(manual_reset=False)
    assert wsevent.wait_any([a, b], -1) is None
    assert wsevent.wait_all([a, b], -1) is False
    assert wsevent.wait_for_multiple([a, b], timeout=-1) == wsevent.WAIT_TIMEOUT
    t0 = time.monotonic()
    assert wsevent.sleep(-5) is False
    assert time.monotonic() - t0 < 1
    b.set()
    assert wsevent.wait_any([a, b], -1) == 1


def test_a_subclass_with_its_own_init_works_as_with_threading():
    for base in (threading.Event, wsevent.Event):
        class Named(base):
            def __init__(self, name):
                if base is wsevent.Event:
                    super().__init__(manual_reset=False)
                else:
                    super().__init__()
                self.name = name

        n = Named("ready")
        assert n.name == "ready" and not n.is_set()
        n.set()
        assert n.wait(0) is True


def test_a_subclass_that_forgets_super_init_gets_a_clear_error():
    class Forgetful(wsevent.Event):
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="__init__.. was not called"):
        Forgetful().set()
    assert "uninitialised" in repr(Forgetful())


def test_init_twice_is_refused_and_the_event_keeps_working():
    ev = wsevent.Event()
    with pytest.raises(RuntimeError, match="twice"):
        ev.__init__()
    ev.set()
    assert ev.is_set()


def test_the_stub_matches_the_constructor():
    import ast
    import inspect
    import pathlib
    stub = pathlib.Path(wsevent.__file__).with_name("__init__.pyi").read_text()
    tree = ast.parse(stub)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Event")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    assert [a.arg for a in init.args.kwonlyargs] == ["manual_reset", "initial_state", "name"]
    assert inspect.signature(wsevent.Event).parameters.keys() == {
        "manual_reset", "initial_state", "name"}


def test_sub_millisecond_timeouts_are_honoured():
    """wait(1e-5) used to round up to a millisecond.  The fastest of many
    tries shows the precision without depending on the machine's load."""
    ev = wsevent.Event()
    best = float("inf")
    for _ in range(50):
        t0 = time.perf_counter()
        assert ev.wait(1e-5) is False
        best = min(best, time.perf_counter() - t0)
    assert best < 0.0009


def test_drop_in_producer_consumer_program():
    """A threading program written for threading.Event, given wsevent's."""
    def program(Event):
        ready, done = Event(), Event()
        items = []

        def producer():
            for i in range(100):
                items.append(i)
            ready.set()
            done.wait()

        t = threading.Thread(target=producer)
        t.start()
        assert ready.wait(10)
        total = sum(items)
        done.set()
        t.join()
        ready.clear()
        return total, ready.is_set(), done.is_set()

    assert program(wsevent.Event) == program(threading.Event)
