"""MovieLens 100K, canonical split u1 (u1.base -> u1.test): mflab against Surprise.

Prints one table: test RMSE and MAE (predictions clipped to 1..5, as Surprise does) as the mean and
standard deviation over ``--seeds`` seeds (default 3; one seed, one run), fit seconds as the median
of those runs, and each fit's time as a multiple of Surprise SVD's median in the same run. One seed
is not a result: two implementations of the same SGD differ by about 0.002 RMSE from seed to seed.
Run it with

    make bench                              (or)
    python bench/ml100k.py [--seeds N]

Surprise (scikit-surprise) is a benchmark-only dependency (bench/requirements.txt); where it is
not installed the table says so and still lists mflab's rows.

Timing: seconds of the fit call only (data loading and Surprise's trainset building are outside it),
the median of the runs for every row alike (deterministic fits are run as often), each on a freshly
built ``Ratings`` so that mflab's per-fit grouping work is counted. Two clocks: wall clock (the
comparison that counts), and the process's CPU time summed over its threads (on a busy shared
machine the wall clock mostly measures the other users; Surprise runs on one core, mflab's SGD
hands its per-epoch bookkeeping (history RMSE, next shuffle) to a second thread, so there its CPU
time exceeds its wall time). The CPU that numba compiled for, and its vector features, are printed:
SGD's speed depends on them. To compile for another CPU, give numba its name and (empty) features
and a cache of its own, e.g. ``NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES= NUMBA_CACHE_DIR=/tmp/nbc-haswell``
(AVX2, no AVX-512) or ``NUMBA_CPU_NAME=generic NUMBA_CACHE_DIR=/tmp/nbc-generic`` (no AVX at all). numba's one-off compilation (or cache
load) happens before timing and is printed separately. The naive pure-Python SGD is timed for one
epoch and multiplied by the epoch count: it is an extrapolation, and labelled as one.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

import mflab
from mflab import Ratings, als, baseline, sgd, svd

# The reference settings: Surprise SVD's defaults (k=100, 20 epochs, lr 0.005, reg 0.02, init 0.1).
SGD = dict(k=100, lr=0.005, reg=0.02, epochs=20, biases=True, init_scale=0.1)
# ALS: the setting bench/als_search.py chooses on a validation split of u1.base (k=10).
ALS = dict(k=10, reg=15.0, reg_bias=5.0, epochs=15, biases=True)
SVD_K = 20


def fresh(r: Ratings) -> Ratings:
    """A new Ratings with the same data, so cached groupings are not reused across timed fits."""
    return Ratings(r.user, r.item, r.value, r.n_users, r.n_items, scale=r.scale)


class Clock:
    """Wall-clock and CPU seconds of one block: ``with Clock() as c: ...``; then ``c.seconds``."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = (time.perf_counter() - self.wall, time.process_time() - self.cpu)


def runs(fit, train, test, seeds):
    """Fit once per seed on a fresh copy: (rmse list, mae list, (wall, cpu) seconds list)."""
    rmse, mae, seconds = [], [], []
    for seed in seeds:
        copy = fresh(train)
        with Clock() as clock:
            model = fit(copy, seed)
        seconds.append(clock.seconds)
        rmse.append(model.rmse(test, clip=True))
        mae.append(model.mae(test, clip=True))
    return rmse, mae, seconds


def naive_sgd_epoch(train, P, Q, b_u, b_i, mu, lr, reg, order):
    """The obvious version: a Python loop over ratings, numpy for each rating's vectors."""
    for t in order:
        u, i, r = train.user[t], train.item[t], train.value[t]
        e = r - (mu + b_u[u] + b_i[i] + P[u] @ Q[i])
        b_u[u] += lr * (e - reg * b_u[u])
        b_i[i] += lr * (e - reg * b_i[i])
        P[u], Q[i] = P[u] + lr * (e * Q[i] - reg * P[u]), Q[i] + lr * (e * P[u] - reg * Q[i])


def mflab_rows(train, test, seeds):
    rows = []

    def add(name, fit, note=""):
        rows.append((name, *runs(fit, train, test, seeds), note))

    add("mflab baseline", lambda tr, seed: baseline.fit(tr),
        "one pass of plain means; BaselineOnly: 10 regularised ALS passes")
    add(f"mflab svd (k={SVD_K}, fill and factor)", lambda tr, seed: svd.fit(tr, SVD_K))
    a = ALS
    add(f"mflab als (k={a['k']}, reg={a['reg']:g}, reg_bias={a['reg_bias']:g}, {a['epochs']} sweeps)",
        lambda tr, seed: als.fit(tr, a["k"], reg=a["reg"], reg_bias=a["reg_bias"], epochs=a["epochs"],
                                 biases=True, seed=seed))
    s = SGD
    sgd_kw = dict(lr=s["lr"], reg=s["reg"], epochs=s["epochs"], biases=True, init_scale=s["init_scale"])
    add(f"mflab sgd (Surprise SVD defaults, k={s['k']})", lambda tr, seed: sgd.fit(tr, s["k"], seed=seed, **sgd_kw))
    add("mflab sgd (same, shuffle=False: Surprise's order)",
        lambda tr, seed: sgd.fit(tr, s["k"], shuffle=False, seed=seed, **sgd_kw))

    times = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        P = rng.normal(0, s["init_scale"], (train.n_users, s["k"]))
        Q = rng.normal(0, s["init_scale"], (train.n_items, s["k"]))
        b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
        with Clock() as clock:
            naive_sgd_epoch(train, P, Q, b_u, b_i, train.mean(), s["lr"], s["reg"], rng.permutation(len(train)))
        times.append(tuple(t * s["epochs"] for t in clock.seconds))
    rows.append((f"naive Python SGD, numpy per rating (1 epoch timed x {s['epochs']})",
                 [np.nan], [np.nan], times, "extrapolated"))
    return rows


def numba_target() -> str:
    """The CPU numba compiles for: its name and the vector features that matter for SGD.

    numba takes the name from ``NUMBA_CPU_NAME`` (default: the host's) and the features from
    ``NUMBA_CPU_FEATURES``; unset, that is the *host's* feature list even when a name is given
    (``NUMBA_CPU_NAME=haswell`` alone still compiles AVX-512 here), and empty, the features the name
    implies. So a Haswell is ``NUMBA_CPU_NAME=haswell NUMBA_CPU_FEATURES=`` and a CPU without AVX
    ``NUMBA_CPU_NAME=generic``.
    """
    from mflab import _numba

    if not _numba.ENABLED:
        return "numba: off (plain Python loops)"
    import numba
    from llvmlite import binding

    name = numba.config.CPU_NAME or binding.get_host_cpu_name()
    given = numba.config.CPU_FEATURES
    if given == "":
        vector = ("none beyond the x86-64 baseline (SSE2)" if name == "generic" else
                  f"the defaults of CPU {name!r} (NUMBA_CPU_FEATURES is empty)")
    else:
        features = (given if given is not None else binding.get_host_cpu_features().flatten()).split(",")
        vector = ", ".join(f for f in ("sse4.2", "avx", "avx2", "fma", "avx512f") if f"+{f}" in features)
        vector = (vector or "none beyond the x86-64 baseline (SSE2)") + (
            " (NUMBA_CPU_FEATURES)" if given is not None else " (the host's)")
    origin = "NUMBA_CPU_NAME" if numba.config.CPU_NAME else "the host"
    return (f"numba {numba.__version__} compiles for CPU {name!r} (from {origin}); vector features: {vector}; "
            f"LLVM {'.'.join(map(str, binding.llvm_version_info))}")


def surprise_rows(train, test, seeds):
    """Surprise's BaselineOnly and SVD with their defaults, or None if Surprise is not installed."""
    try:
        import pandas as pd
        import surprise
    except ImportError:
        return None
    frame = pd.DataFrame({"user": train.user, "item": train.item, "rating": train.value})
    data = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=train.scale))
    testset = list(zip(test.user.tolist(), test.item.tolist(), test.value.tolist()))
    rows = []
    for name, make in (("Surprise BaselineOnly (defaults)", lambda seed: surprise.BaselineOnly(verbose=False)),
                       ("Surprise SVD (defaults, k=100)", lambda seed: surprise.SVD(random_state=seed))):
        rmse, mae, seconds = [], [], []
        for seed in seeds:
            trainset = data.build_full_trainset()
            algo = make(seed)
            with Clock() as clock:
                algo.fit(trainset)
            seconds.append(clock.seconds)
            estimates = np.array([p.est for p in algo.test(testset)])  # clipped to the scale by default
            err = test.value - estimates
            rmse.append(float(np.sqrt(np.mean(err**2))))
            mae.append(float(np.mean(np.abs(err))))
        rows.append((name, rmse, mae, seconds, ""))
    return rows, surprise.__version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds (= timed runs) per row (default 3, at least 3)")
    args = parser.parse_args(argv)
    seeds = list(range(max(3, args.seeds)))

    train, test = mflab.datasets.movielens_100k_split("u1")
    print(f"MovieLens 100K u1: {len(train)} training ratings -> {len(test)} test ratings; "
          f"python {platform.python_version()}, numpy {np.__version__}, mflab {mflab.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")

    start = time.perf_counter()  # numba compiles (or loads from its cache) on first use
    sgd.fit(Ratings([0, 1], [1, 0], [1.0, 2.0], 2, 2), 2, epochs=1, seed=0)
    print(f"numba first call (compile or cache load, not in the table): {time.perf_counter() - start:.2f} s")
    print(numba_target())

    rows = mflab_rows(train, test, seeds)
    reference = surprise_rows(train, test, seeds)
    if reference is None:
        print("Surprise is not installed in this Python, so its rows and the time ratio are missing. "
              "To include them: make bench (it builds bench/.venv with bench/requirements.txt)")
        svd_seconds = np.array([np.nan, np.nan])
    else:
        reference, version = reference
        print(f"Surprise {version}")
        rows += reference
        svd_seconds = np.median(np.array(reference[-1][3]), axis=0)

    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'method':<{width}}  {'RMSE (mean +- sd)':>17}  {'MAE (mean)':>10}  {'fit s':>7}  {'cpu s':>7}  "
          f"{'x Surprise SVD (wall, cpu)':>26}")
    print("-" * (width + 77))
    for name, rmse, mae, seconds, note in rows:
        median = np.median(np.array(seconds), axis=0)
        ratio = median / svd_seconds
        accuracy = ("n/a" if np.isnan(rmse[0]) else f"{np.mean(rmse):.4f} +- {np.std(rmse):.4f}")
        mae_text = "n/a" if np.isnan(mae[0]) else f"{np.mean(mae):.4f}"
        ratios = "n/a" if np.isnan(ratio).any() else f"{ratio[0]:.2f}, {ratio[1]:.2f}"
        print(f"{name:<{width}}  {accuracy:>17}  {mae_text:>10}  {median[0]:7.3f}  {median[1]:7.3f}  "
              f"{ratios:>26}{'  ' + note if note else ''}")
    print(f"\nseeds {seeds}: RMSE/MAE mean (and standard deviation) over them on u1.test, predictions "
          f"clipped to {train.scale}; fit seconds: median of the {len(seeds)} runs, wall clock and "
          f"process CPU time; load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
