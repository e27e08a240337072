"""``StrategyLog``: the recent log lines of each strategy of a node, for the operator.

A strategy's own ``ctx.log`` lines, its errors (a hook that raised) and what the node did with
it (added, started, stopped, a modify refused) are kept per strategy in a ring buffer of
``size`` lines, so a strategy that logs in a hot loop costs bounded memory; older lines are
in the process log only.

With a bus, every line is also published as a ``StrategyLogged`` on
``events.strategies.<strategy id>`` (the gateway's strategy event stream), and a strategy
removed from the node as one with ``removed`` set.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

import msgspec

from tradeforge.bus import MessageBus
from tradeforge.bus.topics import escape_token, join_topic
from tradeforge.domain import StrategyId

__all__ = ["LogLine", "StrategyLog", "StrategyLogged"]

Level = Literal["info", "warning", "error"]
_MAX_MESSAGE = 2000


class LogLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line: when (clock ns), how bad, what, and the fields it was logged with."""

    ts_ns: int
    level: Level
    message: str
    fields: dict[str, str] = msgspec.field(default_factory=dict)


class StrategyLogged(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy's log got ``line`` (its state may have changed: added, configured, started,
    stopped, failed); ``removed``: the strategy left the node (``line`` says so)."""

    strategy_id: str
    line: LogLine
    removed: bool = False


class StrategyLog:
    """Ring buffers of log lines, one per strategy."""

    def __init__(self, size: int = 500, *, bus: MessageBus | None = None) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self.size = size
        self._bus = bus
        self._lines: dict[StrategyId, deque[LogLine]] = {}

    def _publish(self, strategy_id: StrategyId, line: LogLine, *, removed: bool = False) -> None:
        if self._bus is not None:
            topic = join_topic("events", "strategies", escape_token(strategy_id.value))
            event = StrategyLogged(strategy_id=strategy_id.value, line=line, removed=removed)
            self._bus.publish(topic, event)

    def add(
        self, strategy_id: StrategyId, ts_ns: int, level: Level, message: str, **fields: object
    ) -> None:
        """Keep one line (the oldest of the strategy's goes once ``size`` are kept)."""
        lines = self._lines.setdefault(strategy_id, deque(maxlen=self.size))
        text = {k: str(v)[:200] for k, v in fields.items()}
        line = LogLine(ts_ns=ts_ns, level=level, message=message[:_MAX_MESSAGE], fields=text)
        lines.append(line)
        self._publish(strategy_id, line)

    def lines(self, strategy_id: StrategyId, limit: int | None = None) -> list[LogLine]:
        """The strategy's kept lines, oldest first (the newest ``limit`` when given)."""
        kept = list(self._lines.get(strategy_id, ()))
        return kept[-limit:] if limit else kept

    def forget(self, strategy_id: StrategyId, ts_ns: int | None = None) -> None:
        """Drop a removed strategy's lines (with ``ts_ns``, a ``removed`` line is published)."""
        self._lines.pop(strategy_id, None)
        if ts_ns is not None:
            self._publish(strategy_id, LogLine(ts_ns=ts_ns, level="info", message="removed"),
                          removed=True)  # fmt: skip
