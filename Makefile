# The README's two commands: `make demo` and `make test`. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all bench lint gate gate-update clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch from this machine's disk; a bare `torch` would pull a multi-GB CUDA build.
	# pyproject.toml asks only for torch>=2.1 (the `torch` extra): this pin is this machine's.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mdlbench run canterbury --per-file
	$(BIN)/mdlbench compare

test: $(STAMP)
	$(BIN)/python -m pytest

test-all: $(STAMP)
	$(BIN)/python -m pytest -m ''

lint: $(STAMP)
	$(BIN)/ruff check mdlbench tests

gate: $(STAMP)
	rm -rf .gate-runs
	$(BIN)/mdlbench run --suite suites/gate.toml --results .gate-runs --quiet
	$(BIN)/mdlbench gate --baseline results/baseline.json --results .gate-runs

gate-update: $(STAMP)
	rm -rf .gate-runs
	$(BIN)/mdlbench run --suite suites/gate.toml --results .gate-runs --quiet
	$(BIN)/mdlbench gate --baseline results/baseline.json --results .gate-runs --update

bench: $(STAMP)
	$(BIN)/python -m mdlbench.bench

clean:
	rm -rf $(VENV) .gate-runs .pytest_cache build dist *.egg-info
