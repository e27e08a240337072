"""A clock whose time only moves when a backtest driver says so."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from tradeforge.bus.clock import TimeEvent, TimeEventCallback, check_alert, check_timer, ns_to_utc
from tradeforge.bus.errors import ClockError, UnknownTimer

__all__ = ["ReplayClock"]


@dataclass(slots=True, eq=False)
class _Timer:
    name: str
    interval_ns: int  # 0 for a one-shot alert
    stop_ns: int | None
    callback: TimeEventCallback
    order: int  # when it was set; breaks ties between timers due at the same time


class ReplayClock:
    """Deterministic :class:`~tradeforge.bus.clock.Clock` for backtests.

    Time stands still until :meth:`advance_to`, which fires every timer and alert due at or
    before the target in time order (ties in the order the timers were set), with the clock
    reading each event's own time while its callback runs. Callbacks may set and cancel
    timers; one newly set and due before the target fires in the same advance.

    A callback's exception propagates out of ``advance_to``. The clock then reads the failed
    event's time; the event is consumed (a repeating timer is already re-armed), and calling
    ``advance_to`` again carries on from there.
    """

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns
        self._timers: dict[str, _Timer] = {}
        # (due time, timer.order, timer); (due, order) is unique, so timers are never compared.
        self._heap: list[tuple[int, int, _Timer]] = []
        self._next_order = 0
        self._advancing = False

    def timestamp_ns(self) -> int:
        """Current replay time in UTC nanoseconds."""
        return self._now

    def utc_now(self) -> datetime:
        """Current replay time as a tz-aware UTC datetime."""
        return ns_to_utc(self._now)

    def set_timer(
        self,
        name: object,
        interval_ns: object,
        callback: TimeEventCallback,
        *,
        start_ns: object = None,
        stop_ns: object = None,
    ) -> None:
        """Set a repeating timer; see :meth:`Clock.set_timer`.

        The arguments are typed ``object`` (this module is compiled, and mypyc would refuse a
        wrong type before the body runs): a bad one is ``InvalidTimer`` naming the timer."""
        first = check_timer(
            name,
            interval_ns,
            start_ns=start_ns,
            stop_ns=stop_ns,
            now_ns=self._now,
            existing=self._timers,
        )
        # Checked above: a str name and int times.
        timer = _Timer(
            cast(str, name),
            cast(int, interval_ns),
            cast("int | None", stop_ns),
            callback,
            self._take_order(),
        )
        self._add(timer, first)

    def set_time_alert(self, name: object, alert_ns: object, callback: TimeEventCallback) -> None:
        """Set a one-shot alert; one due now fires on the next ``advance_to``."""
        check_alert(name, alert_ns, now_ns=self._now, existing=self._timers)
        self._add(
            _Timer(cast(str, name), 0, None, callback, self._take_order()), cast(int, alert_ns)
        )

    def cancel_timer(self, name: str) -> None:
        """Cancel timer or alert ``name``; raises ``UnknownTimer`` if it is not set."""
        if self._timers.pop(name, None) is None:
            raise UnknownTimer(name)

    def timer_names(self) -> list[str]:
        """Names of the timers and alerts still set, sorted."""
        return sorted(self._timers)

    @property
    def idle(self) -> bool:
        """True when no timer or alert is set (advancing then only moves time)."""
        return not self._timers

    def next_event_ns(self) -> int | None:
        """When the next timer or alert is due, or None if none is set."""
        heap = self._heap
        while heap and self._timers.get(heap[0][2].name) is not heap[0][2]:
            heapq.heappop(heap)  # cancelled
        return heap[0][0] if heap else None

    def advance_to(self, ts_ns: int) -> None:
        """Move time to ``ts_ns``, firing everything due at or before it on the way.

        Raises:
            ClockError: ``ts_ns`` is before the current time, or called from a callback.
        """
        if ts_ns < self._now:
            raise ClockError(f"replay clock cannot move backwards from {self._now} to {ts_ns}")
        if self._advancing:
            raise ClockError("advance_to called from inside a timer callback")
        self._advancing = True
        try:
            self._fire_due(ts_ns)
        finally:
            self._advancing = False
        self._now = ts_ns

    def _fire_due(self, ts_ns: int) -> None:
        heap = self._heap
        timers = self._timers
        while heap and heap[0][0] <= ts_ns:
            due, order, timer = heapq.heappop(heap)
            if timers.get(timer.name) is not timer:
                continue  # cancelled, possibly replaced by a new timer of the same name
            self._now = due
            # Re-arm (or retire) before the callback, so the callback may cancel or reuse it.
            next_due = due + timer.interval_ns
            if timer.interval_ns and (timer.stop_ns is None or next_due <= timer.stop_ns):
                heapq.heappush(heap, (next_due, order, timer))
            else:
                del timers[timer.name]
            timer.callback(TimeEvent(name=timer.name, ts_event=due, ts_init=due))

    def _add(self, timer: _Timer, due: int) -> None:
        self._timers[timer.name] = timer
        heapq.heappush(self._heap, (due, timer.order, timer))

    def _take_order(self) -> int:
        order = self._next_order
        self._next_order += 1
        return order
