"""``PortfolioRecorder``: the node's account value, now and as a time series.

Every ``every_s`` seconds on the node's clock the recorder values the account
(``tradeforge.trading.value_portfolio``: balances, positions and last prices) and keeps the
equity as one ``ValuePoint``: the newest ``keep`` points in memory, and every point in the
``ValuationStore`` when the node has one (so the series survives restarts). ``history`` reads
the store when there is one, else memory. Each point recorded is also published on the node's
bus (``events.portfolio``) as the whole ``Valuation`` it came from, at the point's time.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import TYPE_CHECKING

import msgspec

from tradeforge.bus import TimeEvent
from tradeforge.bus.topics import join_topic
from tradeforge.domain import TradeForgeError
from tradeforge.observability import get_logger
from tradeforge.trading.valuation import Valuation, ValuationStore, ValuePoint, value_portfolio

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["PortfolioRecorder"]

log = get_logger("tradeforge.node")
_TIMER = "node:valuation"


class PortfolioRecorder:
    """The value of one node's account (see the module docstring)."""

    def __init__(
        self,
        node: TradingNode,
        *,
        every_s: float = 10.0,
        keep: int = 8640,
        store: ValuationStore | None = None,
    ) -> None:
        if every_s < 0:
            raise ValueError(f"every_s must be >= 0 (0: no time series), got {every_s}")
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self._node = node
        self.every_s = every_s
        self.store = store
        self._points: deque[ValuePoint] = deque(maxlen=keep)

    def now(self) -> Valuation:
        """The account's value at the node's clock's now."""
        node = self._node
        return value_portfolio(
            ts_ns=node.clock.timestamp_ns(),
            base=node.base_currency,
            balances=node.balances,
            positions=list(node.positions or []),
            instruments=node.instruments.values(),
            last_price=node.last_prices,
        )

    def start(self) -> None:
        """Record a point every ``every_s`` seconds from now (nothing when 0)."""
        if self.every_s > 0:
            self._node.clock.set_timer(_TIMER, int(self.every_s * 1e9), self._tick)

    def stop(self) -> None:
        """Stop recording."""
        with contextlib.suppress(TradeForgeError):
            self._node.clock.cancel_timer(_TIMER)

    def record(self) -> ValuePoint:
        """Value the account now and keep the point."""
        # Whole milliseconds: a point's ISO time read back as ``end`` names it exactly.
        ts_ns = self._node.clock.timestamp_ns() // 1_000_000 * 1_000_000
        value = self.now()
        point = ValuePoint(ts_ns=ts_ns, equity=value.equity)
        self._points.append(point)
        if self.store is not None:
            try:
                self.store.append_value(point)
            except TradeForgeError as exc:  # the series has a gap; trading goes on
                log.warning("portfolio value not stored", error=str(exc))
        self._node.bus.publish(join_topic("events", "portfolio"),
                               msgspec.structs.replace(value, ts_ns=ts_ns))  # fmt: skip
        return point

    def _tick(self, _: TimeEvent) -> None:
        self.record()

    def history(
        self,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        limit: int = 500,
        newest: bool = False,
    ) -> list[ValuePoint]:
        """Points with ``start_ns <= ts < end_ns``, oldest first: the first ``limit`` of them,
        or the last ``limit`` with ``newest``."""
        if self.store is not None:
            return self.store.values(start_ns=start_ns, end_ns=end_ns, limit=limit,
                                     newest=newest)  # fmt: skip
        found = [
            p for p in self._points
            if (start_ns is None or p.ts_ns >= start_ns) and (end_ns is None or p.ts_ns < end_ns)
        ]  # fmt: skip
        return found[-limit:] if newest else found[:limit]
