"""The backtest speed benchmark behind ``make bench`` (run as ``python -m bench``).

TradeForge's SMA crossover over seeded 1-minute bars, against the same strategy in
backtesting.py and backtrader, with trade-by-trade comparison and a peak-memory check of the
streamed catalog path. Results go to ``bench/RESULTS.md``; see ``docs/benchmarks.md``.

Kept import-free on purpose: ``python -m bench.child`` (the memory probe) must start with
nothing but TradeForge loaded.
"""
