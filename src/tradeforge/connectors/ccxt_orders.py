"""``CcxtOrderEntry``: the orders of a CCXT venue client: sent, cancelled, changed, looked up.

Writes are never retried: when the outcome of ``submit`` or ``cancel`` is unknown (a timeout, a
5xx, a lost answer) the order is asked for by its client order id, several times over the
venue's visibility lag, before anything is decided.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from tradeforge.connectors.ccxt_config import CcxtVenueConfig
from tradeforge.connectors.ccxt_markets import CcxtMarkets
from tradeforge.connectors.ccxt_order_params import CcxtOrderParams
from tradeforge.connectors.ccxt_reports import CcxtOrderReports
from tradeforge.connectors.ccxt_requests import CcxtRequests
from tradeforge.connectors.errors import MalformedResponse, UnknownOutcome
from tradeforge.connectors.resilience import write_operation
from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    InvalidOrder,
    OrderList,
    OrderSpec,
    OrderStatusReport,
    Price,
    Quantity,
    TradeForgeError,
    UnknownOrder,
)
from tradeforge.execution import VenueCapabilities
from tradeforge.observability import get_logger

__all__ = ["CcxtOrderEntry"]

log = get_logger("tradeforge.connectors.ccxt")


class CcxtOrderEntry:
    """Order entry of one CCXT venue client (see the module docstring)."""

    def __init__(
        self,
        config: CcxtVenueConfig,
        *,
        rest: Any,
        requests: CcxtRequests,
        markets: CcxtMarkets,
        reports: CcxtOrderReports,
        capabilities: VenueCapabilities,
        binance: bool,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.config = config
        self.venue = config.venue
        self.rest = rest
        self.capabilities = capabilities
        self._requests = requests
        self._markets = markets
        self._reports = reports
        self._sleep = sleep
        self._params = CcxtOrderParams(
            config.venue, binance=binance, reduce_only=capabilities.reduce_only
        )

    async def order_status(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        """The order with this client order id, or None when the venue does not know it."""
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        try:
            order = await self._requests.read(
                "fetch_order",
                lambda: self.rest.fetch_order(
                    "", symbol, {"origClientOrderId": client_order_id.value}
                ),
            )
        except UnknownOrder:
            return None
        return self._reports.report(order, inst)

    @write_operation
    async def _create(self, symbol: str, kind: str, spec: OrderSpec, params: dict[str, Any]) -> Any:
        price = str(spec.price) if spec.price is not None else None
        return await self._requests.once(
            "create_order",
            lambda: self.rest.create_order(
                symbol, kind, spec.side.value.lower(), str(spec.quantity), price, params
            ),
            client_order_id=spec.client_order_id.value,
        )

    async def submit(self, spec: OrderSpec) -> OrderStatusReport:
        """Send a new order; never re-sent: an unknown outcome is settled by a lookup."""
        iid = spec.instrument_id
        inst, symbol = self._markets.instrument(iid), self._markets.symbol(iid)
        kind, params = self._params.order(spec, inst)
        try:
            order = await self._create(symbol, kind, spec, params)
            return self._reports.report(order, inst)
        except (UnknownOutcome, MalformedResponse) as exc:  # sent, but what became of it?
            log.warning("submit outcome unknown; looking the order up", venue=str(self.venue),
                        client_order_id=spec.client_order_id.value, error=str(exc))  # fmt: skip
            found = await self._lookup(spec.instrument_id, spec.client_order_id)
            if found is not None:
                return found
            raise UnknownOutcome(
                f"{exc} (not found by client order id after {self.config.lookup_attempts} "
                "lookups; it may still appear: do not re-send it under this id)",
                client_order_id=spec.client_order_id.value,
            ) from exc

    async def submit_oco(self, order_list: OrderList) -> list[OrderStatusReport]:
        """Send an OCO pair as one Binance order list, through CCXT's raw
        ``privatePostOrderListOco`` (see ``CcxtVenueClient.submit_oco``)."""
        if not self.capabilities.oco_orders:
            raise InvalidOrder(f"{self.venue} has no native OCO orders")
        iid = order_list.orders[0].instrument_id
        inst = self._markets.instrument(iid)
        params = self._params.oco(order_list, inst)
        market = self.rest.market(self._markets.symbol(iid))

        @write_operation
        async def send() -> Any:
            return await self._requests.once(
                "create_order_list",
                lambda: self.rest.privatePostOrderListOco(params),
                client_order_id=params["aboveClientOrderId"],
            )

        specs = order_list.orders
        try:
            answer = await send()
            reports = {
                r.client_order_id: r
                for r in (
                    self._reports.report(self.rest.parse_order(raw, market), inst)
                    for raw in answer.get("orderReports") or []
                )
            }
            if all(s.client_order_id in reports for s in specs):
                return [reports[s.client_order_id] for s in specs]
            raise MalformedResponse(f"{self.venue} orderList/oco answer lacks a leg: {answer}")
        except (UnknownOutcome, MalformedResponse) as exc:
            log.warning("order list outcome unknown; looking its legs up", venue=str(self.venue),
                        order_list_id=order_list.order_list_id.value, error=str(exc))  # fmt: skip
            found = [await self._lookup(iid, s.client_order_id) for s in specs]
            known = [f for f in found if f is not None]
            if len(known) == len(specs):
                return known
            raise UnknownOutcome(
                f"{exc} (order list {order_list.order_list_id}: {len(known)} of its legs found "
                "by client order id; do not re-send it under these ids)",
                client_order_id=specs[0].client_order_id.value,
            ) from exc

    async def _lookup(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        """Ask for an order by client order id over the venue's visibility lag."""
        for attempt in range(self.config.lookup_attempts):
            if attempt:
                await self._sleep(self.config.lookup_interval)
            with contextlib.suppress(TradeForgeError):
                found = await self.order_status(instrument_id, client_order_id)
                if found is not None:
                    return found
        return None

    @write_operation
    async def _cancel(self, symbol: str, client_order_id: ClientOrderId) -> Any:
        return await self._requests.once(
            "cancel_order",
            lambda: self.rest.cancel_order(
                "", symbol, {"origClientOrderId": client_order_id.value}
            ),
            client_order_id=client_order_id.value,
        )

    async def cancel(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport:
        """Cancel an open order; an unknown outcome is settled by a lookup."""
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        try:
            order = await self._cancel(symbol, client_order_id)
        except UnknownOutcome:
            found = await self._lookup(instrument_id, client_order_id)
            if found is not None and not found.is_open:
                return found
            raise
        report = self._reports.report(order, inst)
        if report.client_order_id != client_order_id:  # Binance echoes the cancel's own id
            report = msgspec.structs.replace(report, client_order_id=client_order_id)
        return report

    async def modify(
        self,
        instrument_id: InstrumentId,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderStatusReport:
        """Change an open order, where the venue can (else ``InvalidOrder``)."""
        if not self.capabilities.modify_order:
            raise InvalidOrder(f"{self.venue} cannot modify orders: cancel and submit a new one")
        current = await self.order_status(instrument_id, client_order_id)
        if current is None or not current.is_open:
            raise UnknownOrder(f"{client_order_id} is not open at {self.venue}")
        inst, symbol = self._markets.instrument(instrument_id), self._markets.symbol(instrument_id)
        qty = quantity or current.quantity
        px = price or current.price

        @write_operation
        async def edit() -> Any:
            return await self._requests.once(
                "edit_order",
                lambda: self.rest.edit_order(
                    current.venue_order_id.value, symbol, current.order_type.value.lower(),
                    current.side.value.lower(), str(qty), str(px) if px else None,
                    {"triggerPrice": str(trigger_price)} if trigger_price else {},
                ),
                client_order_id=client_order_id.value,
            )  # fmt: skip

        return self._reports.report(await edit(), inst)
