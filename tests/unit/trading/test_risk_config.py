"""Risk configuration: validated at start-up with messages naming the key; R18: limits changed
at run time, without a restart, audited, in force from the next order.

Pass figure (R18): the new limit applies to the next order.
"""

from __future__ import annotations

import re
import time
import tomllib
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from tests.unit.trading.risk_kit import BTC, BTCUSDT, STRATEGY, engine, spec

from tradeforge.domain import ConfigurationError, DenyReason
from tradeforge.trading import Limits, RiskConfig, RiskEngine


def test_a_lower_limit_applies_to_the_very_next_order_and_the_change_is_audited() -> None:
    risk, _ = engine(RiskConfig(max_order_quantity=Decimal(5)))
    assert risk.check(spec(qty="3.000"), BTCUSDT) is None

    started = time.perf_counter()
    entry = risk.update_config(
        RiskConfig(
            max_order_quantity=Decimal(2),
            strategies={str(STRATEGY): Limits(max_position=Decimal(10))},
        ),
        by="ops:frank",
        reason="volatility",
    )
    denial = risk.check(spec(qty="3.000"), BTCUSDT)
    elapsed = time.perf_counter() - started

    assert denial == (DenyReason.MAX_ORDER_QUANTITY, "quantity 3.000 exceeds the limit 2")
    assert elapsed < 1.0
    assert (entry.action, entry.actor, entry.reason, entry.scope) == (
        "limits.update",
        "ops:frank",
        "volatility",
        "global",
    )
    assert entry.details == {
        "max_order_quantity": "5 -> 2",
        f"strategies.{STRATEGY}.max_position": "None -> 10",
    }
    assert risk.pending_audit() == (entry,)


def test_a_new_position_limit_counts_the_orders_already_open() -> None:
    risk, _ = engine(RiskConfig())
    assert risk.check(spec(qty="4.000"), BTCUSDT) is None

    risk.update_config(RiskConfig(max_position=Decimal(5)), by="ops", reason="tighten")

    assert risk.check(spec(qty="1.000"), BTCUSDT) is None
    assert risk.check(spec(qty="0.001"), BTCUSDT) is not None


def test_a_config_reads_from_toml_like_data_with_decimals_as_strings() -> None:
    body = {
        "max_order_notional": "100000",
        "collar_pct": "5",
        "reference_max_age_ms": 5000,
        "accounts": {"BINANCE-main": {"max_open_orders": 200, "max_submits_per_s": 100}},
        "strategies": {
            "ema_cross-001": {
                "capital_budget": "25000",
                "instruments": {"BTC/USDT.BINANCE": {"max_position": "2"}},
            }
        },
    }

    config = msgspec.convert(body, RiskConfig)

    assert config.strategies["ema_cross-001"].instruments[str(BTC)].max_position == 2
    assert config.accounts["BINANCE-main"].max_open_orders == 200


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (lambda: RiskConfig(max_position=Decimal(-1)), "risk.max_position must be a number >= 0"),
        (lambda: RiskConfig(collar_pct=Decimal(0)), "risk.collar_pct must be positive"),
        (lambda: RiskConfig(max_open_orders=-1), "risk.max_open_orders must be an int >= 0"),
        (lambda: RiskConfig(drift_window_ms=0), "risk.drift_window_ms must be a positive int"),
        (lambda: RiskConfig(margin_ratio=Decimal(2)), "risk.margin_ratio must be in (0, 1]"),
        (
            lambda: RiskConfig(strategies={"bad id": Limits()}),
            "risk.strategies: key 'bad id' is not a valid id",
        ),
        (
            lambda: RiskConfig(restricted_instruments=frozenset({"BTCUSDT"})),
            "risk.restricted_instruments: instrument_id must look like SYMBOL.VENUE",
        ),
        (
            lambda: RiskConfig(
                accounts={"A-1": Limits(instruments={str(BTC): Limits(max_open_orders=3)})}
            ),
            f"risk.accounts.A-1.instruments.{BTC}.max_open_orders: is a limit of the whole scope",
        ),
    ],
)
def test_a_bad_value_is_refused_with_the_key_named(config: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        config()  # type: ignore[operator]
    assert message in str(raised.value)


def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="max_order_qty"):
        msgspec.convert({"max_order_qty": "1"}, RiskConfig)


def test_controls_that_need_time_need_a_clock() -> None:
    with pytest.raises(ConfigurationError, match="need a clock"):
        RiskEngine(RiskConfig(max_submits_per_s=10))
    # per-order limits work without one (the backtester's original use)
    assert RiskEngine(RiskConfig(max_order_quantity=Decimal(1))).check(spec(), BTCUSDT) is None


def test_the_example_in_docs_risk_md_is_a_valid_config() -> None:
    text = (Path(__file__).parents[3] / "docs" / "risk.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert block is not None

    config = msgspec.convert(tomllib.loads(block.group(1))["risk"], RiskConfig)

    assert config.strategies["ema_cross-001"].instruments["ETH/USDT.BINANCE"].max_order_quantity
