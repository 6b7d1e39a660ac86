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


def _frame(model_or_train, items, score_name, scores, extra=None) -> pd.DataFrame:
    df = pd.DataFrame({"item": items, score_name: scores} | (extra or {}))
    ids = getattr(model_or_train, "item_ids", None)
    if ids is not None:
        df.insert(1, "item_id", ids[items])
    return df


def popular(train, n: int = 10, *, damping: float = 10.0, exclude_user: int | None = None) -> pd.DataFrame:
    """The ``n`` items with the highest damped mean rating (see module docstring).

    ``exclude_user`` leaves out the items that user rated in ``train``.
    """
    _checks.ratings("train", train)
    n = _checks.positive_int("n", n)
    damping = _checks.nonnegative("damping", damping)
    mu = train.mean()
    count = train.item_counts()
    total = np.bincount(train.item, weights=train.value, minlength=train.n_items)
    score = (total + damping * mu) / np.maximum(count + damping, 1e-12)
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
        _checks.ratings("exclude", exclude)
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
    if fallback is not None:
        out["source"] = "model"
    return out


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
