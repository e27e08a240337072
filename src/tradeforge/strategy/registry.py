"""Finding strategy classes: by registered name (``sma_cross``) or by ``package.module:Class``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from tradeforge.domain import InvalidValue
from tradeforge.strategy.base import Strategy

__all__ = ["BUILTIN_STRATEGIES", "StrategyRegistry"]

BUILTIN_STRATEGIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "sma_cross": "tradeforge.strategy.examples.sma_cross:SmaCross",
        "rsi_reversion": "tradeforge.strategy.examples.rsi_reversion:RsiReversion",
        "bollinger_breakout": "tradeforge.strategy.examples.bollinger_breakout:BollingerBreakout",
        "pairs_spread": "tradeforge.strategy.examples.pairs_spread:PairsSpread",
    }
)


class StrategyRegistry:
    """Names to strategy classes; starts with the shipped examples."""

    def __init__(self, entries: Mapping[str, str] = BUILTIN_STRATEGIES) -> None:
        self._refs: dict[str, str] = dict(entries)
        self._classes: dict[str, type[Strategy]] = {}

    def register(self, name: str, cls: type[Strategy]) -> None:
        """Make ``cls`` loadable as ``name``."""
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise InvalidValue(f"{cls!r} is not a Strategy subclass")
        self._classes[name] = cls

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted({*self._refs, *self._classes})

    def load(self, ref: str) -> type[Strategy]:
        """The class for a registered name or a ``package.module:Class`` reference."""
        if ref in self._classes:
            return self._classes[ref]
        target = self._refs.get(ref, ref)
        module_name, colon, class_name = target.partition(":")
        if not colon or not module_name or not class_name:
            known = ", ".join(self.names())
            raise InvalidValue(
                f"unknown strategy {ref!r}: use a registered name ({known}) or package.module:Class"
            )
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise InvalidValue(f"strategy {ref!r}: cannot import {module_name!r}: {exc}") from None
        except Exception as exc:  # a user module may fail in any way while importing
            raise InvalidValue(
                f"strategy {ref!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
            ) from None
        cls = getattr(module, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise InvalidValue(
                f"strategy {ref!r}: {module_name} has no Strategy class {class_name!r}"
            )
        return cls
