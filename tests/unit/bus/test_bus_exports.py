import tradeforge.bus


def test_public_api_is_pinned() -> None:
    assert sorted(tradeforge.bus.__all__) == sorted(
        [
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
    )


def test_every_public_name_resolves() -> None:
    missing = [name for name in tradeforge.bus.__all__ if not hasattr(tradeforge.bus, name)]

    assert missing == []
