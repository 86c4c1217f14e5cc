"""Every statement of the seed document (/work/shared/seed/process-based-parallelism.md) that a
reader could take for a claim, in the seed's order: the claim of analysis/claims.py that tests
it, or why it is left out. The paper's list of them (table `statements`) and its counts of the
seed's claims and notes come from here, so the count in the text is the length of this list.

Kinds:
  CLAIM  the seed states it as a finding or a fact (some of its closing notes do too);
  NOTE   a plan or a reminder in the seed's closing notes, not a finding ("Compare ...", "Use
         this to ..."); where a rule tests it, the rule is our reading of the note.
"""

from dataclasses import dataclass

CLAIM = "claim"
NOTE = "note"


@dataclass(frozen=True)
class Statement:
    kind: str
    words: str          # the seed's words, shortened with [...] where long
    tested_by: tuple    # ids of analysis/claims.py rules that decide it, or ()
    left_out: str = ""  # why no rule decides it (LaTeX), when tested_by is empty
    section: str = ""   # the paper's section that discusses it, when no claim names one


STATEMENTS = (
    Statement(CLAIM, "This GIL prevents multicore performance increases using one python "
              "interpreter.", ("gil_threads",)),
    Statement(CLAIM, "Since there is so much code dependent on features that use the GIL it "
              "was not feasible to remove it.", (),
              "History, not a measurement; since CPython 3.13 a free-threaded build without "
              "the GIL exists (PEP~703), so the statement is out of date.", "related"),
    Statement(CLAIM, "[Multiprocessing runs] multiple interpreters that can now work in "
              "parallel. Each process has its own GIL which eliminates contention.",
              ("gil_processes",)),
    Statement(CLAIM, "These communication channels mean that the parallelism that can be used "
              "must be a coarser grain than in OpenMP [...] or CILK+.", ("coarse_grain",)),
    Statement(CLAIM, "The PRAM style algorithm using a reduction tree is significantly out "
              "performed by both serial reduction and a partitioned reduction.",
              ("tree_loses",)),
    Statement(CLAIM, "Because of the overhead of spawning OS processes or pthreads, the library "
              "provides a Pool class.", (),
              "The reason for a design, not a finding. Every experiment creates its pools "
              "before timing, so the cost of spawning is not measured; the cost per task, "
              "which remains once the pool runs, is.", "pool"),
    Statement(CLAIM, "An exception is raised if a user attempts to retrieve a result that has "
              "not yet been computed.", ("async_not_ready",)),
    Statement(CLAIM, "Waiting for all results will give better cache performance as we can "
              "traverse arrays in order [than map\\_async].", (),
              "\\texttt{map\\_async} returns one result holding the whole ordered list, in "
              "\\texttt{multiprocessing} as in our pools (not one object per element, as the "
              "seed describes), so the caller traverses the same array either way; there is "
              "nothing to time.", "pool"),
    Statement(CLAIM, "I seem to have found that log(N) provides a good chunk size.",
              ("log2n_chunk",)),
    Statement(CLAIM, "The flat approach [...] performs better as the size of the partitions "
              "increases. [...] For a fixed p more work elements means better speedup.",
              ("speedup_grows_with_n",)),
    Statement(CLAIM, "I believe this has to do with the overhead associated with forking OS "
              "level processes and function call overhead.", ("tree_overhead",)),
    Statement(CLAIM, "This provides a significant speedup over both the serial version and the "
              "reduction tree versions.", ("partitioned_beats_serial", "tree_loses")),
    Statement(CLAIM, "The scalability of this scan is approximately a factor of two worse than "
              "the partitioned reducer.", ("scan_half",)),
    Statement(CLAIM, "This second pass means that the algorithm has a factor of 2 more work than "
              "the serial algorithm.", ("scan_double_work",)),
    Statement(CLAIM, "There is no attempt to load balance [...]; this will lead to scalability "
              "problems when the scan operation [...] has a high variance in run time.", (),
              "Every scan measured adds numbers, whose cost does not vary (the seed expects no "
              "problem there). An operator of varying cost is not measured; the single-pass "
              "scan, whose workers claim blocks from a counter, would balance it.", "scan"),
    Statement(CLAIM, "The zip builtin [...] makes a list in Python2 but a generator in Python3. "
              "This leads to a slowdown in SCAN.", (),
              "Only Python~3 is installed (Debian~12 has no Python~2), and "
              "\\texttt{Pool.map} turns a generator into a list before it cuts chunks, so the "
              "generator costs $p$ tuples a call in the reference scan.", "scan"),
    Statement(CLAIM, "Since we are using a partitioned approach [...] this saves the second "
              "pass over the data that we make in the general scan.", ("pack_saves_pass",)),
    Statement(CLAIM, "We increase the flop to mop ratio. This should be helpful for achieving "
              "scalability.", ("dot_flop_mop",)),
    Statement(CLAIM, "The clear winner is serial numpy. There is just no way to beat optimized "
              "C BLAS.", ("blas_wins",)),
    Statement(CLAIM, "Map Reduce programming [...] is deadlock free.", ("deadlock_free",)),
    Statement(CLAIM, "We avoid a common problem with Hadoop that forces a reduce phase after "
              "every map phase.", (),
              "A property of the driver's interface: it runs whatever phases the caller "
              "submits (the k-means test runs two map phases with no reduce between); no timing "
              "decides it.",
              "mapreduce"),
    Statement(NOTE, "Compare the performance of a multiprocessing.Array and "
              "multiprocessing.RawArray.", ("locked_costs_more",)),
    Statement(CLAIM, "Arrays have a lock that makes writes atomic.", ("writes_atomic",)),
    Statement(CLAIM, "Concurrent Futures allow for a higher level api but create unexpected "
              "behavior.", (),
              "Not specific enough to test; our pools have one interface, and "
              "\\texttt{concurrent.futures} is not measured.", "mapreduce"),
    Statement(NOTE, "Use this to count words in some big document collection.",
              ("wordcount_scales",)),
)


def tested_ids():
    """The claims of analysis/claims.py the statements name, each once, in the seed's order."""
    ids = []
    for statement in STATEMENTS:
        ids += [i for i in statement.tested_by if i not in ids]
    return ids


def count(kind, tested=None):
    """How many statements of `kind` there are (tested by a rule, or not, when `tested` is
    given)."""
    return sum(1 for s in STATEMENTS if s.kind == kind
               and (tested is None or bool(s.tested_by) == tested))
