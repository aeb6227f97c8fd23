"""Ctrl-C and Python signal handlers during blocking waits."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import wsevent

CHILD = textwrap.dedent("""
    import sys, wsevent
    evs = [wsevent.Event() for _ in range(3)]
    print("ready", flush=True)
    try:
        if sys.argv[1] == "event":
            evs[0].wait()
        elif sys.argv[1] == "any":
            wsevent.wait_any(evs)
        elif sys.argv[1] == "all":
            wsevent.wait_all(evs, timeout=1e6)
        else:
            wsevent.sleep(None, alertable=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(0)
    sys.exit(3)
""")


@pytest.mark.parametrize("kind", ["event", "any", "all", "sleep"])
def test_ctrl_c_interrupts_an_infinite_wait(kind):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.Popen([sys.executable, "-c", CHILD, kind], stdout=subprocess.PIPE,
                         text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.2)  # let it block in the wait
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    finally:
        p.kill()
    assert "interrupted" in out
    assert p.returncode == 0


def test_python_signal_handlers_run_during_a_wait_and_the_wait_goes_on():
    calls = []
    old = signal.signal(signal.SIGUSR1, lambda *a: calls.append(1))
    try:
        ev = wsevent.Event()
        threading.Timer(0.05, os.kill, args=(os.getpid(), signal.SIGUSR1)).start()
        threading.Timer(0.3, ev.set).start()
        t0 = time.monotonic()
        assert ev.wait(10) is True
        assert calls == [1]
        assert time.monotonic() - t0 >= 0.25  # the signal did not end the wait
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_a_signal_does_not_shorten_a_timed_wait():
    old = signal.signal(signal.SIGUSR1, lambda *a: None)
    try:
        ev = wsevent.Event()
        for delay in (0.02, 0.05, 0.08):
            threading.Timer(delay, os.kill, args=(os.getpid(), signal.SIGUSR1)).start()
        t0 = time.monotonic()
        assert ev.wait(0.2) is False
        assert time.monotonic() - t0 >= 0.2
    finally:
        signal.signal(signal.SIGUSR1, old)
