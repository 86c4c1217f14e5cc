#!/usr/bin/env bash
# CI's speedup regression gate (`make bench-gate`; .ci/run runs it after the tests).
#
#   scripts/bench_gate.sh                     quick profile, then its tracked speedups against
#                                             results/baseline/ (analysis/gate.py says how)
#   scripts/bench_gate.sh --refresh-baseline  remake results/baseline/ from BASELINE_RUNS fresh
#                                             quick runs (`make baseline`; review and commit)
#
# Runs go to results/ci/runs/ and the table of every tracked speedup to results/ci/gate.txt
# (git-ignored, kept by CI). A speedup whose whole interquartile range falls below 75 % of its
# baseline is measured again (only its experiment); the gate fails if the rerun confirms it.
# A missing baseline, a failed experiment or an unreadable run fails the gate: never a silent
# pass.
set -uo pipefail
cd "$(dirname "$0")/.."
BAZEL=${BAZEL:-bazel}
PY=/usr/bin/python3
# The folders can be moved (the gate's own tests do); CI uses the defaults.
CI_DIR=${BENCH_GATE_CI_DIR:-results/ci}
RUNS_DIR=$CI_DIR/runs
BASELINE_DIR=${BENCH_GATE_BASELINE_DIR:-results/baseline}
BASELINE_REPETITIONS=${BASELINE_REPETITIONS:-5}
# Several runs: the machine's state moves whole runs (analysis/gate.py), so one run alone would
# make a baseline as lucky or unlucky as that run.
BASELINE_RUNS=${BASELINE_RUNS:-3}
stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUNS_DIR"

run_suite() {  # $1: run name; the rest: more runner options
  local name=$1; shift
  echo "== bench-gate: quick profile -> $RUNS_DIR/$name $*"
  "$BAZEL" run //experiments:all -- --profile=quick --results-dir "$(realpath "$RUNS_DIR")" \
    --run-name "$name" "$@"
}

if [[ "${1:-}" == --refresh-baseline ]]; then
  runs=()
  for i in $(seq 1 "$BASELINE_RUNS"); do
    name=baseline-$stamp-$i
    if ! run_suite "$name" --repetitions "$BASELINE_REPETITIONS"; then
      echo "bench-gate: baseline run $i failed; results/baseline/ is unchanged" >&2
      exit 1
    fi
    runs+=(--run "$RUNS_DIR/$name")
  done
  mkdir -p "$BASELINE_DIR"
  "$PY" -m analysis.gate baseline "${runs[@]}" --out "$BASELINE_DIR/speedups.csv" \
    --machine-out "$BASELINE_DIR/machine.json" || exit 1
  echo "bench-gate: review and commit $BASELINE_DIR/ (git diff $BASELINE_DIR)"
  exit 0
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--refresh-baseline]" >&2
  exit 2
fi

name=ci-$stamp
run_suite "$name"
suite_rc=$?
compare() {
  "$PY" -m analysis.gate compare --baseline "$BASELINE_DIR/speedups.csv" \
    --baseline-machine "$BASELINE_DIR/machine.json" --run "$RUNS_DIR/$name" \
    --report "$CI_DIR/gate.txt" --suspects "$CI_DIR/suspects.txt" "$@"
}
compare
gate_rc=$?
if [[ $gate_rc -eq 3 ]]; then
  only=$(paste -sd, "$CI_DIR/suspects.txt")
  if run_suite "$name-rerun" --only "$only"; then
    compare --rerun "$RUNS_DIR/$name-rerun"
    gate_rc=$?
  else
    echo "bench-gate: the rerun of $only failed" >&2
    gate_rc=1
  fi
fi
if [[ $suite_rc -ne 0 ]]; then
  echo "bench-gate: FAILED: the quick run exited $suite_rc (see $RUNS_DIR/$name/)" >&2
  exit 1
fi
case $gate_rc in
  0) echo "bench-gate: passed ($CI_DIR/gate.txt)" ;;
  1) echo "bench-gate: FAILED: a confirmed speedup regression ($CI_DIR/gate.txt)" >&2 ;;
  *) echo "bench-gate: FAILED: the comparison could not be made (exit $gate_rc)" >&2 ;;
esac
[[ $gate_rc -eq 0 ]]
