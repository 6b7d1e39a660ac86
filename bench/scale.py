"""ALS, SGD and Spark's ALS at scale: 200,000 users x 50,000 items, up to 2,000,000 ratings, never dense.

    python bench/scale.py [--sizes 250000 500000 1000000 2000000] [--k 20] [--iters 5]
                          [--methods als als-wr sgd spark] [--repeats 3] [--json bench/results/scale.json]

For each number of ratings, generates random (user, item) pairs on the full 200,000 x 50,000
index (items drawn with a long-tailed popularity, like real catalogues) with a rank-5 signal plus
biases and noise, builds an ``mflab.Ratings`` directly from the triplets, and fits, with k = ``--k``:

- ``als``: mflab's ALS with biases and plain lambda (the series' model, lessons 04-06);
- ``als-wr``: mflab's ALS with Spark's model: no biases, lambda scaled by each row's count
  (``reg_scaling="count"``, ALS-WR), the same regParam as Spark's;
- ``sgd``: mflab's compiled SGD with biases (Surprise's defaults for lr and reg);
- ``spark``: ``pyspark.ml.recommendation.ALS`` in local mode on every core, 4 user and 4 item
  blocks, the ratings read from a CSV file as a cluster reads a table.

Every fit runs in a fresh child process, ``--repeats`` times, and every figure is the median over
those runs. In each child the same model is fitted with one sweep (or epoch) and with ``--iters``:
``s/sweep`` is the difference divided by ``iters - 1`` (what one more sweep costs) and ``fixed s``
the rest of the ``--iters`` fit (grouping the ratings, building Spark's blocks, planning its
jobs). Spark's child fits once with one sweep first, to warm its Java code up, and also reports
the session's start (``start s``), which a notebook pays once. Peak memory:

- peak RSS: the child's ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the whole process (Python,
  numpy, numba, the generated data and the fits) at its highest; for Spark, the Java process's
  peak resident set (``VmHWM``) plus the Python driver's;
- fit peak (mflab only): tracemalloc's peak of the memory allocated during a one-sweep fit, over
  what was allocated before it (measured in a separate fit, so that tracing slows no timed fit).

At the end a straight line ``s/sweep = a + b x (millions of ratings)`` is fitted per method, and
the sizes at which Spark's lines cross mflab's (``als-wr``) are printed: per sweep, and for a
whole fit of ``--iters`` sweeps with and without Spark's start. A crossover beyond the largest size
measured is an extrapolation and is said to be one. ``--json`` writes the rows and the lines
(``make bench`` keeps them in ``bench/results/scale.json``, which the README's Benchmarks section
cites; lesson 12 measures a small version of the same thing itself).

A users x items float array would be 200,000 x 50,000 x 8 bytes = 80 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

N_USERS, N_ITEMS, RANK = 200_000, 50_000, 5


def synthetic(n_ratings: int, seed: int = 0):
    """COO triplets with a low-rank signal, as an mflab.Ratings; no dense matrix anywhere."""
    from mflab import Ratings

    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(10, N_ITEMS + 10) ** 0.8  # long tail: the top item ~ 20x the median one
    popularity /= popularity.sum()
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_ratings:  # draw pairs, drop repeats, top up
        need = int((n_ratings - len(keys)) * 1.05) + 100
        users = rng.integers(0, N_USERS, need)
        items = rng.choice(N_ITEMS, need, p=popularity)
        keys = np.unique(np.r_[keys, users * N_ITEMS + items])
    keys = rng.permutation(keys)[:n_ratings]
    user, item = keys // N_ITEMS, keys % N_ITEMS
    U = rng.normal(0, 1 / np.sqrt(RANK), (N_USERS, RANK))
    V = rng.normal(0, 1 / np.sqrt(RANK), (N_ITEMS, RANK))
    b_u, b_i = rng.normal(0, 0.3, N_USERS), rng.normal(0, 0.3, N_ITEMS)
    value = 3.5 + b_u[user] + b_i[item] + np.einsum("nk,nk->n", U[user], V[item]) + rng.normal(0, 0.5, n_ratings)
    return Ratings(user, item, value, N_USERS, N_ITEMS)


def _vm_hwm_mb(pid: int) -> float:
    """Peak resident set of a running process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line: cannot measure the process's peak memory")


SPARK_REG = 0.05  # Spark's regParam, and als-wr's reg: the same count-scaled ridge


def _per_sweep(one: float, full: float, iters: int) -> tuple[float, float]:
    """(seconds per extra sweep, fixed seconds of a fit) from a 1-sweep and an ``iters``-sweep fit."""
    if iters < 2:
        raise ValueError(f"--iters must be at least 2 to tell a sweep's cost from a fit's fixed cost; got {iters}")
    per = (full - one) / (iters - 1)
    return per, full - iters * per


def spark_child(n_ratings: int, k: int, iters: int) -> dict:
    """Spark's ALS in local mode on the same synthetic ratings: start, load, warm-up, 1-sweep, full fit."""
    import tempfile

    from mflab import spark as mspark

    train = synthetic(n_ratings)
    start = time.perf_counter()
    # Java's default compilers (not the lesson's quick-start options): the large fits here run long
    # enough for the optimising compiler to pay off, and the stored results were measured with it
    spark = mspark.session(cores=os.cpu_count() or 2, driver_memory="4g", java_options="-Xss16m")
    started = time.perf_counter() - start
    from pyspark.ml.recommendation import ALS
    from pyspark.sql.functions import avg, col, pow as spow, sqrt

    with tempfile.TemporaryDirectory() as tmp:  # a file, as a cluster would read from storage
        path = os.path.join(tmp, "ratings.csv")
        np.savetxt(path, np.c_[train.user, train.item, train.value], fmt=["%d", "%d", "%.6f"], delimiter=",")
        frame = spark.read.csv(path, schema="user int, item int, rating float").cache()
        frame.count()

        def fit(sweeps):
            als = ALS(rank=k, regParam=SPARK_REG, maxIter=sweeps, userCol="user", itemCol="item",
                      ratingCol="rating", numUserBlocks=4, numItemBlocks=4, seed=0)
            t = time.perf_counter()
            model = als.fit(frame)
            model.userFactors.count()  # the factors exist (a no-op: fit materialises them)
            return model, time.perf_counter() - t

        fit(1)  # warm-up: the JVM compiles Spark's code paths on first use
        _, one = fit(1)
        model, seconds = fit(iters)
        err = model.transform(frame).select(sqrt(avg(spow(col("rating") - col("prediction"), 2)))).first()[0]
        jvm = _vm_hwm_mb(spark.sparkContext._gateway.proc.pid)
        spark.stop()
    per_sweep, fixed = _per_sweep(one, seconds, iters)
    return {"seconds": seconds, "per_sweep": per_sweep, "fixed": fixed, "start": started,
            "fit_peak_mb": None,  # tracemalloc sees Python's heap, not the JVM's: only maxrss_mb counts
            "maxrss_mb": jvm + resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "train_rmse": float(err)}


def child(method: str, n_ratings: int, k: int, iters: int) -> dict:
    """Fit in this process (1 sweep, ``iters`` sweeps, 1 sweep traced) and return the measurements."""
    if method == "spark":
        return spark_child(n_ratings, k, iters)
    from mflab import Ratings, als, sgd

    if method == "sgd":  # compile (or load from numba's cache) outside the timed region
        sgd.fit(Ratings([0, 1], [1, 0], [1.0, 2.0], 2, 2), 2, epochs=1, seed=0)
    train = synthetic(n_ratings)

    def fit(sweeps):
        if method == "als":
            return als.fit(train, k, reg=5.0, reg_bias=1.0, epochs=sweeps, biases=True, seed=0)
        if method == "als-wr":
            return als.fit(train, k, reg=SPARK_REG, reg_scaling="count", epochs=sweeps, biases=False, seed=0)
        return sgd.fit(train, k, lr=0.005, reg=0.02, epochs=sweeps, biases=True, seed=0)

    times = {}
    for sweeps in (1, iters):
        start = time.perf_counter()
        model = fit(sweeps)
        times[sweeps] = time.perf_counter() - start
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fit(1)
    fit_peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    per_sweep, fixed = _per_sweep(times[1], times[iters], iters)
    return {"seconds": times[iters], "per_sweep": per_sweep, "fixed": fixed, "fit_peak_mb": fit_peak / 2**20,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
            "train_rmse": model.history["train_rmse"][-1]}


def line(rows, method, key):
    """Least-squares ``key = a + b x (millions of ratings)`` over one method's rows: (a, b, worst rel. error)."""
    part = [r for r in rows if r["method"] == method]
    if len(part) < 2:
        return None
    n = np.array([r["ratings"] for r in part], dtype=float) / 1e6
    y = np.array([r[key] for r in part], dtype=float)
    b, a = np.polyfit(n, y, 1)
    return float(a), float(b), float(np.max(np.abs(y - (a + b * n)) / y))


def crossing(mine, theirs):
    """Millions of ratings from which line ``theirs`` (a, b) stays below line ``mine``; None if it never does."""
    (a1, b1), (a2, b2) = mine, theirs
    if b2 >= b1:  # grows at least as fast: above mine for large tables, whatever the offsets
        return None
    return max(0.0, (a2 - a1) / (b1 - b2))


def crossovers(rows, iters, largest):
    """Where Spark's ALS overtakes mflab's (als-wr): per sweep, per fit, per fit with the session's start."""
    lines = {key: {m: line(rows, m, key) for m in ("als-wr", "spark")} for key in ("per_sweep", "seconds")}
    spark_rows = [r for r in rows if r["method"] == "spark"]
    if any(v is None for per in lines.values() for v in per.values()) or not spark_rows:
        return {}
    start = float(np.median([r["start"] for r in spark_rows]))
    mine = lines["seconds"]["als-wr"][:2]
    theirs = lines["seconds"]["spark"][:2]
    out = {"per_sweep": crossing(lines["per_sweep"]["als-wr"][:2], lines["per_sweep"]["spark"][:2]),
           "fit": crossing(mine, theirs),
           "fit_and_start": crossing(mine, (theirs[0] + start, theirs[1])),
           "largest_measured": largest / 1e6, "iters": iters, "spark_start": start}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 500_000, 1_000_000, 2_000_000])
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--iters", type=int, default=5, help="ALS sweeps and SGD epochs (default 5)")
    parser.add_argument("--methods", nargs="+", default=["als", "als-wr", "sgd", "spark"],
                        choices=["als", "als-wr", "sgd", "spark"])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the table shows medians (default 3)")
    parser.add_argument("--json", help="also write every row to this JSON file")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.k, args.iters)))
        return 0

    load = os.getloadavg()
    print(f"{N_USERS:,} users x {N_ITEMS:,} items (dense would be {N_USERS * N_ITEMS * 8 / 1e9:.0f} GB), "
          f"k={args.k}, {args.iters} sweeps/epochs; {os.cpu_count()} CPUs, load average {load[0]:.2f} at the start")
    print(f"every figure is the median of {args.repeats} runs, each in a fresh process")
    print("s/sweep = (fit with --iters sweeps - fit with 1) / (iters - 1); fixed s = the rest of the fit; "
          "peak RSS = the child's highest resident memory\n")
    header = f"{'method':<6}  {'ratings':>10}  {'fit s':>7}  {'s/sweep':>8}  {'fixed s':>7}  {'s/M/sweep':>9}  " \
             f"{'peak RSS MB':>11}  {'fit peak MB':>11}  {'train RMSE':>10}"
    print(header)
    print("-" * len(header))
    rows = []
    for method in args.methods:
        for n in sorted(args.sizes):
            runs = []
            for _ in range(args.repeats):  # each run in a fresh process; the median of each figure
                out = subprocess.run([sys.executable, __file__, "--k", str(args.k), "--iters", str(args.iters),
                                      "--child", method, str(n)], capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"{method:<6}  {n:>10,}  failed:\n{out.stderr[-3000:]}")
                    break
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            if len(runs) < args.repeats:
                continue
            r = {key: None if runs[0][key] is None else float(np.median([run[key] for run in runs]))
                 for key in runs[0]}
            rows.append({"method": method, "ratings": n, "k": args.k, "sweeps": args.iters, **r})
            print(f"{method:<6}  {n:>10,}  {r['seconds']:7.2f}  {r['per_sweep']:8.3f}  {r['fixed']:7.2f}  "
                  f"{r['per_sweep'] / (n / 1e6):9.3f}  {r['maxrss_mb']:11.0f}  "
                  f"{'n/a' if r['fit_peak_mb'] is None else format(r['fit_peak_mb'], '.0f'):>11}  "
                  f"{r['train_rmse']:10.4f}" + (f"   (session start {r['start']:.1f} s)" if method == "spark" else ""),
                  flush=True)
    load_end = os.getloadavg()
    print("\nStraight lines through the points, y = a + b x (millions of ratings), least squares:")
    fits = {}
    for method in args.methods:
        for key, what in (("per_sweep", "s/sweep"), ("seconds", "fit s")):
            got = line(rows, method, key)
            if got is None:
                continue
            fits.setdefault(method, {})[key] = got
            print(f"  {method:<6} {what:<7}: a = {got[0]:.3f} s, b = {got[1]:.3f} s per million ratings; "
                  f"farthest point {100 * got[2]:.0f}% off the line")
    cross = crossovers(rows, args.iters, max(args.sizes))
    if cross:
        def say(m):
            if m is None:
                return "never (its line grows at least as fast)"
            where = "measured" if m <= cross["largest_measured"] else "extrapolated beyond the sizes measured"
            return f"from about {m:.1f} million ratings ({where})"
        print(f"\nSpark's ALS against mflab's ALS-WR (the same model), on this machine:")
        print(f"  per sweep:                          {say(cross['per_sweep'])}")
        print(f"  a whole fit of {args.iters} sweeps:            {say(cross['fit'])}")
        print(f"  a whole fit plus the session start: {say(cross['fit_and_start'])}")
    print(f"load average {load_end[0]:.2f} at the end")
    if args.json:
        meta = {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "users": N_USERS, "items": N_ITEMS,
                "load_start": round(load[0], 2), "load_end": round(load_end[0], 2), "repeats": args.repeats}
        with open(args.json, "w") as f:
            json.dump({"machine": meta, "rows": rows, "lines": fits, "crossover": cross}, f, indent=1,
                      allow_nan=False)  # strict JSON: a measurement that does not exist is null
        print(f"rows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
