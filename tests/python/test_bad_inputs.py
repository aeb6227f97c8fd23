"""Every wrong input gets a clear error and leaves everything usable."""
import math

import pytest

import wsevent


def closed_event():
    ev = wsevent.Event()
    ev.close()
    return ev


E = wsevent.Event
CASES = [
    # (description, callable, exception, message fragment)
    ("positional args to Event", lambda: E(True), TypeError, "positional"),
    ("unknown keyword to Event", lambda: E(auto=True), TypeError, "auto"),
    ("wait() with a string timeout", lambda: E().wait("1"), TypeError, "timeout must be a number"),
    ("wait() with a list timeout", lambda: E().wait([1]), TypeError, "timeout must be a number"),
    ("wait() with NaN", lambda: E().wait(math.nan), ValueError, "NaN"),
    ("wait() with infinity", lambda: E().wait(math.inf), OverflowError, "too large"),
    ("wait() with a huge int", lambda: E().wait(10**400), OverflowError, "too large"),
    ("wait() past TIMEOUT_MAX", lambda: E().wait(wsevent.TIMEOUT_MAX * 2), OverflowError, "too large"),
    ("wait() with two arguments", lambda: E().wait(1, 2), TypeError, "at most 1"),
    ("wait() with a wrong keyword", lambda: E().wait(timout=1), TypeError, "timout"),
    ("set() on a closed event", lambda: closed_event().set(), ValueError, "closed"),
    ("clear() on a closed event", lambda: closed_event().clear(), ValueError, "closed"),
    ("is_set() on a closed event", lambda: closed_event().is_set(), ValueError, "closed"),
    ("wait() on a closed event", lambda: closed_event().wait(0), ValueError, "closed"),
    ("fileno() on a closed event", lambda: closed_event().fileno(), ValueError, "closed"),
    ("handle of a closed event", lambda: closed_event().handle, ValueError, "closed"),
    ("with on a closed event", lambda: closed_event().__enter__(), ValueError, "closed"),
    ("wait_any on an empty list", lambda: wsevent.wait_any([]), ValueError, "at least one"),
    ("wait_all on an empty tuple", lambda: wsevent.wait_all(()), ValueError, "at least one"),
    ("wait_any on a non-iterable", lambda: wsevent.wait_any(5), TypeError, "iterable"),
    ("wait_any on None", lambda: wsevent.wait_any(None), TypeError, "iterable"),
    ("wait_any on a mixed list", lambda: wsevent.wait_any([E(), 3]), TypeError, "at index 1"),
    ("wait_all with a threading.Event", lambda: wsevent.wait_all([__import__("threading").Event()]), TypeError, "at index 0"),
    ("wait_any with a closed event", lambda: wsevent.wait_any([E(), closed_event()]), ValueError, "index 1 is closed"),
    ("wait_all with duplicates", lambda: (lambda e: wsevent.wait_all([e, E(), e], 0))(E()), ValueError, "twice"),
    ("wait_any with a bad timeout", lambda: wsevent.wait_any([E()], "x"), TypeError, "timeout"),
    ("wait_all with NaN", lambda: wsevent.wait_all([E()], math.nan), ValueError, "NaN"),
    ("wait_for_multiple over 64", lambda: wsevent.wait_for_multiple([E() for _ in range(65)], timeout=0), ValueError, "at most 64"),
    ("queue_completion with a non-callable", lambda: wsevent.queue_completion(wsevent.thread_id(), 42), TypeError, "callable"),
    ("queue_completion to a forged id", lambda: wsevent.queue_completion(12345, print), ValueError, "not a wsevent thread id"),
    ("queue_completion with a negative id", lambda: wsevent.queue_completion(-1, print), OverflowError, ""),
    ("sleep(None) not alertable", lambda: wsevent.sleep(None), ValueError, "never return"),
    ("sleep with a string", lambda: wsevent.sleep("5"), TypeError, "timeout"),
    ("Event.from_handle of a non-int", lambda: E.from_handle("1"), TypeError, "int"),
    ("Event.from_handle of a forged handle", lambda: E.from_handle(12345), wsevent.Error, "invalid handle"),
    ("Event.from_handle of a negative int", lambda: E.from_handle(-1), OverflowError, ""),
    # The fast-call functions parse as CPython's own parser does.
    ("wait_any with no events", lambda: wsevent.wait_any(), TypeError, "missing required argument 'events'"),
    ("wait_any with three arguments", lambda: wsevent.wait_any([E()], 0, 1), TypeError, "at most 2 positional"),
    ("wait_all with a wrong keyword", lambda: wsevent.wait_all([E()], timout=0), TypeError, "'timout' is an invalid keyword"),
    ("wait_any given events twice", lambda: wsevent.wait_any([E()], events=[E()]), TypeError, "given by name ('events') and position (1)"),
    ("wait_for_multiple with a bad alertable", lambda: wsevent.wait_for_multiple([E()], timeout=0, alertable=Unbool()), ZeroDivisionError, ""),
    ("sleep with no timeout", lambda: wsevent.sleep(alertable=True), TypeError, "missing required argument 'timeout'"),
    ("enum_network_events with no socket", lambda: wsevent.enum_network_events(event=E()), TypeError, "missing required argument 'sock'"),
    ("recv_overlapped with the event by position", lambda: wsevent.recv_overlapped(0, 1, 0, None), TypeError, "at most 3 positional"),
    ("sendto_overlapped with no address", lambda: wsevent.sendto_overlapped(0, b"x"), TypeError, "missing required argument 'address'"),
    ("send_overlapped given data twice", lambda: wsevent.send_overlapped(0, b"x", data=b"y"), TypeError, "given by name ('data')"),
    ("accept_overlapped with a wrong keyword", lambda: wsevent.accept_overlapped(0, routin=print), TypeError, "'routin' is an invalid keyword"),
    # A socket argument is an int or has fileno(), as PyObject_AsFileDescriptor has it.
    ("a socket that is a string", lambda: wsevent.enum_network_events("s"), TypeError, "int, or have a fileno() method"),
    ("a negative descriptor", lambda: wsevent.recv(-2, 10), ValueError, "negative integer (-2)"),
    ("a fileno() that is not an int", lambda: wsevent.send(Fileno("3"), b"x"), TypeError, "non-integer"),
    ("a fileno() that is negative", lambda: wsevent.recv(Fileno(-1), 10), ValueError, "negative integer (-1)"),
    ("a fileno() that raises", lambda: wsevent.recv(Fileno(None), 10), AttributeError, "inside fileno"),
    ("a descriptor past int", lambda: wsevent.recv(2**40, 10), OverflowError, ""),
]


class Unbool:
    def __bool__(self):
        raise ZeroDivisionError


class Fileno:
    """fileno() returns what it was given (raises AttributeError for None)."""
    def __init__(self, value):
        self.value = value

    def fileno(self):
        if self.value is None:
            raise AttributeError("inside fileno")
        return self.value


@pytest.mark.parametrize("what,call,exc,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clear_error_and_leaves_things_usable(what, call, exc, fragment):
    with pytest.raises(exc) as info:
        call()
    assert fragment.lower() in str(info.value).lower()
    # Everything still works afterwards.
    ev = wsevent.Event(manual_reset=False)
    ev.set()
    assert wsevent.wait_any([wsevent.Event(), ev], 0) == 1
    assert wsevent.sleep(0, alertable=True) is False


def test_waits_take_their_arguments_by_name():
    ev = E(manual_reset=True)
    ev.set()
    assert wsevent.wait_any(events=[ev], timeout=0) == 0
    assert wsevent.wait_all(timeout=0, events=(ev,)) is True
    assert wsevent.wait_for_multiple([E(), ev], timeout=0, wait_all=False) == wsevent.WAIT_EVENT_0 + 1
    assert wsevent.wait_for_multiple([E(), ev], True, 0, False) == wsevent.WAIT_TIMEOUT
    assert wsevent.sleep(timeout=0, alertable=[]) is False


def test_error_is_an_oserror_keeping_the_core_code():
    assert issubclass(wsevent.Error, OSError)
    with pytest.raises(OSError) as info:
        wsevent.Event.from_handle(12345)
    assert info.value.code == wsevent.WSEVENT_EINVAL_HANDLE
    assert info.value.strerror == wsevent.strerror(wsevent.WSEVENT_EINVAL_HANDLE)
