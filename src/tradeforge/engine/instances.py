"""What a node keeps of the strategies added to it at run time, so a restart brings them back.

Each is saved (in the journal's state, key ``strategy_instances``) as its class reference
(``package.module:Class``), id, instruments, parameters (decimals as text), owner and whether
it was running; ``load`` rebuilds them through the strategy registry's loader, checking the
parameters again. One that no longer builds (its class gone, a parameter now refused) is
logged and left out, never guessed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.domain import InstrumentId
from tradeforge.observability import get_logger
from tradeforge.strategy import Strategy
from tradeforge.strategy.registry import StrategyRegistry

__all__ = ["STATE_KEY", "SavedInstance", "dump", "load"]

STATE_KEY = "strategy_instances"
log = get_logger("tradeforge.node")


class SavedInstance(msgspec.Struct, frozen=True, kw_only=True):
    """One run-time strategy as saved."""

    ref: str
    id: str
    instruments: list[str]
    params: dict[str, Any]
    owner: str | None
    running: bool


def _plain(value: object) -> object:
    return format(value, "f") if isinstance(value, Decimal) else value


def dump(strategy: Strategy, *, owner: str | None, running: bool) -> dict[str, Any]:
    """The saved form of ``strategy`` (JSON-ready)."""
    cls = type(strategy)
    saved = SavedInstance(
        ref=f"{cls.__module__}:{cls.__qualname__}",
        id=strategy.id.value,
        instruments=[str(i) for i in strategy.configured_instruments],
        params={k: _plain(v) for k, v in strategy.params.items()},
        owner=owner,
        running=running,
    )
    return msgspec.to_builtins(saved)  # type: ignore[no-any-return]


def load(body: dict[str, Any] | None) -> list[tuple[Strategy, SavedInstance]]:
    """The strategies saved in ``body`` (see the module docstring)."""
    registry = StrategyRegistry()
    out = []
    for raw in (body or {}).get("instances", []):
        try:
            saved = msgspec.convert(raw, SavedInstance)
            cls = registry.load(saved.ref)
            instruments = [InstrumentId.from_str(i) for i in saved.instruments]
            strategy = cls(saved.params, strategy_id=saved.id, instruments=instruments)
        except Exception as exc:  # user code and old saves: refuse this one, keep the rest
            log.warning("saved strategy instance not restored", instance=str(raw)[:200],
                        error=f"{type(exc).__name__}: {exc}")  # fmt: skip
            continue
        out.append((strategy, saved))
    return out
