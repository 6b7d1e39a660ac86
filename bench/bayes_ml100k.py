"""Bayesian MF (mflab.bayes) on MovieLens 100K u1: the noise precision sampled (the default) against
one chosen on validation, every setting chosen without touching u1.test.

1. Carve a validation set out of u1.base (10% of each user's ratings, seed 0). Fit the rest for each
   fixed noise precision in the grid and with it sampled (100 sweeps, 30 burn-in) and score on
   validation; the best fixed one is "validated".
2. Fit all of u1.base with the noise precision sampled and with the validated one (500 sweeps, 50
   burn-in, k=10, every sweep after burn-in kept) for three seeds: u1.test RMSE (mean and sd over the
   seeds), coverage of the 90% interval of ``bayes.predict_interval``, and milliseconds per sweep
   beside one ALS sweep's (k=10, biases) in the same run. The same at the defaults (100 sweeps, 20
   burn-in), which is what the lesson runs.

3. ``--stability``: the default fit (seed 1) in a child process per BLAS kernel and numba target
   (native, OPENBLAS_CORETYPE=HASWELL, =NEHALEM, NUMBA_CPU_NAME=generic): how far the kept draws,
   the u1.test RMSE and the 90% intervals move from the native run (issue 26).

    make bench          (or)        python bench/bayes_ml100k.py [--stability]
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

import mflab
from mflab import als, bayes, splits

K, EPOCHS, BURN_IN = 10, 500, 50
GRID = (1.0, 1.25, 1.5, 1.75, 2.0)
SEEDS = (0, 1, 2)


def coverage(model, test, level=0.9) -> float:
    _, low, high = bayes.predict_interval(model, test.user, test.item, level)
    return float(np.mean((test.value >= low) & (test.value <= high)))


def blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS kernel unknown (threadpoolctl not installed)"
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                     f"{i.get('num_threads')} threads)" for i in threadpool_info() if i.get("user_api") == "blas")


def runs(train, test, label, **kwargs):
    rmse, cover, per_sweep = [], [], []
    for seed in SEEDS:
        m = bayes.fit(train, K, seed=seed, **kwargs)
        rmse.append(m.rmse(test, clip=True))
        cover.append(coverage(m, test))
        per_sweep.append(np.median(m.info["seconds_per_sweep"]))
    print(f"  {label:<48} u1.test RMSE {np.mean(rmse):.4f} +- {np.std(rmse):.4f}, 90% interval covers "
          f"{np.mean(cover):.3f} ({min(cover):.3f}-{max(cover):.3f}), {1000 * np.median(per_sweep):.1f} ms per sweep")
    return np.median(per_sweep)


SETTINGS = {"native": {}, "OPENBLAS_CORETYPE=HASWELL": {"OPENBLAS_CORETYPE": "HASWELL"},
            "OPENBLAS_CORETYPE=NEHALEM": {"OPENBLAS_CORETYPE": "NEHALEM"},
            "NUMBA_CPU_NAME=generic": {"NUMBA_CPU_NAME": "generic"}}


def stability() -> int:
    """Run :func:`one_fit` under each setting in a child process and compare with the native run."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, env in SETTINGS.items():
            path = os.path.join(folder, f"{len(results)}.npz")
            subprocess.run([sys.executable, __file__, "--one-fit", path], env=os.environ | env, check=True)
            results[name] = dict(np.load(path))
    base = results["native"]
    print(f"default fit on u1 (seed 1): u1.test RMSE {base['rmse']:.6f}; each setting's largest change from native:")
    for name, got in results.items():
        print(f"  {name:<28} draws {np.abs(got['draws'] - base['draws']).max():.1e}, RMSE "
              f"{abs(got['rmse'] - base['rmse']):.1e}, interval ends {np.abs(got['ends'] - base['ends']).max():.1e}")
    return 0


def one_fit(path) -> None:
    train, test = mflab.datasets.movielens_100k_split("u1")
    m = bayes.fit(train, K, seed=1)
    _, low, high = bayes.predict_interval(m, test.user, test.item, 0.9)
    np.savez(path, draws=m.draws.P, rmse=m.rmse(test, clip=True), ends=np.r_[low, high])


def main() -> int:
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, {blas()}; "
          f"load average {os.getloadavg()[0]:.1f} (timings are only comparable on a quiet machine)")
    train, test = mflab.datasets.movielens_100k_split("u1")
    fit_part, val = splits.per_user_split(train, 0.1, seed=0)
    scores = {beta: bayes.fit(fit_part, K, epochs=100, burn_in=30, noise_precision=beta, seed=0).rmse(val, clip=True)
              for beta in GRID}
    best = min(scores, key=scores.get)
    sampled = bayes.fit(fit_part, K, epochs=100, burn_in=30, seed=0)
    print("validation RMSE (100 sweeps, 30 burn-in):",
          ", ".join(f"beta {b:g}: {r:.4f}" for b, r in scores.items()),
          f"| sampled: {sampled.rmse(val, clip=True):.4f} (mean kept beta "
          f"{np.mean(sampled.info['noise_precision']):.3f}) -> validated beta {best:g}")

    print(f"BPMF k={K} on u1, seeds {SEEDS[0]}-{SEEDS[-1]} (RMSE clipped to 1..5):")
    per_sweep = runs(train, test, f"{EPOCHS} sweeps, beta sampled", epochs=EPOCHS, burn_in=BURN_IN)
    runs(train, test, f"{EPOCHS} sweeps, beta {best:g} (validated)", epochs=EPOCHS, burn_in=BURN_IN,
         noise_precision=best)
    runs(train, test, "defaults (100 sweeps, 20 burn-in, beta sampled)")
    als_sweep = []
    for seed in SEEDS:
        start = time.perf_counter()
        als.fit(train, K, reg=15.0, reg_bias=5.0, epochs=15, biases=True, seed=seed)
        als_sweep.append((time.perf_counter() - start) / 15)
    print(f"  one Gibbs sweep {1000 * per_sweep:.1f} ms, one ALS sweep (k={K}, biases) "
          f"{1000 * np.median(als_sweep):.1f} ms: ratio {per_sweep / np.median(als_sweep):.2f}")
    print(f"  load average at the end {os.getloadavg()[0]:.1f}")
    tracemalloc.start()
    bayes.fit(train, K, epochs=20, burn_in=5, seed=0)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"  peak traced memory of a 20-sweep fit {peak:.0f} MB: the kept draws, S x (users + items) "
          f"x (k + 1) floats, never a users x items array (tests/test_speed_invariants.py fits 10^6 x 10^6)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one-fit"]:
        one_fit(sys.argv[2])
    else:
        sys.exit(stability() if "--stability" in sys.argv else main())
