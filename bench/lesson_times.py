"""How long each lesson takes to run, top to bottom, in a fresh kernel (the lesson standard: < 60 s).

    .venv/bin/python bench/lesson_times.py [--runs 3] [notebooks/NN_x.ipynb ...]

Each lesson is executed by nbconvert's ExecutePreprocessor in a fresh kernel of this environment,
on a copy (the stored notebook is never written), ``--runs`` times; the table gives the median and
the spread of the wall-clock seconds, the kernel's start included, and the load average before and
after, since a busy machine makes every figure larger. Exits 1 when a lesson's median is 60 s or more.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 60.0


def run_once(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    runner = ExecutePreprocessor(timeout=600, kernel_name="python3", record_timing=False,
                                 store_widget_state=False)
    start = time.perf_counter()
    runner.preprocess(nb, {"metadata": {"path": str(path.parent)}})
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    os.environ.pop("MPLBACKEND", None)  # the kernels draw with the inline backend, as in the lessons
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.runs} run(s) per lesson, median (min-max) s")
    slow, total = [], 0.0
    for path in notebooks:
        seconds = [run_once(path) for _ in range(args.runs)]
        median = statistics.median(seconds)
        total += median
        flag = "  <- 60 s or more" if median >= LIMIT else ""
        print(f"{path.stem:32s} {median:6.1f}  ({min(seconds):.1f}-{max(seconds):.1f}){flag}", flush=True)
        if median >= LIMIT:
            slow.append(path.stem)
    print(f"{'all lessons':32s} {total:6.1f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
