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
	# .[test]: the test tools and the extras the tests exercise: ray, codecs, hf (transformers,
	# tokenizers), and cramjam for examples/.
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

# The gate checks bits, not speed: one timed repetition per cell is enough.
gate: $(STAMP)
	rm -rf .gate-runs
	$(BIN)/mdlbench run --suite suites/gate.toml --results .gate-runs --quiet --repeat 1
	$(BIN)/mdlbench gate --baseline results/baseline.json --results .gate-runs

gate-update: $(STAMP)
	rm -rf .gate-runs
	$(BIN)/mdlbench run --suite suites/gate.toml --results .gate-runs --quiet --repeat 1
	$(BIN)/mdlbench gate --baseline results/baseline.json --results .gate-runs --update

# Benchmarks: every suite in BENCH_SUITES run by the ordinary runner (one cell at a time, timed
# as `mdlbench run --help` says), the classical suite once more to show how stable the timing is,
# the harness-overhead script and the neural loop's ratio (scripts/loop_ratio.py on LOOP_DATA);
# all of it as Markdown in BENCH_MD. Run on an idle machine.
# A smoke run: make bench BENCH_SUITES=my/suites BENCH_OUT=/tmp/b BENCH_MD=/tmp/b.md HARNESS_MB=1 \
#   LOOP_DATA=bible:head=5000
BENCH_SUITES ?= suites/bench
BENCH_OUT ?= results/bench
BENCH_MD ?= results/BENCH.md
HARNESS_MB ?= 12
LOOP_DATA ?= bible:head=100000

bench: $(STAMP)
	rm -rf $(BENCH_OUT)
	set -e; for s in $(BENCH_SUITES)/*.toml; do \
	  $(BIN)/mdlbench run --suite $$s --results $(BENCH_OUT)/$$(basename $$s .toml) -q; done
	$(BIN)/mdlbench run --suite $(BENCH_SUITES)/classical.toml --results $(BENCH_OUT)/classical-again -q
	$(BIN)/python scripts/bench_harness.py --mb $(HARNESS_MB) > $(BENCH_OUT)/harness.md
	$(BIN)/python scripts/loop_ratio.py --data $(LOOP_DATA) --repeat 7 > $(BENCH_OUT)/loop-ratio.md
	cat $(BENCH_OUT)/loop-ratio.md
	set -e; { \
	  echo "# Benchmarks"; echo; \
	  echo "Produced by \`make bench\` on $$($(BIN)/python -c 'from mdlbench.harness.env import reproducibility as r; e = r(); print(e["cpu"] + ", python " + e["python"])'), $$(date -u '+%Y-%m-%d %H:%M UTC'). Every cell was warmed up, then encoded and decoded up to 5 times (or 0.5 s); speeds are the fastest run. All figures of each cell (extras included) are in its record under $(BENCH_OUT)/."; \
	  for s in $(BENCH_SUITES)/*.toml; do \
	    echo; echo "## $$(head -1 $$s | sed 's/^# *//')"; echo; \
	    $(BIN)/mdlbench compare $(BENCH_OUT)/$$(basename $$s .toml) --view cells --format md; done; \
	  echo; echo "## mix against ZPAQ 5, Canterbury file by file (bytes)"; echo; \
	  $(BIN)/mdlbench compare $(BENCH_OUT)/statistical --view parts --format md; \
	  echo; echo "## Timing stability: the classical suite, run twice"; echo; \
	  $(BIN)/mdlbench compare $(BENCH_OUT)/classical $(BENCH_OUT)/classical-again --view spread --format md; \
	  echo; echo "## Harness overhead: a cell through mdlbench vs the codec called directly"; echo; \
	  cat $(BENCH_OUT)/harness.md; \
	  echo; echo "## The neural loop: encode against step forward + training of the same network"; echo; \
	  cat $(BENCH_OUT)/loop-ratio.md; \
	} > $(BENCH_MD).tmp
	mv $(BENCH_MD).tmp $(BENCH_MD)
	@echo "wrote $(BENCH_MD)"

clean:
	rm -rf $(VENV) .gate-runs .pytest_cache build dist *.egg-info
