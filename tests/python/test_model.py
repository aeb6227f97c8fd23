"""Model-based test: random operation sequences run on wsevent and on a
small reference model of Win32 event semantics, compared step by step.

Single-threaded, timeouts of 0, so the model is exact: wait-any takes the
lowest signaled index (consuming it if auto-reset), wait-all takes every
auto-reset event together or nothing, duplicates in a wait-all list are
invalid, a closed event is unusable.
"""
import random

import pytest

import wsevent


class ModelEvent:
    def __init__(self, manual, initial):
        self.manual, self.signaled, self.closed = manual, initial, False


class Model:
    """Win32 events as the documentation describes them."""

    def __init__(self):
        self.events = []

    def create(self, manual, initial):
        self.events.append(ModelEvent(manual, initial))
        return len(self.events) - 1

    def _live(self, i):
        if self.events[i].closed:
            return "closed"
        return None

    def set(self, i):
        return self._live(i) or setattr(self.events[i], "signaled", True)

    def reset(self, i):
        return self._live(i) or setattr(self.events[i], "signaled", False)

    def is_set(self, i):
        return self._live(i) or self.events[i].signaled

    def close(self, i):
        self.events[i].closed = True  # a second close is harmless

    def wait_any(self, idx):
        if not idx:
            return "empty"
        if any(self.events[i].closed for i in idx):
            return "closed"
        for k, i in enumerate(idx):
            e = self.events[i]
            if e.signaled:
                if not e.manual:
                    e.signaled = False
                return k
        return None

    def wait_all(self, idx):
        if not idx:
            return "empty"
        if any(self.events[i].closed for i in idx):
            return "closed"
        if len(set(idx)) != len(idx):
            return "duplicate"
        if not all(self.events[i].signaled for i in idx):
            return False
        for i in idx:
            if not self.events[i].manual:
                self.events[i].signaled = False
        return True


class Real:
    """The same operations on wsevent, with failures turned into the
    model's words."""

    def __init__(self):
        self.events = []

    def create(self, manual, initial):
        self.events.append(wsevent.Event(manual_reset=manual, initial_state=initial))
        return len(self.events) - 1

    @staticmethod
    def _call(fn):
        try:
            return fn()
        except ValueError as e:
            text = str(e)
            if "closed" in text:
                return "closed"
            if "at least one" in text:
                return "empty"
            if "twice" in text:
                return "duplicate"
            raise

    def set(self, i):
        return self._call(self.events[i].set)

    def reset(self, i):
        return self._call(self.events[i].reset)

    def is_set(self, i):
        return self._call(self.events[i].is_set)

    def close(self, i):
        self.events[i].close()

    def wait_any(self, idx):
        return self._call(lambda: wsevent.wait_any([self.events[i] for i in idx], 0))

    def wait_all(self, idx):
        return self._call(lambda: wsevent.wait_all([self.events[i] for i in idx], 0))


def run_sequence(seed, steps=300):
    rng = random.Random(seed)
    model, real = Model(), Real()
    log = []
    for _ in range(4):
        args = (rng.random() < 0.5, rng.random() < 0.3)
        model.create(*args)
        real.create(*args)
    for step in range(steps):
        n = len(model.events)
        op = rng.choice(["create", "set", "set", "reset", "is_set", "close",
                         "wait_any", "wait_any", "wait_all", "wait_all"])
        if op == "create":
            args = (rng.random() < 0.5, rng.random() < 0.3)
        elif op in ("wait_any", "wait_all"):
            size = rng.choice([0, 1, 2, 3, 5, 8])
            args = ([rng.randrange(n) for _ in range(size)],)
        elif op == "close":
            args = (rng.randrange(n),) if rng.random() < 0.3 else None
            if args is None:
                continue  # close rarely, or everything ends up closed
        else:
            args = (rng.randrange(n),)
        expected = getattr(model, op)(*args)
        got = getattr(real, op)(*args)
        log.append((step, op, args, expected, got))
        assert got == expected, f"seed {seed}, step {step}: {op}{args} -> {got!r}, model says {expected!r}\n" + \
            "\n".join(map(str, log[-10:]))
        # Every event's state agrees after every step.
        for i, e in enumerate(model.events):
            if not e.closed:
                assert real.events[i].is_set() == e.signaled, f"seed {seed}, step {step}, event {i}"


@pytest.mark.parametrize("seed", range(200))
def test_random_sequences_match_the_win32_model(seed):
    run_sequence(seed)
