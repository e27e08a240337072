"""``python -m bench.gateway``: see :mod:`bench.gateway.cli`."""

from bench.gateway.cli import main

raise SystemExit(main())
