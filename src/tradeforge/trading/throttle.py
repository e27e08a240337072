"""Rolling time windows: the message throttle (R7) and the repeated-execution throttle (R8).

A ``RollingLog`` keeps the times of the events of one kind in one scope. A window of ``W`` ns
ending at ``now`` holds the events at ``now - W < t <= now``; so if every admission checks
``count(now) < limit`` before recording, no half-open window ``[t, t + W)`` ever holds more than
``limit`` admitted events.
"""

from __future__ import annotations

from collections import deque

__all__ = ["SECOND_NS", "RollingLog"]

SECOND_NS = 1_000_000_000


class RollingLog:
    """Event times within a rolling window (older ones are dropped as time moves on)."""

    __slots__ = ("_times", "window_ns")

    def __init__(self, window_ns: int = SECOND_NS, times: list[int] | None = None) -> None:
        self.window_ns = window_ns
        self._times: deque[int] = deque(times or ())

    def count(self, now_ns: int) -> int:
        """Events in the window ending at ``now_ns``."""
        times = self._times
        cutoff = now_ns - self.window_ns
        while times and times[0] <= cutoff:
            times.popleft()
        return len(times)

    def add(self, ts_ns: int) -> None:
        """Add an event at ``ts_ns`` (the oldest ones drop out as later ones come)."""
        times = self._times
        if times and ts_ns < times[-1]:
            # Out of order (e.g. a late fill report): keep the log sorted.
            items = sorted([*times, ts_ns])
            times.clear()
            times.extend(items)
            return
        times.append(ts_ns)
        if times[0] <= ts_ns - self.window_ns:
            times.popleft()  # one out per one in keeps the log bounded by the window

    def record(self, ts_ns: int) -> int:
        """Add an event at ``ts_ns``; the count in the window ending at the latest event."""
        self.add(ts_ns)
        return self.count(self._times[-1])

    def times(self) -> list[int]:
        """The event times kept, oldest first (the persistable form)."""
        return list(self._times)
