"""From predictions to recommendations: top-N per user, similar items, a popularity fallback.

* ``top_n(model, u, n, exclude=train)``: the ``n`` items with the highest predicted rating among
  those user ``u`` has not rated in ``exclude``.
* ``similar_items(model, i, n)``: the ``n`` items whose factor vectors point most nearly the same
  way as item ``i``'s, by cosine similarity ``cos(q_i, q_j) = q_i . q_j / (|q_i| |q_j|)``.
* ``popular(train, n)``: items ranked by a damped mean rating
  ``(sum of ratings + damping * mu) / (count + damping)``, so an item with one 5-star rating does
  not beat one with five hundred 4.5s. It serves cold-start users, who have no factors to score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _checks
from .ratings import require_ratings


def _frame(model_or_train, items, score_name, scores, extra=None) -> pd.DataFrame:
    df = pd.DataFrame({"item": items, score_name: scores} | (extra or {}))
    ids = getattr(model_or_train, "item_ids", None)
    if ids is not None:
        df.insert(1, "item_id", ids[items])
    return df


def popularity_scores(train, *, by: str = "rating", damping: float = 10.0) -> np.ndarray:
    """One popularity score per item: the damped mean rating (``by="rating"``) or the number of
    ratings (``by="count"``, the ranking for implicit feedback, where a rating is an interaction)."""
    require_ratings("train", train)
    damping = _checks.nonnegative("damping", damping)
    count = train.item_counts()
    if by == "count":
        return count.astype(float)
    if by != "rating":
        raise ValueError(f"by must be 'rating' (damped mean rating) or 'count' (number of ratings); got {by!r}")
    total = np.bincount(train.item, weights=train.value, minlength=train.n_items)
    return (total + damping * train.mean()) / np.maximum(count + damping, 1e-12)


def popularity_model(train, *, by: str = "count", damping: float = 10.0):
    """The popularity ranking as a k = 0 Factorization (``item_bias`` = the popularity score), so
    it goes through ``top_n`` and ``metrics.ranking_metrics`` like any fitted model."""
    from .factorization import Factorization

    score = popularity_scores(train, by=by, damping=damping)
    return Factorization.from_training(train, np.zeros((train.n_users, 0)), np.zeros((train.n_items, 0)),
                                       0.0, None, score, method="popularity",
                                       params={"by": by, "damping": damping})


def popular(train, n: int = 10, *, damping: float = 10.0, by: str = "rating",
            exclude_user: int | None = None) -> pd.DataFrame:
    """The ``n`` items with the highest damped mean rating, or the most ratings (``by="count"``).

    ``exclude_user`` leaves out the items that user rated in ``train``.
    """
    n = _checks.positive_int("n", n)
    score = popularity_scores(train, by=by, damping=damping)
    count = train.item_counts()
    candidates = np.ones(train.n_items, dtype=bool)
    if exclude_user is not None and 0 <= exclude_user < train.n_users:
        candidates[train.user_items(exclude_user)[0]] = False
    items = _top(score, candidates, n)
    return _frame(train, items, "score", score[items], {"ratings": count[items]})


def top_n(model, user: int, n: int = 10, *, exclude=None, fallback=None, min_ratings: int = 1) -> pd.DataFrame:
    """Top-``n`` items for ``user`` by predicted rating, as a DataFrame (item, [item_id], score).

    ``exclude`` (a Ratings, usually the training set) removes what the user already rated.
    ``fallback="popular"``: a user with fewer than ``min_ratings`` ratings in ``exclude``, or one
    the model does not know, gets :func:`popular` items instead (column ``source`` says which).
    """
    n = _checks.positive_int("n", n)
    if fallback not in (None, "popular"):
        raise ValueError(f"fallback must be None or 'popular'; got {fallback!r}")
    if exclude is not None:
        require_ratings("exclude", exclude)
    if isinstance(user, bool) or not isinstance(user, (int, np.integer)):
        raise TypeError(f"user must be an integer index; got {user!r}")
    if fallback == "popular":
        if exclude is None:
            raise ValueError("fallback='popular' needs exclude=train: popularity is counted on the training ratings")
        rated = exclude.user_counts()[user] if 0 <= user < exclude.n_users else 0
        if user >= model.n_users or user < 0 or rated < min_ratings:
            out = popular(exclude, n, exclude_user=user)
            out["source"] = "popular"
            return out
    scores = model.predict(np.full(model.n_items, user), np.arange(model.n_items))
    candidates = np.ones(model.n_items, dtype=bool)
    if exclude is not None and user < exclude.n_users:
        candidates[exclude.user_items(user)[0]] = False
    items = _top(scores, candidates, n)
    out = _frame(model, items, "score", scores[items])
    if model.k and not model.P[user].any():
        # no training ratings, so no factors: the list is the item-bias ranking everyone gets
        out["source"] = "item biases only (this user has no factors)"
    elif fallback is not None:
        out["source"] = "model"
    return out


def fold_in(model, items, ratings, *, reg: float, reg_bias: float | None = None):
    """A new user's ``(p_u, b_u)`` from their first ratings, with the item side fixed.

    One ridge solve, :func:`mflab.als.solve_user` on the rated items' factors::

        p_u = (Q_u^T Q_u + reg I)^{-1} Q_u^T (r_u - mu - b_i)          (b_u = 0 without biases)

    With biases (a model whose ``mu`` or item biases are non-zero) it solves ``[b_u, p_u]`` against
    features ``[1, q_i]`` with ridge ``diag(reg_bias, reg, ..., reg)`` (``reg_bias=None``: ``reg``).
    """
    from .als import solve_user

    items = np.asarray(items)
    ratings = np.asarray(ratings, dtype=float)
    if items.ndim != 1 or ratings.shape != items.shape or len(items) == 0:
        raise ValueError(f"items and ratings must be two 1-D sequences of the same, non-zero length; "
                         f"got shapes {items.shape} and {ratings.shape}")
    if not np.issubdtype(items.dtype, np.integer) or items.min() < 0 or items.max() >= model.n_items:
        raise ValueError(f"items must be item indices in [0, {model.n_items})")
    if len(set(items.tolist())) != len(items):
        raise ValueError("items lists an item more than once; give each rated item once")
    if not np.isfinite(ratings).all():
        raise ValueError("ratings must be finite numbers")
    reg = _checks.positive("reg", reg)
    reg_bias = reg if reg_bias is None else _checks.positive("reg_bias", reg_bias)
    target = ratings - model.mu - model.item_bias[items]
    if model.mu == 0 and not model.item_bias.any():  # a model without biases
        return solve_user(model.Q[items], target, reg), 0.0
    X = np.column_stack([np.ones(len(items)), model.Q[items]])
    scale = np.sqrt(np.r_[reg_bias, np.full(model.k, reg)] / reg)  # per-column ridge via rescaling
    solution = solve_user(X / scale, target, reg) / scale
    return solution[1:], float(solution[0])


def recommend_new_user(model, items, ratings, n: int = 10, *, reg: float,
                       reg_bias: float | None = None) -> pd.DataFrame:
    """Top-``n`` items for a user known only by ``ratings`` of ``items`` (folded in, see
    :func:`fold_in`), the rated items excluded."""
    n = _checks.positive_int("n", n)
    p_u, b_u = fold_in(model, items, ratings, reg=reg, reg_bias=reg_bias)
    scores = model.mu + b_u + model.item_bias + model.Q @ p_u
    candidates = np.ones(model.n_items, dtype=bool)
    candidates[np.asarray(items)] = False
    top = _top(scores, candidates, n)
    return _frame(model, top, "score", scores[top])


def cosine_similarity(V: np.ndarray) -> np.ndarray:
    """Matrix of cosine similarities between the rows of ``V``; a zero row has similarity 0."""
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    U = np.divide(V, norms, out=np.zeros_like(V, dtype=float), where=norms > 0)
    return U @ U.T


def similar_items(model, item: int, n: int = 10) -> pd.DataFrame:
    """The ``n`` items most cosine-similar to ``item`` in factor space (the item itself excluded)."""
    n = _checks.positive_int("n", n)
    if model.k == 0:
        raise ValueError("similar_items needs latent factors; this model has k = 0 (a baseline)")
    if not 0 <= item < model.n_items:
        raise ValueError(f"item must be an index in [0, {model.n_items}); got {item}")
    q = model.Q[item]
    if not q.any():
        raise ValueError(f"item {item} has a zero factor vector (it had no training ratings), so no "
                         f"item is similar to it; it gets a vector once it has ratings")
    norms = np.linalg.norm(model.Q, axis=1) * np.linalg.norm(q)
    sims = np.divide(model.Q @ q, norms, out=np.zeros(model.n_items), where=norms > 0)
    candidates = np.ones(model.n_items, dtype=bool)
    candidates[item] = False
    items = _top(sims, candidates, n)
    return _frame(model, items, "similarity", sims[items])


def _top(scores, candidates, n):
    """Indices of the ``n`` highest ``scores`` among ``candidates``, best first; ties by index."""
    idx = np.flatnonzero(candidates)
    order = np.lexsort((idx, -scores[idx]))
    return idx[order[:n]]
