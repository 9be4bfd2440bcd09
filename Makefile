# orders-sync: `make run` opens the app on its demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format bench system-packages clean

$(STAMP): pyproject.toml
	@command -v apt-get >/dev/null 2>&1 && bash .ci/system-packages || true
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

system-packages:
	bash .ci/system-packages

run: $(STAMP)
	$(BIN)/python -m orders_sync_gui

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check orders_sync_gui tests bench

format: $(STAMP)
	$(BIN)/ruff format orders_sync_gui tests bench
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/bench_detect.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .hypothesis
