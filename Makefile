# The project's two commands:
#   make        set up, build, run every experiment, regenerate the paper
#   make test   set up, build, run every test
# Finer targets: setup, build, results, paper, bench-gate, baseline, clean.

BAZEL ?= bazel
PROFILE ?= full

.PHONY: all setup build test results paper bench-gate baseline clean

all: results paper

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
	$(MAKE) -C paper

# CI's regression gate: the quick profile, then its speedups against results/baseline/.
bench-gate: build
	scripts/bench_gate.sh

# Remakes results/baseline/ from a fresh quick run on this machine; review and commit it.
baseline: build
	scripts/bench_gate.sh --refresh-baseline

clean:
	$(BAZEL) clean
	rm -rf paper/build analysis/generated
