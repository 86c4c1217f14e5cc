"""Draws one figure of the paper from one or two runs.

    /usr/bin/python3 -m analysis.draw_figure NAME --run results/raw/RUN [--run ...] --out FILE.pdf

NAME is a module of analysis/figures/ (one per experiment; it says which experiments it reads).
Bad input stops with a message naming the file and what is wrong, and writes nothing.
"""

import argparse
import importlib
import sys
from pathlib import Path

from analysis.style import plt  # first: it selects the non-interactive backend
from analysis.runs import InputError, load_runs

FIGURES = ("pool_overhead", "gil_baseline", "map_chunksize", "reduce_tree_vs_partitioned",
           "scan_two_pass", "scan_work", "pack", "dot_flop_mop", "matvec_blas", "shared_array_lock",
           "mapreduce_wordcount", "grain")


def figure_module(name):
    if name not in FIGURES:
        raise KeyError(f"unknown figure '{name}'; figures: {', '.join(FIGURES)}")
    return importlib.import_module(f"analysis.figures.{name}")


def draw(name, run_paths, out):
    module = figure_module(name)
    runs = load_runs(run_paths, module.EXPERIMENTS)
    try:
        fig = module.draw(runs)
    except LookupError as e:
        raise InputError(f"{', '.join(str(r.path) for r in runs)}: figure {name}: {e}") from None
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.pdf")
    fig.savefig(tmp, format="pdf")
    plt.close(fig)
    tmp.replace(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=FIGURES)
    parser.add_argument("--run", action="append", required=True, help="a run folder")
    parser.add_argument("--out", required=True, help="the PDF to write")
    args = parser.parse_args(argv)
    try:
        draw(args.name, args.run, args.out)
    except InputError as e:
        print(f"figure {args.name}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
