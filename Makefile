# The two commands: `make report` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SEED   ?= 20151
LANG_REPORT ?= sv

.PHONY: setup setup-dev report test test-fast test-notebooks lab data bench lint browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps record which extras are installed; they are remade when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

report: $(VENV)/.installed
	$(BIN)/evaluation report --data data/synthetic --out reports --lang $(LANG_REPORT) --overwrite
	# The report counts as written only when an attack on all its files finds nothing.
	$(BIN)/evaluation audit reports --data data/synthetic

# Headless Chromium for the report's browser test; installed when missing and we may (root).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium could not be installed; the browser test will say so and skip"; }

test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 tests src
	$(BIN)/python -m pytest -n 2 --dist loadfile -p no:doctest -o addopts="" --nbval-lax notebooks/

test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -m "not slow" tests src

test-notebooks: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile -p no:doctest -o addopts="" --nbval-lax notebooks/

lab: $(VENV)/.installed-dev
	$(BIN)/jupyter lab notebooks/

data: $(VENV)/.installed
	$(BIN)/evaluation simulate --seed $(SEED) --out data/synthetic --format csv

bench: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) reports .pytest_cache
