"""``python -m bench.soak``: see :mod:`bench.soak.cli`."""

from bench.soak.cli import main

raise SystemExit(main())
