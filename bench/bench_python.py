"""wsevent.Event against what a Python programmer would use instead.

Contenders run interleaved round by round and each ratio is the median of
the per-round ratios (wake latency on shared virtual machines swings by an
order of magnitude between runs).
"""
import os
import statistics
import threading
import time
import timeit

import wsevent

ROUNDS = 11
TRIPS = 2000


def pingpong_wsevent():
    a = wsevent.Event(manual_reset=False)
    b = wsevent.Event(manual_reset=False)

    def pong():
        for _ in range(TRIPS):
            a.wait()
            b.set()

    return a, b, pong, lambda: (a.set(), b.wait())


def pingpong_threading():
    a, b = threading.Event(), threading.Event()

    def pong():
        for _ in range(TRIPS):
            a.wait()
            a.clear()
            b.set()

    def ping():
        a.set()
        b.wait()
        b.clear()

    return a, b, pong, ping


def pingpong_eventfd():
    a, b = os.eventfd(0), os.eventfd(0)

    def pong():
        for _ in range(TRIPS):
            os.eventfd_read(a)
            os.eventfd_write(b, 1)

    def ping():
        os.eventfd_write(a, 1)
        os.eventfd_read(b)

    return a, b, pong, ping


def one_way_ns(make):
    a, b, pong, ping = make()
    t = threading.Thread(target=pong)
    t.start()
    t0 = time.perf_counter_ns()
    for _ in range(TRIPS):
        ping()
    t1 = time.perf_counter_ns()
    t.join()
    if isinstance(a, int):
        os.close(a)
        os.close(b)
    return (t1 - t0) / TRIPS / 2


def per_call_ns(stmt, setup, number=200000):
    return min(timeit.repeat(stmt, setup, number=number, repeat=3,
                             globals=globals())) / number * 1e9


def row(what, value, unit, target="", met=None):
    mark = "" if met is None else ("met" if met else "MISS")
    print(f"| {what:<48} | {value:10.2f} {unit:<6} | {target:<22} | {mark:<4} |")


def main():
    contenders = [("wsevent.Event", pingpong_wsevent),
                  ("threading.Event", pingpong_threading),
                  ("os.eventfd", pingpong_eventfd)]
    lat = {name: [] for name, _ in contenders}
    for _ in range(ROUNDS):
        for name, make in contenders:
            lat[name].append(one_way_ns(make))
    ws = lat["wsevent.Event"]
    vs_thr = statistics.median(t / w for t, w in zip(lat["threading.Event"], ws))
    vs_efd = statistics.median(w / e for w, e in zip(ws, lat["os.eventfd"]))

    print(f"wsevent Python benchmark: {ROUNDS} interleaved rounds of {TRIPS} round trips\n")
    print(f"| {'measure':<48} | {'value':>17} | {'target':<22} |      |")
    print("|" + "-" * 50 + "|" + "-" * 19 + "|" + "-" * 24 + "|------|")
    for name, _ in contenders:
        row(f"one-way wake, {name} (median ns)", statistics.median(lat[name]), "ns")
    row("ping-pong speed-up over threading.Event", vs_thr, "x", ">= 3x", vs_thr >= 3)
    row("ping-pong wsevent.Event / os.eventfd", vs_efd, "x", "<= 1.3x", vs_efd <= 1.3)

    calls = {}
    for _ in range(3):  # interleave the per-call measurements too
        for name, stmt, setup in [
            ("ws.set", "e.set()", "e = wsevent.Event(initial_state=True)"),
            ("th.set", "e.set()", "e = threading.Event(); e.set()"),
            ("ws.is_set", "e.is_set()", "e = wsevent.Event()"),
            ("th.is_set", "e.is_set()", "e = threading.Event()"),
            ("ws.clear", "e.clear()", "e = wsevent.Event()"),
            ("th.clear", "e.clear()", "e = threading.Event()"),
        ]:
            calls.setdefault(name, []).append(per_call_ns(stmt, setup))
    ratios = {}
    for op in ("set", "is_set", "clear"):
        ratios[op] = statistics.median(t / w for t, w in zip(calls["th." + op], calls["ws." + op]))
        row(f"Event.{op}() per call, wsevent", statistics.median(calls["ws." + op]), "ns")
        row(f"Event.{op}() per call, threading", statistics.median(calls["th." + op]), "ns")
    row("set() speed-up over threading.Event.set()", ratios["set"], "x", ">= 8x", ratios["set"] >= 8)
    row("is_set() speed-up over threading", ratios["is_set"], "x")
    row("clear() speed-up over threading", ratios["clear"], "x")


if __name__ == "__main__":
    main()
