#!/usr/bin/env bash
# A rank killed in the middle of the job's work (rank_death_main: a collective reduction;
# mpi_pool_death_main: an MpiPool map): mpirun must exit non-zero within a bounded time
# (no hang) and leave no process of the job behind, whether the victim is rank 0 (the driver)
# or the last rank. Then a rank that stalls, alive, in the middle of a collective: the harness's
# time limit (run_under_mpirun.sh) must end the job and leave nothing behind either. BINARY takes
# VICTIM_RANK die|stall TOKEN and prints "survived the victim's death" if its work completes.
#   rank_death_test.sh RANKS RUNNER BINARY
set -uo pipefail
ranks=$1 runner=$2 binary=$3
limit=15
failures=0

# After mpirun has returned its ranks should be gone: give the kernel a moment to reap them,
# then count a failure for any process still carrying the job's token.
check_nothing_left() {
  local token=$1 left=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=$(pgrep -f "$token" || true)
    [[ -z "$left" ]] && return 0
    sleep 0.5
  done
  echo "FAIL: processes left behind: $left"; ps -o pid,args -p "${left//$'\n'/,}"
  failures=$((failures + 1))
}
for victim in 0 $((ranks - 1)); do
  token="procpar-rank-death-$$-$victim-$RANDOM"
  start=$(date +%s)
  MPI_TEST_TIMEOUT=$limit "$runner" "$ranks" "$binary" "$victim" die "$token" >"$TEST_TMPDIR/out" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - start))
  echo "victim rank $victim of $ranks: mpirun exited $rc after ${elapsed}s"
  if [[ $rc -eq 0 ]]; then
    echo "FAIL: the job succeeded although rank $victim was killed"; failures=$((failures + 1))
  elif [[ $rc -eq 124 || $elapsed -ge $limit ]]; then
    # mpirun itself exits 137 (128 + SIGKILL) when a rank was killed, so time tells a hang.
    echo "FAIL: the job hung and was killed after ${limit}s"; failures=$((failures + 1))
  fi
  if grep -q "survived the victim's death" "$TEST_TMPDIR/out"; then
    echo "FAIL: a rank finished the reduction without the victim"; failures=$((failures + 1))
  fi
  if ! grep -q "signal 9" "$TEST_TMPDIR/out"; then
    echo "FAIL: mpirun did not report the victim's SIGKILL:"; cat "$TEST_TMPDIR/out"
    failures=$((failures + 1))
  fi
  check_nothing_left "$token"
done

# A stalled rank: only the time limit ends the job.
stall_limit=5
token="procpar-rank-stall-$$-$RANDOM"
start=$(date +%s)
MPI_TEST_TIMEOUT=$stall_limit "$runner" "$ranks" "$binary" $((ranks - 1)) stall "$token" \
  >"$TEST_TMPDIR/out" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
echo "stalled rank $((ranks - 1)) of $ranks: exit $rc after ${elapsed}s (limit ${stall_limit}s)"
if [[ $rc -ne 124 ]]; then
  echo "FAIL: expected the time limit's exit status 124:"; cat "$TEST_TMPDIR/out"
  failures=$((failures + 1))
fi
if [[ $elapsed -gt $((stall_limit + 15)) ]]; then
  echo "FAIL: the job outlived its limit by more than 15 s"; failures=$((failures + 1))
fi
check_nothing_left "$token"
[[ $failures -eq 0 ]]
