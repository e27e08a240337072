from decimal import Decimal

import pytest
from tests.kit.stubs import BTC, TS, USD, USDT, balance

from tradeforge.domain import (
    AccountBalance,
    AccountId,
    AccountStateChanged,
    AccountType,
    CashAccount,
    InstrumentId,
    InvalidValue,
    MarginAccount,
    MarginBalance,
    Money,
)

ACCOUNT_ID = AccountId("SIM-001")
BTCUSDT_PERP = InstrumentId.from_str("BTCUSDT-PERP.BINANCE")


def usdt(amount: str) -> Money:
    return Money(amount, USDT)


# AccountBalance


def test_balance_of_computes_free_from_total_and_locked() -> None:
    held = AccountBalance.of(usdt("1000"), usdt("250"))

    assert held.free == usdt("750")
    assert held.currency == USDT


def test_balance_of_defaults_locked_to_zero() -> None:
    assert AccountBalance.of(usdt("10")).locked == usdt("0")


def test_balance_whose_parts_do_not_add_up_is_refused_naming_them() -> None:
    with pytest.raises(
        InvalidValue,
        match=r"balance total 100\.00000000 USDT must equal free 60\.00000000 USDT \+ locked",
    ):
        AccountBalance(total=usdt("100"), locked=usdt("30"), free=usdt("60"))


@pytest.mark.parametrize("field", ["locked", "free"])
def test_balance_parts_in_another_currency_are_refused_naming_the_part(field: str) -> None:
    parts = {"total": usdt("1"), "locked": usdt("0"), "free": usdt("1")}
    parts[field] = Money(parts[field].amount, BTC)

    with pytest.raises(InvalidValue, match=f"balance {field} must be in USDT"):
        AccountBalance(**parts)


def test_negative_locked_is_refused() -> None:
    with pytest.raises(InvalidValue, match="balance locked must not be negative"):
        AccountBalance(total=usdt("1"), locked=usdt("-1"), free=usdt("2"))


def test_negative_free_is_allowed_in_a_balance() -> None:
    assert AccountBalance.of(usdt("-5")).free == usdt("-5")


# cash account


def test_cash_account_reports_totals_free_and_locked_per_currency() -> None:
    account = CashAccount(ACCOUNT_ID, [balance("1000", locked="100"), balance("0.5", "BTC")])

    assert account.total(USDT) == usdt("1000")
    assert account.free(USDT) == usdt("900")
    assert account.locked(USDT) == usdt("100")
    assert account.total(BTC) == Money("0.5", BTC)
    assert account.balance(BTC) == balance("0.5", "BTC")
    assert account.account_type is AccountType.CASH
    assert account.margins() == ()


def test_currency_never_held_reads_as_zero() -> None:
    account = CashAccount(ACCOUNT_ID, [])

    assert account.balance(USD) is None
    assert account.total(USD) == Money("0", USD)
    assert account.free(USD) == Money("0", USD)
    assert account.locked(USD) == Money("0", USD)


def test_updating_replaces_the_given_currencies_and_keeps_the_others() -> None:
    account = CashAccount(ACCOUNT_ID, [balance("1000"), balance("1", "BTC")])

    account.update_balances([balance("900")])

    assert account.balances == (balance("900"), balance("1", "BTC"))


@pytest.mark.parametrize("bad", [balance("-1"), balance("10", locked="11")])
def test_cash_account_refuses_a_negative_total_or_free(bad: AccountBalance) -> None:
    with pytest.raises(
        InvalidValue, match="cash account SIM-001: USDT balance may not go negative"
    ):
        CashAccount(ACCOUNT_ID, [bad])


def test_refused_update_changes_no_balance() -> None:
    account = CashAccount(ACCOUNT_ID, [balance("1000"), balance("1", "BTC")])

    with pytest.raises(InvalidValue):
        account.update_balances([balance("0.5", "BTC"), balance("-1")])

    assert account.balances == (balance("1000"), balance("1", "BTC"))


def test_cash_account_event() -> None:
    account = CashAccount(ACCOUNT_ID, [balance("1000")], base_currency=USDT)

    event = account.to_event(TS, TS + 1, reported=False)

    assert event == AccountStateChanged(
        account_id=ACCOUNT_ID,
        account_type=AccountType.CASH,
        base_currency=USDT,
        balances=(balance("1000"),),
        margins=(),
        reported=False,
        ts_event=TS,
        ts_init=TS + 1,
    )


# margin account


def test_margin_account_may_hold_negative_balances() -> None:
    account = MarginAccount(ACCOUNT_ID, [balance("-50")])

    assert account.total(USDT) == usdt("-50")
    assert account.account_type is AccountType.MARGIN


def test_leverage_defaults_and_is_set_per_instrument() -> None:
    account = MarginAccount(ACCOUNT_ID, [balance("1000")], default_leverage=Decimal("2"))

    account.set_leverage(BTCUSDT_PERP, Decimal("20"))

    assert account.leverage(BTCUSDT_PERP) == Decimal("20")
    assert account.leverage(InstrumentId.from_str("ETHUSDT-PERP.BINANCE")) == Decimal("2")


@pytest.mark.parametrize("leverage", [Decimal("0.5"), Decimal("0"), Decimal("NaN"), 10])
def test_leverage_below_one_or_not_a_decimal_is_refused(leverage: Decimal) -> None:
    account = MarginAccount(ACCOUNT_ID, [])

    rule = "leverage must be a Decimal" if isinstance(leverage, int) else "leverage must be >= 1"
    with pytest.raises(InvalidValue, match=f"margin account SIM-001: {rule}"):
        account.set_leverage(BTCUSDT_PERP, leverage)
    with pytest.raises(InvalidValue, match=rule):
        MarginAccount(ACCOUNT_ID, [], default_leverage=leverage)


def test_margins_are_held_per_instrument_and_account_wide() -> None:
    account = MarginAccount(ACCOUNT_ID, [balance("1000")])
    per_instrument = MarginBalance(
        initial=usdt("100"), maintenance=usdt("50"), instrument_id=BTCUSDT_PERP
    )
    account_wide = MarginBalance(initial=usdt("10"), maintenance=usdt("5"))

    account.update_margin(per_instrument)
    account.update_margin(account_wide)
    account.update_margin(
        MarginBalance(initial=usdt("120"), maintenance=usdt("60"), instrument_id=BTCUSDT_PERP)
    )

    assert account.margin(BTCUSDT_PERP) == MarginBalance(
        initial=usdt("120"), maintenance=usdt("60"), instrument_id=BTCUSDT_PERP
    )
    assert account.margin(None) == account_wide
    assert len(account.margins()) == 2
    assert account.to_event(TS, TS, reported=True).margins == account.margins()


def test_margin_in_two_currencies_is_refused() -> None:
    with pytest.raises(InvalidValue, match="must be in one currency"):
        MarginBalance(initial=usdt("1"), maintenance=Money("1", BTC))


def test_negative_margin_is_refused() -> None:
    with pytest.raises(InvalidValue, match="margin must not be negative"):
        MarginBalance(initial=usdt("-1"), maintenance=usdt("0"))
    assert MarginBalance(initial=usdt("1"), maintenance=usdt("0")).currency == USDT
