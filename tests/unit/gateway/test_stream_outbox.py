"""A WebSocket subscriber that reads too slowly: once its bounded outbox is full, it is cut off
(the writer's next item is the end, so it closes the connection with 1008) rather than left
connected with the overflowing messages silently dropped (found by ``bench.gateway``'s slow
subscriber)."""

from __future__ import annotations

import asyncio
import json

from tests.kit.stubs import accepted, order_spec, submitted

from tradeforge.gateway.routers.stream import _pusher


def test_a_full_outbox_ends_the_connection_instead_of_dropping_messages() -> None:
    outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=3)
    handler = _pusher(outbox, lambda _message: True)("orders")
    spec = order_spec()
    events = [submitted(spec, ts=n) for n in range(3)]
    for event in events:
        handler("events.orders.x", event)
    assert [json.loads(outbox.get_nowait() or "")["data"]["ts_event"] for _ in range(3)] == [
        0,
        1,
        2,
    ]

    for event in events:  # full again, then one more: the reader is too far behind
        handler("events.orders.x", event)
    handler("events.orders.x", accepted(spec))
    assert outbox.get_nowait() is None  # the writer stops and closes with 1008 at once


def test_messages_are_queued_in_order_while_there_is_room() -> None:
    outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=10)
    handler = _pusher(outbox, lambda message: message.ts_event != 1)("orders")  # type: ignore[attr-defined]
    spec = order_spec()
    for n in range(3):
        handler("events.orders.x", submitted(spec, ts=n))
    messages = [json.loads(outbox.get_nowait() or "") for _ in range(outbox.qsize())]
    assert [(m["channel"], m["data"]["type"], m["data"]["ts_event"]) for m in messages] == [
        ("orders", "OrderSubmitted", 0), ("orders", "OrderSubmitted", 2)]  # fmt: skip
