"""The simulated venue's books: balances move by exactly notional and fee, open orders lock what
they may spend (an OCO pair once), and money reconciles to the last unit after round trips."""

from decimal import Decimal

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.kit.stubs import ACCOUNT, BTC, BTCUSDT, USDT
from tests.kit.venue import VenueHarness, order_factory

from tradeforge.backtest import FillModel, VenueAccount
from tradeforge.domain import (
    AccountType,
    InstrumentId,
    InstrumentKind,
    Money,
    OrderFilled,
    OrderSide,
    PerpetualContract,
    Price,
    Quantity,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ONE = Quantity("1.000")
D = Decimal


def money(amount: str) -> Decimal:
    """An exact USDT amount (8 decimals) as the account holds it."""
    return Money(amount, USDT).amount


def fees(harness: VenueHarness) -> Decimal:
    return sum((f.commission.amount for f in harness.of_type(OrderFilled)), D(0))


# balances after fills


def test_a_buy_fill_takes_notional_plus_fee_from_the_quote_and_adds_the_base() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, Quantity("0.250")))

    harness.tape.bar("101.00", "102.00", "100.00", "101.50")

    # 0.250 x 101.00 = 25.25 notional, x 0.0004 = 0.0101 fee
    assert harness.total(USDT) == money("10000") - money("25.25") - money("0.0101")
    assert harness.total(BTC) == D("0.250")
    assert harness.free(USDT) == harness.total(USDT)  # the order is done: nothing stays locked


def test_a_sell_fill_adds_notional_minus_fee_and_takes_the_base() -> None:
    harness = VenueHarness(balances=[Money("0", USDT), Money("2", BTC)])
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.limit(BTCUSDT, SELL, Quantity("1.500"), Price("102.00")))

    harness.tape.bar("100.00", "103.00", "99.00", "102.50")

    # 1.500 x 102.00 = 153.00, maker fee 0.0002 -> 0.0306
    assert harness.total(USDT) == money("153.00") - money("0.0306")
    assert harness.total(BTC) == D("0.500")


# locks


def test_a_resting_buy_limit_locks_notional_plus_the_highest_fee_until_it_is_canceled() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))

    harness.submit(spec)
    resting = (harness.total(USDT), harness.free(USDT))
    harness.cancel(spec.client_order_id)

    assert resting == (money("10000"), money("10000") - money("99.0396"))  # 99.00 x 1.0004
    assert harness.free(USDT) == harness.total(USDT) == money("10000")


def test_a_resting_sell_limit_locks_the_base_it_sells() -> None:
    harness = VenueHarness(balances=[Money("0", USDT), Money("2", BTC)])
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, SELL, Quantity("1.500"), Price("105.00"))

    harness.submit(spec)
    resting = harness.free(BTC)
    harness.cancel(spec.client_order_id)

    assert resting == D("0.500")
    assert harness.free(BTC) == D("2")


def test_a_second_order_cannot_spend_what_the_first_has_locked() -> None:
    harness = VenueHarness(balances=[Money("150", USDT)])
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")))
    harness.submit(orders.limit(BTCUSDT, BUY, ONE, Price("99.00")))

    assert harness.kinds() == ["OrderAccepted", "OrderRejected"]


def test_a_partial_fill_spends_part_of_the_lock_and_a_cancel_releases_the_rest() -> None:
    harness = VenueHarness(fill_model=FillModel(max_volume_fraction=D("0.1")))
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, Quantity("2.000"), Price("99.00"))
    harness.submit(spec)  # locks 198.0792

    harness.tape.bar("100.00", "100.00", "98.00", "99.00", volume="10")  # fills 1.000
    after_fill = harness.total(USDT) - harness.free(USDT)
    harness.cancel(spec.client_order_id)

    assert after_fill == money("198.0792") - money("99.0198")  # spent: 99.00 + 0.0198 fee
    assert harness.free(USDT) == harness.total(USDT) == money("10000") - money("99.0198")


def test_an_oco_pair_locks_once_for_its_dearer_leg() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit_list(
        orders.oco(BTCUSDT, BUY, ONE, limit_price=Price("95.00"), stop_trigger=Price("105.00"))
    )

    assert harness.kinds() == ["OrderAccepted", "OrderAccepted"]
    assert harness.free(USDT) == money("10000") - money("105.042")  # 105.00 x 1.0004


def test_an_oco_pair_releases_its_lock_when_one_leg_fills() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit_list(
        orders.oco(BTCUSDT, BUY, ONE, limit_price=Price("95.00"), stop_trigger=Price("105.00"))
    )

    harness.tape.bar("100.00", "100.00", "94.00", "96.00")  # the limit leg fills at 95

    assert harness.total(USDT) == money("10000") - money("95.00") - money("0.019")
    assert harness.free(USDT) == harness.total(USDT)


def test_an_oco_pair_the_balance_covers_only_once_is_accepted() -> None:
    harness = VenueHarness(balances=[Money("110", USDT)])
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit_list(
        orders.oco(BTCUSDT, BUY, ONE, limit_price=Price("95.00"), stop_trigger=Price("105.00"))
    )

    assert harness.kinds() == ["OrderAccepted", "OrderAccepted"]


def test_a_modify_to_a_larger_quantity_locks_more() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    harness.submit(spec)

    harness.modify(spec.client_order_id, quantity=Quantity("2.000"))

    assert harness.free(USDT) == money("10000") - money("198.0792")


def test_a_rejected_duplicate_leaves_the_original_lock_unchanged() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    spec = orders.limit(BTCUSDT, BUY, ONE, Price("99.00"))
    harness.submit(spec)
    before = harness.free(USDT)

    harness.submit(msgspec.structs.replace(spec, quantity=Quantity("5.000")))

    assert harness.kinds() == ["OrderAccepted", "OrderRejected"]
    assert harness.free(USDT) == before


# money reconciles


def test_a_round_trip_reconciles_to_the_last_unit() -> None:
    harness = VenueHarness()
    orders = order_factory()
    harness.tape.flat("100.00")
    harness.submit(orders.market(BTCUSDT, BUY, ONE))
    harness.tape.bar("101.00", "102.00", "100.00", "101.50")  # buy 1 at 101.00, taker
    harness.submit(orders.limit(BTCUSDT, SELL, ONE, Price("110.00")))

    harness.tape.bar("101.50", "111.00", "101.00", "110.50")  # sell 1 at 110.00, maker

    assert fees(harness) == money("0.0404") + money("0.022")
    assert harness.total(USDT) == money("10000") + (money("110.00") - money("101.00")) - fees(
        harness
    )
    assert harness.total(USDT) == money("10008.9376")
    assert harness.total(BTC) == 0
    assert harness.free(USDT) == harness.total(USDT)


@settings(max_examples=60, deadline=None)
@given(
    trips=st.lists(
        st.tuples(
            st.integers(1, 5_000),  # lots of 0.001
            st.integers(5_000, 20_000),  # buy open in cents
            st.integers(5_000, 20_000),  # sell open in cents
        ),
        min_size=1,
        max_size=4,
    )
)
def test_final_quote_is_initial_plus_sells_minus_buys_minus_fees(
    trips: list[tuple[int, int, int]],
) -> None:
    harness = VenueHarness(balances=[Money("1000000", USDT)])
    orders = order_factory()
    harness.tape.flat("100.00")
    expected = money("1000000")

    for lots, buy_cents, sell_cents in trips:
        qty = Quantity(D(lots).scaleb(-3))
        buy_px, sell_px = (str(D(c).scaleb(-2)) for c in (buy_cents, sell_cents))
        harness.submit(orders.market(BTCUSDT, BUY, qty))
        harness.tape.flat(buy_px)
        harness.submit(orders.market(BTCUSDT, SELL, qty))
        harness.tape.flat(sell_px)
        expected += qty.as_decimal() * (D(sell_px) - D(buy_px))

    assert len(harness.of_type(OrderFilled)) == 2 * len(trips)
    assert harness.total(USDT) == expected - fees(harness)
    assert harness.total(BTC) == 0
    assert harness.free(USDT) == harness.total(USDT)


def linear_perpetual() -> PerpetualContract:
    return PerpetualContract(
        id=InstrumentId.from_str("BTCUSDT-PERP.BINANCE"),
        raw_symbol="BTCUSDT",
        base_currency=BTC,
        quote_currency=USDT,
        settlement_currency=USDT,
        tick_size=Price("0.01"),
        lot_size=Quantity("0.001"),
        min_quantity=Quantity("0.001"),
        maker_fee=D("0.0002"),
        taker_fee=D("0.0004"),
    )


def test_a_margin_round_trip_books_realized_pnl_minus_fees() -> None:
    perp = linear_perpetual()
    harness = VenueHarness(
        instruments=[perp],
        balances=[Money("1000", USDT)],
        account_type=AccountType.MARGIN,
        leverage=D(10),
    )
    orders = order_factory()
    harness.tape.flat("100.00")

    harness.submit(orders.market(perp.id, BUY, ONE))
    locked = harness.total(USDT) - harness.free(USDT)
    harness.tape.flat("100.00")  # long 1 at 100.00, fee 0.04
    after_buy = harness.total(USDT)
    harness.submit(orders.market(perp.id, SELL, ONE))
    harness.tape.flat("110.00")  # flat at 110.00: +10.00, fee 0.044

    assert locked == money("10.04")  # 100.00 / 10 + 100.00 x 0.0004
    assert after_buy == money("999.96")
    assert harness.total(USDT) == money("1000") + money("10.00") - money("0.04") - money("0.044")
    assert harness.free(USDT) == harness.total(USDT)


# VenueAccount on its own


def test_an_account_sums_opening_balances_per_currency() -> None:
    account = VenueAccount(
        ACCOUNT, AccountType.CASH, [Money("5", USDT), Money("1", BTC), Money("2.5", USDT)]
    )

    assert (account.total(USDT), account.total(BTC)) == (D("7.5"), D("1"))
    assert account.currencies() == [USDT, BTC]
    assert account.free(USDT) == D("7.5")


def test_a_lock_beyond_the_free_balance_is_refused() -> None:
    account = VenueAccount(ACCOUNT, AccountType.CASH, [Money("100", USDT)])

    assert account.lock("order:A", USDT, D("60"))
    assert not account.lock("order:B", USDT, D("40.01"))
    assert account.free(USDT) == D("40")
    assert account.locked_under("order:B") == 0


def test_a_second_member_joins_a_lock_and_raises_it_to_the_larger_amount() -> None:
    account = VenueAccount(ACCOUNT, AccountType.CASH, [Money("100", USDT)])

    account.lock("list:L", USDT, D("30"))
    account.lock("list:L", USDT, D("50"))
    joined = account.locked_under("list:L")
    account.release("list:L")
    one_left = account.locked_under("list:L")
    account.release("list:L")

    assert (joined, one_left) == (D("50"), D("50"))
    assert account.locked_under("list:L") == 0
    assert account.free(USDT) == D("100")


def test_use_shrinks_a_lock_but_never_below_zero() -> None:
    account = VenueAccount(ACCOUNT, AccountType.CASH, [Money("100", USDT)])
    account.lock("order:A", USDT, D("30"))

    account.use("order:A", D("20"))
    partly = account.locked_under("order:A")
    account.use("order:A", D("20"))

    assert partly == D("10")
    assert account.locked_under("order:A") == 0
    assert account.free(USDT) == D("100")


def test_release_and_use_of_an_unknown_key_do_nothing() -> None:
    account = VenueAccount(ACCOUNT, AccountType.CASH, [Money("100", USDT)])

    account.use("order:nope", D("5"))
    account.release("order:nope")

    assert account.free(USDT) == D("100")


def test_balance_reports_total_locked_and_free_at_the_currency_precision() -> None:
    account = VenueAccount(ACCOUNT, AccountType.CASH, [Money("100", USDT)])
    account.lock("order:A", USDT, D("99.0396"))

    balance = account.balance(USDT)

    assert (balance.total, balance.locked, balance.free) == (
        Money("100", USDT),
        Money("99.0396", USDT),
        Money("0.9604", USDT),
    )


def test_settle_spot_moves_base_quote_and_fee() -> None:
    account = VenueAccount(ACCOUNT, AccountType.CASH, [Money("1000", USDT)])

    changed = account.settle_spot(BTC, True, D("2"), Money("200", USDT), Money("0.08", USDT))

    assert changed == [BTC, USDT]
    assert (account.total(BTC), account.total(USDT)) == (D("2"), D("799.92"))


def test_margin_is_used_only_for_derivatives_in_a_margin_account() -> None:
    cash = VenueAccount(ACCOUNT, AccountType.CASH, [])
    margin = VenueAccount(ACCOUNT, AccountType.MARGIN, [])

    assert not cash.uses_margin(InstrumentKind.PERPETUAL)
    assert not margin.uses_margin(InstrumentKind.SPOT)
    assert margin.uses_margin(InstrumentKind.PERPETUAL)
    assert margin.uses_margin(InstrumentKind.FUTURE)


def test_to_event_reports_the_named_currencies_once_each() -> None:
    account = VenueAccount(ACCOUNT, AccountType.CASH, [Money("1000", USDT), Money("1", BTC)])

    event = account.to_event(123, [USDT, USDT])
    everything = account.to_event(124)

    assert [b.total.currency for b in event.balances] == [USDT]
    assert [b.total.currency for b in everything.balances] == [USDT, BTC]
    assert (event.ts_event, event.account_id, event.reported) == (123, ACCOUNT, True)
