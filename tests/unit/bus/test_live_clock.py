import asyncio
import time
from datetime import UTC, timedelta

import pytest

from tradeforge.bus import Clock, ClockError, InvalidTimer, LiveClock, TimeEvent, UnknownTimer

MS = 1_000_000


def test_live_clock_reads_the_wall_clock_in_utc() -> None:
    clock = LiveClock()

    before = time.time_ns()
    ts = clock.timestamp_ns()
    now = clock.utc_now()
    after = time.time_ns()

    assert isinstance(clock, Clock)
    assert before <= ts <= after
    assert now.tzinfo is UTC
    assert abs(now.timestamp() * 1e9 - ts) < 1e9


def test_timer_fires_repeatedly_on_the_planned_grid_and_cancel_stops_it() -> None:
    clock = LiveClock()
    events: list[TimeEvent] = []
    third_fire_after: list[float] = []
    set_at = [0.0]

    def on_tick(event: TimeEvent) -> None:
        events.append(event)
        if len(events) == 3:
            third_fire_after.append(time.monotonic() - set_at[0])

    async def run() -> int:
        start = clock.timestamp_ns()
        set_at[0] = time.monotonic()
        clock.set_timer("tick", 20 * MS, on_tick, start_ns=start)
        deadline = set_at[0] + 1.0  # bounded: a broken timer fails the test, never hangs it
        while len(events) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        clock.cancel_timer("tick")
        count = len(events)
        await asyncio.sleep(0.06)
        assert len(events) == count  # nothing fires after cancel
        return start

    start = asyncio.run(run())

    assert len(events) >= 3
    assert third_fire_after[0] < 0.2
    assert [e.ts_event for e in events[:3]] == [start + 20 * MS, start + 40 * MS, start + 60 * MS]
    assert all(e.name == "tick" and e.ts_init >= e.ts_event - 5 * MS for e in events)
    assert clock.timer_names() == []


def test_alert_fires_once_then_its_name_is_free() -> None:
    clock = LiveClock()
    events: list[TimeEvent] = []

    async def run() -> None:
        clock.set_time_alert("once", clock.timestamp_ns() + 10 * MS, events.append)
        assert clock.timer_names() == ["once"]
        await asyncio.sleep(0.06)

    asyncio.run(run())

    assert [e.name for e in events] == ["once"]
    assert clock.timer_names() == []


def test_stop_ns_ends_a_timer() -> None:
    clock = LiveClock()
    events: list[TimeEvent] = []

    async def run() -> None:
        start = clock.timestamp_ns()
        clock.set_timer("t", 10 * MS, events.append, start_ns=start, stop_ns=start + 25 * MS)
        await asyncio.sleep(0.08)

    asyncio.run(run())

    assert len(events) == 2
    assert clock.timer_names() == []


def test_a_failing_callback_is_logged_and_the_timer_keeps_running() -> None:
    clock = LiveClock()
    calls: list[int] = []

    def failing(event: TimeEvent) -> None:
        calls.append(event.ts_event)
        raise RuntimeError("callback bug")

    async def run() -> None:
        clock.set_timer("t", 10 * MS, failing)
        deadline = time.monotonic() + 1.0
        while len(calls) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        clock.close()

    asyncio.run(run())

    assert len(calls) >= 2


def test_close_cancels_everything() -> None:
    clock = LiveClock()
    events: list[TimeEvent] = []

    async def run() -> None:
        clock.set_timer("a", 10 * MS, events.append)
        clock.set_time_alert("b", clock.timestamp_ns() + 10 * MS, events.append)
        clock.close()
        await asyncio.sleep(0.04)

    asyncio.run(run())

    assert events == []
    assert clock.timer_names() == []


def test_timers_need_a_running_loop() -> None:
    clock = LiveClock()

    with pytest.raises(ClockError, match="'t' needs a running asyncio loop"):
        clock.set_timer("t", 10 * MS, lambda event: None)


def test_argument_errors_and_unknown_cancel() -> None:
    clock = LiveClock()

    async def run() -> None:
        with pytest.raises(InvalidTimer, match="'t': interval_ns must be positive"):
            clock.set_timer("t", 0, lambda event: None)
        past = clock.utc_now() - timedelta(seconds=1)
        with pytest.raises(InvalidTimer, match=r"'a': alert_ns .* is in the past"):
            clock.set_time_alert("a", int(past.timestamp()) * 1_000_000_000, lambda event: None)
        with pytest.raises(UnknownTimer, match="'nope'"):
            clock.cancel_timer("nope")

    asyncio.run(run())
