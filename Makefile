# TradeForge: `make run` starts the platform, `make test` checks everything.
# Both create .venv and install the pinned dependencies (constraints.txt) when missing or stale.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench soak install clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

DEMO_DIR ?= .tradeforge-demo

# The demo: 100,000 generated 1-minute bars (made once), an SMA crossover backtest, an HTML report.
run: $(STAMP)
	$(BIN)/tradeforge overview
	test -f $(DEMO_DIR)/bars/SIM/BTC%2FUSDT/1m/dataset.json || \
		$(BIN)/tradeforge --data-dir $(DEMO_DIR) data generate --instrument BTC/USDT.SIM --bars 100000 --seed 7
	$(BIN)/tradeforge --data-dir $(DEMO_DIR) backtest --strategy sma_cross \
		--instrument BTC/USDT.SIM --timeframe 1m --param fast=10 --param slow=30 --param size=1 \
		--cash 1000000 --fee 0.001 --report $(DEMO_DIR)/report.html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

# The long soak and rate-limit tests (issue 4: 20-client soak, CON-1, CON-4; ten minutes each,
# side by side); results in bench/SOAK_RESULTS.md.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

# Re-pin after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
