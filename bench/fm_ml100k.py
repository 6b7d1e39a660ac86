"""Factorization machines (mflab.fm, Gibbs) beside myFM on MovieLens 100K, on identical features.

Features (mflab.datasets.movielens_features, built from each training file): user id, age, gender,
occupation, zip's first character; movie id, release-year bucket, 19 genre flags; the implicit
blocks (the movies each user rated, 1/sqrt(n_u); the users who rated each movie, 1/sqrt(n_i)).

Every setting is chosen on validation data carved from the training file (10% of each user's
ratings, seed 0), never on the test file:
1. the noise precision: sampled (None) or one of GRID, at k=10 (the rank of the target), and the
   number of sweeps from that fit's validation curve (SWEEP_CHOICES);
2. on u1 also the rank, among RANKS, with the noise precision chosen at k=10 (the aim's setting);
3. on u1, the ablation table: each ingredient added to the ids, scored on validation.
Then each training file is fitted with the chosen settings for seeds 0, 1, 2 and scored on its
test file, with myFM (rank 10, its own sampled noise precision, the same sweeps and burn-in) on
the same features, run alternately so both see the same machine load. Time per sweep: medians.
Finally, on u1: mflab.fm with ids only against mflab.bayes (same noise precision, three seeds).
RMSE is of predictions clipped to 1..5, for every model.

    bench/.venv/bin/python bench/fm_ml100k.py                 # everything (1.5-2 hours on 2 busy cores)
    bench/.venv/bin/python bench/fm_ml100k.py --splits u1 --no-ranks --no-ablation   # the u1 figure
    bench/.venv/bin/python bench/fm_ml100k.py --timing 100                            # time per sweep only
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import mflab
from mflab import bayes, fm, splits

GRID = (None, 1.0, 1.25, 1.5)
RANKS = (10, 20, 30)
SWEEP_CHOICES = (100, 200, 300, 500)
GRID_SWEEPS = 200
BURN_IN = 50
SEEDS = (0, 1, 2)
ABLATION = (("ids", {}), ("+ user attributes", {"users": True}), ("+ movie attributes", {"items": True}),
            ("+ user implicit (movies rated)", {"implicit": "user"}),
            ("+ movie implicit (rated by)", {"implicit": "item"}),
            ("all", {"users": True, "items": True, "implicit": True}))


def features(train):
    users, items = mflab.datasets.movielens_features(train)
    return users, items


def fit(train, k, sweeps, noise, seed, *, users=None, items=None, implicit=True, test=None):
    return fm.fit(train, k, user_features=users, item_features=items, implicit=implicit, solver="gibbs",
                  samples=sweeps, burn_in=min(BURN_IN, sweeps // 2), noise_precision=noise, seed=seed,
                  test=test)


def choose(train, k, log, grid=GRID):
    """(noise precision, sweeps, validation RMSE), fitted on train minus a validation set carved
    from it: each noise precision of ``grid`` for GRID_SWEEPS sweeps, then the best one for
    max(SWEEP_CHOICES) sweeps, whose validation curve (the running posterior mean) picks the sweeps."""
    part, val = splits.per_user_split(train, 0.1, seed=0)
    users, items = features(part)
    scores = {noise: fit(part, k, GRID_SWEEPS, noise, 0, users=users, items=items).rmse(val, clip=True)
              for noise in grid}
    best = min(grid, key=scores.get)
    m = fit(part, k, max(SWEEP_CHOICES), best, 0, users=users, items=items, test=val)
    curve = np.array(m.history["test_rmse"])
    sweeps = min(SWEEP_CHOICES, key=lambda s: curve[s - 1])
    log(f"    k={k}: validation RMSE after {GRID_SWEEPS} sweeps by noise precision: "
        + ", ".join(f"{_name(a)} {scores[a]:.4f}" for a in grid)
        + f" -> {_name(best)}; by sweeps (unclipped): " + ", ".join(f"{s} {curve[s - 1]:.4f}" for s in SWEEP_CHOICES)
        + f" -> {sweeps}")
    return best, sweeps, curve[sweeps - 1]


def ablation(train, noise, sweeps, log):
    part, val = splits.per_user_split(train, 0.1, seed=0)
    users, items = features(part)
    rows = []
    for name, use in ABLATION:
        m = fit(part, 10, sweeps, noise, 0, users=users if use.get("users") else None,
                items=items if use.get("items") else None, implicit=use.get("implicit", False))
        rows.append((name, m.rmse(val, clip=True)))
        log(f"    {name:34s} {rows[-1][1]:.4f}")
    return rows


def myfm_blocks(train, users, items):
    """The same features as mflab.fm builds, as myFM relation blocks (one per side)."""
    import scipy.sparse as sps

    def side(n, groups, grouped, n_other):
        mats = [sps.identity(n, format="csr")] + [sps.csr_matrix(np.asarray(v, dtype=float)) for v in groups.values()]
        counts = grouped.counts()
        rows = np.repeat(np.arange(n), counts)
        mats.append(sps.csr_matrix((1 / np.sqrt(counts[rows]), (rows, grouped.other)), shape=(n, n_other)))
        return sps.hstack(mats, format="csr"), [m.shape[1] for m in mats]

    return (side(train.n_users, users, train.by_user, train.n_items),
            side(train.n_items, items, train.by_item, train.n_users))


def run_myfm(train, test, users, items, k, sweeps, seed):
    """(test RMSE clipped to 1..5, median seconds per sweep) of myFM's Gibbs sampler."""
    import myfm
    from myfm import RelationBlock

    (Xu, gu), (Xi, gi) = myfm_blocks(train, users, items)
    stamps = []

    def callback(i, *_):
        stamps.append(time.perf_counter())
        return False, None

    model = myfm.MyFMRegressor(rank=k, random_seed=seed)
    model.fit(None, train.value, X_rel=[RelationBlock(train.user, Xu), RelationBlock(train.item, Xi)],
              n_iter=sweeps, n_kept_samples=sweeps - min(BURN_IN, sweeps // 2), group_shapes=gu + gi, callback=callback)
    pred = model.predict(None, [RelationBlock(test.user, Xu), RelationBlock(test.item, Xi)])
    return _rmse(test, pred), float(np.median(np.diff(stamps)))


def timing(sweeps, log):
    """Median seconds per sweep of mflab.fm and myFM, run alternately on u1 with all features."""
    train, test = mflab.datasets.movielens_100k_split("u1")
    users, items = features(train)
    fit(train, 10, 3, None, 0, users=users, items=items)  # compile (numba caches it on disk)
    ours, theirs = [], []
    for seed in SEEDS:
        m = fit(train, 10, sweeps, None, seed, users=users, items=items)
        ours.append(float(np.median(m.info["seconds_per_sweep"])))
        theirs.append(run_myfm(train, test, users, items, 10, sweeps, seed)[1])
        log(f"  seed {seed}: mflab.fm {1000 * ours[-1]:.1f} ms per sweep, myFM {1000 * theirs[-1]:.1f} ms")
    log(f"median: mflab.fm {1000 * np.median(ours):.1f} ms per sweep, myFM {1000 * np.median(theirs):.1f} ms "
        f"(ratio {np.median(ours) / np.median(theirs):.2f})")
    return 0


def _rmse(test, pred):
    return float(np.sqrt(np.mean((test.value - np.clip(pred, 1, 5)) ** 2)))


def _name(noise):
    return "sampled" if noise is None else f"{noise:g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", default="u1,u2,u3,u4,u5")
    parser.add_argument("--no-ranks", action="store_true", help="skip the rank search on u1")
    parser.add_argument("--no-ablation", action="store_true", help="skip the ablation on u1 validation")
    parser.add_argument("--no-myfm", action="store_true", help="skip myFM")
    parser.add_argument("--no-bayes", action="store_true", help="skip the ids-only check against mflab.bayes")
    parser.add_argument("--timing", type=int, metavar="SWEEPS",
                        help="only time SWEEPS sweeps of each (u1, all features, k=10), alternating, three times")
    args = parser.parse_args(argv)
    log = lambda text: print(text, flush=True)
    if args.timing:
        return timing(args.timing, log)
    results = {}
    for name in args.splits.split(","):
        train, test = mflab.datasets.movielens_100k_split(name)
        log(f"{name}: choosing the settings on validation carved from {name}.base")
        noise, sweeps, score = choose(train, 10, log)
        users, items = features(train)
        ours, theirs, ours_t, theirs_t = [], [], [], []
        for seed in SEEDS:
            m = fit(train, 10, sweeps, noise, seed, users=users, items=items)
            ours.append(m.rmse(test, clip=True))
            ours_t.append(float(np.median(m.info["seconds_per_sweep"])))
            if not args.no_myfm:
                rmse, per_sweep = run_myfm(train, test, users, items, 10, sweeps, seed)
                theirs.append(rmse)
                theirs_t.append(per_sweep)
            log(f"    seed {seed}: mflab.fm {ours[-1]:.4f} ({1000 * ours_t[-1]:.1f} ms/sweep)"
                + (f", myFM {theirs[-1]:.4f} ({1000 * theirs_t[-1]:.1f} ms/sweep)" if theirs else ""))
        results[name] = dict(noise=noise, sweeps=sweeps, ours=ours, theirs=theirs, ours_t=ours_t, theirs_t=theirs_t)
        if name == "u1" and not args.no_ablation:
            log("  u1 ablation, validation RMSE (k=10, the chosen noise precision and sweeps):")
            results["ablation"] = ablation(train, noise, sweeps, log)
        if name == "u1" and not args.no_ranks:
            log("  u1 rank on validation:")
            picks = {k: (noise, sweeps, score) if k == 10 else choose(train, k, log, grid=(noise,))
                     for k in RANKS}
            k_best = min(RANKS, key=lambda k: picks[k][2])
            noise_k, sweeps_k, _ = picks[k_best]
            scores = [fit(train, k_best, sweeps_k, noise_k, seed, users=users, items=items).rmse(test, clip=True)
                      for seed in SEEDS]
            results["rank"] = (k_best, noise_k, sweeps_k, scores)
            log(f"    k={k_best} chosen: u1.test {np.mean(scores):.4f} +- {np.std(scores):.4f}")
        if name == "u1" and not args.no_bayes:
            a = noise if noise is not None else 1.25
            pairs = []
            for seed in SEEDS:
                ids = fit(train, 10, sweeps, a, seed, implicit=False).rmse(test, clip=True)
                bp = bayes.fit(train, 10, samples=sweeps, burn_in=BURN_IN, noise_precision=a,
                               seed=seed).rmse(test, clip=True)
                pairs.append((ids, bp))
            results["bayes"] = (a, pairs)
            log(f"  ids only vs mflab.bayes (noise precision {a:g}): "
                + ", ".join(f"{x:.4f} / {y:.4f}" for x, y in pairs))
    report(results)
    return 0


def report(results):
    names = [n for n in results if n.startswith("u")]
    print("\n| MovieLens 100K, k = 10, three seeds, clipped to 1..5 | " + " | ".join(names)
          + (" | mean u1..u5 |" if len(names) == 5 else " |"))
    print("|---" * (len(names) + 1 + (len(names) == 5)) + "|")
    for label, key in (("mflab.fm (Gibbs), all features", "ours"), ("myFM, the same features", "theirs")):
        if not results[names[0]][key]:
            continue
        means = [np.mean(results[n][key]) for n in names]
        print(f"| {label} | " + " | ".join(f"{v:.4f}" for v in means)
              + (f" | {np.mean(means):.4f} |" if len(names) == 5 else " |"))
    for key, label in (("ours_t", "mflab.fm"), ("theirs_t", "myFM")):
        times = [t for n in names for t in results[n][key]]
        if times:
            print(f"- {label}: median {1000 * np.median(times):.1f} ms per sweep")
    for n in names:
        print(f"- {n}: noise precision {_name(results[n]['noise'])}, {results[n]['sweeps']} sweeps "
              f"({BURN_IN} burn-in), chosen on validation")
    if "rank" in results:
        k, noise, sweeps, scores = results["rank"]
        print(f"- u1 with the rank chosen on validation: k={k}, noise precision {_name(noise)}, {sweeps} "
              f"sweeps: {np.mean(scores):.4f} +- {np.std(scores):.4f}")
    if "ablation" in results:
        print("\n| u1 validation, k = 10 | RMSE |\n|---|---|")
        for name, value in results["ablation"]:
            print(f"| {name} | {value:.4f} |")
    if "bayes" in results:
        a, pairs = results["bayes"]
        diff = np.mean([x for x, _ in pairs]) - np.mean([y for _, y in pairs])
        print(f"\n- ids-only mflab.fm vs mflab.bayes on u1 (noise precision {a:g}, three seeds): "
              f"{np.mean([x for x, _ in pairs]):.4f} vs {np.mean([y for _, y in pairs]):.4f} (difference {diff:+.4f})")


if __name__ == "__main__":
    sys.exit(main())
