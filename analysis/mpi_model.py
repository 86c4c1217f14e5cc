"""The cost model of the distributed primitives (issue 13): each primitive's time on P machines,
one rank per machine, projected from one machine's serial kernels and a network's latency and
bandwidth, and the seed's reduction and scan claims restated for a cluster from it.

The model. A primitive on n elements over P machines takes

    T(n, P) = work(n / P) + communication(P)

work: each machine runs the serial kernel on its piece, at the per-element time the run measured
for that kernel on one core (the `serial` rows of the primitive's experiment at its largest n;
SERIAL_KERNELS): reduce, dot, pack and word count read their piece once; matvec computes
rows / P rows; the distributed scan (mpi/scan.h, two passes) scans its piece and then adds its
offset to every element, a pass costed as one serial reduce (it reads the piece as a reduce
does; its writes are not costed, so the scan's projection is optimistic by at most one write
stream). communication: the collectives mpi/*.h call, each costed as Open
MPI's algorithms for small messages and MPICH's alike cost them (Thakur, Rabenseifner and Gropp
2005): a broadcast, an all-reduce, an exclusive scan or an all-gather of a few bytes takes
ceil(log2 P) rounds of one message (alpha + m beta each); an all-gather of M bytes in all takes
ceil(log2 P) alpha + (P - 1) / P M beta; an all-to-all in which every rank sends to every other
takes (P - 1) alpha plus the bytes a rank sends times beta. alpha and beta are one network's
point-to-point latency and seconds per byte (Network). Per primitive (COMMUNICATION):

    reduce, dot   one all-gather of an 8-byte partial: ceil(log2 P) (alpha + 8 beta)
    scan          an exclusive scan and a broadcast of 8 bytes: 2 ceil(log2 P) (alpha + 8 beta)
    pack          an all-gather of 8-byte counts and an all-reduce of an int (ceil(log2 P) rounds
                  each), then each rank's kept elements, n / (2P) doubles at half kept, sent to
                  the (at most 2, at even flags) ranks owning their output: 2 alpha + 4 n / P beta
    matvec        an all-gather of x (cols doubles), and an all-reduce of an int
    word count    the shuffle of each rank's distinct words (an all-to-all, at most the whole
                  vocabulary of D words at 15 bytes each per rank) and the all-gather of the
                  merged counts (D words in all)

Assumptions (written in the paper): one rank per machine, each machine as fast as the run's
single core (so a speedup is over one such core; several ranks per machine would scale work and
leave the network term as it is); the network's latency and bandwidth those of the cited
cluster (CLUSTER), with no contention (every collective here moves a few bytes per rank, except
pack's exchange and matvec's all-gather); the software overhead of MPI's collectives beyond a
message per round is not counted. The run's own MPI measurements (analysis/mpi.py) check the
message model on this machine: its ping-pong alpha and beta predict its all-reduce
(`allreduce_check`).

The seed's claims restated for a cluster:
  - tree against partitioned reduction: the seed's tree makes each pair evens[i] + odds[i] a task;
    on a cluster a task is a message to a worker and one back, so each of the log2 n levels of
    the tree costs ceil(tasks / P) round trips of 2 (alpha + 8 beta) + 8 beta, against the
    partitioned reduction's T(n, P) (`tree_seconds`);
  - scan against reduce: the seed expects the scan's speedup to be half the reduction's (a second
    pass over the data); the model gives each one's speedup over its own serial kernel on one
    core (`speedup`), and their ratio at each P.

    /usr/bin/python3 -m analysis.mpi_model RUN_FOLDER    prints the projection of one run
"""

import math
import sys
from dataclasses import dataclass

from analysis.classify import number, power_of_two
from analysis.classify import seconds as seconds_text
from analysis.runs import InputError, open_run
from analysis.stats import select


@dataclass(frozen=True)
class Network:
    name: str
    alpha: float   # one-way latency of a small message, seconds
    beta: float    # seconds per byte (1 / bandwidth)
    source: str    # the bibliography key of the figures

    @property
    def bandwidth(self):
        return 1 / self.beta


# 100 Gb/s EDR InfiniBand as Microsoft Azure's HB-series publishes it: the OSU micro-benchmarks'
# MPI latency 1.27 us and bandwidth 99.1 Gb/s between two machines.
CLUSTER = Network("100 Gb/s InfiniBand (EDR)", 1.27e-6, 8 / 99.1e9, "azure-hb-performance")

# primitive -> (experiment, the serial rows of each kernel the distributed version runs on its
# piece, one after the other, and of the kernel it is compared with on one core).
SERIAL_KERNELS = {
    "reduce": ("reduce_tree_vs_partitioned", ({"variant": "serial"},), {"variant": "serial"}),
    "dot": ("dot_flop_mop", ({"variant": "dot"},), {"variant": "dot"}),
    "scan": ("scan_two_pass", ({"variant": "serial_reduce"}, {"variant": "serial"}),
             {"variant": "serial"}),
    "pack": ("pack", ({"variant": "serial", "keep_pct": 50},),
             {"variant": "serial", "keep_pct": 50}),
    "matvec": ("matvec_blas", ({"variant": "matvec"},), {"variant": "matvec"}),
    "wordcount": ("mapreduce_wordcount", ({"variant": "wordcount"},), {"variant": "wordcount"}),
}
PRIMITIVES = tuple(SERIAL_KERNELS)
EXPERIMENTS = tuple(sorted({experiment for experiment, _, _ in SERIAL_KERNELS.values()}))

WORD_BYTES = 15  # a (word, length, count) record of mpi/wordcount.h's shuffle, on average
PROJECTED_MACHINES = (2, 8, 32, 128, 512)
LARGEST_MACHINES = 1 << 16  # where the search for the fastest P stops


@dataclass(frozen=True)
class Kernel:
    """One primitive's measured serial costs at its largest n."""
    primitive: str
    n: int                  # elements (bytes of text for word count; matrix elements for matvec)
    piece_seconds: float    # per element: the serial kernels the distributed version runs
    serial_seconds: float   # per element: the serial kernel it is compared with
    cols: int = 0           # matvec: columns (x has cols elements)
    distinct: int = 0       # word count: distinct words of the corpus


def rounds(machines):
    return math.ceil(math.log2(machines)) if machines > 1 else 0


def communication_seconds(kernel, n, machines, network):
    """The collectives' time of `kernel`'s primitive on n elements over `machines` machines."""
    if machines == 1:
        return 0.0
    a, b, steps = network.alpha, network.beta, rounds(machines)
    small = steps * (a + 8 * b)
    primitive = kernel.primitive
    if primitive in ("reduce", "dot"):
        return small
    if primitive == "scan":
        return 2 * small
    if primitive == "pack":
        return 2 * small + 2 * a + 4 * n / machines * b
    if primitive == "matvec":
        return small + steps * a + (machines - 1) / machines * kernel.cols * 8 * b
    if primitive == "wordcount":
        vocabulary = kernel.distinct * WORD_BYTES
        return ((machines - 1) * a + vocabulary * b
                + steps * a + (machines - 1) / machines * vocabulary * b)
    raise ValueError(f"no communication model for '{primitive}'")


def seconds(kernel, n, machines, network):
    """T(n, P): the primitive's projected time."""
    if machines < 1:
        raise ValueError(f"{machines} machines: the model needs at least one")
    return kernel.piece_seconds * n / machines + communication_seconds(kernel, n, machines,
                                                                        network)


def speedup(kernel, n, machines, network):
    """One core's serial time over the projected time on `machines` machines."""
    return kernel.serial_seconds * n / seconds(kernel, n, machines, network)


def fastest_machines(kernel, n, network):
    """The power of two P (up to LARGEST_MACHINES) with the least projected time: beyond it,
    more machines only add communication."""
    candidates = [1 << k for k in range(LARGEST_MACHINES.bit_length())]
    return min(candidates, key=lambda p: seconds(kernel, n, p, network))


def tree_seconds(n, machines, network, add_seconds):
    """The seed's reduction tree on a cluster: log2 n levels, level l has n / 2^l pair tasks,
    each machine doing ceil(tasks / P) of them, each a round trip with the driver (two operands
    out, one result back) plus one addition."""
    total, tasks = 0.0, n // 2
    task = 2 * network.alpha + 3 * 8 * network.beta + add_seconds
    while tasks >= 1:
        total += math.ceil(tasks / machines) * task
        tasks //= 2
    return total


def _per_element(df, n, where, what):
    rows = select(df, backend="serial", n=n, **where)
    if rows.empty:
        raise LookupError(f"{what}: no serial rows at n = {n} ({where})")
    return float(rows["seconds"].median()) / n


def kernels(run):
    """The measured serial costs of every primitive, each at the largest n of its experiment's
    serial rows."""
    found = {}
    for primitive, (experiment, pieces, compared) in SERIAL_KERNELS.items():
        df = run.data(experiment)
        serial = select(df, backend="serial", **compared)
        if serial.empty:
            raise LookupError(f"{run.path}: {experiment} has no serial rows ({compared})")
        n = int(serial["n"].max())
        piece = sum(_per_element(df, n, where, experiment) for where in pieces)
        extra = {}
        at_n = select(serial, n=n)
        if primitive == "matvec":
            extra["cols"] = int(at_n["cols"].iloc[0])
        if primitive == "wordcount":
            extra["distinct"] = int(at_n["distinct"].iloc[0])
        found[primitive] = Kernel(primitive, n, piece, _per_element(df, n, compared, experiment),
                                  **extra)
    return found


@dataclass(frozen=True)
class Claims:
    """The seed's claims restated at one n and the projected P."""
    n: int
    machines: tuple
    tree_over_partitioned: tuple   # per P: tree time / partitioned time
    scan_over_reduce: tuple        # per P: scan speedup / reduce speedup
    reduce_breakeven: tuple        # per P: the least power-of-two n at which P machines beat one


def breakeven_n(kernel, machines, network):
    """The least power of two n at which `machines` machines beat one core's serial kernel."""
    for k in range(1, 63):
        if speedup(kernel, 1 << k, machines, network) > 1:
            return 1 << k
    return None


def claims(found, network=CLUSTER, machines=PROJECTED_MACHINES):
    reduce, scan = found["reduce"], found["scan"]
    n = min(reduce.n, scan.n)
    return Claims(
        n=n, machines=tuple(machines),
        tree_over_partitioned=tuple(
            tree_seconds(n, p, network, reduce.serial_seconds) / seconds(reduce, n, p, network)
            for p in machines),
        scan_over_reduce=tuple(speedup(scan, n, p, network) / speedup(reduce, n, p, network)
                               for p in machines),
        reduce_breakeven=tuple(breakeven_n(reduce, p, network) for p in machines))


def allreduce_check(fits):
    """(p, measured alpha, predicted alpha) of each all-reduce the run fitted at p >= 2, the
    prediction being ceil(log2 p) rounds of the ping-pong's alpha (analysis/mpi.py's fits)."""
    pingpong = [f for f in fits if f.operation == "pingpong"]
    if not pingpong:
        return []
    base = min(pingpong, key=lambda f: f.p)
    return [(f.p, f.alpha, rounds(f.p) * base.alpha) for f in fits
            if f.operation == "allreduce" and f.p >= 2]


def has_inputs(run):
    """Whether the run finished every experiment the model reads."""
    return all(run.record["experiments"].get(e, {}).get("status") == "ok" for e in EXPERIMENTS)


NAMES = {"reduce": "reduce", "dot": "dot", "scan": "scan", "pack": "pack",
         "matvec": "matvec", "wordcount": "word count"}


def _span(values, text=number):
    low, high = min(values), max(values)
    return text(low) if text(low) == text(high) else f"{text(low)} to {text(high)}"


def tex_macros(run, fits=None, network=CLUSTER):
    r"""The paper's macros of the model for `run` (its serial kernels) and `network`:
    \mpinetwork (the cited figures), \mpimodel (a table: each primitive's projected speedup
    over one core at P machines), \mpitreeclaim, \mpiscanclaim, \mpibreakeven (the seed's
    claims restated, as sentences) and \mpicheck (the run's own all-reduce against the message
    model, when `fits`, analysis/mpi.py's, are given and usable)."""
    macros = {"mpinetwork": (rf"a one-way latency $\alpha$ of {seconds_text(network.alpha)} and a "
                             rf"bandwidth $1/\beta = {network.bandwidth / 1e9:.1f}$\,GB/s "
                             rf"(MPI ping-pong and bandwidth between two machines of a "
                             rf"{escape_text(network.name)} cluster~\citep{{{network.source}}})")}
    if not has_inputs(run):
        missing = (rf"The run ({escape_text(run.name)}) lacks the serial kernels the model reads "
                   rf"({', '.join(EXPERIMENTS).replace('_', chr(92) + '_')}): no projection.")
        for name in ("mpimodel", "mpitreeclaim", "mpiscanclaim", "mpibreakeven"):
            macros[name] = missing
    else:
        found = kernels(run)
        lines = [r"\begin{tabular}{@{}lrr" + "r" * len(PROJECTED_MACHINES) + "r@{}}", r"\toprule",
                 r"Primitive & $n$ & serial & "
                 + " & ".join(f"$S({p})$" for p in PROJECTED_MACHINES) + r" & fastest $P$ \\",
                 r"\midrule"]
        for k in found.values():
            lines.append(
                f"{NAMES[k.primitive]} & {power_of_two(k.n)} & "
                f"{seconds_text(k.serial_seconds)} & "
                + " & ".join(number(speedup(k, k.n, p, network)) for p in PROJECTED_MACHINES)
                + f" & {power_of_two(fastest_machines(k, k.n, network))}" + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        macros["mpimodel"] = "\n".join(lines)
        c = claims(found, network)
        first, last = c.machines[0], c.machines[-1]
        macros["mpitreeclaim"] = (
            rf"at $n = {power_of_two(c.n).strip('$')}$ the tree takes "
            rf"{_span(c.tree_over_partitioned)} times as long as the partitioned reduction for "
            rf"$P$ from {first} to {last}")
        macros["mpiscanclaim"] = (
            rf"at $n = {power_of_two(c.n).strip('$')}$ the scan's speedup over the serial scan is "
            rf"{_span(c.scan_over_reduce)} times the reduction's over the serial reduction for "
            rf"$P$ from {first} to {last}")
        macros["mpibreakeven"] = (
            rf"the partitioned reduction beats one core from $n = "
            rf"{power_of_two(c.reduce_breakeven[0]).strip('$')}$ at $P = {first}$ and from "
            rf"$n = {power_of_two(c.reduce_breakeven[-1]).strip('$')}$ at $P = {last}$")
    macros["mpicheck"] = check_text(fits)
    return "".join(rf"\newcommand{{\{name}}}{{%" + "\n" + text + "}\n"
                   for name, text in macros.items())


def escape_text(text):
    return text.replace("_", r"\_").replace("%", r"\%")


def check_text(fits):
    """A sentence comparing the run's all-reduce with ceil(log2 p) ping-pong latencies."""
    if not fits:
        return "The run has no MPI measurements to check the message model against."
    pingpong = min((f for f in fits if f.operation == "pingpong"), key=lambda f: f.p)
    if not pingpong.usable:
        return ("The run's ping-pong fit is unusable (its intervals are wider than half its "
                "values: a loaded machine), so it does not check the message model.")
    parts = [rf"at $p = {p}$ the model predicts {seconds_text(predicted)} and the run measured "
             rf"{seconds_text(measured)}" for p, measured, predicted in allreduce_check(fits)]
    return (rf"On this machine the ping-pong's $\alpha$ of {seconds_text(pingpong.alpha)} predicts "
            r"the all-reduce's latency as $\lceil\log_2 p\rceil\,\alpha$: "
            + "; ".join(parts) + ".")


def describe(found, network=CLUSTER):
    lines = [f"network: {network.name}, alpha {network.alpha * 1e6:.2f} us, "
             f"{network.bandwidth / 1e9:.2f} GB/s"]
    for k in found.values():
        speedups = "  ".join(f"P={p}: {speedup(k, k.n, p, network):8.1f}"
                             for p in PROJECTED_MACHINES)
        lines.append(f"{k.primitive:9} n={k.n:<10} {speedups}  fastest at "
                     f"P={fastest_machines(k, k.n, network)}")
    c = claims(found, network)
    for p, tree, scan, n in zip(c.machines, c.tree_over_partitioned, c.scan_over_reduce,
                                c.reduce_breakeven):
        lines.append(f"P={p:<4} tree/partitioned {tree:10.1f}  scan/reduce speedup {scan:.2f}  "
                     f"reduce beats one core from n={n}")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python3 -m analysis.mpi_model RUN_FOLDER", file=sys.stderr)
        return 2
    try:
        print(describe(kernels(open_run(argv[0]))))
    except (InputError, LookupError, ValueError) as e:
        print(f"mpi_model: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
