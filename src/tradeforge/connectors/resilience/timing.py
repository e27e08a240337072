"""The two time sources every resilience component takes: a monotonic reading and a sleep.

Nothing here reads the wall clock. The runtime passes the event loop's monotonic time and
``asyncio.sleep``; tests pass a virtual-time loop's, so that minutes of simulated back-off, rate
limiting and cool-downs run in milliseconds and give the same result on every run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias

__all__ = ["Monotonic", "Sleep"]

Monotonic: TypeAlias = Callable[[], float]
"""Seconds on a clock that never goes backwards (only differences are meaningful)."""

Sleep: TypeAlias = Callable[[float], Awaitable[None]]
"""Suspend the calling task for the given number of seconds on the same clock."""
