from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.bus import (
    Clock,
    ClockError,
    InvalidTimer,
    ReplayClock,
    TimeEvent,
    TimeEventCallback,
    UnknownTimer,
)

Fired = list[tuple[str, int, int]]  # (name, ts_event, clock time inside the callback)


def recorder(clock: ReplayClock, fired: Fired) -> TimeEventCallback:
    def callback(event: TimeEvent) -> None:
        fired.append((event.name, event.ts_event, clock.timestamp_ns()))

    return callback


def test_replay_clock_satisfies_the_protocol_and_starts_where_told() -> None:
    clock: Clock = ReplayClock(start_ns=1_700_000_000_123_456_789)

    assert isinstance(clock, Clock)
    assert clock.timestamp_ns() == 1_700_000_000_123_456_789
    assert clock.utc_now() == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert ReplayClock().timestamp_ns() == 0


def test_time_event_is_a_frozen_keyword_only_struct_that_round_trips() -> None:
    event = TimeEvent(name="bar", ts_event=10, ts_init=11)

    decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(event), type=TimeEvent)

    assert decoded == event
    with pytest.raises(AttributeError):
        event.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        TimeEvent("bar", 10, 11)  # type: ignore[call-arg]


def test_advance_fires_due_timers_in_time_order_with_ties_in_set_order() -> None:
    clock = ReplayClock()
    fired: Fired = []
    clock.set_timer("slow", 10, recorder(clock, fired))
    clock.set_timer("fast", 5, recorder(clock, fired))
    clock.set_time_alert("alert", 10, recorder(clock, fired))

    clock.advance_to(20)

    assert fired == [
        ("fast", 5, 5),
        ("slow", 10, 10),
        ("fast", 10, 10),
        ("alert", 10, 10),
        ("fast", 15, 15),
        ("slow", 20, 20),
        ("fast", 20, 20),
    ]
    assert clock.timestamp_ns() == 20


def test_advance_leaves_the_clock_at_the_target_and_fires_nothing_early() -> None:
    clock = ReplayClock(start_ns=100)
    fired: Fired = []
    clock.set_timer("t", 50, recorder(clock, fired))

    clock.advance_to(149)
    clock.advance_to(149)

    assert fired == []
    assert clock.timestamp_ns() == 149
    assert clock.next_event_ns() == 150


def test_start_and_stop_bound_a_timer_and_it_is_removed_after_the_last_fire() -> None:
    clock = ReplayClock()
    fired: Fired = []
    clock.set_timer("t", 10, recorder(clock, fired), start_ns=5, stop_ns=35)

    clock.advance_to(100)

    assert [ts for _, ts, _ in fired] == [15, 25, 35]
    assert clock.timer_names() == []


def test_alert_fires_once_and_its_name_is_free_again() -> None:
    clock = ReplayClock()
    fired: Fired = []
    clock.set_time_alert("wake", 7, recorder(clock, fired))

    clock.advance_to(10)
    clock.advance_to(20)
    clock.set_time_alert("wake", 25, recorder(clock, fired))
    clock.advance_to(30)

    assert fired == [("wake", 7, 7), ("wake", 25, 25)]


def test_an_alert_due_now_fires_on_the_next_advance() -> None:
    clock = ReplayClock(start_ns=50)
    fired: Fired = []
    clock.set_time_alert("now", 50, recorder(clock, fired))

    clock.advance_to(50)

    assert fired == [("now", 50, 50)]


def test_cancel_stops_a_timer_and_unknown_names_are_refused() -> None:
    clock = ReplayClock()
    fired: Fired = []
    clock.set_timer("t", 10, recorder(clock, fired))
    clock.set_time_alert("a", 15, recorder(clock, fired))
    clock.advance_to(10)

    clock.cancel_timer("t")
    clock.cancel_timer("a")
    clock.advance_to(100)

    assert fired == [("t", 10, 10)]
    assert clock.timer_names() == []
    assert clock.next_event_ns() is None
    with pytest.raises(UnknownTimer, match="'t'"):
        clock.cancel_timer("t")


def test_callbacks_may_set_and_cancel_timers_during_an_advance() -> None:
    clock = ReplayClock()
    fired: Fired = []
    record = recorder(clock, fired)

    def on_first(event: TimeEvent) -> None:
        record(event)
        clock.set_time_alert("follow-up", event.ts_event + 3, record)  # due before target
        clock.set_time_alert("same-time", event.ts_event, record)
        clock.cancel_timer("victim")
        clock.cancel_timer("first")  # cancels its own repetitions

    clock.set_timer("first", 10, on_first)
    clock.set_timer("victim", 12, record)

    clock.advance_to(50)

    assert fired == [
        ("first", 10, 10),
        ("same-time", 10, 10),
        ("follow-up", 13, 13),
    ]


def test_a_timer_replaced_under_the_same_name_does_not_fire_the_old_schedule() -> None:
    clock = ReplayClock()
    fired: Fired = []
    clock.set_timer("t", 10, recorder(clock, fired))
    clock.cancel_timer("t")
    clock.set_timer("t", 7, recorder(clock, fired))

    clock.advance_to(20)

    assert fired == [("t", 7, 7), ("t", 14, 14)]


def test_an_alert_callback_may_re_arm_itself() -> None:
    clock = ReplayClock()
    fired: list[int] = []

    def heartbeat(event: TimeEvent) -> None:
        fired.append(event.ts_event)
        clock.set_time_alert("hb", event.ts_event + 4, heartbeat)

    clock.set_time_alert("hb", 4, heartbeat)

    clock.advance_to(13)

    assert fired == [4, 8, 12]
    assert clock.timer_names() == ["hb"]


def test_moving_backwards_is_refused() -> None:
    clock = ReplayClock(start_ns=100)

    with pytest.raises(ClockError, match="backwards from 100 to 99"):
        clock.advance_to(99)
    assert clock.timestamp_ns() == 100


def test_advance_from_inside_a_callback_is_refused() -> None:
    clock = ReplayClock()

    def reenter(event: TimeEvent) -> None:
        clock.advance_to(event.ts_event + 1)

    clock.set_time_alert("a", 5, reenter)

    with pytest.raises(ClockError, match="inside a timer callback"):
        clock.advance_to(10)


def test_a_failing_callback_propagates_and_the_replay_can_continue() -> None:
    clock = ReplayClock()
    fired: Fired = []
    record = recorder(clock, fired)

    def failing(event: TimeEvent) -> None:
        record(event)
        if event.ts_event == 10:
            raise RuntimeError("strategy bug")

    clock.set_timer("t", 10, failing)

    with pytest.raises(RuntimeError, match="strategy bug"):
        clock.advance_to(25)
    assert clock.timestamp_ns() == 10
    clock.advance_to(25)

    assert fired == [("t", 10, 10), ("t", 20, 20)]
    assert clock.timestamp_ns() == 25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval_ns": 0}, "interval_ns must be positive, got 0"),
        ({"interval_ns": -5}, "interval_ns must be positive"),
        ({"interval_ns": 1.5}, "interval_ns must be an int"),
        ({"interval_ns": 10, "start_ns": 200, "stop_ns": 150}, "stop_ns 150 is before start_ns"),
        ({"interval_ns": 10, "stop_ns": 105}, "before the first fire at 110"),
        ({"interval_ns": 10, "start_ns": 50}, "first fire at 60 is in the past"),
    ],
)
def test_bad_timer_arguments_are_refused_naming_the_timer(
    kwargs: dict[str, int], message: str
) -> None:
    clock = ReplayClock(start_ns=100)
    fired: Fired = []

    with pytest.raises(InvalidTimer, match=r"^timer 'heartbeat': ") as info:
        clock.set_timer("heartbeat", callback=recorder(clock, fired), **kwargs)

    assert message in str(info.value)
    assert info.value.name == "heartbeat"
    assert clock.timer_names() == []


def test_duplicate_names_and_past_alerts_are_refused() -> None:
    clock = ReplayClock(start_ns=100)
    fired: Fired = []
    clock.set_timer("t", 10, recorder(clock, fired))

    with pytest.raises(InvalidTimer, match="'t': a timer or alert with this name is already set"):
        clock.set_time_alert("t", 200, recorder(clock, fired))
    with pytest.raises(InvalidTimer, match=r"'late': alert_ns 99 is in the past \(now 100\)"):
        clock.set_time_alert("late", 99, recorder(clock, fired))
    with pytest.raises(InvalidTimer, match="non-empty"):
        clock.set_time_alert("", 200, recorder(clock, fired))


def test_firings_match_a_brute_force_schedule() -> None:
    clock = ReplayClock()
    fired: Fired = []
    specs = [("a", 7, 0, None), ("b", 3, 2, 20), ("c", 5, 0, None), ("d", 7, 7, 40)]
    for name, interval, start, stop in specs:
        clock.set_timer(name, interval, recorder(clock, fired), start_ns=start, stop_ns=stop)

    clock.advance_to(17)
    clock.advance_to(45)

    expected = sorted(
        (t, order, name)
        for order, (name, interval, start, stop) in enumerate(specs)
        for t in range(start + interval, 46, interval)
        if stop is None or t <= stop
    )
    assert fired == [(name, t, t) for t, _, name in expected]


_operations = st.lists(
    st.one_of(
        st.tuples(st.just("timer"), st.integers(1, 40), st.integers(0, 30), st.booleans()),
        st.tuples(st.just("alert"), st.integers(0, 60)),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("advance"), st.integers(0, 50)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_operations, st.integers(0, 3))
def test_events_fire_in_non_decreasing_time_whatever_is_set_when(
    operations: list[tuple[object, ...]], spawn_every: int
) -> None:
    clock = ReplayClock(start_ns=1_000)
    fired: Fired = []
    counter = iter(range(10_000))

    def callback(event: TimeEvent) -> None:
        fired.append((event.name, event.ts_event, clock.timestamp_ns()))
        # Some callbacks set alerts of their own, at or after their own time.
        if spawn_every and len(fired) % (spawn_every + 1) == 0 and len(fired) < 300:
            clock.set_time_alert(f"spawn{next(counter)}", event.ts_event + len(fired) % 7, callback)

    advances: list[tuple[Fired, int, int]] = []
    for operation in operations:
        now = clock.timestamp_ns()
        match operation:
            case ("timer", int(interval), int(offset), bool(bounded)):
                stop = now + offset + 3 * interval if bounded else None
                clock.set_timer(
                    f"t{next(counter)}", interval, callback, start_ns=now + offset, stop_ns=stop
                )
            case ("alert", int(offset)):
                clock.set_time_alert(f"a{next(counter)}", now + offset, callback)
            case ("cancel", int(index)):
                names = clock.timer_names()
                if names:
                    clock.cancel_timer(names[index % len(names)])
            case ("advance", int(step)):
                before = len(fired)
                clock.advance_to(now + step)
                advances.append((fired[before:], now, now + step))
    clock.advance_to(clock.timestamp_ns())  # fire what was set due exactly now

    times = [ts for _, ts, _ in fired]
    assert times == sorted(times)
    assert all(ts == seen for _, ts, seen in fired)
    for events, start, target in advances:
        assert all(start <= ts <= target for _, ts, _ in events)
    next_due = clock.next_event_ns()
    assert next_due is None or next_due > clock.timestamp_ns()
