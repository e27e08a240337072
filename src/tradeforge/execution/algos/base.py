"""``ExecutionAlgorithm``: the parent-order machinery every algorithm shares.

An algorithm is handed a :class:`ParentOrder`, a ``Clock`` and two callbacks, ``submit_child``
and ``cancel_child``; the node (or a test) feeds it what happens: ``on_fill``,
``on_child_done``, and market data (``on_trade``, ``on_quote``, ``on_book``, ``on_bar``).
Children are named ``<parent>-c1``, ``<parent>-c2``, ... and tagged ``parent=<parent>``.

Decisions are level-triggered: after anything changes, the algorithm's ``_step`` looks at the
state (filled, working, the time) and sends what is due. Steps never nest: a callback that
answers synchronously (a simulated venue filling a child while it is being submitted) only
asks for another step, taken when the current one returns, so the call depth stays flat.

Quantity is conserved: a child is only ever sized from ``quantity - filled - working``, so what
is filled and working never exceeds the parent. A child is a whole number of lots and at least
the minimum child size (``min_quantity``, raised to cover ``min_notional`` at the parent's limit
or arrival price); a remainder that would be left below the minimum is added to the child
before it instead. Only a final remainder may be below the minimum, and only when the parent
says the venue allows it (``allow_odd_final``); otherwise the parent ends DONE with that
remainder unfilled, and the report says so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from decimal import Decimal
from typing import ClassVar, TypeAlias

from tradeforge.bus import Clock, TimeEvent
from tradeforge.domain import (
    Bar,
    ClientOrderId,
    InvalidTransition,
    InvalidValue,
    OrderBookSnapshot,
    OrderFilled,
    OrderSpec,
    OrderType,
    Price,
    Quantity,
    QuoteTick,
    TimeInForce,
    TradeTick,
)
from tradeforge.execution.algos._exact import EXACT
from tradeforge.execution.algos.children import Child, ChildLedger
from tradeforge.execution.algos.market import MarketView
from tradeforge.execution.algos.parent import ChildStyle, ParentOrder
from tradeforge.execution.algos.report import (
    ExecutionReport,
    ExecutionState,
    average_price,
    slippage_bps,
)
from tradeforge.execution.algos.schedule import min_child_quantity, round_down_to_lot

__all__ = ["CancelChild", "ExecutionAlgorithm", "ReportListener", "SubmitChild"]

SubmitChild: TypeAlias = Callable[[OrderSpec], None]
CancelChild: TypeAlias = Callable[[ClientOrderId], None]
ReportListener: TypeAlias = Callable[[ExecutionReport], None]

_ZERO = Decimal(0)


class ExecutionAlgorithm(ABC):
    """Base of TWAP, VWAP, POV and iceberg (module docstring for the contract).

    ``on_report`` is called with a fresh :class:`ExecutionReport` after every fill and state
    change. ``max_rejections`` consecutive children refused outright (``on_child_done`` with
    ``rejected=True`` and nothing filled) stop the parent as FAILED.
    """

    algorithm: ClassVar[str]

    def __init__(
        self,
        parent: ParentOrder,
        *,
        clock: Clock,
        submit_child: SubmitChild,
        cancel_child: CancelChild,
        on_report: ReportListener | None = None,
        max_rejections: int = 3,
    ) -> None:
        if max_rejections < 1:
            raise InvalidValue(f"max_rejections must be at least 1, got {max_rejections}")
        self._parent = parent
        self._clock = clock
        self._submit_child = submit_child
        self._cancel_child = cancel_child
        self._on_report = on_report
        self._max_rejections = max_rejections
        self._state = ExecutionState.PENDING
        self._reason = ""
        self._ledger = ChildLedger(parent.client_order_id)
        self._market = MarketView()
        self._arrival = parent.arrival_price
        self._rejections = 0
        self._alert = f"exec-{parent.client_order_id.value}"
        self._stepping = False
        self._again = False
        self._total = parent.quantity.as_decimal()
        self._lot = parent.instrument.lot_size
        self._min_child = min_child_quantity(
            parent.instrument, parent.limit_price or parent.arrival_price
        )

    # what the node reads

    @property
    def parent(self) -> ParentOrder:
        """The parent order."""
        return self._parent

    @property
    def state(self) -> ExecutionState:
        """Where the parent is."""
        return self._state

    @property
    def min_child(self) -> Quantity:
        """The smallest child this parent sends (but an allowed odd final remainder)."""
        return self._min_child

    @property
    def filled(self) -> Quantity:
        """What the children filled."""
        return self._qty(self._ledger.filled())

    @property
    def working(self) -> Quantity:
        """What working children may still fill."""
        return self._qty(self._ledger.outstanding())

    @property
    def children(self) -> list[OrderSpec]:
        """Every child sent, in order."""
        return self._ledger.specs()

    @property
    def working_children(self) -> list[ClientOrderId]:
        """Ids of the children not yet done."""
        return [child.spec.client_order_id for child in self._ledger.working()]

    def owns(self, client_order_id: ClientOrderId) -> bool:
        """True when ``client_order_id`` is one of this parent's children."""
        return self._ledger.get(client_order_id) is not None

    def report(self) -> ExecutionReport:
        """The parent's state, progress, average price and slippage now."""
        ledger = self._ledger
        now = self._clock.timestamp_ns()
        return ExecutionReport(
            parent_order_id=self._parent.client_order_id,
            algorithm=self.algorithm,
            instrument_id=self._parent.instrument_id,
            side=self._parent.side,
            state=self._state,
            quantity=self._parent.quantity,
            filled=self.filled,
            working=self.working,
            notional=ledger.notional,
            avg_price=average_price(ledger.notional, ledger.fill_quantity),
            arrival_price=self._arrival,
            slippage_bps=slippage_bps(
                self._parent.side, ledger.notional, ledger.fill_quantity, self._arrival
            ),
            children=len(ledger),
            reason=self._reason,
            ts_event=now,
            ts_init=now,
        )

    # lifecycle

    def start(self) -> None:
        """Begin: take the arrival price if none was given, and send what is due now."""
        if self._state is not ExecutionState.PENDING:
            raise InvalidTransition(f"{self._name}: start() when {self._state}")
        if self._arrival is None:
            self._arrival = self._market.mid()
        self._state = ExecutionState.RUNNING
        self._on_start()
        self._changed()

    def pause(self) -> None:
        """Stop sending and cancel the working children; ``resume`` carries on."""
        if self._state is not ExecutionState.RUNNING:
            return
        self._state = ExecutionState.PAUSED
        self._cancel_working()
        self._publish()

    def resume(self) -> None:
        """Carry on after ``pause``, catching up with what became due meanwhile."""
        if self._state is not ExecutionState.PAUSED:
            return
        self._state = ExecutionState.RUNNING
        self._on_resume()
        self._changed()

    def cancel(self, reason: str = "canceled") -> None:
        """Stop for good and cancel the working children (their late fills still count)."""
        if not self._state.is_terminal:
            self._finish(ExecutionState.CANCELED, reason)

    # events from the node

    def on_fill(self, fill: OrderFilled) -> None:
        """A fill of a child (others' fills and repeated trade ids are ignored)."""
        if self._ledger.record_fill(fill) is None:
            return
        self._rejections = 0
        self._changed()

    def on_child_done(
        self, client_order_id: ClientOrderId, filled_qty: Quantity, *, rejected: bool = False
    ) -> None:
        """A child ended (filled, canceled, expired or ``rejected``) having filled
        ``filled_qty`` in all."""
        child = self._ledger.record_done(client_order_id, filled_qty.as_decimal())
        if child is None:
            return
        if rejected and not child.filled:
            self._rejections += 1
            if self._rejections >= self._max_rejections and not self._state.is_terminal:
                self._finish(
                    ExecutionState.FAILED,
                    f"{self._rejections} children in a row were rejected (last {client_order_id})",
                )
                return
        self._changed()

    def on_trade(self, trade: TradeTick) -> None:
        """A public trade of the parent's instrument."""
        if trade.instrument_id != self._parent.instrument_id:
            return
        self._market.update_trade(trade)
        self._seen_market()
        if self._on_trade(trade):
            self._kick()

    def on_quote(self, quote: QuoteTick) -> None:
        """A quote of the parent's instrument."""
        if quote.instrument_id == self._parent.instrument_id:
            self._market.update_quote(quote)
            self._seen_market()

    def on_book(self, book: OrderBookSnapshot) -> None:
        """A book snapshot of the parent's instrument."""
        if book.instrument_id == self._parent.instrument_id:
            self._market.update_book(book)
            self._seen_market()

    def on_bar(self, bar: Bar) -> None:
        """A closed bar of the parent's instrument."""
        if bar.instrument_id == self._parent.instrument_id:
            self._market.update_bar(bar)
            self._seen_market()

    # for subclasses

    @abstractmethod
    def _step(self) -> None:
        """Send what is due now (called only while RUNNING; at most one child per call)."""

    def _on_start(self) -> None:
        """Set timers; called once by ``start``."""
        return

    def _on_resume(self) -> None:
        """Re-arm what ``pause`` skipped."""
        return

    def _on_trade(self, trade: TradeTick) -> bool:
        """A trade arrived; return True to take a step."""
        return False

    @property
    def _name(self) -> str:
        return f"{self.algorithm} {self._parent.client_order_id}"

    @property
    def _uncommitted(self) -> Decimal:
        """Parent quantity neither filled nor working."""
        committed = EXACT.add(self._ledger.filled(), self._ledger.outstanding())
        return max(EXACT.subtract(self._total, committed), _ZERO)

    def _has_working(self) -> bool:
        return self._ledger.has_working()

    def _sized(self, want: Decimal) -> Quantity:
        """The child to send when ``want`` is due (module docstring): capped by what is
        uncommitted, rounded down to the lot, grown to take a tail that would be left below
        the minimum, 0 when below the minimum (but an allowed odd final remainder)."""
        rest = self._uncommitted
        if want >= rest:
            size = rest
        else:
            size = round_down_to_lot(want, self._lot).as_decimal()
            if _ZERO < EXACT.subtract(rest, size) < self._min_child.as_decimal():
                size = rest
        if size < self._min_child.as_decimal():
            odd_final = size == rest and size > 0 and self._parent.allow_odd_final
            if not odd_final:
                return self._qty(_ZERO)
        return self._qty(size)

    def _send(self, quantity: Quantity, price: Price | None, tif: TimeInForce) -> Child:
        """Send one child: a limit order at ``price``, or a market order without one."""
        parent = self._parent
        spec = OrderSpec(
            client_order_id=self._ledger.next_id(),
            strategy_id=parent.strategy_id,
            instrument_id=parent.instrument_id,
            side=parent.side,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=quantity,
            time_in_force=tif,
            price=price,
            tags=(f"parent={parent.client_order_id}", f"algo={self.algorithm}"),
        )
        child = self._ledger.add(spec)  # before sending: fills may come back at once
        try:
            self._submit_child(spec)
        except BaseException:
            # Never sent: keep the books straight (nothing working), then let the caller see it.
            self._ledger.record_done(spec.client_order_id, _ZERO)
            raise
        return child

    def _send_styled(
        self, quantity: Quantity, style: ChildStyle, offset_ticks: int, tif: TimeInForce
    ) -> Child | None:
        """A taking child (IOC, at the parent's limit if any) or a resting one at the touch
        (None when there is no price to rest at yet)."""
        if style is ChildStyle.MARKET:
            return self._send(quantity, self._parent.limit_price, TimeInForce.IOC)
        price = self._market.limit_price(self._parent, offset_ticks)
        if price is None:
            return None
        return self._send(quantity, price, tif)

    def _cancel_working(self) -> None:
        for child in self._ledger.working():
            # A child filled in full is only waiting for its end event: nothing to cancel.
            if not child.cancel_requested and child.open_quantity:
                child.cancel_requested = True
                self._cancel_child(child.spec.client_order_id)

    def _set_alert(self, ts_ns: int, callback: Callable[[TimeEvent], None]) -> None:
        self._cancel_alert()
        self._clock.set_time_alert(self._alert, max(ts_ns, self._clock.timestamp_ns()), callback)

    def _cancel_alert(self) -> None:
        if self._alert in self._clock.timer_names():
            self._clock.cancel_timer(self._alert)

    def _finish(self, state: ExecutionState, reason: str = "") -> None:
        self._state = state
        self._reason = reason
        self._cancel_alert()
        self._cancel_working()
        self._publish()

    def _changed(self) -> None:
        if not self._state.is_terminal and self._ledger.filled() >= self._total:
            self._finish(ExecutionState.DONE)
            return
        self._publish()
        self._kick()

    def _kick(self) -> None:
        if self._stepping:
            self._again = True
            return
        self._stepping = True
        try:
            again = True
            while again:
                self._again = False
                if self._state is ExecutionState.RUNNING:
                    self._step()
                if self._state is ExecutionState.RUNNING:
                    self._check_stranded()
                again = self._again
        finally:
            self._stepping = False

    def _check_stranded(self) -> None:
        # Nothing working and what is left can never be sent: finish rather than wait forever.
        rest = self._uncommitted
        if rest and not self._has_working() and not self._sized(rest):
            self._finish(
                ExecutionState.DONE,
                f"remaining {self._qty(rest)} is below the minimum child size {self._min_child}",
            )

    def _seen_market(self) -> None:
        if self._arrival is None and self._state is not ExecutionState.PENDING:
            self._arrival = self._market.mid()

    def _publish(self) -> None:
        if self._on_report is not None:
            self._on_report(self.report())

    def _qty(self, value: Decimal) -> Quantity:
        return Quantity.from_decimal(value, self._lot.precision)
