# TradeForge: `make run` starts the platform, `make test` checks everything.
# Both create .venv and install the pinned dependencies (constraints.txt) when missing or stale.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bandit audit unit web web-check web-e2e bench bench-exchange bench-gateway soak chaos install pure clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt setup.py
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The event-driven core compiled with mypyc (setup.py; the list is in src/tradeforge/_native.py),
# rebuilt whenever one of its sources changes. A stale build is never used: tradeforge falls
# back to the sources (see _native.py). Old extensions are removed first, so a module taken
# off the list cannot shadow its source.
NATIVE := src/tradeforge/_native.json
NATIVE_SOURCES := $(shell sed -n 's/^    "\(tradeforge[a-z_.]*\)",$$/\1/p' src/tradeforge/_native.py | tr . / | sed 's|^|src/|; s|$$|.py|')

$(NATIVE): $(STAMP) setup.py src/tradeforge/_native.py $(NATIVE_SOURCES)
	@echo "compiling the core with mypyc ($(words $(NATIVE_SOURCES)) modules, about a minute)"
	find src -name '*.so' -delete
	TRADEFORGE_NATIVE=1 $(BIN)/python setup.py --quiet build_ext --inplace > $(VENV)/native-build.log 2>&1 || \
		{ tail -30 $(VENV)/native-build.log; exit 1; }

install: $(STAMP) $(NATIVE)

# The pure-Python core again (the compiled extensions removed).
pure:
	find src -name '*.so' -delete
	rm -f $(NATIVE)

DEMO_DIR ?= .tradeforge-demo

HOST ?= 127.0.0.1
PORT ?= 8000

# The web UI (web/, docs/web-ui.md): dependencies from web/package-lock.json (npm ci, again
# when the lock changes), built into web/dist when it is missing or older than its sources;
# `tradeforge up` serves it at /. The browser test drives Debian's Chromium, installed when
# missing (never a browser download).
WEB := web
WEB_DEPS := $(WEB)/node_modules/.package-lock.json
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(WEB)/index.html \
	$(WEB)/package.json $(WEB)/vite.config.ts $(WEB)/tsconfig.json
CHROMIUM ?= /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(WEB_DEPS): $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

$(WEB)/dist/index.html: $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build
	touch $@

web: $(WEB)/dist/index.html

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# Type-check (tsc --noEmit), lint (eslint) and unit tests (vitest) of the UI.
web-check: $(WEB_DEPS)
	cd $(WEB) && npm run --silent typecheck && npm run --silent lint && npm run --silent test

# A user's path through the UI in headless Chromium against a real `tradeforge up`.
web-e2e: $(STAMP) $(WEB)/dist/index.html $(CHROMIUM)
	cd $(WEB) && CHROMIUM=$(CHROMIUM) npx playwright test

# The demo: 100,000 generated 1-minute bars (made once), an SMA crossover backtest with an HTML
# report, then the platform itself (`tradeforge up`: API gateway, web UI and a paper-trading
# node) until Ctrl-C. On its first start it prints the admin password, unless
# TRADEFORGE__AUTH__ADMIN_PASSWORD is set.
run: $(STAMP) $(NATIVE) $(WEB)/dist/index.html
	$(BIN)/tradeforge overview
	test -f $(DEMO_DIR)/bars/SIM/BTC%2FUSDT/1m/dataset.json || \
		$(BIN)/tradeforge --data-dir $(DEMO_DIR) data generate --instrument BTC/USDT.SIM --bars 100000 --seed 7
	$(BIN)/tradeforge --data-dir $(DEMO_DIR) backtest --strategy sma_cross \
		--instrument BTC/USDT.SIM --timeframe 1m --param fast=10 --param slow=30 --param size=1 \
		--cash 1000000 --fee 0.001 --report $(DEMO_DIR)/report.html
	$(BIN)/tradeforge --data-dir $(DEMO_DIR) up --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP) $(NATIVE)
	$(BIN)/pytest -n 2 -q

# SEC-16: no high-severity finding from bandit (3 s; in make test). `make audit` adds pip-audit of
# the pinned dependencies against PyPI's vulnerability data; it is not in make test because it
# needs that service: from a machine whose PyPI mirror serves no per-version data it cannot audit
# anything, and --strict makes that a failure rather than a silent pass.
bandit: $(STAMP)
	$(BIN)/bandit -r src -q --severity-level high

audit: bandit
	$(BIN)/pip-audit --strict --progress-spinner off -r constraints.txt

test: lint typecheck bandit unit web-check web-e2e

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) $(NATIVE)
	$(BIN)/python -m bench

# The long soak and rate-limit tests (issue 4: 20-client soak, CON-1, CON-4; ten minutes each,
# side by side); results in bench/SOAK_RESULTS.md.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

# The long versions of the reliability tests (RELIABILITY.md): 100 random kills of the node,
# 200 book gap/drop cycles, the long crash, fill and state-machine runs, stalls, network faults
# and malformed data, the gateway's rate limits and stalled readers, the long auth runs.
# About an hour.
chaos: $(STAMP)
	TF_CHAOS_RUNS=100 TF_BOOK_CYCLES=200 TF_OMS_LONG=1 TRADEFORGE_LONG_TESTS=1 TF_SOAK=1 \
		TF_SEC10_LONG=1 TF_SEC11_LONG=1 TF_SEC1_LONG=1 \
		$(BIN)/pytest -q -o timeout=3600 tests/integration/node tests/unit/engine \
		tests/integration/sim_exchange/test_ccxt_venue.py tests/integration/sim_exchange/test_stalls.py \
		tests/integration/sim_exchange/test_network_faults.py tests/unit/connectors/test_malformed_data.py \
		tests/integration/gateway tests/unit/auth

# The simulated exchange (in-process venue, REST through CCXT, WebSocket streams): it needs no
# extras (ccxt and websockets are dependencies); results in bench/EXCHANGE_RESULTS.md.
bench-exchange: $(STAMP)
	$(BIN)/python -m bench.exchange

# The API gateway of `tradeforge up`: orders per second over REST (1/4/16 clients, an access
# token and an API key) and WebSocket fan-out to 100 subscribers, on SQLite and on a throwaway
# PostgreSQL database (127.0.0.1:5432; skipped with the reason when absent), then a slow
# subscriber until the server cuts it off; rate limits off for the run. About five minutes;
# results in bench/GATEWAY_RESULTS.md.
bench-gateway: $(STAMP)
	$(BIN)/python -m bench.gateway

# Re-pin after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(WEB)/node_modules $(WEB)/dist build
	find src -name '*.so' -delete
	rm -f $(NATIVE)
