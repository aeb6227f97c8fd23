"""wait_any, wait_all and wait_for_multiple, across threads."""
import threading
import time

import pytest

import wsevent


def events(n, **kw):
    return [wsevent.Event(**kw) for _ in range(n)]


def test_wait_any_returns_the_lowest_signaled_index():
    evs = events(5)
    assert wsevent.wait_any(evs, 0) is None
    evs[4].set()
    evs[2].set()
    assert wsevent.wait_any(evs) == 2


def test_wait_any_accepts_any_iterable():
    evs = events(3)
    evs[1].set()
    assert wsevent.wait_any(iter(evs), 0) == 1
    assert wsevent.wait_any(tuple(evs), 0) == 1
    assert wsevent.wait_any((e for e in evs), 0) == 1


def test_wait_any_consumes_the_auto_reset_event_it_reports():
    evs = events(3, manual_reset=False)
    evs[0].set()
    evs[1].set()
    assert wsevent.wait_any(evs, 0) == 0
    assert wsevent.wait_any(evs, 0) == 1
    assert wsevent.wait_any(evs, 0) is None


def test_wait_any_is_released_by_another_thread():
    evs = events(8)
    threading.Timer(0.05, evs[6].set).start()
    assert wsevent.wait_any(evs, 10) == 6


def test_wait_any_over_4096_events(c_provider):
    evs = events(4096, manual_reset=False)
    c_provider.set_later(evs[4000], delay_ms=30)
    assert wsevent.wait_any(evs, 10) == 4000


def test_wait_all_waits_for_all_and_consumes_together():
    evs = events(3, manual_reset=False)
    evs[0].set()
    evs[2].set()
    assert wsevent.wait_all(evs, 0.05) is False
    assert evs[0].is_set() and evs[2].is_set()  # nothing taken on timeout
    threading.Timer(0.05, evs[1].set).start()
    assert wsevent.wait_all(evs, 10) is True
    assert [e.is_set() for e in evs] == [False, False, False]


def test_wait_all_contention_takes_all_or_none():
    a, b, c = events(3, manual_reset=False)
    taken = {"a": 0, "b": 0, "c": 0}
    lock = threading.Lock()
    stop = threading.Event()

    def all_of(x, y, nx, ny):
        while not stop.is_set():
            if wsevent.wait_all([x, y], 0.01):
                with lock:
                    taken[nx] += 1
                    taken[ny] += 1

    def any_of():
        while not stop.is_set():
            i = wsevent.wait_any([a, c], 0.01)
            if i is not None:
                with lock:
                    taken["a" if i == 0 else "c"] += 1

    threads = [threading.Thread(target=all_of, args=(a, b, "a", "b")),
               threading.Thread(target=all_of, args=(b, c, "b", "c")),
               threading.Thread(target=any_of)]
    for t in threads:
        t.start()
    sets = {"a": 0, "b": 0, "c": 0}
    for _ in range(3000):
        for name, ev in (("a", a), ("b", b), ("c", c)):
            if not ev.is_set():  # only this thread sets: no set is absorbed
                ev.set()
                sets[name] += 1
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    left = {"a": a.is_set(), "b": b.is_set(), "c": c.is_set()}
    for name in "abc":
        assert taken[name] + left[name] == sets[name]


def test_wait_for_multiple_uses_winsock_constants():
    evs = events(3)
    assert wsevent.wait_for_multiple(evs, timeout=0) == wsevent.WAIT_TIMEOUT
    evs[1].set()
    assert wsevent.wait_for_multiple(evs, timeout=0) == wsevent.WAIT_EVENT_0 + 1
    assert wsevent.wait_for_multiple(evs, wait_all=True, timeout=0) == wsevent.WAIT_TIMEOUT
    for e in evs:
        e.set()
    assert wsevent.wait_for_multiple(evs, wait_all=True, timeout=0) == wsevent.WAIT_EVENT_0
    assert (wsevent.WAIT_EVENT_0, wsevent.WAIT_IO_COMPLETION, wsevent.WAIT_TIMEOUT) == (0, 0xC0, 0x102)


def test_wait_for_multiple_keeps_winsocks_64_event_limit():
    assert wsevent.wait_for_multiple(events(64), timeout=0) == wsevent.WAIT_TIMEOUT
    with pytest.raises(ValueError, match="at most 64"):
        wsevent.wait_for_multiple(events(65), timeout=0)


def test_closing_an_event_during_wait_any_reports_its_index():
    evs = events(3)
    errors = []

    def waiter():
        try:
            wsevent.wait_any(evs, 10)
        except wsevent.Error as e:
            errors.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.05)
    evs[2].close()
    t.join()
    assert errors[0].name == "WSEVENT_ECLOSED" and errors[0].index == 2
