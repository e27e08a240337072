import asyncio

import msgspec
import pytest
from structlog.testing import capture_logs

from tradeforge.bus import (
    DuplicateEndpoint,
    Handler,
    InMemoryBus,
    InvalidTopic,
    MessageBus,
    Subscription,
    UnknownEndpoint,
)


class Ping(msgspec.Struct, frozen=True, kw_only=True):
    n: int


def recorder(log: list[str], label: str) -> Handler:
    def handler(topic: str, message: object) -> None:
        log.append(f"{label}:{topic}:{message}")

    return handler


def test_in_memory_bus_satisfies_the_protocol() -> None:
    bus: MessageBus = InMemoryBus()

    assert isinstance(bus, MessageBus)


def test_delivery_follows_global_subscription_order_across_patterns() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []
    bus.subscribe("data.>", recorder(log, "A"))
    bus.subscribe("data.bars.BINANCE.BTC/USDT.1m", recorder(log, "B"))
    bus.subscribe("data.*.BINANCE.>", recorder(log, "C"))
    bus.subscribe("orders.>", recorder(log, "X"))
    bus.subscribe("data.>", recorder(log, "D"))

    bus.publish("data.bars.BINANCE.BTC/USDT.1m", 1)

    topic = "data.bars.BINANCE.BTC/USDT.1m"
    assert log == [f"A:{topic}:1", f"B:{topic}:1", f"C:{topic}:1", f"D:{topic}:1"]


def test_same_handler_subscribed_twice_receives_twice() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []
    handler = recorder(log, "H")
    bus.subscribe("a.>", handler)
    bus.subscribe("a.b", handler)

    bus.publish("a.b", 0)

    assert log == ["H:a.b:0", "H:a.b:0"]


def test_publish_without_subscribers_is_counted_and_dropped() -> None:
    bus = InMemoryBus(raise_errors=True)

    bus.publish("nobody.listens", Ping(n=1))

    assert (bus.published, bus.delivered, bus.errors) == (1, 0, 0)


def test_publish_refuses_wildcards_and_bad_topics_before_delivering() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []
    bus.subscribe(">", recorder(log, "A"))

    with pytest.raises(InvalidTopic, match=r"'data\.\*'"):
        bus.publish("data.*", 1)
    with pytest.raises(InvalidTopic):
        bus.subscribe("data.>.x", recorder(log, "B"))

    assert log == []
    assert bus.published == 0


def test_nested_publishes_run_to_completion_in_fifo_order() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []

    def first(topic: str, message: object) -> None:
        log.append(f"first:{topic}")
        if topic == "t.root":
            bus.publish("t.child1", None)
            bus.publish("t.child2", None)
            log.append("first:root-done")
        if topic == "t.child1":
            bus.publish("t.grandchild", None)

    def second(topic: str, message: object) -> None:
        log.append(f"second:{topic}")

    bus.subscribe("t.>", first)
    bus.subscribe("t.*", second)

    bus.publish("t.root", None)
    log.append("returned")

    assert log == [
        "first:t.root",
        "first:root-done",
        "second:t.root",
        "first:t.child1",
        "second:t.child1",
        "first:t.child2",
        "second:t.child2",
        "first:t.grandchild",
        "second:t.grandchild",
        "returned",
    ]
    assert (bus.published, bus.delivered) == (4, 8)


def test_unsubscribe_during_dispatch_takes_effect_from_the_next_message() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []
    subs: dict[str, Subscription] = {}

    def a(topic: str, message: object) -> None:
        log.append(f"A:{message}")
        if message == 1:
            bus.unsubscribe(subs["B"])  # B comes after A: still gets message 1
            bus.unsubscribe(subs["A"])  # unsubscribing oneself
            bus.publish("t", 2)

    subs["A"] = bus.subscribe("t", a)
    subs["B"] = bus.subscribe("t", recorder(log, "B"))
    subs["C"] = bus.subscribe("t", recorder(log, "C"))

    bus.publish("t", 1)

    assert log == ["A:1", "B:t:1", "C:t:1", "C:t:2"]


def test_subscribe_during_dispatch_receives_later_messages_only() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []

    def a(topic: str, message: object) -> None:
        log.append(f"A:{message}")
        if message == 1:
            bus.subscribe("t", recorder(log, "late"))
            bus.publish("t", 2)

    bus.subscribe("t", a)

    bus.publish("t", 1)

    assert log == ["A:1", "A:2", "late:t:2"]


def test_unsubscribe_twice_is_a_no_op() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []
    sub = bus.subscribe("t", recorder(log, "A"))

    bus.unsubscribe(sub)
    bus.unsubscribe(sub)
    bus.publish("t", 1)

    assert log == []


def test_handler_errors_are_logged_counted_and_isolated_by_default() -> None:
    bus = InMemoryBus()
    log: list[str] = []

    def broken(topic: str, message: object) -> None:
        raise RuntimeError("boom")

    bus.subscribe("t.x", recorder(log, "before"))
    bus.subscribe("t.*", broken)
    bus.subscribe("t.>", recorder(log, "after"))

    with capture_logs() as logs:
        bus.publish("t.x", 1)
        bus.publish("t.x", 2)

    assert log == ["before:t.x:1", "after:t.x:1", "before:t.x:2", "after:t.x:2"]
    assert bus.errors == 2
    assert bus.delivered == 6
    assert len(logs) == 2
    assert logs[0]["topic"] == "t.x"
    assert logs[0]["handler"].endswith("broken")
    assert logs[0]["log_level"] == "error"


def test_raise_errors_raises_the_first_error_after_everything_was_delivered() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []

    def broken(topic: str, message: object) -> None:
        if topic == "t.root":
            bus.publish("t.child", None)
        raise ValueError(f"bad {topic}")

    bus.subscribe("t.*", broken)
    bus.subscribe("t.*", recorder(log, "after"))

    with capture_logs(), pytest.raises(ValueError, match=r"bad t\.root"):
        bus.publish("t.root", None)

    assert log == ["after:t.root:None", "after:t.child:None"]
    assert bus.errors == 2
    # the bus is usable afterwards, with nothing left queued
    log.clear()
    bus.unsubscribe(bus.subscribe("t.*", recorder(log, "unused")))
    with capture_logs(), pytest.raises(ValueError, match=r"bad t\.again"):
        bus.publish("t.again", None)
    assert log == ["after:t.again:None"]


def test_send_reaches_exactly_one_endpoint_and_unknown_endpoints_are_named() -> None:
    bus = InMemoryBus(raise_errors=True)
    received: list[object] = []
    bus.register_endpoint("risk.check", received.append)

    bus.send("risk.check", Ping(n=1))

    assert received == [Ping(n=1)]
    assert bus.sent == 1
    with pytest.raises(UnknownEndpoint, match=r"'risk\.chek'") as info:
        bus.send("risk.chek", Ping(n=2))
    assert info.value.endpoint == "risk.chek"
    assert isinstance(info.value, LookupError)


def test_endpoint_registration_rules() -> None:
    bus = InMemoryBus(raise_errors=True)
    bus.register_endpoint("oms.submit", lambda message: None)

    with pytest.raises(DuplicateEndpoint, match=r"'oms\.submit'"):
        bus.register_endpoint("oms.submit", lambda message: None)
    with pytest.raises(InvalidTopic):
        bus.register_endpoint("oms.*", lambda message: None)

    bus.deregister_endpoint("oms.submit")

    with pytest.raises(UnknownEndpoint, match=r"'oms\.submit'"):
        bus.deregister_endpoint("oms.submit")
    with pytest.raises(UnknownEndpoint):
        bus.request_now("oms.submit", None)


def test_sends_and_publishes_from_handlers_share_one_fifo_queue() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []

    def on_event(topic: str, message: object) -> None:
        log.append(f"sub:{message}")
        if message == "start":
            bus.send("svc", "cmd")
            bus.publish("evt", "second")

    def endpoint(message: object) -> None:
        log.append(f"endpoint:{message}")
        bus.publish("evt", "from-endpoint")

    bus.subscribe("evt", on_event)
    bus.register_endpoint("svc", endpoint)

    bus.publish("evt", "start")

    assert log == ["sub:start", "endpoint:cmd", "sub:second", "sub:from-endpoint"]


def test_a_send_queued_to_an_endpoint_removed_before_delivery_is_an_error() -> None:
    bus = InMemoryBus(raise_errors=True)

    def on_event(topic: str, message: object) -> None:
        bus.send("svc", "cmd")
        bus.deregister_endpoint("svc")

    bus.subscribe("evt", on_event)
    bus.register_endpoint("svc", lambda message: None)

    with capture_logs(), pytest.raises(UnknownEndpoint, match="'svc'"):
        bus.publish("evt", None)


def test_request_now_returns_the_reply_and_drains_what_the_handler_published() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []
    bus.subscribe("audit", recorder(log, "audit"))

    def quote(message: object) -> object:
        bus.publish("audit", message)
        log.append("replying")
        return Ping(n=42)

    bus.register_endpoint("quote", quote)

    reply = bus.request_now("quote", "BTC/USDT")

    assert reply == Ping(n=42)
    assert log == ["replying", "audit:audit:BTC/USDT"]


def test_request_now_from_inside_a_handler_replies_immediately() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []

    def double(message: object) -> object:
        assert isinstance(message, int)
        return 2 * message

    bus.register_endpoint("double", double)

    def on_event(topic: str, message: object) -> None:
        log.append(f"reply={bus.request_now('double', message)}")

    bus.subscribe("evt", on_event)

    bus.publish("evt", 21)

    assert log == ["reply=42"]


def test_request_now_propagates_the_endpoint_error() -> None:
    bus = InMemoryBus()

    def failing(message: object) -> object:
        raise KeyError("no such order")

    bus.register_endpoint("oms.query", failing)

    with pytest.raises(KeyError, match="no such order"):
        bus.request_now("oms.query", None)
    assert bus.errors == 0


def test_async_request_returns_the_reply() -> None:
    bus = InMemoryBus(raise_errors=True)
    bus.register_endpoint("echo", lambda message: ("echo", message))

    async def ask() -> object:
        return await bus.request("echo", Ping(n=7), timeout=1.0)

    assert asyncio.run(ask()) == ("echo", Ping(n=7))


def test_async_request_to_unknown_endpoint_raises() -> None:
    bus = InMemoryBus(raise_errors=True)

    with pytest.raises(UnknownEndpoint, match="'missing'"):
        asyncio.run(bus.request("missing", None))


def test_route_cache_follows_subscription_changes() -> None:
    bus = InMemoryBus(raise_errors=True)
    log: list[str] = []
    bus.publish("a.b", 0)  # caches an empty route
    first = bus.subscribe("a.*", recorder(log, "1"))

    bus.publish("a.b", 1)
    bus.subscribe("a.b", recorder(log, "2"))
    bus.publish("a.b", 2)
    bus.unsubscribe(first)
    bus.publish("a.b", 3)

    assert log == ["1:a.b:1", "1:a.b:2", "2:a.b:2", "2:a.b:3"]


def test_keyboard_interrupt_propagates_at_once_and_leaves_the_bus_usable() -> None:
    bus = InMemoryBus()
    log: list[str] = []
    interrupt = [True]

    def stopper(topic: str, message: object) -> None:
        bus.publish("queued", None)
        if interrupt[0]:
            raise KeyboardInterrupt

    bus.subscribe("go", stopper)
    bus.subscribe("queued", recorder(log, "Q"))

    with pytest.raises(KeyboardInterrupt):
        bus.publish("go", None)
    interrupt[0] = False
    bus.publish("go", None)

    assert log == ["Q:queued:None"]
