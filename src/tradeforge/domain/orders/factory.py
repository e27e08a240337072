"""``OrderFactory``: builds well-formed order specs and contingent lists for one strategy.

Client order ids come from a ``ClientOrderIdGenerator``: ``PREFIX-N`` with a counter, so a replayed
backtest makes the same ids. Live nodes give each session its own prefix (taken from the clock) so
ids never repeat across restarts.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from tradeforge.domain.enums import (
    ContingencyType,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import ClientOrderId, InstrumentId, OrderListId, StrategyId
from tradeforge.domain.orders.spec import OrderList, OrderSpec
from tradeforge.domain.values import Price, Quantity

__all__ = ["ClientOrderIdGenerator", "OrderFactory"]

_MAX_PREFIX: Final = 24
_PREFIX: Final = re.compile(r"[!-~]+")


class ClientOrderIdGenerator:
    """Makes ``PREFIX-1``, ``PREFIX-2``, ... (at most 36 characters)."""

    def __init__(self, prefix: str, *, start: int = 1) -> None:
        if not 0 < len(prefix) <= _MAX_PREFIX or not _PREFIX.fullmatch(prefix):
            raise InvalidValue(
                f"client order id prefix must be 1-{_MAX_PREFIX} ASCII characters without spaces,"
                f" got {prefix!r}"
            )
        if start < 1:
            raise InvalidValue(f"client order id counter must start at 1 or more, got {start}")
        self._prefix = prefix
        self._next = start

    @property
    def count(self) -> int:
        """How many ids were made."""
        return self._next - 1

    def next_id(self) -> ClientOrderId:
        """The next id."""
        text = f"{self._prefix}-{self._next}"
        # A checked prefix, a dash and digits: only the length can be wrong.
        value = (
            ClientOrderId(text, _checked=True)
            if len(text) <= ClientOrderId.max_length
            else ClientOrderId(text)
        )
        self._next += 1
        return value

    def next_list_id(self) -> OrderListId:
        """The next order list id (shares the counter, so it never equals an order id)."""
        value = OrderListId(f"{self._prefix}-L{self._next}")
        self._next += 1
        return value


class OrderFactory:
    """Builds orders for one strategy."""

    def __init__(self, strategy_id: StrategyId, ids: ClientOrderIdGenerator) -> None:
        self._strategy_id = strategy_id
        self._ids = ids

    def _spec(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        order_type: OrderType,
        quantity: Quantity,
        **fields: object,
    ) -> OrderSpec:
        client_order_id = fields.pop("client_order_id", None) or self._ids.next_id()
        return OrderSpec(
            client_order_id=client_order_id,  # type: ignore[arg-type]
            strategy_id=self._strategy_id,
            instrument_id=instrument_id,
            side=side,
            order_type=order_type,
            quantity=quantity,
            **fields,  # type: ignore[arg-type]
        )

    def market(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        tags: tuple[str, ...] = (),
    ) -> OrderSpec:
        """A market order."""
        # Built in one call (no keyword dict through ``_spec``): the commonest order.
        return OrderSpec(
            client_order_id=self._ids.next_id(),
            strategy_id=self._strategy_id,
            instrument_id=instrument_id,
            side=side,
            order_type=OrderType.MARKET,
            quantity=quantity,
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            tags=tags,
        )

    def limit(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        price: Price,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        display_qty: Quantity | None = None,
        tags: tuple[str, ...] = (),
    ) -> OrderSpec:
        """A limit order; ``display_qty`` makes it an iceberg."""
        return self._spec(
            instrument_id, side, OrderType.LIMIT, quantity,
            price=price, time_in_force=time_in_force, expire_time_ns=expire_time_ns,
            post_only=post_only, reduce_only=reduce_only, display_qty=display_qty, tags=tags,
        )  # fmt: skip

    def stop_market(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        trigger_price: Price,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        reduce_only: bool = False,
        tags: tuple[str, ...] = (),
    ) -> OrderSpec:
        """A market order released when the market trades through ``trigger_price``."""
        return self._spec(
            instrument_id, side, OrderType.STOP_MARKET, quantity,
            trigger_price=trigger_price, time_in_force=time_in_force,
            expire_time_ns=expire_time_ns, reduce_only=reduce_only, tags=tags,
        )  # fmt: skip

    def stop_limit(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        price: Price,
        trigger_price: Price,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_time_ns: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        tags: tuple[str, ...] = (),
    ) -> OrderSpec:
        """A limit order at ``price`` released when the market reaches ``trigger_price``."""
        return self._spec(
            instrument_id, side, OrderType.STOP_LIMIT, quantity,
            price=price, trigger_price=trigger_price, time_in_force=time_in_force,
            expire_time_ns=expire_time_ns, post_only=post_only, reduce_only=reduce_only,
            tags=tags,
        )  # fmt: skip

    def trailing_stop(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        trailing_offset: Decimal,
        trailing_offset_type: TrailingOffsetType = TrailingOffsetType.AMOUNT,
        *,
        activation_price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        tags: tuple[str, ...] = (),
    ) -> OrderSpec:
        """A stop that follows the market by an amount or a percent."""
        return self._spec(
            instrument_id, side, OrderType.TRAILING_STOP, quantity,
            trailing_offset=trailing_offset, trailing_offset_type=trailing_offset_type,
            trigger_price=activation_price, time_in_force=time_in_force,
            reduce_only=reduce_only, tags=tags,
        )  # fmt: skip

    def limit_if_touched(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        price: Price,
        trigger_price: Price,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        tags: tuple[str, ...] = (),
    ) -> OrderSpec:
        """A limit order released when the market touches ``trigger_price`` (a take-profit)."""
        return self._spec(
            instrument_id, side, OrderType.LIMIT_IF_TOUCHED, quantity,
            price=price, trigger_price=trigger_price, time_in_force=time_in_force,
            reduce_only=reduce_only, tags=tags,
        )  # fmt: skip

    def oco(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        *,
        limit_price: Price,
        stop_trigger: Price,
        stop_limit_price: Price | None = None,
        reduce_only: bool = False,
    ) -> OrderList:
        """A limit order and a stop on the same side; whichever fills first cancels the other."""
        list_id = self._ids.next_list_id()
        limit_id, stop_id = self._ids.next_id(), self._ids.next_id()
        common = {"order_list_id": list_id, "contingency_type": ContingencyType.OCO}
        limit = self._spec(
            instrument_id, side, OrderType.LIMIT, quantity, client_order_id=limit_id,
            price=limit_price, linked_order_ids=(stop_id,), reduce_only=reduce_only, **common,
        )  # fmt: skip
        stop_type = OrderType.STOP_MARKET if stop_limit_price is None else OrderType.STOP_LIMIT
        stop = self._spec(
            instrument_id, side, stop_type, quantity, client_order_id=stop_id,
            price=stop_limit_price, trigger_price=stop_trigger, linked_order_ids=(limit_id,),
            reduce_only=reduce_only, **common,
        )  # fmt: skip
        return OrderList(order_list_id=list_id, orders=(limit, stop))

    def bracket(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        *,
        stop_loss: Price,
        take_profit: Price,
        entry_price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> OrderList:
        """An entry (market, or limit at ``entry_price``) that, once filled, places a stop-loss
        and a take-profit which cancel each other.
        """
        lower, upper = (
            (stop_loss, take_profit) if side is OrderSide.BUY else (take_profit, stop_loss)
        )
        if not lower < upper:
            raise InvalidValue(
                f"bracket {side}: stop_loss {stop_loss} must be on the losing side of "
                f"take_profit {take_profit}"
            )
        if entry_price is not None and not lower < entry_price < upper:
            raise InvalidValue(
                f"bracket: entry_price {entry_price} must lie between stop_loss {stop_loss} "
                f"and take_profit {take_profit}"
            )
        list_id = self._ids.next_list_id()
        entry_id, sl_id, tp_id = self._ids.next_id(), self._ids.next_id(), self._ids.next_id()
        entry_type = OrderType.MARKET if entry_price is None else OrderType.LIMIT
        entry = self._spec(
            instrument_id, side, entry_type, quantity, client_order_id=entry_id,
            price=entry_price, time_in_force=time_in_force, order_list_id=list_id,
            contingency_type=ContingencyType.OTO, linked_order_ids=(sl_id, tp_id),
        )  # fmt: skip
        exit_side = side.opposite
        child = {
            "order_list_id": list_id,
            "contingency_type": ContingencyType.OCO,
            "parent_order_id": entry_id,
            "reduce_only": True,
        }
        sl = self._spec(
            instrument_id, exit_side, OrderType.STOP_MARKET, quantity, client_order_id=sl_id,
            trigger_price=stop_loss, linked_order_ids=(tp_id,), **child,
        )  # fmt: skip
        tp = self._spec(
            instrument_id, exit_side, OrderType.LIMIT, quantity, client_order_id=tp_id,
            price=take_profit, linked_order_ids=(sl_id,), **child,
        )  # fmt: skip
        return OrderList(order_list_id=list_id, orders=(entry, sl, tp))
