"""``python -m bench.exchange``: see :mod:`bench.exchange.cli`."""

from bench.exchange.cli import main

raise SystemExit(main())
