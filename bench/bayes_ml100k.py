"""Bayesian MF (mflab.bayes) on MovieLens 100K u1, every setting chosen on a validation split.

1. Carve a validation set out of u1.base (10% of each user's ratings, seed 0); for each noise
   precision in the grid, fit on the rest (100 sweeps, 30 burn-in) and score on validation.
2. With the best one, fit u1.base (500 sweeps, 50 burn-in, k=10) for three seeds and report u1.test
   RMSE as mean and standard deviation, the fit's median seconds, the time of 250 sweeps, and
   seconds per sweep beside one ALS sweep's (k=10, biases) in the same run.

    make bench          (or)        python bench/bayes_ml100k.py
"""
from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np

import mflab
from mflab import als, bayes, splits

K, SAMPLES, BURN_IN = 10, 500, 50  # every draw after burn-in is kept (keep=SAMPLES)
GRID = (1.0, 1.25, 1.5, 1.75, 2.0)


def main() -> int:
    train, test = mflab.datasets.movielens_100k_split("u1")
    fit_part, val = splits.per_user_split(train, 0.1, seed=0)
    scores = {}
    for alpha in GRID:
        m = bayes.fit(fit_part, K, samples=100, burn_in=30, noise_precision=alpha, seed=0)
        scores[alpha] = m.rmse(val, clip=True)
    best = min(scores, key=scores.get)
    print("validation RMSE by noise precision (100 sweeps):",
          ", ".join(f"{a:g}: {r:.4f}" for a, r in scores.items()), f"-> {best:g}")

    rmse, seconds, per_sweep = [], [], []
    for seed in (0, 1, 2):
        start = time.perf_counter()
        m = bayes.fit(train, K, samples=SAMPLES, burn_in=BURN_IN, noise_precision=best, keep=SAMPLES, seed=seed)
        seconds.append(time.perf_counter() - start)
        rmse.append(m.rmse(test, clip=True))
        per_sweep.append(np.median(m.info["seconds_per_sweep"]))
    als_sweep = []
    for seed in (0, 1, 2):
        start = time.perf_counter()
        als.fit(train, K, reg=15.0, reg_bias=5.0, epochs=15, biases=True, seed=seed)
        als_sweep.append((time.perf_counter() - start) / 15)
    tracemalloc.start()
    bayes.fit(train, K, samples=20, burn_in=5, noise_precision=best, seed=0)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"BPMF k={K}, {SAMPLES} sweeps ({BURN_IN} burn-in), noise precision {best:g}, seeds 0-2:")
    print(f"  u1.test RMSE {np.mean(rmse):.4f} +- {np.std(rmse):.4f} (clipped to 1..5)")
    print(f"  fit {np.median(seconds):.1f} s (median of 3), so 250 sweeps take {250 * np.median(per_sweep):.1f} s; "
          f"{1000 * np.median(per_sweep):.1f} ms per sweep, "
          f"one ALS sweep (k={K}, biases) {1000 * np.median(als_sweep):.1f} ms")
    print(f"  peak traced memory of a 20-sweep fit {peak:.0f} MB: the kept draws, at most keep x (users + items) "
          f"x (k + 1) floats, never a users x items array (tests/test_speed_invariants.py fits 10^6 x 10^6)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
