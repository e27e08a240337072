"""Message bus, topics and clocks: how services talk and how they read time.

``MessageBus`` and ``Clock`` are the ports; ``InMemoryBus`` + ``ReplayClock`` make a
deterministic backtest, ``InMemoryBus`` + ``LiveClock`` the embedded live shape.
"""

from tradeforge.bus.clock import Clock, TimeEvent, TimeEventCallback, ns_to_utc
from tradeforge.bus.codec import DEFAULT_TYPES, Codec, DecodeError
from tradeforge.bus.errors import (
    ClockError,
    DuplicateEndpoint,
    InvalidTimer,
    InvalidTopic,
    RequestTimeout,
    UnknownEndpoint,
    UnknownTimer,
)
from tradeforge.bus.live_clock import LiveClock
from tradeforge.bus.memory import InMemoryBus
from tradeforge.bus.protocol import EndpointHandler, Handler, MessageBus, Subscription
from tradeforge.bus.replay_clock import ReplayClock
from tradeforge.bus.topics import (
    MATCH_ONE,
    MATCH_REST,
    escape_token,
    join_topic,
    split_pattern,
    split_topic,
    tokens_match,
    topic_matches,
    unescape_token,
)

__all__ = [
    "DEFAULT_TYPES",
    "Codec",
    "DecodeError",
    "MATCH_ONE",
    "MATCH_REST",
    "Clock",
    "ClockError",
    "DuplicateEndpoint",
    "EndpointHandler",
    "Handler",
    "InMemoryBus",
    "InvalidTimer",
    "InvalidTopic",
    "LiveClock",
    "MessageBus",
    "ReplayClock",
    "RequestTimeout",
    "Subscription",
    "TimeEvent",
    "TimeEventCallback",
    "UnknownEndpoint",
    "UnknownTimer",
    "escape_token",
    "join_topic",
    "ns_to_utc",
    "split_pattern",
    "split_topic",
    "tokens_match",
    "topic_matches",
    "unescape_token",
]
