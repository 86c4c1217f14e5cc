"""Synthetic runs in the runner's format, for the tests and for developing the paper before real
runs exist. Never commit their output as results: machine.json says "synthetic": true and the
paper prints a warning on every page that uses one.

Timings follow simple cost models (per-element work, per-task overhead, memory bandwidth that
stops scaling past a few cores) with log-normal noise, so that verdicts come out mixed the way
real ones do. The schema (variants, backends, columns) is the one analysis/ expects.

    /usr/bin/python3 -m analysis.tests.synthetic OUT_DIR [--cores 2] [--profile quick] [--seed 1]
"""

import argparse
import csv
import zlib
import json
import math
from pathlib import Path

import numpy as np

from analysis.registry import EXPERIMENTS, FIXED_COLUMNS

REPETITIONS = {"quick": 3, "full": 9}
SERIAL_BACKENDS = ("serial", "cpython_serial", "openblas_serial")


def worker_counts(cores):
    counts, p = [], 1
    while p < cores:
        counts.append(p)
        p *= 2
    return counts + [cores, 2 * cores]


class Model:
    """Produces the rows of every experiment for one machine."""

    def __init__(self, cores, profile, seed, noise, slowdown):
        self.cores = cores
        self.quick = profile == "quick"
        self.reps = REPETITIONS[profile]
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.noise = noise
        self.slowdown = slowdown  # {(experiment, variant, backend): factor}
        self.rows = {}

    def par(self, p):
        return min(p, self.cores)

    def bandwidth_par(self, p):
        """Memory-bound work: two cores give about 1.6x, more cores level off at 4x."""
        q = self.par(p)
        return min(q, 1 + 0.6 * (q - 1), 4.0)

    def add(self, experiment, variant, backend, seconds, n=None, p=None, chunksize=None,
            **extra):
        if backend in SERIAL_BACKENDS:
            p = None  # serial benchmarks have no worker count, as in the real runs
        factor = self.slowdown.get((experiment, variant, backend), 1.0)
        for repetition in range(self.reps):
            noisy = seconds * factor * math.exp(self.rng.normal(0, self.noise))
            if p is not None and p > self.cores:  # oversubscription is noisier
                noisy *= math.exp(abs(self.rng.normal(0, self.noise)))
            row = {"experiment": experiment, "variant": variant, "backend": backend, "n": n,
                   "p": p, "chunksize": chunksize, "repetition": repetition, "seconds": noisy}
            row.update(extra)
            row["iterations"] = 10
            self.rows.setdefault(experiment, []).append(row)

    def sizes(self, quick, full):
        return [1 << e for e in (quick if self.quick else full)]

    def machine_limits(self):
        e = "machine_limits"
        self.add(e, "cache_line_round_trip", "process", 0.3e-6)
        for p in worker_counts(self.cores):
            self.add(e, "fork_join", "openmp", 0.4e-6 * self.par(p) + 0.3e-6, p=p)
            for n in (1 << 22, 1 << 25):
                bw = self.bandwidth_par(p)
                self.add(e, "read", "openmp", n * 0.12e-9 / bw, n=n, p=p,
                         bytes_per_second=8 / (0.12e-9 / bw))
                self.add(e, "copy", "openmp", n * 0.25e-9 / bw, n=n, p=p,
                         bytes_per_second=16 / (0.25e-9 / bw))

    def pool_overhead(self):
        e = "pool_overhead"
        round_trip = {"serial": 0.05e-6, "thread": 8e-6, "process": 15e-6,
                      "cpython_process": 300e-6}
        per_chunk = {"serial": 0.02e-6, "thread": 2e-6, "process": 4e-6, "cpython_process": 40e-6}
        per_item = {"serial": 0.01e-6, "thread": 0.02e-6, "process": 0.05e-6,
                    "cpython_process": 0.2e-6}
        tasks = 1000 if self.quick else 10000
        for backend, cost in round_trip.items():
            self.add(e, "apply", backend, tasks * cost, n=tasks,
                     p=1 if backend == "serial" else self.cores)
        n = 1 << (12 if self.quick else 16)
        for chunksize in [1 << k for k in range(0, 11, 2 if self.quick else 1)]:
            for backend in round_trip:
                p = 1 if backend == "serial" else self.cores
                t = n * (per_item[backend] + per_chunk[backend] / chunksize) / self.par(p)
                self.add(e, "map", backend, t, n=n, p=p, chunksize=chunksize)

    def gil_baseline(self):
        e = "gil_baseline"
        n = 1 << (24 if self.quick else 27)
        t1 = n * 0.6e-9
        self.add(e, "loop", "serial", t1, n=n, p=1)
        for p in worker_counts(self.cores):
            self.add(e, "loop", "thread", t1 / self.par(p) + 20e-6, n=n, p=p)
            self.add(e, "loop", "process", t1 / self.par(p) + 40e-6, n=n, p=p)
            self.add(e, "loop", "gil_thread", t1 * (1.0 if p == 1 else 1.15), n=n, p=p,
                     switch_us=5000)
        for py_n in self.sizes((20,), (20, 22)):
            py1 = py_n * 60e-9
            self.add(e, "loop", "cpython_serial", py1, n=py_n)
            for p in worker_counts(self.cores):
                self.add(e, "loop", "cpython_thread", py1 * (1.0 if p == 1 else 1.2), n=py_n,
                         p=p)
                self.add(e, "loop", "cpython_process", py1 / self.par(p) + 20e-3, n=py_n, p=p)

    def map_chunksize(self):
        e = "map_chunksize"
        per_chunk = {"thread": 2e-6, "process": 5e-6, "cpython_process": 60e-6}
        work = {"cheap": 2e-9, "expensive": 2e-6}
        for n in self.sizes((12, 16), (12, 16, 20)):
            log_n = int(math.log2(n))
            for function, w in work.items():
                self.add(e, "map", "serial", n * w, n=n, function=function)
                if n <= 1 << 14:
                    self.add(e, "map", "cpython_serial", n * w * 50, n=n, function=function)
                for p in worker_counts(self.cores):
                    chunks = sorted({1 << k for k in range(0, log_n + 1, 2)} | {
                        log_n, int(math.isqrt(n)), max(1, n // (4 * p)), max(1, n // p)})
                    for backend, c in per_chunk.items():
                        if backend.startswith("cpython") and n > 1 << 14:
                            continue
                        item = w * (50 if backend.startswith("cpython") else 1)
                        for cs in chunks:
                            count = math.ceil(n / cs)
                            busy = (n * item + count * c) / self.par(p)
                            tail = min(cs, n) * item * (1 - 1 / self.par(p))  # the last chunk
                            self.add(e, "map", backend, busy + tail + 10e-6, n=n, p=p,
                                     chunksize=cs, function=function)

    def reduce_tree_vs_partitioned(self):
        e = "reduce_tree_vs_partitioned"
        for n in self.sizes((10, 14, 18, 22), (10, 12, 14, 16, 18, 20, 22, 24, 25)):
            serial = n * 0.15e-9 + 50e-9
            self.add(e, "serial", "serial", serial, n=n, p=1)
            self.add(e, "serial", "cpython_serial", n * 8e-9, n=n, p=1)
            for p in worker_counts(self.cores):
                for backend, over in (("process", 12e-6), ("thread", 5e-6)):
                    self.add(e, "partitioned", backend,
                             n * 0.15e-9 / self.bandwidth_par(p) + over * p, n=n, p=p)
                    if n <= 1 << 14:
                        self.add(e, "tree", backend, n * (6e-6 if backend == "process" else
                                                          2e-6) / self.par(p), n=n, p=p)
                for peer, over in (("tbb", 3e-6), ("openmp", 2e-6), ("stdpar", 4e-6)):
                    self.add(e, "reduce", peer, n * 0.15e-9 / self.bandwidth_par(p) + over,
                             n=n, p=p)
                if n <= 1 << 14:
                    self.add(e, "tree", "cpython_process", n * 90e-6 / self.par(p), n=n, p=p,
                             chunksize=1)
                    self.add(e, "partitioned", "cpython_process",
                             n * 40e-9 + 300e-6 * p, n=n, p=p)

    def scan_two_pass(self):
        e = "scan_two_pass"
        for n in self.sizes((16, 20, 22), (16, 18, 20, 22, 24, 25)):
            self.add(e, "serial", "serial", n * 0.5e-9, n=n, p=1)
            self.add(e, "serial_reduce", "serial", n * 0.15e-9, n=n, p=1)
            for p in worker_counts(self.cores):
                bw = self.bandwidth_par(p)
                for backend, over in (("process", 15e-6), ("thread", 6e-6)):
                    self.add(e, "two_pass", backend, 2 * n * 0.4e-9 / bw + over * p, n=n, p=p)
                    self.add(e, "reduce_then_scan", backend, 1.5 * n * 0.4e-9 / bw + over * p,
                             n=n, p=p)
                    self.add(e, "single_pass", backend, n * 0.4e-9 / bw + over * p, n=n, p=p)
                    self.add(e, "partitioned", backend, n * 0.15e-9 / bw + over * p, n=n, p=p)
                self.add(e, "scan", "tbb", 2 * n * 0.45e-9 / bw + 5e-6, n=n, p=p)
                self.add(e, "scan", "stdpar", 2 * n * 0.42e-9 / bw + 5e-6, n=n, p=p)
                self.add(e, "two_pass", "openmp", 2 * n * 0.35e-9 / bw + 2e-6, n=n, p=p)
        for n in self.sizes((12, 16), (12, 16, 18)):  # CPython: pickling dominates
            self.add(e, "serial", "cpython_serial", n * 60e-9, n=n, p=1)
            self.add(e, "serial_reduce", "cpython_serial", n * 20e-9, n=n, p=1)
            for p in worker_counts(self.cores):
                self.add(e, "two_pass", "cpython_process", n * 400e-9 + 300e-6 * p, n=n, p=p)
                self.add(e, "partitioned", "cpython_process", n * 150e-9 + 300e-6 * p, n=n,
                         p=p)

    def scan_work(self):
        """Operator calls, counted: deterministic (no noise), as the real experiment's. The C++
        serial scan is blocked (7 calls per 4 elements), CPython's a plain loop. A slowdown
        factor of (scan_work, two_pass, backend) multiplies that scan's calls."""
        e = "scan_work"

        def row(variant, backend, n, p, calls):
            calls = int(round(calls * self.slowdown.get((e, variant, backend), 1.0)))
            for repetition in range(self.reps):
                self.rows.setdefault(e, []).append({
                    "experiment": e, "variant": variant, "backend": backend, "n": n, "p": p,
                    "chunksize": None, "repetition": repetition, "seconds": calls * 2e-9,
                    "calls": calls, "calls_per_element": calls / n, "iterations": 1})
        for n in self.sizes((16,), (16, 20)):
            row("serial", "serial", n, None, 7 * n // 4)
            row("serial", "cpython_serial", n, None, n - 1)
            for p in (1, 2, 4, 8):
                second = n - n // p + (p - 1)   # every piece but the first, and the offsets
                for backend in ("serial_pool", "process"):
                    row("two_pass", backend, n, p, 7 * n // 4 + (second if p > 1 else 0))
                    row("reduce_then_scan", backend, n, p, 11 * n // 4 + p - 1)
                row("single_pass", "serial_pool", n, p, 11 * n // 4)
                row("two_pass", "cpython_process", n, p, n - 1 + (second if p > 1 else 0))
                row("reduce_then_scan", "cpython_process", n, p, 2 * n - 1)

    def pack(self):
        e = "pack"
        for n in self.sizes((16, 20, 22), (16, 20, 22, 24, 25)):
            for keep in (10, 50, 90):
                mispredict = 4e-9 * (keep / 100) * (1 - keep / 100) * 4
                self.add(e, "serial", "serial", n * (0.6e-9 + mispredict), n=n, p=1,
                         keep_pct=keep)
                for p in worker_counts(self.cores):
                    bw = self.bandwidth_par(p)
                    for backend, over in (("process", 15e-6), ("thread", 6e-6),
                                          ("openmp", 3e-6)):
                        self.add(e, "scan_pack", backend, n * 0.7e-9 / bw + over * p, n=n,
                                 p=p, keep_pct=keep)
                    self.add(e, "copy_if", "stdpar", n * (0.9e-9 + mispredict) / bw + 5e-6,
                             n=n, p=p, keep_pct=keep)
        for n in self.sizes((16,), (16,)):
            for keep in (10, 50, 90):
                self.add(e, "serial", "cpython_serial", n * 50e-9, n=n, p=1, keep_pct=keep)
                for p in worker_counts(self.cores):
                    self.add(e, "scan_pack", "cpython_process", n * 500e-9 + 300e-6 * p, n=n,
                             p=p, keep_pct=keep)

    def dot_flop_mop(self):
        e = "dot_flop_mop"
        for n in self.sizes((16, 20, 22), (16, 18, 20, 22, 24, 25)):
            self.add(e, "dot", "serial", n * 0.3e-9, n=n, p=1)
            self.add(e, "reduce", "serial", n * 0.15e-9, n=n, p=1)
            self.add(e, "dot", "openblas_serial", n * 0.29e-9, n=n, p=1)
            for p in worker_counts(self.cores):
                bw = self.bandwidth_par(p)
                for backend, over in (("process", 12e-6), ("thread", 5e-6)):
                    self.add(e, "dot", backend, n * 0.3e-9 / (bw * 1.05) + over * p, n=n, p=p)
                    self.add(e, "reduce", backend, n * 0.15e-9 / bw + over * p, n=n, p=p)
                self.add(e, "dot", "openblas", n * 0.29e-9 / bw + 4e-6, n=n, p=p)
                self.add(e, "dot", "openmp", n * 0.28e-9 / bw + 2e-6, n=n, p=p)
                self.add(e, "reduce", "openmp", n * 0.14e-9 / bw + 2e-6, n=n, p=p)
        for n in self.sizes((16,), (16, 18)):
            self.add(e, "dot", "cpython_serial", n * 40e-9, n=n, p=1)
            self.add(e, "reduce", "cpython_serial", n * 20e-9, n=n, p=1)
            for p in worker_counts(self.cores):
                self.add(e, "dot", "cpython_process", n * 100e-9 + 300e-6 * p, n=n, p=p)
                self.add(e, "reduce", "cpython_process", n * 150e-9 + 300e-6 * p, n=n, p=p)

    def matvec_blas(self):
        e = "matvec_blas"
        shapes = [(256, 256), (4096, 16), (16, 4096)] if self.quick else [
            (1024, 1024), (8192, 8192), (1 << 20, 16), (16, 1 << 20)]
        for rows, cols in shapes:
            n = rows * cols
            blas = n * 0.25e-9 + 1e-6
            self.add(e, "matvec", "openblas_serial", blas, n=n, p=1, rows=rows, cols=cols)
            self.add(e, "matvec", "serial", n * 0.3e-9, n=n, p=1, rows=rows, cols=cols)
            self.add(e, "matvec", "numpy", blas + 2e-6, n=n, p=1, rows=rows, cols=cols)
            for p in worker_counts(self.cores):
                bw = self.bandwidth_par(p)
                self.add(e, "matvec", "openblas", blas / bw + 3e-6, n=n, p=p, rows=rows,
                         cols=cols)
                for backend, over in (("process", 15e-6), ("thread", 6e-6), ("openmp", 3e-6)):
                    self.add(e, "matvec", backend, n * 0.3e-9 / bw + over * p, n=n, p=p,
                             rows=rows, cols=cols)
                self.add(e, "matvec", "cpython_process", n * 60e-9 / self.par(p) + 300e-6 * p,
                         n=n, p=p, rows=rows, cols=cols)

    def shared_array_lock(self):
        e = "shared_array_lock"
        # Seconds per increment by access: (uncontended, contended per extra worker).
        cost = {"raw": (1e-9, 2e-9), "atomic": (4e-9, 15e-9), "locked": (20e-9, 40e-9),
                "locked_access": (40e-9, 80e-9), "locked_block": (1.2e-9, 0.5e-9)}
        lost = {"raw": 0.3, "locked_access": 0.1}
        for n in self.sizes((16,), (16, 20)):
            for pattern in ("disjoint", "interleaved", "same"):
                for access, (base, contention) in cost.items():
                    variant = f"{access}_{pattern}"
                    self.add(e, variant, "serial", n * base, n=n, lost_fraction=0.0)
                    for p in worker_counts(self.cores):
                        q = self.par(p)
                        shared = pattern != "disjoint" or access.startswith("locked")
                        per = base + (contention * (q - 1) if shared else 0)
                        loses = lost.get(access, 0.0) if pattern == "same" and q > 1 else 0.0
                        for backend, scale in (("process", 1.0), ("thread", 1.0),
                                               ("cpython_process", 30.0)):
                            if backend.startswith("cpython") and (access == "atomic" or
                                                                  n > 1 << 16):
                                continue
                            self.add(e, variant, backend, n * per * scale / q + 20e-6, n=n,
                                     p=p, lost_fraction=loses)

    def mapreduce_wordcount(self):
        e = "mapreduce_wordcount"
        n = 4_400_000 * (1 if self.quick else 8)
        copies = 1 if self.quick else 8
        # distinct: the corpus's vocabulary, as the experiment records it
        self.add(e, "wordcount", "serial", n * 6e-9, n=n, copies=copies, distinct=12866)
        self.add(e, "wordcount", "cpython_serial", n * 120e-9, n=n, copies=copies, distinct=12866)
        for p in worker_counts(self.cores):
            for backend, over in (("process", 2e-3), ("thread", 1e-3)):
                self.add(e, "wordcount", backend, n * 6e-9 / self.par(p) * 1.05 + over, n=n,
                         p=p, copies=copies, distinct=12866)
            self.add(e, "wordcount", "cpython_process",
                     n * 120e-9 / self.par(p) + n * 10e-9 + 30e-3, n=n, p=p, copies=copies, distinct=12866)

    def mpi_collectives(self):
        e = "mpi_collectives"
        alpha, beta = 1e-6, 0.1e-9  # a shared-memory transport
        for p in (1, 2, 4):
            over = int(p > self.cores)
            for size in [1 << x for x in range(3, 22)]:
                # seconds_low is the model's time: load (the noise) only adds to the mean.
                if p >= 2:
                    round_trip = 2 * (alpha + beta * size)
                    self.add(e, "pingpong", "mpi", round_trip, p=p, bytes=size,
                             oversubscribed=over, seconds_low=round_trip)
                allreduce = math.log2(2 * p) * (alpha + beta * size)
                self.add(e, "allreduce", "mpi", allreduce, p=p, bytes=size, oversubscribed=over,
                         seconds_low=allreduce)

    def mpi_primitives(self):
        e = "mpi_primitives"
        per_element = {"reduce": 0.4e-9, "dot": 0.8e-9, "scan": 1.6e-9, "pack": 1.2e-9,
                       "pack_messages": 1.6e-9}
        sizes = {"reduce": ((10, 22), range(10, 26, 3)), "scan": ((12, 22), range(10, 26, 3)),
                 "dot": ((16, 20), (16, 20, 23, 25)), "pack": ((12, 22), range(13, 26, 4)),
                 "pack_messages": ((12, 22), range(13, 26, 4))}
        for variant, cost in per_element.items():
            for n in self.sizes(*sizes[variant]):
                for p in (1, 2, 4):
                    sent_other = 4 * n / p if variant.startswith("pack") else 8
                    self.add(e, variant, "mpi", n * cost / self.bandwidth_par(p) + 20e-6 * p,
                             n=n, p=p, bytes_sent_rank0=8 if p > 1 else 0,
                             bytes_sent_other_max=sent_other if p > 1 else 0,
                             oversubscribed=int(p > self.cores))


    def mpi_pool(self):
        e = "mpi_pool"
        round_trip = 2e-6  # the ping-pong's: 2 alpha of mpi_collectives
        self.add(e, "apply", "mpi", 0.5e-6, p=1, oversubscribed=0)  # inline: no servers
        for p in (2, 4):
            over = int(p > self.cores)
            self.add(e, "pingpong", "mpi", round_trip, p=p, oversubscribed=over)
            self.add(e, "apply", "mpi", 2.5 * round_trip, p=p, oversubscribed=over)


def write_run(out_dir, cores=2, profile="quick", seed=1, noise=0.05, slowdown=None,
              experiments=None, run_name=None):
    """Writes a synthetic run folder `out_dir` (its name is the run's) and returns its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=False)
    name = run_name or out.name
    model = Model(cores, profile, seed, noise, slowdown or {})
    chosen = list(experiments or EXPERIMENTS)
    record = {"run": name, "profile": profile, "experiments": {}}
    for experiment in chosen:
        # Each experiment draws its noise from a stream of its own, so that adding an
        # experiment to the registry does not change the data of the others.
        model.rng = np.random.default_rng([seed, zlib.crc32(experiment.encode())])
        getattr(model, experiment)()
        rows = model.rows[experiment]
        columns = list(FIXED_COLUMNS)
        for row in rows:
            columns += [k for k in row if k not in columns]
        with open(out / f"{experiment}.csv", "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else
                                 (repr(row[c]) if isinstance(row[c], float) else row[c])
                                 for c in columns])
        record["experiments"][experiment] = {"status": "ok", "seconds": 1.0, "rows": len(rows)}
    machine = {
        "run": name, "synthetic": True, "date": "2026-11-23T12:00:00+00:00",
        "profile": profile, "repetitions": REPETITIONS[profile], "min_time_seconds": 0.02,
        "hostname": "synthetic", "cpu": {
            "model": "Synthetic CPU (cost model, not a measurement)", "logical_cores": cores,
            "physical_cores": cores, "caches": [
                {"level": "1", "type": "Data", "size": "48K", "shared_cpu_list": "0"},
                {"level": "2", "type": "Unified", "size": "1024K", "shared_cpu_list": "0"}]},
        "memory_bytes": 8 << 30, "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1",
        "transparent_hugepage": {"enabled": "always [madvise] never",
                                 "shmem_enabled": "always within_size advise [never] deny force"},
        "compiler": "gcc (Debian 12.2.0-14) 12.2.0",
        "build": {"compilation_mode": "opt", "project_copts": ["-std=c++20", "-O3"],
                  "bazelrc_build_flags": ["-c", "opt"]},
        "libraries": {"libtbb12": "2021.8.0-2", "libopenblas0-pthread": "0.3.21+ds-4",
                      "libbenchmark1debian": "1.7.1-1"},
        "python": "3.11.2", "environment": {}, "git": {"commit": "0" * 40, "dirty": False},
    }
    (out / "machine.json").write_text(json.dumps(machine, indent=2) + "\n")
    (out / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="run folder to create (its name is the run's name)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--profile", choices=sorted(REPETITIONS), default="quick")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(write_run(args.out, cores=args.cores, profile=args.profile, seed=args.seed))


if __name__ == "__main__":
    main()
