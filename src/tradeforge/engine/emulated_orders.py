"""``EmulatedOrders``: the trading node's side of the orders it emulates.

An order of a type its venue lacks is held by the node's ``OrderEmulator``
(``engine.emulation``) until its trigger: armed when submitted, its state kept in the journal
(a restart arms it again), released to the venue as the MARKET or LIMIT order it becomes, or
cancelled by the node without a word to the venue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradeforge.domain import (
    AccountId,
    InstrumentId,
    Order,
    OrderCanceled,
    OrderSpec,
    OrderStatus,
    OrderSubmitted,
    StrategyId,
)
from tradeforge.engine import emulation

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["EmulatedOrders"]


class EmulatedOrders:
    """The orders one node holds for venues that lack their type (module docstring)."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node

    def arm(self, order: Order, best: Decimal | None = None) -> None:
        """Hold an order whose type the venue lacks until its trigger (engine.emulation)."""
        node = self._node
        node.emulator.arm(order, best)
        self.save()
        node.logs.add(order.strategy_id, node.clock.timestamp_ns(), "info",
                      f"{order.client_order_id} ({order.order_type}) held by the node until "
                      "its trigger: the venue lacks the type", emulated=True)  # fmt: skip

    def save(self) -> None:
        """Keep what the emulator holds in the journal."""
        node = self._node
        node.journal.save_state(emulation.STATE_KEY, node.emulator.dump(),
                                node.clock.timestamp_ns())  # fmt: skip

    def release(self, spec: OrderSpec) -> None:
        """An emulated order triggered: journal it SUBMITTED, send ``spec`` (MARKET/LIMIT)."""
        node = self._node
        order = node.oms.get(spec.client_order_id)
        if order is None or order.status is not OrderStatus.INITIALIZED:
            return
        client = node.venues[spec.instrument_id.venue]
        if node.monitor.blocked(client.venue) is not None:  # R15: nothing new goes out
            self.cancel(order, "triggered while its venue was unreachable")
            return
        now = node.clock.timestamp_ns()
        account = getattr(client, "account_id", None) or AccountId(f"{client.venue}-1")
        node._events.apply(
            OrderSubmitted(**spec.ids(), account_id=account, ts_event=now, ts_init=now)
        )
        node._spawn(node._submitter.send(client, order, spec))

    def cancel(self, order: Order, reason: str = "canceled (emulated)") -> None:
        """Stop holding the order: it ends CANCELED (nothing was at the venue)."""
        node = self._node
        if not node.emulator.disarm(order.client_order_id):
            return
        self.save()
        now = node.clock.timestamp_ns()
        node._events.apply(
            OrderCanceled(**order.spec.ids(), reason=reason, ts_event=now, ts_init=now)
        )

    def held(
        self, strategy_id: StrategyId | None = None, instrument_id: InstrumentId | None = None
    ) -> list[Order]:
        """Orders held by the node (of one strategy, in one instrument)."""
        node = self._node
        found = [node.oms.get(cid) for cid in node.emulator.armed]
        return [
            o for o in found
            if o is not None
            and (strategy_id is None or o.strategy_id == strategy_id)
            and (instrument_id is None or o.instrument_id == instrument_id)
        ]  # fmt: skip
