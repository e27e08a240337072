"""The strategy registry: shipped strategies by name, any strategy by ``package.module:Class``,
and a clear refusal for everything else."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeforge.domain import InvalidValue
from tradeforge.strategy import BUILTIN_STRATEGIES, Strategy, StrategyRegistry
from tradeforge.strategy.examples.bollinger_breakout import BollingerBreakout
from tradeforge.strategy.examples.pairs_spread import PairsSpread
from tradeforge.strategy.examples.rsi_reversion import RsiReversion
from tradeforge.strategy.examples.sma_cross import SmaCross

KNOWN = "bollinger_breakout, pairs_spread, rsi_reversion, sma_cross"


class Momentum(Strategy):
    name = "momentum"


class NotAStrategy:
    pass


@pytest.fixture
def user_modules(tmp_path: Path) -> Iterator[Path]:
    """A directory on ``sys.path`` where a test writes strategy modules."""
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("tf_user_")]:
            del sys.modules[name]


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sma_cross", SmaCross),
        ("rsi_reversion", RsiReversion),
        ("bollinger_breakout", BollingerBreakout),
        ("pairs_spread", PairsSpread),
    ],
)
def test_a_shipped_strategy_loads_by_name(name: str, cls: type[Strategy]) -> None:
    loaded = StrategyRegistry().load(name)

    assert loaded is cls
    assert loaded.name == name


def test_the_registered_names_are_the_shipped_examples() -> None:
    registry = StrategyRegistry()

    assert registry.names() == KNOWN.split(", ")
    assert dict(BUILTIN_STRATEGIES) == {
        "sma_cross": "tradeforge.strategy.examples.sma_cross:SmaCross",
        "rsi_reversion": "tradeforge.strategy.examples.rsi_reversion:RsiReversion",
        "bollinger_breakout": "tradeforge.strategy.examples.bollinger_breakout:BollingerBreakout",
        "pairs_spread": "tradeforge.strategy.examples.pairs_spread:PairsSpread",
    }


def test_the_builtin_table_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        BUILTIN_STRATEGIES["mine"] = "x:Y"  # type: ignore[index]


def test_a_strategy_loads_by_module_and_class() -> None:
    loaded = StrategyRegistry().load("tradeforge.strategy.examples.sma_cross:SmaCross")

    assert loaded is SmaCross


def test_a_strategy_in_a_user_module_loads_by_reference(user_modules: Path) -> None:
    (user_modules / "tf_user_momentum.py").write_text(
        "from tradeforge.strategy import IntParam, Strategy\n"
        "class Momentum(Strategy):\n"
        "    lookback = IntParam(5, min=1)\n",
        encoding="utf-8",
    )

    loaded = StrategyRegistry().load("tf_user_momentum:Momentum")

    assert issubclass(loaded, Strategy)
    assert loaded({"lookback": "7"}).params == {"lookback": 7}


def test_a_registered_class_loads_by_its_name() -> None:
    registry = StrategyRegistry()

    registry.register("momentum", Momentum)

    assert registry.load("momentum") is Momentum
    assert "momentum" in registry.names()


def test_a_registry_starts_from_the_entries_given() -> None:
    registry = StrategyRegistry({"mine": "tradeforge.strategy.examples.sma_cross:SmaCross"})

    assert registry.names() == ["mine"]
    assert registry.load("mine") is SmaCross


def test_registering_something_that_is_not_a_strategy_is_refused() -> None:
    with pytest.raises(InvalidValue, match="is not a Strategy subclass"):
        StrategyRegistry().register("x", NotAStrategy)  # type: ignore[arg-type]


@pytest.mark.parametrize("ref", ["nope", "sma-cross", "tradeforge.strategy.examples.sma_cross"])
def test_an_unknown_name_is_refused_listing_the_known_ones(ref: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        StrategyRegistry().load(ref)

    assert str(caught.value) == (
        f"unknown strategy {ref!r}: use a registered name ({KNOWN}) or package.module:Class"
    )


@pytest.mark.parametrize("ref", [":SmaCross", "tradeforge.strategy.examples.sma_cross:"])
def test_a_reference_missing_its_module_or_class_is_refused(ref: str) -> None:
    with pytest.raises(InvalidValue, match="unknown strategy"):
        StrategyRegistry().load(ref)


def test_a_module_that_does_not_exist_is_refused_naming_it() -> None:
    with pytest.raises(InvalidValue) as caught:
        StrategyRegistry().load("no_such_pkg.strats:Momentum")

    assert str(caught.value) == (
        "strategy 'no_such_pkg.strats:Momentum': cannot import 'no_such_pkg.strats': "
        "No module named 'no_such_pkg'"
    )


@pytest.mark.parametrize("name", ["NotAStrategy", "Missing", "KNOWN"])
def test_a_class_that_is_not_a_strategy_is_refused(name: str) -> None:
    ref = f"{__name__}:{name}"

    with pytest.raises(InvalidValue) as caught:
        StrategyRegistry().load(ref)

    assert str(caught.value) == f"strategy {ref!r}: {__name__} has no Strategy class {name!r}"


@pytest.mark.parametrize(
    "source", ["def broken(:\n", "raise RuntimeError('no')\n"], ids=["syntax", "raises"]
)
def test_a_user_module_that_fails_to_import_is_refused_naming_it(
    user_modules: Path, source: str
) -> None:
    (user_modules / "tf_user_broken.py").write_text(source, encoding="utf-8")

    with pytest.raises(InvalidValue, match="tf_user_broken"):
        StrategyRegistry().load("tf_user_broken:Momentum")
