"""The order journal on SQLite and PostgreSQL: durability settings (OMS-9), exact round trips,
idempotent appends (a fill is stored once per venue trade id), the orders projection, denials,
saved state, and replay determinism (OMS-10)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.kit.databases import fresh_postgres

from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    DenyReason,
    InstrumentId,
    LiquiditySide,
    Money,
    OrderAccepted,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderSide,
    OrderSpec,
    OrderSubmitted,
    OrderType,
    Price,
    Quantity,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradeforge.domain.money import KNOWN_CURRENCIES
from tradeforge.store import Database, SqlOrderJournal, sqlite_url
from tradeforge.trading import OrderManager

IID = InstrumentId("BTC/USDT", "SIM")
SID = StrategyId("s-1")
ACC = AccountId("SIM-1")
USDT = KNOWN_CURRENCIES["USDT"]


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlOrderJournal]:
    if request.param == "sqlite":
        db = Database(sqlite_url(tmp_path / "journal.sqlite"))
        db.upgrade()
        yield SqlOrderJournal(db)
        db.dispose()
        return
    with fresh_postgres() as url:
        db = Database(url)
        db.upgrade()
        yield SqlOrderJournal(db)
        db.dispose()


def spec(n: int, qty: str = "0.5") -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId(f"o-{n}"), strategy_id=SID, instrument_id=IID,
        side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=Quantity(qty),
        price=Price("100.25"),
    )  # fmt: skip


def lifecycle(n: int, fills: list[tuple[str, str]], ts: int = 1_000) -> list[OrderEvent]:
    s = spec(n)
    ids = s.ids()
    out: list[OrderEvent] = [
        OrderInitialized.of(s, ts),
        OrderSubmitted(**ids, account_id=ACC, ts_event=ts + 1, ts_init=ts + 1),
        OrderAccepted(**ids, account_id=ACC, venue_order_id=VenueOrderId(f"v-{n}"),
                      ts_event=ts + 2, ts_init=ts + 2),
    ]  # fmt: skip
    for i, (qty, px) in enumerate(fills):
        out.append(
            OrderFilled(
                **ids, account_id=ACC, venue_order_id=VenueOrderId(f"v-{n}"),
                trade_id=TradeId(f"t-{n}-{i}"), order_side=OrderSide.BUY,
                order_type=OrderType.LIMIT, last_qty=Quantity(qty), last_px=Price(px),
                commission=Money(Decimal(qty) * Decimal(px) / 1000, USDT),
                liquidity_side=LiquiditySide.MAKER, ts_event=ts + 3 + i, ts_init=ts + 3 + i,
            )
        )  # fmt: skip
    return out


def feed(journal: SqlOrderJournal, events: list[OrderEvent]) -> OrderManager:
    oms = OrderManager()
    for event in events:
        if isinstance(event, OrderInitialized):
            order, _ = oms.create(event.spec, event.ts_event)
        else:
            order = oms.apply(event)
        assert journal.append(event, order)
    return oms


def state_hash(oms: OrderManager) -> str:
    rows = sorted(
        f"{o.client_order_id}|{o.status}|{o.filled_qty}|{o.avg_px}|{o.venue_order_id}" for o in oms
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def test_durability_settings_are_the_journals(journal: SqlOrderJournal) -> None:
    settings = journal.db.durability()
    if journal.db.dialect == "sqlite":
        assert settings == {"journal_mode": "wal", "synchronous": 2}  # 2 = FULL
    else:
        assert settings == {"synchronous_commit": "on"}


def test_events_come_back_exactly_and_the_projection_follows(journal: SqlOrderJournal) -> None:
    events = lifecycle(1, [("0.2", "100.25"), ("0.3", "100.20")])
    feed(journal, events)
    assert list(journal.events()) == events
    (row,) = journal.orders()
    assert row["status"] == "FILLED"
    assert row["filled_qty"] == "0.5"
    assert Decimal(row["avg_px"]) == (Decimal("0.2") * Decimal("100.25") + Decimal("0.3")
                                      * Decimal("100.20")) / Decimal("0.5")  # fmt: skip
    assert row["venue_order_id"] == "v-1"
    assert journal.open_orders() == []
    assert [f["trade_id"] for f in journal.fills("o-1")] == ["t-1-0", "t-1-1"]


def test_a_fill_or_event_seen_twice_is_stored_once(journal: SqlOrderJournal) -> None:
    events = lifecycle(2, [("0.1", "100.25")])
    feed(journal, events[:3])
    assert journal.open_orders()[0]["status"] == "ACCEPTED"
    fill = events[3]
    assert journal.append(fill) is True
    assert journal.append(fill) is False  # a reconnect delivered it again
    assert journal.append(events[2]) is False
    assert len(journal.fills()) == 1
    assert len(list(journal.events())) == 4


def test_denials_are_queryable_newest_first(journal: SqlOrderJournal) -> None:
    for n in range(5):
        s = spec(10 + n)
        journal.append(OrderInitialized.of(s, n * 10))
        journal.append(
            OrderDenied(**s.ids(), reason=DenyReason.MAX_ORDER_NOTIONAL, message=f"too big {n}",
                        ts_event=n * 10 + 1, ts_init=n * 10 + 1)
        )  # fmt: skip
    got = journal.denials(SID, limit=3)
    assert [d.message for d in got] == ["too big 4", "too big 3", "too big 2"]
    assert all(d.reason is DenyReason.MAX_ORDER_NOTIONAL for d in got)
    assert journal.denials(StrategyId("other")) == []


def test_state_survives_as_saved(journal: SqlOrderJournal) -> None:
    assert journal.load_state("kill_switch") is None
    journal.save_state("kill_switch", {"active": True, "by": "ops"}, 5)
    journal.save_state("kill_switch", {"active": False, "by": "ops"}, 6)
    assert journal.load_state("kill_switch") == {"active": False, "by": "ops"}


def test_replaying_the_journal_twice_gives_byte_identical_state(journal: SqlOrderJournal) -> None:
    """OMS-10."""
    live = feed(journal, lifecycle(3, [("0.25", "100.25")]) + lifecycle(4, [], ts=2_000))

    def rebuild() -> OrderManager:
        oms = OrderManager()
        for event in journal.events():
            if isinstance(event, OrderInitialized):
                oms.create(event.spec, event.ts_event)
            else:
                oms.apply(event)
        return oms

    assert state_hash(rebuild()) == state_hash(rebuild()) == state_hash(live)


def test_a_bad_url_is_a_clear_configuration_error() -> None:
    from tradeforge.domain import ConfigurationError

    with pytest.raises(ConfigurationError, match="only sqlite and postgresql"):
        Database("mysql://x@y/z")
    with pytest.raises(ConfigurationError, match="is not a URL"):
        Database("not a url")


def test_an_append_is_all_or_nothing(
    journal: SqlOrderJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the event row (here: in the projection) leaves no trace of the event:
    the event, the fill row and the projection commit together (a crash between them on
    SQLite once left a fill without its order's new state)."""
    events = lifecycle(7, [("0.1", "100.25")])
    oms = feed(journal, events[:3])
    fill = events[3]
    order = oms.apply(fill)

    def broken(*_: object) -> None:
        raise RuntimeError("crash between the rows")

    monkeypatch.setattr(journal, "_project", broken)
    with pytest.raises(RuntimeError):
        journal.append(fill, order)
    monkeypatch.undo()
    assert journal.fills() == []
    assert len(list(journal.events())) == 3
    assert journal.append(fill, order) is True
    assert journal.orders()[0]["status"] == "PARTIALLY_FILLED"
