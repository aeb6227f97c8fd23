"""Named events shared between processes: Event(name=...), Event.open,
pickling by name for multiprocessing, and the semantics across processes."""
import asyncio
import multiprocessing
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

import wsevent

# A namespace of our own, read by the core when this process (and every
# child, which inherits the environment, and imports this module again)
# first uses a name.
if "WSEVENT_NAMED_DIR" not in os.environ:
    os.environ["WSEVENT_NAMED_DIR"] = tempfile.mkdtemp(prefix="wsevent-pytest-")
SPAWN = multiprocessing.get_context("spawn")
FORK = multiprocessing.get_context("fork")


@pytest.fixture(scope="module", autouse=True)
def namespace():
    yield
    shutil.rmtree(os.environ["WSEVENT_NAMED_DIR"], ignore_errors=True)


def unique(tag="ev"):
    return f"{tag}-{uuid.uuid4().hex}"


# ---- children (module level: spawn imports them by name) ----

def ponger(ping, pong, rounds):
    for _ in range(rounds):
        assert ping.wait(10)
        pong.set()


def consumer(item, stop, ack, counts, slot):
    n = 0
    while True:
        index = wsevent.wait_any([item, stop], timeout=20)
        assert index is not None
        if index == 1:
            break
        n += 1
        ack.set()
    counts[slot] = n


def waiter_forever(name, ready):
    e = wsevent.Event.open(name)
    ready.set()
    e.wait()


def until_sleeping(pid):
    """Until pid's main thread sleeps (in the wait it was about to start)."""
    for _ in range(10000):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rpartition(")")[2].split()[0] == "S":
                return
        wsevent.sleep(0.001)
    raise AssertionError("the child never went to sleep")


def setter_by_name(name):
    wsevent.Event.open(name).set()


def set_reset_forever(name, other, ready):
    e, o = wsevent.Event.open(name), wsevent.Event.open(other)
    ready.set()
    while True:
        e.set()
        e.clear()
        o.set()
        o.wait(0)


# ---- creating and opening ----

def test_create_open_and_existed():
    name = unique()
    a = wsevent.Event(name=name, manual_reset=False)
    assert a.name == name and not a.existed and not a.manual_reset
    b = wsevent.Event(name=name, initial_state=True)  # opens: flags ignored
    assert b.existed and not b.manual_reset and not b.is_set()
    c = wsevent.Event.open(name)
    a.set()
    assert c.wait(0) and not b.is_set()
    assert wsevent.Event().name is None
    for e in (a, b, c):
        e.close()
    with pytest.raises(wsevent.Error) as info:
        wsevent.Event.open(name)
    assert info.value.code == wsevent.WSEVENT_ENOTFOUND
    assert info.value.errno == 2 and name in str(info.value)


@pytest.mark.parametrize("bad", ["", "a/b", "x" * 201, "nul\0byte", "é" * 101])
def test_bad_names_are_refused(bad):
    with pytest.raises(ValueError, match="invalid event name"):
        wsevent.Event(name=bad)
    with pytest.raises(ValueError):
        wsevent.Event.open(bad)


def test_name_must_be_a_str():
    with pytest.raises(TypeError, match="name must be a str"):
        wsevent.Event(name=b"bytes")
    with pytest.raises(TypeError):
        wsevent.Event.open(3)


def test_the_longest_name_and_any_characters():
    for name in ["x" * 200, "Local\\with spaces", "..", "ünïcode"]:
        with wsevent.Event(name=name) as e:
            assert e.name == name


def test_a_closed_event_has_no_name():
    e = wsevent.Event(name=unique())
    e.close()
    with pytest.raises(ValueError, match="closed"):
        e.name


def test_subclass_with_a_name():
    class Named(wsevent.Event):
        def __init__(self, name):
            super().__init__(manual_reset=False, name=name)

    with Named(unique()) as e:
        assert not e.manual_reset and e.name

    class Labelled(wsevent.Event):
        def __init__(self, label, shared):
            super().__init__(name=shared)
            self.name = label  # as threading.Event subclasses do

    shared = unique()
    with Labelled("mine", shared) as e:
        assert e.name == "mine"
        assert e.__reduce__()[1] == (shared,)  # pickles by its real name
    with pytest.raises(AttributeError, match="given when it is made"):
        wsevent.Event(name=unique()).name = "x"


# ---- pickling ----

def test_a_named_event_pickles_as_its_name():
    e = wsevent.Event(name=unique(), manual_reset=False)
    f = pickle.loads(pickle.dumps(e))
    assert f.name == e.name and f.existed and f.handle != e.handle
    e.set()
    assert f.wait(0)
    e.close()
    f.close()


def test_an_unnamed_event_does_not_pickle():
    with pytest.raises(TypeError, match="only named events"):
        pickle.dumps(wsevent.Event())


# ---- across processes ----

@pytest.mark.parametrize("ctx", [SPAWN, FORK], ids=["spawn", "fork"])
def test_ping_pong_with_multiprocessing(ctx):
    ping = wsevent.Event(name=unique("ping"), manual_reset=False)
    pong = wsevent.Event(name=unique("pong"), manual_reset=False)
    p = ctx.Process(target=ponger, args=(ping, pong, 2000))
    p.start()
    for _ in range(2000):
        ping.set()
        assert pong.wait(10)
    p.join(30)
    assert p.exitcode == 0


def test_auto_reset_releases_exactly_one_waiter_in_any_process():
    item = wsevent.Event(name=unique("item"), manual_reset=False)
    ack = wsevent.Event(name=unique("ack"), manual_reset=False)
    stop = wsevent.Event(name=unique("stop"))
    counts = SPAWN.Array("l", 3)
    procs = [SPAWN.Process(target=consumer, args=(item, stop, ack, counts, i))
             for i in range(3)]
    for p in procs:
        p.start()
    sets = 100_000
    for _ in range(sets):
        item.set()
        assert ack.wait(20)
    assert not ack.wait(0)
    stop.set()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert sum(counts) == sets


def test_exec_a_program_that_opens_the_name():
    e = wsevent.Event(name=unique("exec"), manual_reset=False)
    code = "import sys, wsevent; wsevent.Event.open(sys.argv[1]).set()"
    subprocess.run([sys.executable, "-c", code, e.name], check=True,
                   env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert e.wait(0)


def test_wait_all_mixes_local_and_named_events():
    local = wsevent.Event(initial_state=True)
    a = wsevent.Event(name=unique("a"), manual_reset=False)
    b = wsevent.Event(name=unique("b"), manual_reset=False)
    a.set()
    assert not wsevent.wait_all([local, a, b], timeout=0.02)
    assert a.is_set()  # not taken alone
    p = SPAWN.Process(target=setter_by_name, args=(b.name,))
    p.start()
    assert wsevent.wait_all([local, a, b], timeout=20)
    p.join(30)
    assert local.is_set() and not a.is_set() and not b.is_set()


def test_a_process_killed_in_a_wait_loses_nothing():
    e = wsevent.Event(name=unique("kill"), manual_reset=False)
    ready = wsevent.Event(name=unique("ready"))
    p = SPAWN.Process(target=waiter_forever, args=(e.name, ready))
    p.start()
    assert ready.wait(20)
    until_sleeping(p.pid)  # in its wait
    os.kill(p.pid, signal.SIGKILL)
    p.join(30)
    assert p.exitcode == -signal.SIGKILL
    e.set()
    assert e.wait(5)


def test_a_process_killed_while_setting_leaves_nobody_stuck():
    e = wsevent.Event(name=unique("busy"))
    o = wsevent.Event(name=unique("other"), manual_reset=False)
    for _ in range(5):
        ready = wsevent.Event(name=unique("ready"))
        p = FORK.Process(target=set_reset_forever, args=(e.name, o.name, ready))
        p.start()
        assert ready.wait(20)
        time.sleep(0.005)
        os.kill(p.pid, signal.SIGKILL)
        p.join(30)
        e.clear()  # the objects' locks are free
        assert not e.wait(0)
        e.set()
        assert e.wait(1)
        o.clear()
        o.set()
        assert o.wait(1) and not o.wait(0)


def test_asyncio_waits_for_another_process():
    e = wsevent.Event(name=unique("aio"), manual_reset=False)

    async def main():
        waiting = asyncio.ensure_future(wsevent.wait_async(e, timeout=20))
        await asyncio.sleep(0)
        p = SPAWN.Process(target=setter_by_name, args=(e.name,))
        p.start()
        assert await waiting
        await asyncio.get_running_loop().run_in_executor(None, p.join, 30)
        return p.exitcode

    assert asyncio.run(main()) == 0
    assert not e.is_set()  # the asyncio wait took it


def test_the_last_close_frees_the_name():
    name = unique("life")
    e = wsevent.Event(name=name, initial_state=True)
    p = SPAWN.Process(target=setter_by_name, args=(name,))
    p.start()
    p.join(30)
    e.close()
    with pytest.raises(wsevent.Error):
        wsevent.Event.open(name)
    with wsevent.Event(name=name) as again:
        assert not again.existed and not again.is_set()
    assert f"e.{name}" not in os.listdir(os.environ["WSEVENT_NAMED_DIR"])
