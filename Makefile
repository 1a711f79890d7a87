# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test lint venv install install-test install-bench headless-deps clean bench bench-quick

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changed (the install is editable).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

venv: $(BIN)/python

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Open the window on the built-in data set and the bundled demo model.
run: install
	$(BIN)/vaeviewer

# Xvfb and the X/GL libraries Qt's xcb plugin and VTK load, on a machine with no display.
headless-deps:
	@tools/install_headless_deps.sh

# The layer rules (import-linter contracts) and the code style (ruff), both configured in pyproject.toml.
lint: install-test
	$(BIN)/lint-imports
	$(BIN)/ruff check vaeviewer tests benchmarks

test: install-test headless-deps lint
	@if [ -n "$$DISPLAY" ]; then \
		$(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
		xvfb-run --auto-servernum --server-args="-screen 0 1920x1080x24" $(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(VENV)/.installed $@

install-bench: $(VENV)/.installed-bench

# The benchmark suite (results go to BENCHMARKS.md, about 10 minutes); bench-quick is a smoke run of
# every probe in under two minutes that writes to a temporary file. `make test` runs neither.
# Window figures run under xvfb-run on a machine without a display (`make headless-deps`).
bench: install-bench headless-deps
	$(BIN)/python -m benchmarks

bench-quick: install-bench headless-deps
	$(BIN)/python -m benchmarks --quick --out $${TMPDIR:-/tmp}/vaeviewer-bench-quick.md
