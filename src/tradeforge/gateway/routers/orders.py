"""``/api/v1/orders`` and ``/api/v1/fills``: place, modify, cancel and list orders; see
executions.

Orders placed here belong to the node's ``manual`` strategy and go through the same pre-trade
risk, journal and venue path as a strategy's. ``client_order_id`` makes ``POST`` idempotent:
the same id with the same fields returns the existing order (200); with other fields, 409.
A refused order is 422 with the risk reason; the order stays queryable as ``DENIED``.
``PATCH`` changes an open order's quantity or prices through the node's modify path (pre-trade
risk, then the venue); a refusal is 422 and the order is left as it was.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tradeforge.auth.roles import Permission
from tradeforge.data import format_utc_ns
from tradeforge.domain import (
    ClientOrderId,
    Instrument,
    InvalidOrder,
    Order,
    OrderFilled,
    OrderSide,
    OrderSpec,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
    TimeInForce,
)
from tradeforge.domain.errors import InvalidValue
from tradeforge.engine import ModifyRefusal
from tradeforge.gateway.numbers import plain, plain_or_none
from tradeforge.gateway.problems import Conflict, NotFound, problem
from tradeforge.gateway.routers.instruments import find_instrument
from tradeforge.gateway.schemas import FillOut, OrderIn, OrderModifyIn, OrderOut, OrderPage
from tradeforge.gateway.security import Caller, requires
from tradeforge.gateway.services import GatewayServices

__all__ = ["fill_out", "order_out", "router"]

router = APIRouter(prefix="/api/v1", tags=["orders"])
_SETTLE_S = 2.0


def order_out(order: Order, inst: Instrument | None = None) -> OrderOut:
    """An order as the API shows it; its average fill price at ``inst``'s price precision."""
    places = inst.price_precision if inst is not None else None
    return OrderOut(
        client_order_id=order.client_order_id.value,
        venue_order_id=order.venue_order_id.value if order.venue_order_id else None,
        strategy_id=order.strategy_id.value,
        instrument_id=str(order.instrument_id),
        side=order.side.value,
        type=order.order_type.value,
        status=order.status.value,
        quantity=plain(order.quantity),
        filled_qty=plain(order.filled_qty),
        price=plain_or_none(order.price),  # as last modified
        trigger_price=plain_or_none(order.trigger_price),
        avg_px=plain_or_none(order.avg_px, places),
        time_in_force=order.time_in_force.value,
    )


def _out(request: Request, order: Order) -> OrderOut:
    return order_out(order, _services(request).node.instruments.get(order.instrument_id))


def _services(request: Request) -> GatewayServices:
    services: GatewayServices = request.app.state.services
    return services


def _owner_tag(caller: Caller) -> str:
    return f"user:{caller.principal.user_id}"


def _visible(order: Order, caller: Caller) -> bool:
    """A caller sees its own orders; an admin sees every order (strategies' included)."""
    if Permission.USERS_ADMIN in caller.principal.permissions:
        return True
    return _owner_tag(caller) in order.spec.tags


def _spec(request: Request, body: OrderIn, caller: Caller) -> OrderSpec:
    services = _services(request)
    inst = find_instrument(request, body.instrument_id)
    _check_against(inst, body)
    try:
        quantity = Quantity(Decimal(body.quantity))
        price = Price(Decimal(body.price)) if body.price is not None else None
        trigger = Price(Decimal(body.trigger_price)) if body.trigger_price is not None else None
        ctx = services.manual.ctx
        cid = (
            ClientOrderId(body.client_order_id)
            if body.client_order_id
            else ctx.orders._ids.next_id()
        )
        return OrderSpec(
            client_order_id=cid,
            strategy_id=services.manual.id,
            instrument_id=inst.id,
            side=OrderSide(body.side),
            order_type=OrderType(body.type),
            quantity=quantity,
            price=price,
            trigger_price=trigger,
            time_in_force=TimeInForce(body.time_in_force),
            post_only=body.post_only,
            reduce_only=body.reduce_only,
            tags=(_owner_tag(caller),),  # journaled with the order: who placed it
        )
    except (InvalidValue, ValueError, ArithmeticError) as exc:
        raise InvalidValue(str(exc)) from None


def _check_against(inst: Instrument, body: OrderIn) -> None:
    """Refuse what the venue would refuse for the instrument's rules, before anything exists."""
    try:
        qty = Decimal(body.quantity)
        prices = [Decimal(p) for p in (body.price, body.trigger_price) if p is not None]
    except ArithmeticError:
        raise InvalidValue("quantity and prices must be decimal numbers") from None
    lot, tick = inst.lot_size.as_decimal(), inst.tick_size.as_decimal()
    if qty <= 0 or qty % lot != 0:
        raise InvalidOrder(f"quantity {body.quantity} is not a positive multiple of the lot {lot}")
    if qty < inst.min_quantity.as_decimal():
        raise InvalidOrder(f"quantity {body.quantity} is below the minimum {inst.min_quantity}")
    for price in prices:
        if price <= 0 or price % tick != 0:
            raise InvalidOrder(f"price {price} is not a positive multiple of the tick {tick}")


def _same(a: OrderSpec, b: OrderSpec) -> bool:
    fields = ("instrument_id", "side", "order_type", "quantity", "price", "trigger_price",
              "time_in_force", "post_only", "reduce_only")  # fmt: skip
    return all(getattr(a, f) == getattr(b, f) for f in fields)


async def _wait(request: Request, done: Callable[[], bool]) -> None:
    """Wait (briefly, on the node's clock) until ``done()``, so a response says where the order
    stands after the venue's first answer."""
    clock = _services(request).node.clock
    deadline = clock.timestamp_ns() + int(_SETTLE_S * 1e9)
    while not done() and clock.timestamp_ns() < deadline:
        await asyncio.sleep(0.005)


@router.post("/orders", response_model=OrderOut, status_code=201,
             responses={200: {"description": "the same order, sent again"},
                        404: {"description": "unknown instrument"},
                        409: {"description": "client_order_id reused with other fields"},
                        422: {"description": "invalid or refused by pre-trade risk"}})  # fmt: skip
async def place_order(
    request: Request,
    body: OrderIn,
    response: Response,
    caller: Annotated[Caller, Depends(requires(Permission.ORDERS_WRITE))],
) -> Any:
    services = _services(request)
    spec = _spec(request, body, caller)
    node = services.node
    existing = node.oms.get(spec.client_order_id)
    if existing is not None:
        if not _visible(existing, caller) or not _same(existing.spec, spec):
            raise Conflict(
                f"client_order_id {spec.client_order_id} is already used by another order"
            )
        response.status_code = 200
        return _out(request, existing)
    auth = services.auth
    await run_in_threadpool(
        auth.record, "order.place", caller.principal, caller.ctx,
        target=spec.client_order_id.value,
    )  # fmt: skip
    services.manual.ctx.submit(spec)
    order = node.oms.get(spec.client_order_id)
    if order is None:  # pragma: no cover - submit always creates it
        raise NotFound(f"order {spec.client_order_id} was not created")
    if order.status is OrderStatus.DENIED:
        denial = next(iter(node.journal.denials(services.manual.id, limit=1)), None)
        reason = denial.reason.value if denial is not None else "DENIED"
        message = denial.message if denial is not None else "refused by pre-trade risk"
        return problem(422, "order-denied", message, request, reason=reason,
                       client_order_id=spec.client_order_id.value)  # fmt: skip
    await _wait(
        request, lambda: order.status not in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)
    )
    if order.status is OrderStatus.REJECTED:
        message = node.rejections.get(order.client_order_id, "the venue rejected the order")
        return problem(422, "order-rejected", message, request,
                       client_order_id=spec.client_order_id.value)  # fmt: skip
    return _out(request, order)


def _cursor(order: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{order}:{position}".encode()).decode()


def _after(cursor: str | None, order: str) -> int | None:
    """The OMS position a cursor continues after (None: from the start)."""
    if not cursor:
        return None
    try:
        direction, _, position = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        after = int(position)
    except (ValueError, UnicodeDecodeError):
        raise InvalidValue("cursor is not one this API gave out") from None
    if direction not in ("asc", "desc"):
        raise InvalidValue("cursor is not one this API gave out")
    if direction != order:
        raise InvalidValue(f"this cursor continues order={direction}, not order={order}")
    return after


@router.get("/orders", response_model=OrderPage)
async def list_orders(  # noqa: PLR0917 - FastAPI reads the query parameters from the signature
    request: Request,
    status: Annotated[str | None, Query(pattern="^(open|closed|all)$")] = "all",
    instrument_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    order: Annotated[
        Literal["asc", "desc"], Query(description="asc: oldest first; desc: newest first")
    ] = "asc",
    caller: Annotated[Caller | None, Depends(requires(Permission.ORDERS_READ))] = None,
) -> OrderPage:
    """The caller's orders one page at a time, in the order they were created (``asc``) or
    newest first (``desc``). ``next_cursor`` continues after the page's last order, whatever
    was placed since: orders placed while paging appear at the end of an ``asc`` walk and
    never in a ``desc`` one, and no order is listed twice."""
    assert caller is not None
    after = _after(cursor, order)
    # The node's OMS keeps every order in creation order, so a position in it never moves.
    found = [(k, o) for k, o in enumerate(_services(request).node.oms) if _visible(o, caller)]
    if status == "open":
        found = [(k, o) for k, o in found if o.is_open]
    elif status == "closed":
        found = [(k, o) for k, o in found if not o.is_open]
    if instrument_id:
        found = [(k, o) for k, o in found if str(o.instrument_id) == instrument_id]
    if order == "desc":
        found.reverse()
    if after is not None:
        found = [(k, o) for k, o in found if (k > after if order == "asc" else k < after)]
    page = found[:limit]
    token = _cursor(order, page[-1][0]) if len(found) > limit else None
    return OrderPage(items=[_out(request, o) for _, o in page], next_cursor=token)


def _order(request: Request, client_order_id: str, caller: Caller) -> Order:
    try:
        cid = ClientOrderId(client_order_id)
    except InvalidValue:
        raise NotFound(f"no order {client_order_id!r}") from None
    order = _services(request).node.oms.get(cid)
    if order is None or not _visible(order, caller):  # another's order is not found (BOLA)
        raise NotFound(f"no order {client_order_id!r}")
    return order


@router.get("/orders/{client_order_id}", response_model=OrderOut,
            responses={404: {"description": "no such order"}})  # fmt: skip
async def get_order(
    request: Request,
    client_order_id: str,
    caller: Annotated[Caller, Depends(requires(Permission.ORDERS_READ))],
) -> OrderOut:
    return _out(request, _order(request, client_order_id, caller))


@router.delete("/orders/{client_order_id}", response_model=OrderOut,
               responses={404: {"description": "no such order"},
                          409: {"description": "the order is no longer open"}})  # fmt: skip
async def cancel_order(
    request: Request,
    client_order_id: str,
    caller: Annotated[Caller, Depends(requires(Permission.ORDERS_WRITE))],
) -> OrderOut:
    order = _order(request, client_order_id, caller)
    if not order.is_open:
        raise Conflict(f"order {client_order_id} is {order.status.value}, not open")
    services = _services(request)
    await run_in_threadpool(
        services.auth.record, "order.cancel", caller.principal, caller.ctx,
        target=order.client_order_id.value,
    )  # fmt: skip
    strategy = services.node.strategy(order.strategy_id)
    services.node.cancel(strategy, order.client_order_id)
    await _wait(request, lambda: not order.is_open)
    return _out(request, order)


def _changes(order: Order, inst: Instrument, body: OrderModifyIn) -> dict[str, Any]:
    """The modify's new values, checked against the order and the instrument's rules."""
    if body.quantity is None and body.price is None and body.trigger_price is None:
        raise InvalidValue("give at least one of quantity, price, trigger_price")
    if body.price is not None and order.order_type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        raise InvalidOrder(f"a {order.order_type.value} order has no limit price to change")
    stops = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
    if body.trigger_price is not None and order.order_type not in stops:
        raise InvalidOrder(f"a {order.order_type.value} order has no trigger price to change")
    try:
        qty = Decimal(body.quantity) if body.quantity is not None else None
        prices = {k: Decimal(v) for k, v in (("price", body.price),
                  ("trigger_price", body.trigger_price)) if v is not None}  # fmt: skip
    except ArithmeticError:
        raise InvalidValue("quantity and prices must be decimal numbers") from None
    lot, tick = inst.lot_size.as_decimal(), inst.tick_size.as_decimal()
    out: dict[str, Any] = {}
    if qty is not None:
        if qty <= 0 or qty % lot != 0:
            raise InvalidOrder(
                f"quantity {body.quantity} is not a positive multiple of the lot {lot}"
            )
        if qty <= order.filled_qty.as_decimal():
            raise InvalidOrder(
                f"quantity {body.quantity} is not above the filled quantity {order.filled_qty}"
            )
        out["quantity"] = inst.make_qty(qty)
    for key, price in prices.items():
        if price <= 0 or price % tick != 0:
            raise InvalidOrder(f"{key} {price} is not a positive multiple of the tick {tick}")
        out[key] = inst.make_price(price)
    return out


@router.patch("/orders/{client_order_id}", response_model=OrderOut,
              responses={404: {"description": "no such order"},
                         409: {"description": "the order is no longer open"},
                         422: {"description": "invalid, or refused by pre-trade risk or the "
                                              "venue (the order is unchanged)"}})  # fmt: skip
async def modify_order(
    request: Request,
    client_order_id: str,
    body: OrderModifyIn,
    caller: Annotated[Caller, Depends(requires(Permission.ORDERS_WRITE))],
) -> Any:
    order = _order(request, client_order_id, caller)
    services = _services(request)
    node = services.node
    inst = node.instruments.get(order.instrument_id)
    if inst is None:  # pragma: no cover - an order's instrument is the node's
        raise NotFound(f"no instrument {order.instrument_id}")
    changes = _changes(order, inst, body)
    if not order.is_open:
        raise Conflict(f"order {client_order_id} is {order.status.value}, not open")
    await run_in_threadpool(
        services.auth.record, "order.modify", caller.principal, caller.ctx,
        target=order.client_order_id.value,
        detail={k: str(v) for k, v in changes.items()},
    )  # fmt: skip
    task = node.modify(node.strategy(order.strategy_id), order.client_order_id, **changes)
    if task is None:  # closed while the audit row was written
        raise Conflict(f"order {client_order_id} is {order.status.value}, not open")
    done, _ = await asyncio.wait({task}, timeout=_SETTLE_S)  # else: still on its way
    refusal = task.result() if done else None
    if isinstance(refusal, ModifyRefusal):
        kind = "order-modify-denied" if refusal.by == "risk" else "order-modify-rejected"
        return problem(422, kind, refusal.message, request, reason=refusal.reason,
                       client_order_id=order.client_order_id.value)  # fmt: skip
    return _out(request, order)


@router.get("/fills", response_model=list[FillOut])
async def list_fills(
    request: Request,
    client_order_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    caller: Annotated[Caller | None, Depends(requires(Permission.ORDERS_READ))] = None,
) -> list[FillOut]:
    assert caller is not None
    node = _services(request).node
    rows = []
    for row in node.journal.fills(client_order_id):
        order = node.oms.get(ClientOrderId(row["client_order_id"]))
        if order is not None and _visible(order, caller):
            rows.append(row)
    return [
        FillOut(
            trade_id=r["trade_id"], client_order_id=r["client_order_id"],
            instrument_id=r["instrument_id"], side=r["side"],
            quantity=plain(Decimal(r["quantity"])), price=plain(Decimal(r["price"])),
            commission=plain(Decimal(r["commission"])),  # rows may hold "0E-8"
            commission_currency=r["commission_currency"], time=format_utc_ns(r["ts_event"]),
        )
        for r in rows[-limit:]
    ]  # fmt: skip


def fill_out(fill: OrderFilled) -> FillOut:
    """A fill as the API shows it (``/fills`` and the ``fills`` stream)."""
    return FillOut(
        trade_id=fill.trade_id.value, client_order_id=fill.client_order_id.value,
        instrument_id=str(fill.instrument_id), side=fill.order_side.value,
        quantity=plain(fill.last_qty), price=plain(fill.last_px),
        commission=plain(fill.commission), commission_currency=fill.commission.currency.code,
        time=format_utc_ns(fill.ts_event),
    )  # fmt: skip
