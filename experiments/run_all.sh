#!/usr/bin/env bash
# `bazel run //experiments:all -- [options]`: the suite's runner (runner.py) on Debian's Python,
# found in this target's runfiles. Options: runner.py --help.
set -euo pipefail
runfiles="${RUNFILES_DIR:-$0.runfiles}"
exec /usr/bin/python3 "$runfiles/procpar/experiments/runner.py" "$@"
