"""``StrategyLifecycle``: the trading node's strategies from start to stop.

Which strategies run and which are stopped, each one's ``LiveContext`` and timers, the wall
around their code (a hook that raises stops its strategy), and the strategies added, started,
stopped, replaced and removed while the node runs: those added at run time are saved in the
journal and restored, stopped or running as they were, at the next start.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from tradeforge.bus import TimeEvent
from tradeforge.domain import (
    InstrumentId,
    OrderEvent,
    OrderFilled,
    StrategyError,
    StrategyId,
    TradeForgeError,
)
from tradeforge.domain.errors import InvalidValue
from tradeforge.engine import instances as saved_instances
from tradeforge.engine.context import LiveContext
from tradeforge.observability import get_logger
from tradeforge.strategy import Strategy

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["StrategyLifecycle"]

log = get_logger("tradeforge.node")


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"


class StrategyLifecycle:
    """The strategies of one node (``node.strategies``, ``node.errors``) and their state."""

    def __init__(self, node: TradingNode, id_prefix: str) -> None:
        self._node = node
        self.by_id = {s.id: s for s in node.strategies}
        # Client order ids must never repeat, also across restarts: the prefix carries the
        # session (the start time in base 36) as well as the strategy's number.
        session = _base36(node.clock.timestamp_ns() // 1_000_000)
        self.contexts = {
            s.id: LiveContext(node, s, f"{id_prefix}{k}{session}")
            for k, s in enumerate(node.strategies)
        }
        # A context number is never reused (a strategy started again or added at run time gets
        # a new one), so neither are its client order ids.
        self._prefix = (id_prefix, session)
        self._context_numbers = itertools.count(len(node.strategies))
        self._owners: dict[StrategyId, str | None] = {}
        self._added: list[StrategyId] = []  # added at run time: saved, restored at start
        self._restoring = False
        self._timers: dict[StrategyId, set[str]] = {}
        self._last_start: dict[StrategyId, int] = {}
        self.stopped: set[StrategyId] = set()
        self.started: set[StrategyId] = set()  # strategies get events from on_start on

    # ------------------------------------------------------- the node's start and stop
    def start_all(self, instrument_ids: Collection[InstrumentId]) -> None:
        """Bind and start every strategy not added stopped (the node is starting)."""
        node = self._node
        for strategy in node.strategies:
            if strategy.id in self.stopped:  # added stopped: started on request only
                continue
            strategy.bind(self.contexts[strategy.id], list(instrument_ids))
            self.started.add(strategy.id)
            self._last_start[strategy.id] = node.clock.timestamp_ns()
            self.call(strategy, "on_start", strategy.on_start)

    def restart(self, strategy_ids: list[StrategyId]) -> None:
        """Start the saved strategies that ran when the last run ended (the node runs now)."""
        for strategy_id in strategy_ids:
            try:
                self.start(strategy_id)
            except TradeForgeError as exc:
                log.warning("saved strategy not started", strategy=str(strategy_id),
                            error=str(exc))  # fmt: skip

    def stop_all(self) -> None:
        """``on_stop`` of every strategy still running; no hook or timer runs after it."""
        for strategy in self._node.strategies:
            if strategy.id not in self.stopped:
                self.call(strategy, "on_stop", strategy.on_stop)
                self.stopped.add(strategy.id)  # no hook runs after on_stop
            self._detach(strategy.id)  # its timers leave the clock

    # ------------------------------------------------------- strategies at run time
    def add(self, strategy: Strategy, *, owner: str | None = None) -> None:
        """See ``TradingNode.add_strategy``."""
        node = self._node
        if strategy.id in self.by_id:
            raise InvalidValue(f"a strategy {strategy.id} already exists in this node")
        if node.running:
            self.check_instruments(strategy)
        node.strategies.append(strategy)
        self.by_id[strategy.id] = strategy
        self.contexts[strategy.id] = self._new_context(strategy)
        self.stopped.add(strategy.id)
        self._owners[strategy.id] = owner
        self._added.append(strategy.id)
        node.logs.add(strategy.id, node.clock.timestamp_ns(), "info", "added",
                      strategy=strategy.name)  # fmt: skip
        self._save_instances()

    def replace(self, strategy: Strategy) -> None:
        """See ``TradingNode.replace_strategy``."""
        node = self._node
        old = self.get(strategy.id)
        if self.is_running(old.id):
            raise InvalidValue(f"strategy {strategy.id} is running: stop it first")
        if node.running:
            self.check_instruments(strategy)
        node.strategies[node.strategies.index(old)] = strategy
        self.by_id[strategy.id] = strategy
        self.contexts[strategy.id] = self._new_context(strategy)
        node.logs.add(strategy.id, node.clock.timestamp_ns(), "info", "configured",
                      params=repr(strategy.params))  # fmt: skip
        self._save_instances()

    def start(self, strategy_id: StrategyId) -> None:
        """See ``TradingNode.start_strategy``."""
        node = self._node
        strategy = self.get(strategy_id)
        if not node.running:
            raise InvalidValue("the node is not running")
        if self.is_running(strategy_id):
            return
        self.check_instruments(strategy)
        if strategy_id in self.started:
            self._detach(strategy_id)  # a strategy that failed left its timers behind
            try:
                fresh = type(strategy)(strategy.params, strategy_id=strategy_id.value,
                                       instruments=strategy.configured_instruments)  # fmt: skip
            except Exception as exc:  # user code: its constructor may raise anything
                raise InvalidValue(f"strategy {strategy_id} could not be rebuilt: {exc}") from None
            node.strategies[node.strategies.index(strategy)] = fresh
            self.by_id[strategy_id] = strategy = fresh
            self.contexts[strategy_id] = self._new_context(strategy)
        for iid in strategy.configured_instruments:
            node._market.add_feed(iid)
        strategy.bind(self.contexts[strategy_id], sorted(node.feeds, key=str))
        self.stopped.discard(strategy_id)
        self.started.add(strategy_id)
        now = node.clock.timestamp_ns()
        self._last_start[strategy_id] = now
        node.logs.add(strategy_id, now, "info", "started")
        self.call(strategy, "on_start", strategy.on_start)
        self._save_instances()

    def stop(self, strategy_id: StrategyId) -> int:
        """See ``TradingNode.stop_strategy``."""
        node = self._node
        strategy = self.get(strategy_id)
        if self.is_running(strategy_id):
            self.call(strategy, "on_stop", strategy.on_stop)
        self.stopped.add(strategy_id)
        self._detach(strategy_id)
        node.algos.cancel_strategy(strategy_id, "strategy stopped")
        orders = [*node.oms.open_orders(strategy_id), *node._emulation.held(strategy_id)]
        for order in orders:
            node._spawn(node._changes.cancel_now(order))
        node.logs.add(strategy_id, node.clock.timestamp_ns(), "info", "stopped",
                      cancelled=len(orders))  # fmt: skip
        self._save_instances()
        return len(orders)

    def remove(self, strategy_id: StrategyId) -> None:
        """See ``TradingNode.remove_strategy``."""
        node = self._node
        strategy = self.get(strategy_id)
        if self.is_running(strategy_id):
            raise InvalidValue(f"strategy {strategy_id} is running: stop it first")
        node.logs.forget(strategy_id, node.clock.timestamp_ns())  # while its owner is known
        self._detach(strategy_id)  # a strategy that failed left its timers behind
        node.strategies.remove(strategy)
        del self.by_id[strategy_id]
        del self.contexts[strategy_id]
        self._owners.pop(strategy_id, None)
        self._last_start.pop(strategy_id, None)
        self.started.discard(strategy_id)
        if strategy_id in self._added:
            self._added.remove(strategy_id)
            self._save_instances()

    def _detach(self, strategy_id: StrategyId) -> None:
        """Drop what a run of the strategy set up: its timers and its indicators' feeding."""
        node = self._node
        for name in self._timers.pop(strategy_id, set()):
            with contextlib.suppress(TradeForgeError):
                node.clock.cancel_timer(name)
        context = self.contexts[strategy_id]
        for iid, indicator in context.indicators:
            feed = node.feeds.get(iid)
            if feed is not None:
                feed.remove_indicator(indicator)
        context.indicators.clear()

    def _save_instances(self) -> None:
        """Keep the strategies added at run time (and which run) for the next start."""
        if self._restoring:
            return
        saved = [
            saved_instances.dump(self.by_id[sid], owner=self._owners.get(sid),
                                 running=sid not in self.stopped)
            for sid in self._added
        ]  # fmt: skip
        now = self._node.clock.timestamp_ns()
        self._node.journal.save_state(saved_instances.STATE_KEY, {"instances": saved}, now)

    def restore_instances(self) -> list[StrategyId]:
        """Add the strategies saved by the last run (stopped); those that ran, to start."""
        restart = []
        body = self._node.journal.load_state(saved_instances.STATE_KEY)
        self._restoring = True
        try:
            for strategy, saved in saved_instances.load(body):
                try:
                    self.check_instruments(strategy)
                    self._node.add_strategy(strategy, owner=saved.owner)
                except InvalidValue as exc:  # its instrument is gone, or its id is taken now
                    log.warning("saved strategy not restored", strategy=saved.id, error=str(exc))
                    continue
                if saved.running:
                    restart.append(strategy.id)
        finally:
            self._restoring = False
        return restart

    # ------------------------------------------------------- queries
    def get(self, strategy_id: StrategyId) -> Strategy:
        """See ``TradingNode.strategy``."""
        strategy = self.by_id.get(strategy_id)
        if strategy is None:
            raise InvalidValue(f"no strategy {strategy_id} in this node")
        return strategy

    def is_running(self, strategy_id: StrategyId) -> bool:
        """See ``TradingNode.is_running``."""
        return self._node.running and strategy_id in self.by_id and strategy_id not in self.stopped

    def owner(self, strategy_id: StrategyId) -> str | None:
        """See ``TradingNode.owner``."""
        return self._owners.get(strategy_id)

    def errors_since_start(self, strategy_id: StrategyId) -> list[StrategyError]:
        """See ``TradingNode.errors_since_start``."""
        since = self._last_start.get(strategy_id, 0)
        return [
            e for e in self._node.errors
            if e.strategy_id == strategy_id.value and (e.ts_ns is None or e.ts_ns >= since)
        ]  # fmt: skip

    def running_on(self, instrument_id: InstrumentId) -> list[Strategy]:
        """The strategies that get the instrument's data now."""
        return [
            s
            for s in self._node.strategies
            if s.id not in self.stopped and instrument_id in s.instrument_ids
        ]

    def check_instruments(self, strategy: Strategy) -> None:
        """Raises ``InvalidValue`` when one of the strategy's instruments is not traded here."""
        for iid in strategy.configured_instruments:
            if iid not in self._node.instruments:
                raise InvalidValue(f"instrument {iid} is not traded by this node")

    def _new_context(self, strategy: Strategy) -> LiveContext:
        prefix, session = self._prefix
        return LiveContext(self._node, strategy, f"{prefix}{next(self._context_numbers)}{session}")

    # ------------------------------------------------------- user code
    def set_timer(
        self, strategy: Strategy, name: str, interval_ns: int,
        callback: Callable[[TimeEvent], None] | None,
    ) -> None:  # fmt: skip
        """See ``TradingNode.set_timer``."""
        target = callback or strategy.on_timer

        def fire(event: TimeEvent) -> None:
            if strategy.id not in self.stopped:
                own = TimeEvent(name=name, ts_event=event.ts_event, ts_init=event.ts_init)
                self.call(strategy, "on_timer", target, own)

        self._node.clock.set_timer(f"{strategy.id}:{name}", interval_ns, fire)
        self._timers.setdefault(strategy.id, set()).add(f"{strategy.id}:{name}")

    def deliver(self, event: OrderEvent) -> None:
        """Hand an order event to its strategy (``on_order``, then ``on_fill`` for a fill) when
        the strategy gets events now."""
        strategy = self.by_id.get(event.strategy_id)
        if strategy is None or strategy.id in self.stopped or strategy.id not in self.started:
            return
        self.call(strategy, "on_order", strategy.on_order, event)
        if isinstance(event, OrderFilled):
            self.call(strategy, "on_fill", strategy.on_fill, event)

    def call(self, strategy: Strategy, hook: str, fn: Callable[..., None], *args: object) -> None:
        """Run one hook of user code: an exception becomes a ``StrategyError`` and stops the
        strategy (its parents stopped, its open orders cancelled)."""
        node = self._node
        try:
            fn(*args)
        except Exception as exc:
            error = StrategyError(str(strategy.id), hook, node.clock.timestamp_ns(), exc)
            node.errors.append(error)
            self.stopped.add(strategy.id)  # before the line is published: it failed
            node.logs.add(strategy.id, node.clock.timestamp_ns(), "error",
                          f"{hook} raised {exc!r}; strategy stopped", hook=hook)  # fmt: skip
            log.error("strategy failed; stopped", strategy=str(strategy.id), hook=hook,
                      error=repr(exc))  # fmt: skip
            node.algos.cancel_strategy(strategy.id, f"strategy failed in {hook}")
            for order in [*node.oms.open_orders(strategy.id), *node._emulation.held(strategy.id)]:
                node._spawn(node._changes.cancel_now(order))
            if strategy.id in self._added:
                self._save_instances()  # a failed strategy is not started again by a restart
