"""Cold start, measured: new users folded in from their first ratings, against a popularity fallback.

A user who joins after the fit has no row in ``P``. :func:`mflab.recommend.fold_in` gives them one
from their first few ratings with the item side fixed (one ridge solve). This module measures how
good that is, on users the model never saw:

* :func:`hold_out_users` removes whole users from the ratings (a user-level split), so the model is
  fitted without them and they are new to it;
* :func:`fold_in_study` reveals 1, 2, 5, 10 ... of each held-out user's ratings, folds them in, and
  scores the rest of the user's ratings (RMSE, precision@k) beside a fallback model (popularity);
* :func:`crossover` reads off the first number of revealed ratings at which fold-in wins.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _checks, metrics
from .recommend import fold_in
from .ratings import require_ratings

FOLD_IN = "fold-in"


def hold_out_users(ratings, *n_users: int, seed):
    """``(train, held_1, held_2, ...)``: ``n_users[j]`` users drawn at random (``seed``) for ``held_j``.

    Every rating of a drawn user goes to its ``held_j``, every other rating stays in ``train``; all
    keep the full ``n_users x n_items`` shape, so a held-out user is a valid index with no training
    rating (``als.fit`` and ``sgd.fit`` give such a user zero factors and a zero bias).
    ``hold_out_users(R, 150, 250, seed=0)`` makes validation and evaluation users in one draw.
    """
    require_ratings("ratings", ratings)
    if not n_users:
        raise ValueError("give at least one number of users to hold out, e.g. hold_out_users(R, 200, seed=0)")
    sizes = [_checks.positive_int("n_users", n) for n in n_users]
    active = np.flatnonzero(ratings.user_counts() > 0)
    if sum(sizes) >= len(active):
        raise ValueError(f"cannot hold out {sum(sizes)} users: only {len(active)} users have ratings, "
                         f"and some must stay to fit the model")
    drawn = _checks.generator(seed).permutation(active)
    out, start = [], 0
    for size in sizes:
        out.append(ratings.subset(np.isin(ratings.user, drawn[start:start + size])))
        start += size
    return (ratings.subset(~np.isin(ratings.user, drawn[:start])), *out)


def fold_in_study(model, held, *, reveal=(1, 2, 5, 10), reg: float | None = None,
                  reg_bias: float | None = None, reg_scaling: str | None = None, fallback,
                  fallback_name: str = "fallback", pool: int = 10, k: int = 10,
                  threshold: float = 4.0, seed=0, per_user: bool = False) -> pd.DataFrame:
    """RMSE and precision@k of fold-in against ``fallback`` for users new to ``model``.

    For every user in ``held`` (their ratings, none of them in the model's training data) the
    ratings are put in a random order (``seed``); the first ``pool`` are the ratings the user may
    reveal, the rest, E_u, are scored. For each n in ``reveal`` the first n are folded in with
    ``Q``, ``mu`` and ``b_i`` fixed (:func:`mflab.recommend.fold_in`, one ridge solve; ``reg``,
    ``reg_bias`` and ``reg_scaling`` are passed to it: ``None`` means the model's own, and
    ``reg_scaling="none"`` makes a given ``reg`` the plain lambda below on any model)::

        (b_u, p_u) = argmin  sum_{i in first n} (r_ui - mu - b_u - b_i - p_u . q_i)^2
                             + reg |p_u|^2 + reg_bias b_u^2
        r_hat_ui   = mu + b_u + b_i + p_u . q_i

        RMSE_n         = sqrt( sum_u sum_{i in E_u} (r_ui - r_hat_ui)^2  /  sum_u |E_u| )
        precision@k_n  = mean over users with L_u = {i in E_u : r_ui >= threshold} not empty of
                         |top-k of r_hat_u among the items outside the pool  ∩  L_u| / k

    The fallback knows nothing of the user: it scores every item ``mu + b_i`` (its own ``mu`` and
    item biases; for a popularity model, ``baseline.popularity(train)``, that is the popularity
    score). ``threshold`` is checked as :func:`mflab.metrics.ranking_metrics` checks it (finite, on
    the rating scale, reached by some held-out rating). The whole pool is left out of every ranking
    and every error, whatever n, so every n and both methods are scored on the same ratings and
    rank the same candidates.

    Returns one row per n (index ``revealed``) with columns ``(metric, method)`` for the metrics
    ``rmse``, ``precision@k`` and ``precision@k se`` (its standard error over users) and the
    methods ``"fold-in"`` and ``fallback_name``; ``attrs`` holds the numbers of users and ratings scored.
    ``per_user=True`` returns instead one row per (user, revealed, method): the revealed items,
    the top-k list, the squared-error sum and count, and the user's precision (NaN with no
    relevant item).
    """
    require_ratings("held", held)
    for name, m in (("model", model), ("fallback", fallback)):
        if not all(hasattr(m, a) for a in ("mu", "item_bias", "n_users", "n_items")):
            raise TypeError(f"{name} must be a fitted model (an mflab Factorization, e.g. "
                            f"baseline.popularity(train) for the fallback); got {type(m).__name__}")
    _checks.fits_model("held", held, model)
    if fallback.n_items != model.n_items:
        raise ValueError(f"fallback scores {fallback.n_items} items but the model {model.n_items}; "
                         f"fit both on the same training set")
    threshold = metrics.relevance_threshold(threshold, held, of="held")
    if threshold is None:
        raise TypeError("threshold must be a rating on the scale of held (a rating >= threshold is "
                        "relevant); got None")
    if fallback_name == FOLD_IN:
        raise ValueError(f"fallback_name must differ from {FOLD_IN!r}, the name of the fold-in rows")
    pool = _checks.positive_int("pool", pool)
    k = _checks.positive_int("k", k)
    reveal = [_checks.positive_int("reveal", n) for n in np.atleast_1d(reveal).tolist()]
    if not reveal or sorted(set(reveal)) != reveal or reveal[-1] > pool:
        raise ValueError(f"reveal must be increasing numbers of ratings, at most pool={pool}; got {reveal}")
    if len(held) == 0:
        raise ValueError("held has no ratings: there is no user to study")
    counts = held.user_counts()
    users = np.flatnonzero(counts)
    short = users[counts[users] <= pool]
    if len(short):
        raise ValueError(f"user {short[0]} has {counts[short[0]]} held-out ratings; each user needs more "
                         f"than pool={pool} (the pool to reveal from, and at least one to score)")
    rng = _checks.generator(seed)
    by_user = held.by_user
    fallback_scores = fallback.mu + fallback.item_bias
    rows = []
    for u in users:
        order = rng.permutation(by_user.rows(u))
        revealable, scored = order[:pool], order[pool:]
        eval_items, eval_values = held.item[scored], held.value[scored]
        relevant = set(eval_items[eval_values >= threshold].tolist())
        candidates = np.ones(model.n_items, dtype=bool)
        candidates[held.item[revealable]] = False
        candidates = np.flatnonzero(candidates)

        def scored_as(s):  # top-k, squared-error sum, precision@k (NaN without a relevant item)
            top = _top_k(s, candidates, k)
            return (top.tolist(), float(np.sum((eval_values - s[eval_items]) ** 2)),
                    len(relevant.intersection(top.tolist())) / k if relevant else np.nan)

        fallback_result = scored_as(fallback_scores)  # the same for every n: the fallback knows no rating
        for n in reveal:
            shown = revealable[:n]
            p_u, b_u = fold_in(model, held.item[shown], held.value[shown], reg=reg, reg_bias=reg_bias,
                               reg_scaling=reg_scaling)
            scores = model.mu + b_u + model.item_bias + model.Q @ p_u
            for method, (top, sse, precision) in ((FOLD_IN, scored_as(scores)), (fallback_name, fallback_result)):
                rows.append({"user": int(u), "revealed": n, "method": method, "shown": held.item[shown].tolist(),
                             "top": top, "sse": sse, "n": len(scored), "precision": precision})
    detail = pd.DataFrame(rows)
    return detail if per_user else summarize(detail, k=k)


def _top_k(scores, candidates, k):
    """The ``k`` highest ``scores`` among the item indices ``candidates``, best first, ties by index
    (``recommend.top_n``'s order): a partial sort finds the k-th score, and only the items scoring
    at least that much are sorted, which keeps a study of thousands of lists fast."""
    s = scores[candidates]
    if len(s) > k:
        kth = np.partition(s, len(s) - k)[len(s) - k]  # the k-th highest score
        keep = s >= kth  # ties with it included, so the tie-break below sees all of them
        candidates, s = candidates[keep], s[keep]
    return candidates[np.lexsort((candidates, -s))[:k]]


def summarize(detail: pd.DataFrame, *, k: int = 10) -> pd.DataFrame:
    """The per-user rows of :func:`fold_in_study` as its summary table (pooled RMSE, mean precision)."""
    groups = detail.groupby(["revealed", "method"], sort=False)
    scored = detail.dropna(subset=["precision"]).groupby(["revealed", "method"], sort=False)["precision"]
    table = pd.DataFrame({
        "rmse": np.sqrt(groups["sse"].sum() / groups["n"].sum()),
        f"precision@{k}": scored.mean(),
        f"precision@{k} se": scored.std(ddof=1) / np.sqrt(scored.count()),
    }).unstack("method")
    methods = list(dict.fromkeys(detail["method"]))  # fold-in first, then the fallback
    table = table.reindex(columns=pd.MultiIndex.from_product(
        [["rmse", f"precision@{k}", f"precision@{k} se"], methods], names=[None, "method"]))
    first = detail[(detail["revealed"] == detail["revealed"].iloc[0]) & (detail["method"] == FOLD_IN)]
    table.attrs = {"users": len(first), "ratings": int(first["n"].sum()),
                   "users with a relevant item": int(first["precision"].notna().sum())}
    return table


def crossover(table: pd.DataFrame, metric: str):
    """The smallest number of revealed ratings from which fold-in beats the fallback on ``metric``
    (lower RMSE, higher precision) at that and every larger number in the table, or None if it is
    not ahead at the largest."""
    if metric not in table.columns.get_level_values(0):
        raise ValueError(f"metric must be one of {sorted(set(table.columns.get_level_values(0)))}; got {metric!r}")
    other = [m for m in table[metric].columns if m != FOLD_IN][0]
    ours, theirs = table[metric][FOLD_IN], table[metric][other]
    better = ours < theirs if metric.startswith("rmse") else ours > theirs
    ahead = better.to_numpy()[::-1].cumprod()[::-1].astype(bool)  # ahead here and at every larger n
    return int(better.index[ahead][0]) if ahead.any() else None
