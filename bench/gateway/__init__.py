"""The API gateway benchmark (``make bench-gateway``): orders per second through REST with
authentication, pre-trade risk and the journal, on SQLite and PostgreSQL, and WebSocket fan-out
to 100 subscribers, against a real ``tradeforge up``; results in ``bench/GATEWAY_RESULTS.md``."""
