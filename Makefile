# What the README's two commands run once make is installed (`./run` and `./run test` install it
# first, on a fresh machine):
#   make        set up, build, run every experiment, regenerate the paper from that new run
#   make test   set up, build, run every test
# Finer targets: setup, build, results, paper (from results/REFERENCE_RUNS, or RUNS="a [b]"),
# bench-gate, baseline, clean.

BAZEL ?= bazel
PROFILE ?= full

.PHONY: all setup build test results paper bench-gate baseline clean

# The paper of `make` shows the run it has just made (named as the runner names runs: machine
# and date); `make paper` alone shows the committed reference runs.
all: build
	@run=$$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "experiments"); \
	    import runner; print(runner.default_run_name())') && \
	$(BAZEL) run //experiments:all -- --profile=$(PROFILE) --run-name=$$run && \
	$(MAKE) paper RUNS=$$run

setup:
	@scripts/setup.sh

build: setup
	$(BAZEL) build //...

test: setup
	scripts/test.sh

# Runs every experiment into results/raw/<run>/ (PROFILE=quick for a short run).
results: build
	$(BAZEL) run //experiments:all -- --profile=$(PROFILE)

paper:
	@scripts/setup.sh paper
	@$(MAKE) --no-print-directory -C paper $(if $(RUNS),RUNS="$(RUNS)")

# CI's regression gate: the quick profile, then its speedups against results/baseline/.
bench-gate: build
	scripts/bench_gate.sh

# Remakes results/baseline/ from a fresh quick run on this machine; review and commit it.
baseline: build
	scripts/bench_gate.sh --refresh-baseline

clean:
	$(BAZEL) clean
	rm -rf paper/build analysis/generated
