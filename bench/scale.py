"""ALS, SGD and Spark's ALS at scale: 200,000 users x 50,000 items, up to 2,000,000 ratings, never dense.

    python bench/scale.py [--sizes 500000 1000000 2000000] [--k 20] [--iters 5] [--methods als sgd spark] [--repeats 3]
                          [--json bench/results/scale.json]

For each number of ratings, generates random (user, item) pairs on the full 200,000 x 50,000
index (items drawn with a long-tailed popularity, like real catalogues) with a rank-5 signal plus
biases and noise, builds an ``mflab.Ratings`` directly from the triplets, and fits ALS (biases,
``--iters`` sweeps) and SGD (biases, ``--iters`` epochs) with k = ``--k``. Each fit runs in its own
child process, so that its peak memory is its own: the table shows

- fit seconds (wall clock, the fit call only), seconds per million ratings per sweep/epoch, and
  the marginal cost of the ratings added since the previous size (flat when time grows linearly);
- peak RSS: the child process's ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end, i.e. the
  whole process (Python, numpy, numba, the generated data and the fit) at its highest;
- fit peak: tracemalloc's peak of the memory allocated during the fit call (numpy arrays included),
  over what was allocated before it.

Spark's ALS (``pyspark.ml.recommendation.ALS``, local mode on every core, 4 user and 4 item blocks)
fits the same ratings with the same k and number of sweeps. Its model has no biases and scales the
ridge by each row's count (ALS-WR), so its training RMSE is not comparable; its cost per sweep is.
Its row adds what only Spark pays: the session's start (``start s``) and the fixed cost of a fit
beyond the sweeps (``fit s`` minus ``sweeps x s/sweep``, where s/sweep comes from a fit with one
sweep, after a first one-sweep fit that warms the JVM up). Its peak memory is the Java process's peak resident set (``VmHWM``) plus the Python
driver's.

``--json`` writes every row to a file; lesson 09 reads ``bench/results/scale.json`` from this script.

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
    return float("nan")


def spark_child(n_ratings: int, k: int, iters: int) -> dict:
    """Spark's ALS in local mode on the same synthetic ratings: start, load, fit, one-sweep fit."""
    import tempfile

    from mflab import spark as mspark

    train = synthetic(n_ratings)
    start = time.perf_counter()
    spark = mspark.session(cores=os.cpu_count() or 2, driver_memory="4g")
    started = time.perf_counter() - start
    from pyspark.ml.recommendation import ALS
    from pyspark.sql.functions import col, pow as spow, sqrt, avg

    with tempfile.TemporaryDirectory() as tmp:  # a file, as a cluster would read from storage
        path = os.path.join(tmp, "ratings.csv")
        np.savetxt(path, np.c_[train.user, train.item, train.value], fmt=["%d", "%d", "%.6f"], delimiter=",")
        frame = spark.read.csv(path, schema="user int, item int, rating float").cache()
        frame.count()

        def fit(sweeps):
            als = ALS(rank=k, regParam=0.05, maxIter=sweeps, userCol="user", itemCol="item", ratingCol="rating",
                      numUserBlocks=4, numItemBlocks=4, seed=0)
            t = time.perf_counter()
            model = als.fit(frame)
            model.userFactors.count()  # fit is lazy at the end: make sure the factors exist
            return model, time.perf_counter() - t

        fit(1)  # warm-up: the JVM compiles Spark's code paths on first use
        _, one = fit(1)
        model, seconds = fit(iters)
        err = model.transform(frame).select(sqrt(avg(spow(col("rating") - col("prediction"), 2)))).first()[0]
        jvm = _vm_hwm_mb(spark.sparkContext._gateway.proc.pid)
        spark.stop()
    per_sweep = (seconds - one) / (iters - 1) if iters > 1 else float("nan")
    return {"seconds": seconds, "per_sweep": per_sweep, "start": started,
            "fit_peak_mb": float("nan"),
            "maxrss_mb": jvm + resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "train_rmse": float(err)}


def child(method: str, n_ratings: int, k: int, iters: int) -> dict:
    """Fit once in this process and return the measurements."""
    if method == "spark":
        return spark_child(n_ratings, k, iters)
    from mflab import Ratings, als, sgd

    if method == "sgd":  # compile (or load from numba's cache) outside the timed region
        sgd.fit(Ratings([0, 1], [1, 0], [1.0, 2.0], 2, 2), 2, epochs=1, seed=0)
    train = synthetic(n_ratings)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    if method == "als":
        model = als.fit(train, k, reg=5.0, reg_bias=1.0, epochs=iters, biases=True, seed=0)
    else:
        model = sgd.fit(train, k, lr=0.005, reg=0.02, epochs=iters, biases=True, seed=0)
    seconds = time.perf_counter() - start
    fit_peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return {"seconds": seconds, "fit_peak_mb": fit_peak / 2**20,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
            "train_rmse": model.history["train_rmse"][-1]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 500_000, 1_000_000, 2_000_000])
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--iters", type=int, default=5, help="ALS sweeps and SGD epochs (default 5)")
    parser.add_argument("--methods", nargs="+", default=["als", "sgd", "spark"], choices=["als", "sgd", "spark"])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; the table shows medians (default 3)")
    parser.add_argument("--json", help="also write every row to this JSON file")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.k, args.iters)))
        return 0

    print(f"{N_USERS:,} users x {N_ITEMS:,} items (dense would be {N_USERS * N_ITEMS * 8 / 1e9:.0f} GB), "
          f"k={args.k}, {args.iters} sweeps/epochs, biases; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"every figure is the median of {args.repeats} runs, each in a fresh process")
    print("peak RSS = ru_maxrss of a child process that generates the data and fits once; "
          "fit peak = tracemalloc peak during the fit\n")
    header = f"{'method':<6}  {'ratings':>10}  {'fit s':>7}  {'s/M/sweep':>9}  {'marginal':>9}  " \
             f"{'peak RSS MB':>11}  {'fit peak MB':>11}  {'train RMSE':>10}"
    print(header)
    print("-" * len(header))
    lines, rows = {}, []
    for method in args.methods:
        previous, points = None, []
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
            r = {key: float(np.median([run[key] for run in runs])) for key in runs[0]}
            per = r["seconds"] / (n / 1e6) / args.iters
            marginal = "" if previous is None else \
                f"{(r['seconds'] - previous[1]) / ((n - previous[0]) / 1e6) / args.iters:9.3f}"
            previous = (n, r["seconds"])
            points.append(previous)
            rows.append({"method": method, "ratings": n, "k": args.k, "sweeps": args.iters, **r})
            print(f"{method:<6}  {n:>10,}  {r['seconds']:7.2f}  {per:9.3f}  {marginal:>9}  {r['maxrss_mb']:11.0f}  "
                  f"{r['fit_peak_mb']:11.0f}  {r['train_rmse']:10.4f}", flush=True)
            if method == "spark":
                print(f"{'':<6}  {'':>10}  Spark: session start {r['start']:.1f} s, {r['per_sweep']:.2f} s per sweep "
                      f"(from a 1-sweep fit), fixed cost of a fit {r['seconds'] - args.iters * r['per_sweep']:.1f} s",
                      flush=True)
        lines[method] = points
    print("\ns/M/sweep: fit seconds per million ratings per sweep (ALS) or epoch (SGD); marginal: the same "
          "for the ratings added since the previous size.")
    print("Straight line through the points, seconds = a + b x (millions of ratings), least squares:")
    for method, points in lines.items():
        if len(points) < 3:
            continue
        n, t = np.array(points, dtype=float).T
        b, a = np.polyfit(n / 1e6, t, 1)
        worst = np.max(np.abs(t - (a + b * n / 1e6)) / t)
        print(f"  {method}: a = {a:.2f} s, b = {b:.2f} s per million ratings; the farthest point is "
              f"{100 * worst:.0f}% off the line")
    print(f"(a is what a fit pays whatever the ratings: ALS solves one small system for each of the "
          f"{N_USERS + N_ITEMS:,} users and items in every sweep.)")
    if args.json:
        meta = {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "users": N_USERS, "items": N_ITEMS}
        with open(args.json, "w") as f:
            json.dump({"machine": meta, "rows": rows}, f, indent=1)
        print(f"rows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
