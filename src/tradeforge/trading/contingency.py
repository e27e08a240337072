"""Contingent order groups managed locally, for venues that cannot link orders themselves.

A bracket is an OTO entry whose children (a stop-loss and a take-profit, an OCO pair) wait in
the node until the entry has filled; an OCO group's members cancel each other. The manager is
pure: it is told the groups and the order events, and answers with what to send or cancel.

Rules (written down because venues differ):
- OTO: the children are released when the parent is FILLED. If the parent ends (canceled,
  expired, rejected) after a partial fill, the children are released for the filled quantity
  (rounded down to the lot); with no fill they are dropped and never sent.
- OCO: the first fill of a member cancels every other open member; a member that ends without
  a fill (canceled, expired, rejected) cancels the rest of the group as well.
- A pair sent to the venue as one native OCO list (``mark_native``) is linked by the venue: the
  manager asks for no cancels among its members (the venue expires the other leg itself).

After a restart (``restore``) the groups are rebuilt from the journaled orders: every member's
spec carries its group (``order_list_id``), its links and its parent; a child still
``INITIALIZED`` (and not held by the order emulator) is held while its parent is open and, when
the parent filled or ended while the node was down, released by the rules above; a child
already resized (its ``resized_id`` journaled) is sent as it is, never resized twice. Which
pairs went as native lists is the one thing the journal's orders do not say: ``dump`` gives it
to the journal's state before their submit is journaled.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from tradeforge.domain import (
    ClientOrderId,
    ContingencyType,
    Instrument,
    InstrumentId,
    Order,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderList,
    OrderListId,
    OrderRejected,
    OrderSpec,
    OrderStatus,
)

__all__ = ["STATE_KEY", "Action", "ContingencyManager", "resized_id"]

STATE_KEY = "contingency"
_ENDS = (OrderCanceled, OrderExpired, OrderRejected, OrderDenied)


def resized_id(old: ClientOrderId) -> ClientOrderId:
    """The id a held child takes when it is resized to its parent's partial fill."""
    return ClientOrderId(f"{old.value[:33]}-p")


@dataclass(frozen=True)
class Action:
    """What the node must do: send ``spec`` (in place of the held ``replaces``, when a child is
    resized to a partial fill), or cancel ``cancel``."""

    spec: OrderSpec | None = None
    cancel: ClientOrderId | None = None
    replaces: ClientOrderId | None = None


@dataclass
class _Group:
    members: dict[ClientOrderId, OrderSpec]
    held: dict[ClientOrderId, list[OrderSpec]] = field(default_factory=dict)  # parent -> kids
    filled: dict[ClientOrderId, Decimal] = field(default_factory=dict)
    done: set[ClientOrderId] = field(default_factory=set)


class ContingencyManager:
    """Holds OTO children and links OCO members (see the module docstring)."""

    def __init__(self, instrument: Callable[[InstrumentId], Instrument | None]) -> None:
        self._instrument = instrument
        self._group_of: dict[ClientOrderId, _Group] = {}
        self._native: set[ClientOrderId] = set()

    def register(self, order_list: OrderList) -> list[OrderSpec]:
        """Take a group; returns the orders to send now (the others wait for their parent)."""
        group = _Group(members={s.client_order_id: s for s in order_list.orders})
        now: list[OrderSpec] = []
        for spec in order_list.orders:
            self._group_of[spec.client_order_id] = group
            if spec.parent_order_id is not None and spec.parent_order_id in group.members:
                group.held.setdefault(spec.parent_order_id, []).append(spec)
            else:
                now.append(spec)
        return now

    def mark_native(self, client_order_ids: tuple[ClientOrderId, ...]) -> None:
        """These OCO members went to the venue as one native list: it links them itself."""
        self._native.update(client_order_ids)

    def is_native(self, client_order_id: ClientOrderId) -> bool:
        """True for a member of a native OCO list (see ``mark_native``)."""
        return client_order_id in self._native

    def dump(self) -> dict[str, Any]:
        """What the journal's orders do not say, for the journal's state: the members of native
        OCO lists still linked."""
        live = [
            cid.value
            for cid in self._native
            if (group := self._group_of.get(cid)) is not None and cid not in group.done
        ]
        return {"native": sorted(live)}

    def restore(
        self,
        orders: Iterable[Order],
        *,
        armed: Container[ClientOrderId] = (),
        saved: dict[str, Any] | None = None,
    ) -> list[Action]:
        """Rebuild the groups still open from the journaled ``orders`` (after a restart);
        returns what to send now: the children whose parent filled or ended meanwhile.
        ``armed`` are the orders the order emulator holds (released children), ``saved`` the
        state ``dump`` gave."""
        native = {ClientOrderId(v) for v in (saved or {}).get("native", [])}
        lists: dict[OrderListId, list[Order]] = {}
        for order in orders:
            if order.spec.order_list_id is not None:
                lists.setdefault(order.spec.order_list_id, []).append(order)
        actions: list[Action] = []
        for members in lists.values():
            if not all(order.is_closed for order in members):
                actions += self._restore_group(members, armed, native)
        return actions

    def _restore_group(
        self,
        orders: list[Order],
        armed: Container[ClientOrderId],
        native: set[ClientOrderId],
    ) -> list[Action]:
        by_id = {order.client_order_id: order for order in orders}
        replaced = {cid for cid in by_id if resized_id(cid) in by_id}
        resized = {resized_id(cid) for cid in replaced}
        group = _Group(members={})
        for order in orders:
            cid, spec = order.client_order_id, order.spec
            links = tuple(resized_id(x) if x in replaced else x for x in spec.linked_order_ids)
            if links != spec.linked_order_ids:
                spec = msgspec.structs.replace(spec, linked_order_ids=links)
            group.members[cid] = spec
            self._group_of[cid] = group
            if not order.filled_qty.is_zero():
                group.filled[cid] = order.filled_qty.as_decimal()
            if order.is_closed or cid in replaced:
                group.done.add(cid)
            if cid in native and order.status is not OrderStatus.INITIALIZED:
                self._native.add(cid)  # sent as a native list: the venue links it
        actions: list[Action] = []
        for order in orders:
            cid, parent = order.client_order_id, order.spec.parent_order_id
            if (
                parent is None
                or parent not in by_id
                or order.status is not OrderStatus.INITIALIZED
                or cid in armed
                or cid in replaced
            ):
                continue
            if cid in resized:  # resized before the crash, never sent: sent as it is
                actions.append(Action(spec=group.members[cid]))
            else:
                group.held.setdefault(parent, []).append(group.members[cid])
        for parent in list(group.held):
            state = by_id[parent]
            if state.status is OrderStatus.FILLED:
                actions += self._release(group, parent, None)
            elif state.is_closed:
                actions += self._release(group, parent, group.filled.get(parent, Decimal(0)))
        return actions

    def group_of(self, client_order_id: ClientOrderId) -> dict[ClientOrderId, OrderSpec]:
        """The members of the order's group as the manager links them now (resized children
        under their new ids), or an empty dict for an order of no group."""
        group = self._group_of.get(client_order_id)
        return dict(group.members) if group is not None else {}

    def held(self, client_order_id: ClientOrderId) -> bool:
        """True for an OTO child still waiting for its parent."""
        group = self._group_of.get(client_order_id)
        return group is not None and self._is_held(group, client_order_id)

    def on_event(self, event: OrderEvent) -> list[Action]:
        """What ``event`` means for its group."""
        cid = event.client_order_id
        group = self._group_of.get(cid)
        if group is None or cid in group.done:
            return []
        spec = group.members[cid]
        actions: list[Action] = []
        if isinstance(event, OrderFilled):
            filled = group.filled.get(cid, Decimal(0)) + event.last_qty.as_decimal()
            group.filled[cid] = filled
            if spec.contingency_type is ContingencyType.OCO:
                actions += self._cancel_siblings(group, spec)
            if filled >= spec.quantity.as_decimal():
                group.done.add(cid)
                actions += self._release(group, cid, None)
        elif isinstance(event, _ENDS):
            group.done.add(cid)
            filled = group.filled.get(cid, Decimal(0))
            actions += self._release(group, cid, filled if filled > 0 else Decimal(0))
            if spec.contingency_type is ContingencyType.OCO:
                actions += self._cancel_siblings(group, spec)
        return actions

    def _cancel_siblings(self, group: _Group, spec: OrderSpec) -> list[Action]:
        out: list[Action] = []
        if spec.client_order_id in self._native:
            group.done.update(spec.linked_order_ids)  # the venue ends them
            return out
        for other in spec.linked_order_ids:
            if (
                other in group.members
                and other not in group.done
                and not self._is_held(group, other)
            ):
                group.done.add(other)
                out.append(Action(cancel=other))
        return out

    @staticmethod
    def _is_held(group: _Group, cid: ClientOrderId) -> bool:
        return any(cid == kid.client_order_id for kids in group.held.values() for kid in kids)

    def _release(
        self, group: _Group, parent: ClientOrderId, partial: Decimal | None
    ) -> list[Action]:
        kids = group.held.pop(parent, [])
        if partial is None:
            return [Action(spec=kid) for kid in kids]
        if partial == 0:
            group.done.update(k.client_order_id for k in kids)
            return []
        out = []
        for kid in kids:
            inst = self._instrument(kid.instrument_id)
            lot = inst.lot_size.as_decimal() if inst is not None else Decimal(0)
            qty = (partial // lot) * lot if lot else partial
            if qty <= 0:
                group.done.add(kid.client_order_id)
                continue
            quantity = inst.make_qty(qty) if inst is not None else kid.quantity
            resized = self._rename(group, kid, quantity)
            out.append(Action(spec=resized, replaces=kid.client_order_id))
        # Each with its links as they are once all are resized (the specs are journaled).
        return [
            Action(spec=group.members[a.spec.client_order_id], replaces=a.replaces)
            for a in out
            if a.spec is not None
        ]

    def _rename(self, group: _Group, kid: OrderSpec, quantity: object) -> OrderSpec:
        """A held child resized: a new order (new id) that takes the old one's place in the
        group, so its siblings still cancel it and it cancels them."""
        old = kid.client_order_id
        new = resized_id(old)
        current = group.members.get(old, kid)  # its links follow siblings resized before it
        resized = msgspec.structs.replace(current, client_order_id=new, quantity=quantity)
        group.done.add(old)
        group.members[new] = resized
        self._group_of[new] = group
        for cid, spec in list(group.members.items()):
            if old in spec.linked_order_ids:
                links = tuple(new if x == old else x for x in spec.linked_order_ids)
                group.members[cid] = msgspec.structs.replace(spec, linked_order_ids=links)
        return resized
