#!/usr/bin/env bash
# Runs a test binary under `mpirun -np RANKS` on this machine, bounded in time:
#   run_under_mpirun.sh RANKS BINARY [ARGS...]
# Exits with mpirun's status: non-zero if any rank failed, 124 if the job ran past
# MPI_TEST_TIMEOUT seconds (default 50, under the 60 s of a small test) and was killed.
set -euo pipefail
ranks=$1
binary=$2
shift 2

# As root, Open MPI refuses to start without these. Each rank would otherwise write the same
# Bazel XML report and premature-exit marker; Bazel writes its own report from the exit status.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset XML_OUTPUT_FILE TEST_PREMATURE_EXIT_FILE
# Under --config=asan, LeakSanitizer reports allocations that Open MPI's plugins keep until
# exit, from plugins already unloaded by then, so no suppression can name them: leak checking is
# off for MPI jobs (AddressSanitizer's other checks and UBSan stay on). This layer's own memory is
# RAII (RawArray, std::vector) and the pool tests check RawArray for leaks.
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# Open MPI's session directory (and PMIx's sockets) live under TMPDIR; Bazel's test TMPDIR is too
# deep for a socket path. A directory of our own, removed afterwards, whatever happened.
session=$(mktemp -d /tmp/procpar-mpi.XXXXXX)
trap 'rm -rf "$session"' EXIT
export TMPDIR=$session

# pml ob1 + btl self,vader: shared memory only, no UCX or InfiniBand probing. --oversubscribe:
# more ranks than cores. --bind-to none: tests run side by side on a shared machine.
timeout --kill-after=10 "${MPI_TEST_TIMEOUT:-50}" \
  mpirun -np "$ranks" --oversubscribe --bind-to none --mca pml ob1 --mca btl self,vader \
  "$binary" "$@"
