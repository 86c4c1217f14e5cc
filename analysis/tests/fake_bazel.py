"""A stand-in for `bazel run //experiments:all -- ...` in the gate's tests: writes a synthetic
run where the runner would, so scripts/bench_gate.sh can be tested without building anything.

Environment: FAKE_SLOWDOWN and FAKE_RERUN_SLOWDOWN (JSON lists of [experiment, variant, backend,
factor]) slow down configurations of the first run and of reruns (a run named *-rerun);
FAKE_NOISE (default 0.1) is the timings' log-normal sigma; FAKE_FAIL=1 makes the run fail after
writing it, as the runner does when an experiment failed.
"""

import json
import os
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from analysis.tests.synthetic import write_run  # noqa: E402


def main(argv):
    if argv[:2] != ["run", "//experiments:all"] or "--" not in argv:
        print(f"fake bazel: unexpected command {argv}", file=sys.stderr)
        return 2
    options = argv[argv.index("--") + 1:]
    values = {}
    for i, option in enumerate(options):
        if option.startswith("--") and i + 1 < len(options) and not options[i + 1].startswith("--"):
            values[option] = options[i + 1]
        elif option.startswith("--") and "=" in option:
            key, value = option.split("=", 1)
            values[key] = value
    name = values["--run-name"]
    rerun = name.endswith("-rerun")
    slow = json.loads(os.environ.get("FAKE_RERUN_SLOWDOWN" if rerun else "FAKE_SLOWDOWN", "[]"))
    only = values.get("--only")
    write_run(os.path.join(values["--results-dir"], name), profile=values["--profile"],
              seed=zlib.crc32(name.encode()), noise=float(os.environ.get("FAKE_NOISE", "0.1")),
              slowdown={(e, v, b): f for e, v, b, f in slow},
              experiments=only.split(",") if only else None)
    return 1 if os.environ.get("FAKE_FAIL") == "1" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
