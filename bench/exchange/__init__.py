"""The simulated exchange benchmark (``make bench-exchange``): orders per second through the
in-process ``SimulatedVenue`` and through ``tradeforge exchange serve`` over REST from CCXT,
and market-data messages per second from the server to one WebSocket consumer. Results in
``bench/EXCHANGE_RESULTS.md``."""
