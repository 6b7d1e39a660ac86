"""Implicit feedback on MovieLens 100K: mflab.implicit against the `implicit` library, in one run.

MovieLens is turned into "who watched what" (every rating is one interaction, value 1). Both
libraries fit the same models from the same starting factors with the same settings, on two splits
(leave-last-out: each user's latest interaction held out; per-user 80/20). Reported: precision@10
and NDCG@10 (mean and standard deviation over the seeds; training items excluded from every top 10,
the same metric code for both) and fit seconds (median over the seeds, and for ALS over three fits
per seed; mflab and the library fit in turn, so both see the same machine load; numba's compilation
is done before timing, as the library's extension is compiled at install). Timings on a shared
machine move with its load, printed at the start and the end. "Same settings" takes three steps:

- Confidence. mflab uses Hu et al.'s ``c = 1 + alpha r``; the library takes the matrix it is given
  times its ``alpha`` as ``c`` itself. The library is given ``1 + ALPHA r`` with ``alpha=1``.
- Starting factors. Each seed draws one start, as the library draws its own (ALS: uniform [0, 0.01);
  BPR: uniform (-0.5, 0.5) / k, item bias 0), and passes it to both.
- BPR's negatives. The library draws a negative as the item of a random interaction, i.e. in
  proportion to popularity; mflab's default is Rendle's uniform draw over the catalogue. The
  comparison uses ``negatives="popularity"``; mflab's default is shown on its own row.

Both run on every core (the library with OpenMP, mflab's CG with numba's prange); BLAS is limited to
one thread for the library, as it asks. ALS is shown in float32 (the library's default) and float64
(mflab's); mflab's BPR is float64 only, the library's float32 only. The library's BPR updates in
parallel without locks (Hogwild), mflab's sequentially, so the two differ by sampling noise
(compare the differences with the +- columns).

    make bench        (or)        python bench/implicit_ml100k.py [--seeds 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import mflab
from mflab import Factorization, Ratings, baseline, implicit, metrics, splits

K, REG, ALPHA, ALS_ITERS = 64, 0.01, 40.0, 15
BPR = dict(lr=0.05, reg=0.01, epochs=100)
ALS_REPEATS = 3


def starts(train, name, seed):
    """The starting (users, items) factors both libraries get for one seed, drawn as the library does."""
    rng = np.random.default_rng(seed)
    if name == "als":
        P0, Q0 = rng.random((train.n_users, K)) * 0.01, rng.random((train.n_items, K)) * 0.01
    else:
        P0, Q0 = (rng.random((train.n_users, K)) - 0.5) / K, (rng.random((train.n_items, K)) - 0.5) / K
    P0[train.user_counts() == 0] = 0.0
    Q0[train.item_counts() == 0] = 0.0
    return P0, Q0


def reference(train, name, init, dtype, seed):
    """The `implicit` library's model as a Factorization (its fit timed), or None when not installed."""
    try:
        import implicit as lib
        from scipy.sparse import csr_matrix
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None, 0.0
    P0, Q0 = init
    if name == "als":
        confidence = csr_matrix((1 + ALPHA * train.value, (train.user, train.item)), shape=train.shape)
        model = lib.cpu.als.AlternatingLeastSquares(factors=K, regularization=REG, alpha=1.0,
                                                    iterations=ALS_ITERS, dtype=dtype)
        model.user_factors, model.item_factors = P0.astype(dtype), Q0.astype(dtype)
        data = confidence
    else:
        data = csr_matrix((train.value, (train.user, train.item)), shape=train.shape)
        model = lib.cpu.bpr.BayesianPersonalizedRanking(factors=K, learning_rate=BPR["lr"],
                                                        regularization=BPR["reg"],
                                                        iterations=BPR["epochs"], dtype=dtype,
                                                        random_state=seed)  # its sampling
        # its last column is the item bias (user side: a constant 1), which starts at 0 like mflab's
        model.user_factors = np.hstack([P0, np.ones((len(P0), 1))]).astype(dtype)
        model.item_factors = np.hstack([Q0, np.zeros((len(Q0), 1))]).astype(dtype)
    with threadpool_limits(1, "blas"):  # as the library asks: its own threads, not BLAS's
        start = time.perf_counter()
        model.fit(data, show_progress=False)
        seconds = time.perf_counter() - start
    return Factorization(np.asarray(model.user_factors, float), np.asarray(model.item_factors, float)), seconds


def ours(train, name, init, dtype, seed, negatives="popularity"):
    start = time.perf_counter()
    if name == "als":
        model = implicit.als.fit(train, K, reg=REG, alpha=ALPHA, epochs=ALS_ITERS, init=init, dtype=dtype)
    else:
        model = implicit.bpr.fit(train, K, init=init, negatives=negatives, seed=seed, **BPR)
    return model, time.perf_counter() - start


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per row (default 5)")
    seeds = range(parser.parse_args().seeds)
    ml = mflab.datasets.movielens_100k()
    R = ml.to_ratings()
    watched = Ratings(R.user, R.item, np.ones(len(R)), R.n_users, R.n_items)
    split_list = {"leave-last-out": splits.leave_last_out(watched, ml.ratings["timestamp"].to_numpy()),
                  "per-user 80/20": splits.per_user_split(watched, 0.2, seed=0)}
    tiny = Ratings([0, 1], [0, 1], [1.0, 1.0], 2, 3)  # numba compiles (or loads its cache) outside the timing
    implicit.bpr.fit(tiny, 2, epochs=1, seed=0)
    for dtype in ("float32", "float64"):
        implicit.als.fit(tiny, 2, epochs=1, seed=0, dtype=dtype)
    print(f"MovieLens 100K as implicit feedback; k={K}, reg={REG}, alpha={ALPHA}, ALS {ALS_ITERS} "
          f"iterations (CG, 3 steps), BPR {BPR}; seeds {list(seeds)}; {os.cpu_count()} cores, {load()}")
    rows = [("als", "float32"), ("als", "float64"), ("bpr", "float64")]
    for split_name, (train, test) in split_list.items():
        print(f"\n{split_name}: {len(train):,} training interactions, {len(test):,} held out")
        print(f"{'model':<40} {'precision@10':>16} {'NDCG@10':>16} {'fit s':>7}")
        pop = metrics.ranking_metrics(baseline.popularity(train, by="count"), test, k=10, exclude=train,
                                      threshold=None)
        print(f"{'popularity':<40} {pop['precision@10']:16.4f} {pop['ndcg@10']:16.4f} {'':>7}")
        for name, dtype in rows:
            lib_dtype = "float32" if name == "bpr" else dtype  # the library's BPR is float32 only
            results = {"mflab": ([], []), "implicit": ([], [])}
            if name == "bpr":
                results["mflab, uniform negatives"] = ([], [])
            for seed in seeds:
                init = starts(train, name, seed)
                fits = {"mflab": lambda: ours(train, name, init, dtype, seed),
                        "implicit": lambda: reference(train, name, init, lib_dtype, seed)}
                if name == "bpr":
                    fits["mflab, uniform negatives"] = lambda: ours(train, name, init, dtype, seed, "uniform")
                models = {}
                for _ in range(ALS_REPEATS if name == "als" else 1):  # ALS fits are short: time each 3 times
                    for library, fit in fits.items():  # alternating, so both see the same machine load
                        models[library], seconds = fit()
                        if models[library] is not None:
                            results[library][1].append(seconds)
                for library, model in models.items():
                    if model is not None:
                        m = metrics.ranking_metrics(model, test, k=10, exclude=train, threshold=None)
                        results[library][0].append((m["precision@10"], m["ndcg@10"]))
            for library, (scores, seconds) in results.items():
                label = f"{library} {name.upper()} ({lib_dtype if library == 'implicit' else dtype})"
                if not scores:
                    print(f"{label:<40} (the implicit library is not installed: make bench installs it)")
                    continue
                p, n = np.array(scores).T
                print(f"{label:<40} {p.mean():8.4f} +- {p.std():.4f} {n.mean():8.4f} +- {n.std():.4f} "
                      f"{np.median(seconds):7.2f}")
    print(f"\n{load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
