"""An OCO list whose first leg fills the moment it arrives: the second leg, submitted after it,
must not be left working (it was, and both legs could fill)."""

from __future__ import annotations

from decimal import Decimal

from tests.kit.stubs import STRATEGY, btcusdt

from tradeforge.backtest import MatchingEngine
from tradeforge.domain import (
    ClientOrderId,
    ContingencyType,
    OrderListId,
    OrderSide,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def record(*args: object, **_: object) -> None:
            first = args[0]
            cid = getattr(first, "id", None) or getattr(first, "client_order_id", None) or first
            self.events.append((name, str(cid)))

        return record

    def fill_refusal(self, *_: object) -> None:
        return None


def test_the_second_leg_is_cancelled_when_the_first_filled_on_arrival() -> None:
    inst = btcusdt()
    listener = Recorder()
    engine = MatchingEngine(inst, listener)  # type: ignore[arg-type]
    engine.on_trade(inst.make_price(Decimal(100)), inst.make_qty(Decimal(10)), 1)
    a, b = ClientOrderId("leg-a"), ClientOrderId("leg-b")
    common = {"strategy_id": STRATEGY, "instrument_id": inst.id, "side": OrderSide.BUY,
              "quantity": Quantity("0.001"), "contingency_type": ContingencyType.OCO,
              "order_list_id": OrderListId("L-1")}  # fmt: skip
    marketable = OrderSpec(client_order_id=a, order_type=OrderType.MARKET, linked_order_ids=(b,),
                           **common)  # type: ignore[arg-type]  # fmt: skip
    resting = OrderSpec(client_order_id=b, order_type=OrderType.LIMIT, price=Price("50.00"),
                        linked_order_ids=(a,), **common)  # type: ignore[arg-type]  # fmt: skip
    engine.submit(marketable, 2)
    engine.on_trade(inst.make_price(Decimal(100)), inst.make_qty(Decimal(10)), 3)
    engine.submit(resting, 4)
    assert ("order_filled", "leg-a") in listener.events
    assert ("order_canceled", "leg-b") in listener.events
    assert engine.get(b) is None
