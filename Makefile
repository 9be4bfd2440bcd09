# orders-sync: `make run` opens the app on its demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BUILD_STAMP := $(VENV)/.build-stamp
DIST_DIR := dist/orders-sync
DIST_APP := $(DIST_DIR)/orders-sync-gui
SMOKE_TIMEOUT ?= 300

.PHONY: run test lint format bench system-packages clean dist dist-check reliability soak

$(STAMP): pyproject.toml
	@command -v apt-get >/dev/null 2>&1 && bash .ci/system-packages || true
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

system-packages:
	bash .ci/system-packages

# RUN_ARGS passes options to the app: CI runs `make run RUN_ARGS=--smoke` offscreen.
run: $(STAMP)
	$(BIN)/python -m orders_sync_gui $(RUN_ARGS)

# Lint, format, types ([tool.mypy] in pyproject.toml), then the suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check orders_sync_gui tests bench packaging
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest --ignore=tests/reliability

# Kills, faults, races, hostile rows, secrets (tests/reliability, a few minutes); ends with
# one JSON line of figures, the kill trials' per replay mode too. More kill trials (per
# mode, "replay" and "no-replay"): RELIABILITY_TRIALS=500 make reliability.
reliability: $(STAMP)
	@figures=$$(mktemp); \
	RELIABILITY_FIGURES=$$figures $(BIN)/python -m pytest tests/reliability -m "not soak"; \
	code=$$?; $(BIN)/python tests/reliability/figures.py $$figures || code=1; \
	rm -f $$figures; exit $$code

# 10,000 orders through 5% faults on a compressed clock (not in CI).
soak: $(STAMP)
	$(BIN)/python -m pytest tests/reliability -m soak -s

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check orders_sync_gui tests bench packaging
	$(BIN)/python -m mypy

format: $(STAMP)
	$(BIN)/ruff format orders_sync_gui tests bench packaging
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/bench_detect.py

# The one-folder desktop build (build.spec), with PyInstaller from the `build` extra.
$(BUILD_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[build]'
	@touch $(BUILD_STAMP)

dist: $(BUILD_STAMP)
	$(BIN)/pyinstaller --noconfirm --clean build.spec

# Builds, then runs the built app with --smoke offscreen on a throwaway home folder, and the
# built console command: --help and a dry run against the demo data and its own sandbox.
dist-check: dist
	@home=$$(mktemp -d); \
	limit=$$(command -v timeout >/dev/null && echo "timeout $(SMOKE_TIMEOUT)"); \
	out=$$(QT_QPA_PLATFORM=offscreen ORDERS_SYNC_HOME=$$home $$limit $(DIST_APP) --smoke); \
	code=$$?; rm -rf $$home; echo "$$out"; \
	if [ $$code -ne 0 ]; then echo "dist-check: FAILED, the built app exited $$code"; exit 1; fi; \
	printf '%s\n' "$$out" | tail -n 1 | $(BIN)/python -c 'import json, sys; \
	d = json.loads(sys.stdin.read()); \
	assert d.get("customers", 0) > 0 and "orders-sync" in d.get("title", ""), d' \
	|| { echo "dist-check: FAILED, no customers/title JSON line"; exit 1; }; \
	bash packaging/dist_console_check.sh $(DIST_DIR) $(BIN)/python || exit 1; \
	echo "dist-check: OK, $(DIST_DIR) is $$(du -sm $(DIST_DIR) | cut -f1) MB"

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .hypothesis
