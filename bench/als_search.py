"""Choosing ALS's setting on MovieLens 100K without looking at the test set.

    python bench/als_search.py          (make bench runs it too)

The grid below is searched on a validation split carved out of u1.base (each user's ratings
shuffled, 10% held out, seed 0): every setting is fitted on the remaining 90% and scored on the
held-out 10%. Only the setting with the best validation RMSE is then refitted on the whole of
u1.base and scored on u1.test, so the u1 figure it prints is an honest estimate, not the best of
many looks at the test set. The bench/ml100k.py table uses the setting this script finds.
"""
from __future__ import annotations

import itertools
import sys
import time

import mflab
from mflab import als, splits

GRID = {
    "k": [10, 20, 30],
    "reg": [5.0, 10.0, 15.0, 20.0],
    "reg_bias": [0.5, 2.0, 5.0, 15.0],
    "epochs": [10, 15],
}


def main():
    base, test = mflab.datasets.movielens_100k_split("u1")
    fit_part, valid = splits.per_user_split(base, test_frac=0.1, seed=0)
    print(f"u1.base: {len(fit_part)} ratings to fit, {len(valid)} to validate; grid of "
          f"{len(list(itertools.product(*GRID.values())))} settings")
    results = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        model = als.fit(fit_part, biases=True, seed=0, **setting)
        results.append((model.rmse(valid, clip=True), setting))
    results.sort(key=lambda r: r[0])
    print("\nbest five on validation:")
    for score, setting in results[:5]:
        print(f"  validation RMSE {score:.4f}  {setting}")
    worst, _ = results[-1]
    print(f"  (worst in the grid: {worst:.4f})")
    print("best for each k on validation, refitted on u1.base and scored on u1.test:")
    for k in GRID["k"]:
        score, setting = next(r for r in results if r[1]["k"] == k)
        model = als.fit(base, biases=True, seed=0, **setting)
        print(f"  k={k:<3d} validation {score:.4f}  u1.test {model.rmse(test, clip=True):.4f}  {setting}")

    best = results[0][1]
    start = time.perf_counter()
    model = als.fit(base, biases=True, seed=0, **best)
    seconds = time.perf_counter() - start
    print(f"\nchosen {best}: refit on u1.base in {seconds:.2f} s; "
          f"u1.test RMSE {model.rmse(test, clip=True):.4f}, MAE {model.mae(test, clip=True):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
