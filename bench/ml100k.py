"""MovieLens 100K, canonical split u1 (u1.base -> u1.test): mflab against Surprise.

Prints one table: test RMSE and MAE (predictions clipped to 1..5, as Surprise does), fit seconds,
and each fit's time as a multiple of Surprise SVD's in the same run. Run it with

    make bench                              (or)
    python bench/ml100k.py [--repeat N]

Surprise (scikit-surprise) is a benchmark-only dependency (bench/requirements.txt); where it is
not installed the table says so and still lists mflab's rows.

Timing: wall-clock seconds of the fit call only (data loading and Surprise's trainset building are
outside it), the best of ``--repeat`` runs (default 3) for every row alike, each on a freshly built
``Ratings`` so that mflab's per-fit grouping work is counted. numba's one-off compilation (or cache
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
# ALS with k = 20: the setting bench/als_search.py chooses on a validation split of u1.base.
ALS = dict(k=20, reg=15.0, reg_bias=5.0, epochs=15, biases=True)
SVD_K = 20


def fresh(r: Ratings) -> Ratings:
    """A new Ratings with the same data, so cached groupings are not reused across timed fits."""
    return Ratings(r.user, r.item, r.value, r.n_users, r.n_items, scale=r.scale)


def best_time(fit, train, repeat):
    """Best wall-clock seconds of ``fit(train_copy)`` over ``repeat`` runs, and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        copy = fresh(train)
        start = time.perf_counter()
        result = fit(copy)
        best = min(best, time.perf_counter() - start)
    return best, result


def naive_sgd_epoch(train, P, Q, b_u, b_i, mu, lr, reg, order):
    """The obvious version: a Python loop over ratings, numpy for each rating's vectors."""
    for t in order:
        u, i, r = train.user[t], train.item[t], train.value[t]
        e = r - (mu + b_u[u] + b_i[i] + P[u] @ Q[i])
        b_u[u] += lr * (e - reg * b_u[u])
        b_i[i] += lr * (e - reg * b_i[i])
        P[u], Q[i] = P[u] + lr * (e * Q[i] - reg * P[u]), Q[i] + lr * (e * P[u] - reg * Q[i])


def mflab_rows(train, test, repeat):
    rows = []

    def add(name, fit, note=""):
        seconds, model = best_time(fit, train, repeat)
        rows.append((name, model.rmse(test, clip=True), model.mae(test, clip=True), seconds, note))

    add("mflab baseline", lambda tr: baseline.fit(tr),
        "one pass of plain means (the course's); BaselineOnly: 10 regularised ALS passes")
    add(f"mflab svd (k={SVD_K}, fill and factor)", lambda tr: svd.fit(tr, SVD_K))
    a = ALS
    add(f"mflab als (k={a['k']}, reg={a['reg']:g}, reg_bias={a['reg_bias']:g}, {a['epochs']} sweeps)",
        lambda tr: als.fit(tr, a["k"], reg=a["reg"], reg_bias=a["reg_bias"], epochs=a["epochs"],
                           biases=True, seed=0))
    s = SGD
    sgd_kw = dict(lr=s["lr"], reg=s["reg"], epochs=s["epochs"], biases=True, init_scale=s["init_scale"], seed=0)
    add(f"mflab sgd (Surprise SVD defaults, k={s['k']})", lambda tr: sgd.fit(tr, s["k"], **sgd_kw))
    add("mflab sgd (same, shuffle=False: Surprise's order)",
        lambda tr: sgd.fit(tr, s["k"], shuffle=False, **sgd_kw))

    rng = np.random.default_rng(0)
    P = rng.normal(0, s["init_scale"], (train.n_users, s["k"]))
    Q = rng.normal(0, s["init_scale"], (train.n_items, s["k"]))
    b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
    start = time.perf_counter()
    naive_sgd_epoch(train, P, Q, b_u, b_i, train.mean(), s["lr"], s["reg"], rng.permutation(len(train)))
    one_epoch = time.perf_counter() - start
    rows.append((f"naive Python SGD, numpy per rating (1 epoch timed x {s['epochs']})",
                 np.nan, np.nan, one_epoch * s["epochs"], "extrapolated"))
    return rows


def surprise_rows(train, test, repeat):
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
    for name, make in (("Surprise BaselineOnly (defaults)", lambda: surprise.BaselineOnly(verbose=False)),
                       ("Surprise SVD (defaults, k=100)", lambda: surprise.SVD(random_state=0))):
        best = np.inf
        for _ in range(repeat):
            trainset = data.build_full_trainset()
            algo = make()
            start = time.perf_counter()
            algo.fit(trainset)
            best = min(best, time.perf_counter() - start)
        estimates = np.array([p.est for p in algo.test(testset)])  # clipped to the scale by default
        err = test.value - estimates
        rows.append((name, float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err))), best, ""))
    return rows, surprise.__version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per row; the best is shown (default 3)")
    args = parser.parse_args(argv)

    train, test = mflab.datasets.movielens_100k_split("u1")
    print(f"MovieLens 100K u1: {len(train)} training ratings -> {len(test)} test ratings; "
          f"python {platform.python_version()}, numpy {np.__version__}, mflab {mflab.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")

    start = time.perf_counter()  # numba compiles (or loads from its cache) on first use
    sgd.fit(Ratings([0, 1], [1, 0], [1.0, 2.0], 2, 2), 2, epochs=1, seed=0)
    print(f"numba first call (compile or cache load, not in the table): {time.perf_counter() - start:.2f} s")

    rows = mflab_rows(train, test, args.repeat)
    reference = surprise_rows(train, test, args.repeat)
    if reference is None:
        print("Surprise is not installed in this Python, so its rows and the time ratio are missing. "
              "To include them: python3 -m venv bench/.venv && bench/.venv/bin/pip install -e . "
              "-r bench/requirements.txt && bench/.venv/bin/python bench/ml100k.py")
        svd_seconds = np.nan
    else:
        reference, version = reference
        print(f"Surprise {version}")
        rows += reference
        svd_seconds = reference[-1][3]

    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'method':<{width}}  {'RMSE':>6}  {'MAE':>6}  {'fit s':>7}  {'x Surprise SVD':>14}")
    print("-" * (width + 43))
    for name, rmse, mae, seconds, note in rows:
        ratio = seconds / svd_seconds
        fmt = lambda x, spec: "   n/a" if np.isnan(x) else format(x, spec)  # noqa: E731
        print(f"{name:<{width}}  {fmt(rmse, '6.4f')}  {fmt(mae, '6.4f')}  {seconds:7.3f}  "
              f"{'n/a' if np.isnan(ratio) else format(ratio, '.2f'):>14}{'  ' + note if note else ''}")
    print(f"\nfit seconds: best of {args.repeat} runs (wall clock); RMSE/MAE on u1.test, predictions clipped to "
          f"{train.scale}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
