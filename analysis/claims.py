"""Every claim of the seed document (process-based-parallelism.md), listed once.

Each claim has the seed's words, the rule that decides it from one run's data, the experiments
the rule reads, and the figure that shows it. `verdicts(run)` returns one Verdict per system:
on the seed's own (CPython's multiprocessing) and on ours (the C++ pools): confirmed, refuted,
confirmed only under a condition, inconclusive (the intervals cannot decide), or, for the few
claims no measurement can decide, not measured (with where they are dealt with instead).

The rules live by the seed's sections in claims_processes.py (GIL, pool, map, reduction) and
claims_bulk.py (scan, pack, inner product, matvec, shared arrays, MapReduce); their thresholds
and bands are named in claim_support.py, so the paper can quote them.
"""

from analysis import claims_bulk as bulk
from analysis import grain
from analysis import claims_processes as proc
from analysis.claim_support import (ABOUT_HALF, COARSER_GRAIN, COSTLIER, EXPLAINS,
                                    NO_GAIN, SIGNIFICANT, TOLERANCE, USEFUL_EFFICIENCY,
                                    WITHIN_BEST, WORK_FACTOR_TWO, Claim)
# The rules' own definitions that the figures draw with (analysis/figures/ imports them here).
from analysis.claim_support import serial_backend  # noqa: F401
from analysis.claims_bulk import scan_vs_reduce as _scan_vs_reduce  # noqa: F401
from analysis.claims_bulk import split_access as _split_access  # noqa: F401

# How every rule reads an interval (the paper's method section says the same).
INTERVALS = (f"95\\,\\% bootstrap interval of the median ratio, against a band of "
             f"{int(TOLERANCE * 100)}\\,\\% either side of the threshold")

CLAIMS = (  # in the order of the paper's sections
    Claim("gil_threads", "gil", "Threads under a GIL gain nothing from more cores",
          "This GIL prevents multicore performance increases using one python interpreter.",
          f"Threads that must hold one global lock (CPython's threads; on ours, C++ threads "
          f"under a model of the GIL) have a speedup below {NO_GAIN} at every p $\\geq$ 2 "
          f"({INTERVALS}).",
          ("gil_baseline",), "gil_baseline", proc.gil_threads),
    Claim("gil_processes", "gil", "Processes, each with its own GIL, run in parallel",
          "Multiprocessing [...] uses multiple operating system (OS) level processes to run "
          "multiple interpreters that can now work in parallel. Each process has its own GIL "
          "which eliminates contention.",
          f"At p = cores and the largest n, processes beat the locked threads (their speedup "
          f"ratio above 1 beyond the band) with an efficiency above {USEFUL_EFFICIENCY} "
          f"({INTERVALS}).",
          ("gil_baseline",), "gil_baseline", proc.gil_processes),
    Claim("coarse_grain", "pool", "Process channels force a coarser grain than shared memory",
          "These communication channels mean that the parallelism that can be used must be a "
          "coarser grain than in OpenMP shared memory programming or CILK+ programing.",
          f"For each bulk primitive (reduce, dot, scan, pack), the $n_\\mathrm{{eff}}$ of the "
          f"system's process pool (the smallest n at which its speedup over the same system's "
          f"serial code reaches p/2, at p = cores; Section~\\ref{{sec:grain}}) is more than "
          f"{COARSER_GRAIN:g} times OpenMP's (over C++ serial code): the ratio's 95\\,\\% "
          f"bootstrap interval (the repetitions resampled at every n; a grain outside the sweep "
          f"counts as the bound it gives) above a band of {int(TOLERANCE * 100)}\\,\\% "
          f"either side of {COARSER_GRAIN:g}.",
          grain.EXPERIMENTS, "grain", proc.coarse_grain),
    Claim("async_not_ready", "pool", "Reading an uncomputed result raises an error",
          "An exception is raised if a user attempts to retrieve a result that has not yet "
          "been computed.",
          "A property of the interface, not of timings.", ("pool_overhead",), "pool_overhead",
          None,
          "No timing decides this. In C++, AsyncResult::value() throws NotReady for a result "
          "not yet computed, and the pool's unit tests check it; in CPython, "
          "AsyncResult.get() waits (it raises multiprocessing.TimeoutError only when given a "
          "timeout) and successful() raises ValueError before the result is ready."),
    Claim("log2n_chunk", "map", "A chunk of $\\log_2 N$ items is a good chunk size",
          "I seem to have found that log(N) provides a good chunk size.",
          f"At p = cores, for each map function, pool and n, chunksize $\\log_2 n$ takes less "
          f"than {1 + WITHIN_BEST:g} times as long as the best chunksize of the sweep "
          f"({INTERVALS}).",
          ("map_chunksize",), "map_chunksize", proc.log2n_chunk),
    Claim("tree_loses", "reduce", "The reduction tree loses to serial and partitioned reduce",
          "The PRAM style algorithm using a reduction tree is significantly out performed by "
          "both serial reduction and a partitioned reduction that uses one part for each "
          "processor.",
          f"At every n and p measured, on every pool, the tree reduce is slower than both the "
          f"serial and the partitioned reduce: both time ratios above 1 beyond the band "
          f"({INTERVALS}).",
          ("reduce_tree_vs_partitioned",), "reduce_tree_vs_partitioned", proc.tree_loses),
    Claim("tree_overhead", "reduce", "The tree's cost is task (process, call) overhead",
          "I believe this has to do with the overhead associated with forking OS level "
          "processes and function call overhead.",
          f"The tree's time per pair on the system's process pool at p = cores is within a "
          f"factor {EXPLAINS.high:g} of one map task's cost at chunksize 1 (experiment "
          f"pool\\_overhead): the ratio's interval inside [{EXPLAINS.low:g}, "
          f"{EXPLAINS.high:g}].",
          ("reduce_tree_vs_partitioned", "pool_overhead"), "reduce_tree_vs_partitioned",
          proc.tree_is_task_overhead),
    Claim("partitioned_beats_serial", "reduce",
          "The partitioned reduce is significantly faster than serial",
          "This provides a significant speedup over both the serial version and the reduction "
          "tree versions.",
          f"At p = cores, the partitioned reduce's speedup over the serial reduce is above "
          f"{SIGNIFICANT}, on each pool and at each n ({INTERVALS}).",
          ("reduce_tree_vs_partitioned",), "reduce_tree_vs_partitioned",
          proc.partitioned_beats_serial),
    Claim("speedup_grows_with_n", "reduce", "The partitioned reduce's speedup grows with $n$",
          "The flat approach [...] performs better as the size of the partitions increases. "
          "This means that for a fixed $p$ more work elements means better speedup.",
          f"For each pool and 2 $\\leq$ p $\\leq$ cores, the partitioned reduce's speedup never "
          f"falls from one size n to the next larger one: the ratio of the two speedups is not "
          f"below 1 beyond the band ({INTERVALS}).",
          ("reduce_tree_vs_partitioned",), "reduce_tree_vs_partitioned",
          proc.speedup_grows_with_n),
    Claim("scan_half", "scan", "The scan scales about half as well as the reduce",
          "As expected the scalability of this scan is approximately a factor of two worse "
          "than the partitioned reducer.",
          f"At p = cores, (two-pass scan speedup) / (partitioned reduce speedup), each over its "
          f"own serial code on the same data, lies inside [{ABOUT_HALF.low}, "
          f"{ABOUT_HALF.high}] (95\\,\\% bootstrap interval).",
          ("scan_two_pass",), "scan_two_pass", bulk.scan_half),
    Claim("scan_double_work", "scan", "The two-pass scan does twice the serial work",
          "This second pass means that the algorithm has a factor of 2 more work than the "
          "serial algorithm which means that scalability is decreased by that same factor of 2.",
          f"Where the second pass runs (p $\\geq$ 2), the two-pass scan's operator calls, "
          f"counted (experiment scan\\_work), are {WORK_FACTOR_TWO.low} to "
          f"{WORK_FACTOR_TWO.high} times the serial scan's, at each p and n.",
          ("scan_work",), "scan_work", bulk.scan_double_work),
    Claim("pack_saves_pass", "pack", "Pack saves the scan's second pass",
          "Since we are using a partitioned approach we do not need the indices to be "
          "propagated this saves the second pass over the data that we make in the general "
          "scan.",
          f"At p = cores and the largest n both experiments measured, pack's speedup over a "
          f"serial pack exceeds the two-pass scan's speedup over a serial scan, on each pool "
          f"and keep ratio: their ratio above 1 beyond the band ({INTERVALS}).",
          ("pack", "scan_two_pass"), "pack", bulk.pack_saves_pass),
    Claim("dot_flop_mop", "dot", "The inner product scales better than the reduce",
          "This problem is interesting because we increase the flop to mop ratio. This should "
          "be helpful for achieving scalability.",
          f"At p = cores, on each pool and at each n, the inner product's speedup exceeds the "
          f"reduction's: their ratio above 1 beyond the band ({INTERVALS}).",
          ("dot_flop_mop",), "dot_flop_mop", bulk.dot_scales_better),
    Claim("blas_wins", "matvec", "Serial BLAS beats every parallel matrix-vector product",
          "The clear winner is serial numpy. There is just no way to beat optimized C BLAS for "
          "dense numerical linear algebra.",
          f"For every matrix shape and 2 $\\leq$ p $\\leq$ cores, every parallel matvec takes "
          f"at least as long as serial BLAS (OpenBLAS dgemv; for CPython, numpy on one BLAS "
          f"thread): the time ratio not below 1 beyond the band ({INTERVALS}).",
          ("matvec_blas",), "matvec_blas", bulk.blas_wins),
    Claim("wordcount_scales", "mapreduce", "MapReduce word count scales",
          "Use this to count words in some big document collection.",
          f"The MapReduce word count scales: at p = cores its efficiency (speedup / p over the "
          f"serial count of the same corpus) is above {USEFUL_EFFICIENCY} on each pool and "
          f"corpus size ({INTERVALS}).",
          ("mapreduce_wordcount",), "mapreduce_wordcount", bulk.wordcount_scales),
    Claim("deadlock_free", "mapreduce", "MapReduce is deadlock free",
          "One of the benefits of Map Reduce programming is that it is deadlock free. Because "
          "processes do not explicitly wait on other processes they cannot create a cycle of "
          "waits that cannot be resolved.",
          "A property of the design, not of timings.", ("mapreduce_wordcount",),
          "mapreduce_wordcount", None,
          "No timing decides this. The driver waits only for whole map or reduce phases "
          "that the caller submits, and a task never waits for another task, so there is no "
          "cycle of waits (primitives/mapreduce.h); the library's tests run an iterative job "
          "(k-means) to convergence on every pool. A worker that dies fails its task with an "
          "error instead of hanging the job (the process pool's contract, docs/design.md)."),
    Claim("locked_costs_more", "shared", "Locked Array writes cost more than RawArray writes",
          "Compare the performance of a multiprocessing.Array and multiprocessing.RawArray.",
          f"An increment under the array's lock costs more than an unlocked one: the ratio "
          f"above {COSTLIER}, on every pool, at every p, for disjoint, interleaved and shared "
          f"elements ({INTERVALS}).",
          ("shared_array_lock",), "shared_array_lock", bulk.locked_costs_more),
    Claim("writes_atomic", "shared", "The Array's lock makes writes atomic",
          "Arrays have a lock that makes writes atomic.",
          "With p $\\geq$ 2 processes (or C++ threads) updating the same elements, updates "
          "written with the array's lock held lose nothing, where the same updates without "
          "the lock lose some (counted, not timed). Where nothing is lost without the lock "
          "the data cannot show what the lock does: undecided.",
          ("shared_array_lock",), "shared_array_lock", bulk.writes_atomic),
)

CLAIMS_BY_ID = {c.id: c for c in CLAIMS}
assert len(CLAIMS_BY_ID) == len(CLAIMS), "claim ids must be unique"


def claim(claim_id):
    try:
        return CLAIMS_BY_ID[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim '{claim_id}'; claims: {', '.join(CLAIMS_BY_ID)}") from None
