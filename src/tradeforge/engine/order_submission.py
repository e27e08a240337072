"""``OrderSubmitter``: how the trading node sends a new order.

The order is journaled INITIALIZED, checked by pre-trade risk (a refusal is an ``OrderDenied``),
armed instead when its venue lacks its type (``engine.emulated_orders``), else journaled
SUBMITTED *before* it is sent. The venue's answer is applied as events; an unknown outcome
leaves the order in flight for the in-flight check (``engine.reconciliation``): it is never
re-sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from tradeforge.domain import (
    AccountId,
    ContingencyType,
    DenyReason,
    Order,
    OrderDenied,
    OrderSpec,
    OrderSubmitted,
    TradeForgeError,
)
from tradeforge.domain.errors import RequestError
from tradeforge.engine.emulation import needs_emulation
from tradeforge.execution import VenueClient
from tradeforge.observability import get_logger

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["OrderSubmitter"]

log = get_logger("tradeforge.node")


class OrderSubmitter:
    """New orders of one node, from the journal to the venue (module docstring)."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node

    def submit(self, spec: OrderSpec) -> None:
        """Risk-check, journal and send one order (the venue's answer comes as events)."""
        self.send_created(self.create(spec))

    def create(self, spec: OrderSpec) -> Order:
        """The order journaled INITIALIZED, not sent."""
        node = self._node
        order, init = node.oms.create(spec, node.clock.timestamp_ns())
        node.journal.append(init, order)
        return order

    def send_created(self, order: Order) -> None:
        """Risk-check a created order, then arm it or journal it SUBMITTED and send it."""
        node = self._node
        spec = order.spec
        now = node.clock.timestamp_ns()
        denial = self.denial(spec)
        if denial is not None:
            node._events.apply(
                OrderDenied(
                    **spec.ids(), reason=denial[0], message=denial[1], ts_event=now, ts_init=now
                )
            )
            return
        client = node.venues[spec.instrument_id.venue]
        if needs_emulation(spec, client.capabilities):
            node._emulation.arm(order)
            return
        account = getattr(client, "account_id", None) or AccountId(f"{spec.instrument_id.venue}-1")
        node._events.apply(
            OrderSubmitted(**spec.ids(), account_id=account, ts_event=now, ts_init=now)
        )
        node._spawn(self.send(client, order))

    def denial(self, spec: OrderSpec) -> tuple[DenyReason, str] | None:
        """Why the order may not go out now (its venue down, its instrument unknown, risk),
        or None."""
        node = self._node
        down = node.monitor.blocked(spec.instrument_id.venue)
        if down is not None:
            return DenyReason.VENUE_DISCONNECTED, (
                f"venue {down.venue} unreachable since {down.blocked_down_ns} ns "
                f"({down.last_error}); new orders refused until it is back (R15)"
            )
        instrument = node.instruments.get(spec.instrument_id)
        if instrument is None:
            return DenyReason.UNKNOWN_INSTRUMENT, f"{spec.instrument_id} is not traded here"
        if spec.instrument_id.venue not in node.venues:
            return DenyReason.UNKNOWN_INSTRUMENT, f"no venue client for {spec.instrument_id.venue}"
        # A tracking engine keeps its own reference prices (with their age, so a dead feed is
        # caught as stale); otherwise the last price is the reference.
        reference = None if node.risk.tracking else node.last_price(spec.instrument_id)
        return node.risk.check(spec, instrument, reference)

    async def send(self, client: VenueClient, order: Order, spec: OrderSpec | None = None) -> None:
        """Send a journaled SUBMITTED order (as ``spec``, if given) and apply the answer."""
        node = self._node
        spec = spec or order.spec
        if spec.contingency_type is not ContingencyType.NONE or spec.parent_order_id is not None:
            # The node links the group itself: the venue gets a plain order.
            spec = msgspec.structs.replace(
                spec, contingency_type=ContingencyType.NONE, order_list_id=None,
                linked_order_ids=(), parent_order_id=None,
            )  # fmt: skip
        node._crash.reached("B")
        try:
            report = await client.submit(spec)
        except RequestError as exc:
            node._events.emit_rejected(order, str(exc))
            return
        except TradeForgeError as exc:
            log.warning("order outcome unknown; checking",
                        client_order_id=spec.client_order_id.value, error=str(exc))  # fmt: skip
            node._spawn(node._reconciler.inflight_check(client, order))
            return
        await node._events.apply_report(client, report)
