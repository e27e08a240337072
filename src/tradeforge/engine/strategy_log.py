"""``StrategyLog``: the recent log lines of each strategy of a node, for the operator.

A strategy's own ``ctx.log`` lines, its errors (a hook that raised) and what the node did with
it (added, started, stopped, a modify refused) are kept per strategy in a ring buffer of
``size`` lines, so a strategy that logs in a hot loop costs bounded memory; older lines are
in the process log only.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

import msgspec

from tradeforge.domain import StrategyId

__all__ = ["LogLine", "StrategyLog"]

Level = Literal["info", "warning", "error"]
_MAX_MESSAGE = 2000


class LogLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line: when (clock ns), how bad, what, and the fields it was logged with."""

    ts_ns: int
    level: Level
    message: str
    fields: dict[str, str] = msgspec.field(default_factory=dict)


class StrategyLog:
    """Ring buffers of log lines, one per strategy."""

    def __init__(self, size: int = 500) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self.size = size
        self._lines: dict[StrategyId, deque[LogLine]] = {}

    def add(
        self, strategy_id: StrategyId, ts_ns: int, level: Level, message: str, **fields: object
    ) -> None:
        """Keep one line (the oldest of the strategy's goes once ``size`` are kept)."""
        lines = self._lines.setdefault(strategy_id, deque(maxlen=self.size))
        text = {k: str(v)[:200] for k, v in fields.items()}
        lines.append(LogLine(ts_ns=ts_ns, level=level, message=message[:_MAX_MESSAGE], fields=text))

    def lines(self, strategy_id: StrategyId, limit: int | None = None) -> list[LogLine]:
        """The strategy's kept lines, oldest first (the newest ``limit`` when given)."""
        kept = list(self._lines.get(strategy_id, ()))
        return kept[-limit:] if limit else kept

    def forget(self, strategy_id: StrategyId) -> None:
        """Drop a removed strategy's lines."""
        self._lines.pop(strategy_id, None)
