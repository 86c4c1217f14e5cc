"""What the analysis expects of each experiment's tidy CSV (docs/experiments.md).

The experiments are those of EXPERIMENTS in experiments/BUILD, the suite's registry, in its
order (analysis/tests/test_registry.py checks it); this adds what the analysis needs to know of
each. `params` are the experiment's own argument columns beyond the fixed ones (FIXED_COLUMNS,
as the runner writes them); together with variant, backend, n, p and chunksize they identify a
configuration, and a configuration has one row per repetition. A column listed here and missing
from the CSV is an error of the input.
"""

from dataclasses import dataclass

from experiments.python.common import FIXED_COLUMNS  # noqa: F401  (the writer's schema)

CONFIG_COLUMNS = ("variant", "backend", "n", "p", "chunksize")


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    params: tuple = ()

    @property
    def config_columns(self):
        return CONFIG_COLUMNS + self.params


EXPERIMENTS = {e.name: e for e in (
    Experiment("machine_limits", "The machine's limits"),
    Experiment("pool_overhead", "Cost of a task"),
    Experiment("gil_baseline", "The GIL and processes"),
    Experiment("map_chunksize", "Map: scheduler overhead and chunk size", ("function",)),
    Experiment("reduce_tree_vs_partitioned", "Reduction: tree vs partitioned"),
    Experiment("scan_two_pass", "Scan: two passes"),
    Experiment("scan_work", "Scan: operator calls counted"),
    Experiment("pack", "Pack", ("keep_pct",)),
    Experiment("dot_flop_mop", "Inner product"),
    Experiment("matvec_blas", "Dense matrix-vector product", ("rows", "cols")),
    Experiment("shared_array_lock", "Shared arrays: locked vs raw"),
    Experiment("mapreduce_wordcount", "MapReduce word count"),
    Experiment("mpi_collectives", "MPI: ping-pong and all-reduce", ("bytes",)),
    Experiment("mpi_primitives", "MPI: distributed primitives"),
    Experiment("mpi_pool", "MPI: MpiPool's round trip"),
)}


def experiment(name):
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"unknown experiment '{name}'; the suite has "
                       f"{', '.join(EXPERIMENTS)}") from None
