"""The clock port, the event a timer delivers, and the argument checks both clocks share.

Everything in the core reads time and sets timers through a :class:`Clock`: a backtest passes
a :class:`~tradeforge.bus.replay_clock.ReplayClock`, paper and live trading a
:class:`~tradeforge.bus.live_clock.LiveClock`. Times are UTC integer nanoseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeAlias, runtime_checkable

from tradeforge.bus.errors import InvalidTimer
from tradeforge.domain.messages import Message

__all__ = ["Clock", "TimeEvent", "TimeEventCallback", "ns_to_utc"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimeEvent(Message, frozen=True, kw_only=True, tag=True):
    """A timer or alert firing.

    ``ts_event`` is the time it was due; ``ts_init`` the clock's time when the event was made
    (equal in a replay, the actual wall time in live trading).
    """

    name: str


TimeEventCallback: TypeAlias = Callable[[TimeEvent], None]


def ns_to_utc(ts_ns: int) -> datetime:
    """Convert UTC nanoseconds since the epoch to a tz-aware UTC datetime (microseconds)."""
    return _EPOCH + timedelta(microseconds=ts_ns // 1_000)


@runtime_checkable
class Clock(Protocol):
    """Current time and named timers.

    Timer names are unique per clock; an alert's name is free again once it has fired, and a
    repeating timer's once it is cancelled or has passed ``stop_ns``.
    """

    def timestamp_ns(self) -> int:
        """Current time as UTC nanoseconds since the epoch."""
        ...

    def utc_now(self) -> datetime:
        """Current time as a tz-aware UTC datetime."""
        ...

    def set_timer(
        self,
        name: str,
        interval_ns: int,
        callback: TimeEventCallback,
        *,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        """Call ``callback`` every ``interval_ns``, first at ``start_ns + interval_ns``.

        ``start_ns`` defaults to now; the last call is the last one due at or before
        ``stop_ns`` (no limit when None).

        Raises:
            InvalidTimer: duplicate name, non-positive interval, ``stop_ns`` before the first
                fire, or a first fire in the past.
        """
        ...

    def set_time_alert(self, name: str, alert_ns: int, callback: TimeEventCallback) -> None:
        """Call ``callback`` once at ``alert_ns``.

        Raises:
            InvalidTimer: duplicate name or ``alert_ns`` in the past.
        """
        ...

    def cancel_timer(self, name: str) -> None:
        """Cancel the timer or alert ``name``.

        Raises:
            UnknownTimer: no timer by that name is set (already fired, or never set).
        """
        ...

    def timer_names(self) -> list[str]:
        """Names of the timers and alerts still set, sorted."""
        ...


def _require_int(name: str, field: str, value: object) -> int:
    if type(value) is not int:
        raise InvalidTimer(name, f"{field} must be an int of nanoseconds, got {value!r}")
    return value


def _check_name(name: object, existing: Container[str]) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidTimer(repr(name), "name must be a non-empty str")
    if name in existing:
        raise InvalidTimer(name, "a timer or alert with this name is already set")
    return name


def check_timer(
    name: object,
    interval_ns: object,
    *,
    start_ns: object,
    stop_ns: object,
    now_ns: int,
    existing: Container[str],
) -> int:
    """Validate ``set_timer`` arguments (any objects: a wrong type is ``InvalidTimer``) and
    return the time of the first fire."""
    name = _check_name(name, existing)
    interval = _require_int(name, "interval_ns", interval_ns)
    if interval <= 0:
        raise InvalidTimer(name, f"interval_ns must be positive, got {interval}")
    start = now_ns if start_ns is None else _require_int(name, "start_ns", start_ns)
    first = start + interval
    if stop_ns is not None:
        stop_ns = _require_int(name, "stop_ns", stop_ns)
        if stop_ns < start:
            raise InvalidTimer(name, f"stop_ns {stop_ns} is before start_ns {start}")
        if stop_ns < first:
            raise InvalidTimer(
                name, f"stop_ns {stop_ns} is before the first fire at {first}; it would never fire"
            )
    if first < now_ns:
        raise InvalidTimer(name, f"first fire at {first} is in the past (now {now_ns})")
    return first


def check_alert(name: object, alert_ns: object, *, now_ns: int, existing: Container[str]) -> None:
    """Validate ``set_time_alert`` arguments (any objects: a wrong type is ``InvalidTimer``)."""
    name = _check_name(name, existing)
    alert_ns = _require_int(name, "alert_ns", alert_ns)
    if alert_ns < now_ns:
        raise InvalidTimer(name, f"alert_ns {alert_ns} is in the past (now {now_ns})")
