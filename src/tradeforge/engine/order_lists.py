"""Which orders the node sends to a venue as one native OCO list, and the list it sends.

A bracket's two exits (or an ``ctx.orders.oco`` pair) are linked OCO. On a spot account two
separate sells each lock the base currency they would sell, so the second is refused unless the
account holds the position twice; a venue's native OCO locks once for the pair and expires one
leg when the other fills. So when the venue client can (``capabilities.oco_orders`` and a
``submit_oco`` method), two orders released together that are each other's only OCO sibling go
as one list. Anything else (a group of three, a venue without OCO) is linked by the node
(``ContingencyManager``).

The venue gets the pair as a plain OCO list: no parent (the node has already seen the entry
fill), each leg naming the other, under the group's list id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from tradeforge.domain import ClientOrderId, ContingencyType, Order, OrderList, OrderSpec
from tradeforge.execution import OcoVenueClient, VenueClient

__all__ = ["native_oco", "split_native_pairs", "venue_oco_list"]


def native_oco(client: VenueClient | None) -> bool:
    """True when ``client`` takes OCO pairs as native order lists."""
    return (
        client is not None and client.capabilities.oco_orders and isinstance(client, OcoVenueClient)
    )


def split_native_pairs(
    orders: Sequence[Order], members: Mapping[ClientOrderId, Mapping[ClientOrderId, OrderSpec]]
) -> tuple[list[tuple[Order, Order]], list[Order]]:
    """Pairs among ``orders`` that can go as one OCO list, and the rest (in their order).

    ``members[cid]`` is the group of ``cid`` as the node links it now (the contingency
    manager's view: a resized child under its new id): a pair is two orders of one list, each
    linked OCO to the other and to nothing else, same instrument, side and quantity.
    """
    by_id = {o.client_order_id: o for o in orders}
    paired: set[ClientOrderId] = set()
    pairs: list[tuple[Order, Order]] = []
    for order in orders:
        cid = order.client_order_id
        if cid in paired or order.spec.contingency_type is not ContingencyType.OCO:
            continue
        group = members.get(cid, {})
        links = _links(group, order.spec)
        if len(links) != 1 or links[0] not in by_id or links[0] in paired:
            continue
        other = by_id[links[0]]
        if _links(group, other.spec) != (cid,) or not _alike(order.spec, other.spec):
            continue
        paired.update((cid, other.client_order_id))
        pairs.append((order, other))
    return pairs, [o for o in orders if o.client_order_id not in paired]


def _links(group: Mapping[ClientOrderId, OrderSpec], spec: OrderSpec) -> tuple[ClientOrderId, ...]:
    current = group.get(spec.client_order_id, spec)
    return current.linked_order_ids


def _alike(a: OrderSpec, b: OrderSpec) -> bool:
    return (
        a.contingency_type is ContingencyType.OCO
        and b.contingency_type is ContingencyType.OCO
        and a.order_list_id is not None
        and a.order_list_id == b.order_list_id
        and a.instrument_id == b.instrument_id
        and a.side is b.side
        and a.quantity == b.quantity
    )


def venue_oco_list(pair: tuple[Order, Order]) -> OrderList:
    """The list the venue gets for ``pair``: each leg linked to the other, no parent."""
    first, second = pair
    list_id = first.spec.order_list_id
    assert list_id is not None  # checked by split_native_pairs

    def leg(order: Order, other: Order) -> OrderSpec:
        return msgspec.structs.replace(
            order.spec, contingency_type=ContingencyType.OCO, order_list_id=list_id,
            linked_order_ids=(other.client_order_id,), parent_order_id=None,
        )  # fmt: skip

    return OrderList(order_list_id=list_id, orders=(leg(first, second), leg(second, first)))
