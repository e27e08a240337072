"""Trading-node benchmarks (``python -m bench.node``)."""
