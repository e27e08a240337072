"""The wall clock, with timers on the running asyncio loop (paper and live trading)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime

import structlog
from structlog.typing import FilteringBoundLogger

from tradeforge.bus.clock import TimeEvent, TimeEventCallback, check_alert, check_timer, ns_to_utc
from tradeforge.bus.errors import ClockError, UnknownTimer

__all__ = ["LiveClock"]


@dataclass(slots=True, eq=False)
class _LiveTimer:
    name: str
    interval_ns: int  # 0 for a one-shot alert
    stop_ns: int | None
    callback: TimeEventCallback
    loop: asyncio.AbstractEventLoop
    # A (wall ns, loop seconds) pair read together when the timer was set: every fire is
    # planned from it, so late callbacks never push later fires back (no drift).
    anchor_ns: int
    anchor_loop: float
    handle: asyncio.TimerHandle | None = None


class LiveClock:
    """Wall-clock :class:`~tradeforge.bus.clock.Clock`; timers run on the asyncio loop.

    ``set_timer`` and ``set_time_alert`` must be called with a loop running. A fire that
    comes late (a blocked loop) is delivered late, never dropped; ``ts_event`` is the planned
    time and ``ts_init`` the wall time at the call. A callback's exception is logged and the
    timer keeps running. Call :meth:`close` on shutdown.
    """

    def __init__(self) -> None:
        self._timers: dict[str, _LiveTimer] = {}
        self._log: FilteringBoundLogger = structlog.get_logger("tradeforge.bus.clock")

    def timestamp_ns(self) -> int:
        """Wall-clock time in UTC nanoseconds."""
        return time.time_ns()

    def monotonic(self) -> float:
        """Seconds of a clock that never goes back, for timeouts, back-off and rate limits."""
        return time.monotonic()

    def utc_now(self) -> datetime:
        """Wall-clock time as a tz-aware UTC datetime."""
        return ns_to_utc(time.time_ns())

    def set_timer(
        self,
        name: str,
        interval_ns: int,
        callback: TimeEventCallback,
        *,
        start_ns: int | None = None,
        stop_ns: int | None = None,
    ) -> None:
        """Set a repeating timer; see :meth:`Clock.set_timer`."""
        loop = self._running_loop(name)
        now_ns = time.time_ns()
        first = check_timer(
            name,
            interval_ns,
            start_ns=start_ns,
            stop_ns=stop_ns,
            now_ns=now_ns,
            existing=self._timers,
        )
        timer = _LiveTimer(name, interval_ns, stop_ns, callback, loop, now_ns, loop.time())
        self._timers[name] = timer
        self._schedule(timer, first)

    def set_time_alert(self, name: str, alert_ns: int, callback: TimeEventCallback) -> None:
        """Set a one-shot alert at wall time ``alert_ns``."""
        loop = self._running_loop(name)
        now_ns = time.time_ns()
        check_alert(name, alert_ns, now_ns=now_ns, existing=self._timers)
        timer = _LiveTimer(name, 0, None, callback, loop, now_ns, loop.time())
        self._timers[name] = timer
        self._schedule(timer, alert_ns)

    def cancel_timer(self, name: str) -> None:
        """Cancel timer or alert ``name``; raises ``UnknownTimer`` if it is not set."""
        timer = self._timers.pop(name, None)
        if timer is None:
            raise UnknownTimer(name)
        if timer.handle is not None:
            timer.handle.cancel()

    def timer_names(self) -> list[str]:
        """Names of the timers and alerts still set, sorted."""
        return sorted(self._timers)

    def close(self) -> None:
        """Cancel every timer and alert."""
        for name in list(self._timers):
            self.cancel_timer(name)

    def _running_loop(self, name: str) -> asyncio.AbstractEventLoop:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            raise ClockError(
                f"LiveClock timer {name!r} needs a running asyncio loop; set it from a coroutine"
            ) from None

    def _schedule(self, timer: _LiveTimer, due_ns: int) -> None:
        when = timer.anchor_loop + (due_ns - timer.anchor_ns) / 1e9
        timer.handle = timer.loop.call_at(when, self._fire, timer, due_ns)

    def _fire(self, timer: _LiveTimer, due_ns: int) -> None:
        if self._timers.get(timer.name) is not timer:
            return  # cancelled after the handle was already running
        next_due = due_ns + timer.interval_ns
        if timer.interval_ns and (timer.stop_ns is None or next_due <= timer.stop_ns):
            self._schedule(timer, next_due)
        else:
            del self._timers[timer.name]
            timer.handle = None
        event = TimeEvent(name=timer.name, ts_event=due_ns, ts_init=time.time_ns())
        try:
            timer.callback(event)
        except Exception:
            self._log.exception("clock callback raised", timer=timer.name, ts_event=due_ns)
