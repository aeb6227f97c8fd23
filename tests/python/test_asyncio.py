"""asyncio: awaiting events through their descriptors, no thread per waiter."""
import asyncio
import threading

import pytest

import wsevent


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_wait_async_returns_true_when_set_from_a_thread():
    ev = wsevent.Event()

    async def main():
        threading.Timer(0.05, ev.set).start()
        return await ev.wait_async()

    assert run(main()) is True


def test_wait_async_times_out_with_false():
    ev = wsevent.Event()
    assert run(wsevent.wait_async(ev, 0.05)) is False
    assert run(ev.wait_async(0)) is False


def test_wait_async_from_a_c_thread(c_provider):
    ev = wsevent.Event(manual_reset=False)

    async def main():
        c_provider.set_later(ev, delay_ms=30)
        return await ev.wait_async(10)

    assert run(main()) is True
    assert not ev.is_set()  # consumed by the await


def test_many_coroutines_share_one_auto_reset_event_fairly():
    ev = wsevent.Event(manual_reset=False)

    async def main():
        waiters = [asyncio.ensure_future(ev.wait_async(2)) for _ in range(5)]
        await asyncio.sleep(0.02)
        for _ in range(3):
            ev.set()
            await asyncio.sleep(0.02)
        return await asyncio.gather(*waiters)

    results = run(main())
    assert sorted(results) == [False, False, True, True, True]


def test_manual_reset_releases_every_coroutine():
    ev = wsevent.Event()

    async def main():
        waiters = [asyncio.ensure_future(ev.wait_async()) for _ in range(10)]
        await asyncio.sleep(0.02)
        ev.set()
        return await asyncio.gather(*waiters)

    assert run(main()) == [True] * 10


def test_wait_any_async_reports_the_lowest_index():
    evs = [wsevent.Event(manual_reset=False) for _ in range(4)]

    async def main():
        threading.Timer(0.05, evs[2].set).start()
        first = await wsevent.wait_any_async(evs, 10)
        evs[3].set()
        evs[1].set()
        second = await wsevent.wait_any_async(evs, 10)
        third = await wsevent.wait_any_async(evs, 0.05)
        fourth = await wsevent.wait_any_async(evs, 0.05)
        return first, second, third, fourth

    assert run(main()) == (2, 1, 3, None)


def test_closing_an_awaited_event_raises_in_the_coroutine():
    ev = wsevent.Event()

    async def main():
        task = asyncio.ensure_future(ev.wait_async())
        await asyncio.sleep(0.02)
        ev.close()
        with pytest.raises(ValueError, match="closed"):
            await task

    run(main())


def test_bad_inputs_to_the_async_helpers():
    with pytest.raises(TypeError):
        run(wsevent.wait_async(threading.Event()))
    with pytest.raises(ValueError):
        run(wsevent.wait_any_async([]))
    with pytest.raises(TypeError):
        run(wsevent.wait_any_async([wsevent.Event(), "x"]))
    with pytest.raises(ValueError):
        run(wsevent.wait_async(wsevent.Event(), -1))
