#!/usr/bin/env bash
# Runs every test of the project and ends with one line "N passed, N failed" that counts
# test targets (each Bazel test target once per configuration, each Python test module once).
#   1. bazel test //...                    optimised build, every C++ test
#   2. bazel test --config=asan //...      AddressSanitizer + UBSan on every C++ test
#   3. bazel test --config=tsan <threads>  ThreadSanitizer on the tests tagged "tsan"
#   4. the Python tests of the analysis and of the experiment runner (Debian's /usr/bin/python3):
#      analysis/tests/test_*.py, experiments/tests/test_*.py
set -uo pipefail
cd "$(dirname "$0")/.."
BAZEL=${BAZEL:-bazel}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

passed=0
failed=0

count_bazel() {  # $1: label for the configuration; reads bazel's summary from $log
  local p f
  p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
  f=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "$log")
  echo "== $1: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
}

run_bazel() {  # $1: label; rest: bazel test arguments
  local label=$1; shift
  echo "== bazel test $*"
  "$BAZEL" test "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  count_bazel "$label"
  # 3 = some tests failed (counted above); 4 = no test targets matched. Anything else is a
  # build or infrastructure error, which must not pass silently.
  if [[ $rc -ne 0 && $rc -ne 3 && $rc -ne 4 ]]; then
    echo "== $label: bazel exited $rc" >&2
    failed=$((failed + 1))
  fi
}

run_bazel opt //...
run_bazel asan --config=asan --build_tests_only //...
run_bazel tsan --config=tsan --build_tests_only --test_tag_filters=tsan //...

echo "== Python tests"
shopt -s nullglob
for t in analysis/tests/test_*.py experiments/tests/test_*.py; do
  if /usr/bin/python3 -m unittest -q "$t" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "PASSED $t"
  else
    failed=$((failed + 1)); echo "FAILED $t"; cat "$log"
  fi
done
shopt -u nullglob

echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
