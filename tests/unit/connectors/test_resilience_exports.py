from tradeforge.connectors import resilience


def test_public_api_is_pinned() -> None:
    assert sorted(resilience.__all__) == [
        "Backoff",
        "BreakerMetrics",
        "BreakerState",
        "CircuitBreaker",
        "DecorrelatedJitter",
        "FullJitter",
        "Monotonic",
        "RetryBudget",
        "RetryPolicy",
        "Sleep",
        "WeightLimiter",
        "is_retryable",
        "is_venue_failure",
        "is_write_operation",
        "write_operation",
    ]


def test_every_public_name_resolves() -> None:
    assert [name for name in resilience.__all__ if not hasattr(resilience, name)] == []
