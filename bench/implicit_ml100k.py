"""Implicit feedback on MovieLens 100K: mflab.implicit against the `implicit` library, in one run.

MovieLens is turned into "who watched what" (every rating is one interaction, value 1). Both
libraries fit the same models with the same settings (factors, regularisation, alpha, iterations):
confidence-weighted ALS (conjugate gradient) and BPR. Reported on two splits, leave-last-out (each
user's latest interaction held out) and a per-user 80/20 split: precision@10 and NDCG@10 (mean and
standard deviation over three seeds; the training items excluded from every top 10, the same
metric code for both) and fit seconds (median of the three runs).

    make bench        (or)        python bench/implicit_ml100k.py
"""
from __future__ import annotations

import sys
import time

import numpy as np

import mflab
from mflab import Factorization, Ratings, implicit, metrics, recommend, splits

K, REG, ALPHA, ALS_ITERS = 64, 0.01, 40.0, 15
BPR = dict(lr=0.05, reg=0.01, epochs=100)
SEEDS = (0, 1, 2)


def reference(train, name, seed):
    """The `implicit` library's model as a Factorization, or None when it is not installed."""
    try:
        import implicit as lib
        from scipy.sparse import csr_matrix
    except ImportError:
        return None
    user_items = csr_matrix((train.value, (train.user, train.item)), shape=train.shape)
    if name == "als":
        model = lib.cpu.als.AlternatingLeastSquares(factors=K, regularization=REG, alpha=ALPHA,
                                                    iterations=ALS_ITERS, random_state=seed)
    else:
        model = lib.cpu.bpr.BayesianPersonalizedRanking(factors=K, learning_rate=BPR["lr"],
                                                        regularization=BPR["reg"],
                                                        iterations=BPR["epochs"], random_state=seed)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # as the library asks: its own threads, not BLAS's
        model.fit(user_items, show_progress=False)
    return Factorization(np.asarray(model.user_factors), np.asarray(model.item_factors))


def ours(train, name, seed):
    if name == "als":
        return implicit.als(train, K, reg=REG, alpha=ALPHA, epochs=ALS_ITERS, seed=seed)
    return implicit.bpr(train, K, seed=seed, **BPR)


def main() -> int:
    ml = mflab.datasets.movielens_100k()
    R = ml.to_ratings()
    watched = Ratings(R.user, R.item, np.ones(len(R)), R.n_users, R.n_items)
    split_list = {"leave-last-out": splits.leave_last_out(watched, ml.ratings["timestamp"].to_numpy()),
                  "per-user 80/20": splits.per_user_split(watched, 0.2, seed=0)}
    implicit.bpr(Ratings([0], [0], [1.0], 1, 2), 2, epochs=1, seed=0)  # numba compiles outside the timing
    print(f"MovieLens 100K as implicit feedback; k={K}, reg={REG}, alpha={ALPHA}, ALS {ALS_ITERS} "
          f"iterations (CG, 3 steps), BPR {BPR}; seeds {SEEDS}")
    for split_name, (train, test) in split_list.items():
        print(f"\n{split_name}: {len(train):,} training interactions, {len(test):,} held out")
        print(f"{'model':<28} {'precision@10':>16} {'NDCG@10':>16} {'fit s':>7}")
        pop = metrics.ranking_metrics(recommend.popularity_model(train), test, k=10, exclude=train, threshold=None)
        print(f"{'popularity':<28} {pop['precision@10']:16.4f} {pop['ndcg@10']:16.4f} {'':>7}")
        for name in ("als", "bpr"):
            for library, fit in (("mflab", ours), ("implicit", reference)):
                scores, seconds = [], []
                for seed in SEEDS:
                    start = time.perf_counter()
                    model = fit(train, name, seed)
                    seconds.append(time.perf_counter() - start)
                    if model is None:
                        break
                    m = metrics.ranking_metrics(model, test, k=10, exclude=train, threshold=None)
                    scores.append((m["precision@10"], m["ndcg@10"]))
                if not scores:
                    print(f"{library + ' ' + name:<28} (the implicit library is not installed: make bench installs it)")
                    continue
                p, n = np.array(scores).T
                print(f"{library + ' ' + name:<28} {p.mean():8.4f} +- {p.std():.4f} {n.mean():8.4f} +- {n.std():.4f} "
                      f"{np.median(seconds):7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
