"""From predictions to recommendations: top-N per user (one or many), similar items, fold-in, and a
popularity fallback.

* ``top_n(model, u, n, exclude=train)``: the ``n`` items with the highest predicted rating among
  those user ``u`` has not rated in ``exclude``; ``top_n_batch`` does it for many users at once.
* ``similar_items(model, i, n)``: the ``n`` items whose factor vectors point most nearly the same
  way as item ``i``'s, by cosine similarity ``cos(q_i, q_j) = q_i . q_j / (|q_i| |q_j|)``.
* ``fold_in(model, items, ratings)``: a new user's vector from their first ratings, one ridge solve
  (defined in :mod:`mflab._fold_in`, public here), and ``recommend_new_user`` on top of it.
* ``popular(train, n)``: items ranked by a damped mean rating
  ``(sum of ratings + damping * mu) / (count + damping)``, so an item with one 5-star rating does
  not beat one with five hundred 4.5s. It serves cold-start users, who have no factors to score.
  (As a model that goes through ``top_n`` and the metrics: :func:`mflab.baseline.popularity`.)

Works on any fitted model (it reads ``P``, ``Q``, ``mu``, the biases and ``params``); it imports
no model module, so that every model can import it.
"""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from . import _checks
from .ratings import require_ratings
from ._fold_in import fold_in  # noqa: F401  (public here: recommend.fold_in)

# top_n_batch scores at most this many (user, item) cells at once (2**22 doubles: 32 MB)
_BLOCK_CELLS = 2 ** 22


def _frame(model_or_train, items, score_name, scores, extra=None) -> pd.DataFrame:
    df = pd.DataFrame({"item": items, score_name: scores} | (extra or {}))
    ids = getattr(model_or_train, "item_ids", None)
    if ids is not None:
        df.insert(1, "item_id", ids[items])
    return df


def popularity_scores(train, *, by: str = "rating", damping: float = 10.0, force: bool = False) -> np.ndarray:
    """One popularity score per item, shape (n_items,): the damped mean rating (``by="rating"``) or
    the number of ratings (``by="count"``, the ranking for implicit feedback, where a rating is an
    interaction). An item count beyond the size guard is refused unless ``force=True``."""
    require_ratings("train", train)
    damping = _checks.nonnegative("damping", damping)
    if by not in ("rating", "count"):
        raise ValueError(f"by must be 'rating' (damped mean rating) or 'count' (number of ratings); got {by!r}")
    _checks.array_size(f"popularity over train.n_items={train.n_items:,} items", (3, train.n_items), 8,
                       force=force, alternative="Build the Ratings on the items that occur "
                                                "(Ratings.from_frame indexes only those).")
    count = train.item_counts()
    if by == "count":
        return count.astype(float)
    total = np.bincount(train.item, weights=train.value, minlength=train.n_items)
    return (total + damping * train.mean()) / np.maximum(count + damping, 1e-12)


def popular(train, n: int = 10, *, damping: float = 10.0, by: str = "rating",
            exclude_user: int | None = None, force: bool = False) -> pd.DataFrame:
    """The ``n`` items with the highest damped mean rating, or the most ratings (``by="count"``).

    ``exclude_user`` (a user index) leaves out the items that user rated in ``train``; a user
    beyond ``train``'s users rated nothing there, so nothing is left out.
    """
    n = _checks.count("n", n)
    score = popularity_scores(train, by=by, damping=damping, force=force)
    candidates = np.ones(train.n_items, dtype=bool)
    if exclude_user is not None:
        user = _user_index("exclude_user", exclude_user)
        if user < train.n_users:
            candidates[train.user_items(user)[0]] = False
    items = _top(score, candidates, n)
    return _frame(train, items, "score", score[items], {"ratings": train.item_counts()[items]})


def top_n(model, user: int, n: int = 10, *, exclude=None, fallback=None, min_ratings: int = 1) -> pd.DataFrame:
    """Top-``n`` items for ``user`` by predicted rating, as a DataFrame (item, [item_id], score).

    ``exclude`` (a Ratings on the model's users x items, usually the training set) removes what the
    user already rated. ``fallback="popular"``: a user with fewer than ``min_ratings`` ratings in
    ``exclude``, or one the model does not know, gets :func:`popular` items instead (column
    ``source`` says which). The ranking is :func:`top_n_batch`'s for this one user.
    """
    n = _checks.count("n", n)
    min_ratings = _checks.count("min_ratings", min_ratings, minimum=0)
    if fallback not in (None, "popular"):
        raise ValueError(f"fallback must be None or 'popular'; got {fallback!r}")
    if exclude is not None:
        require_ratings("exclude", exclude)
        _checks.fits_model("exclude", exclude, model)
    if fallback == "popular":
        user = _user_index("user", user)
        if exclude is None:
            raise ValueError("fallback='popular' needs exclude=train: popularity is counted on the training ratings")
        rated = exclude.user_counts()[user] if user < exclude.n_users else 0
        if user >= model.n_users or rated < min_ratings:
            out = popular(exclude, n, exclude_user=user)
            out["source"] = "popular"
            return out
    elif isinstance(user, (bool, np.bool_)) or not isinstance(user, numbers.Integral):
        raise TypeError(f"user must be an integer user index; got {user!r}")
    model._check_known("user", np.asarray(user), model.n_users)
    scores = _scores(model, np.array([user]), exclude)[0]
    items = _ranked(scores[None, :], n)[0]
    items = items[items >= 0]
    out = _frame(model, items, "score", scores[items])
    if model.k and not model.P[user].any():
        # no training ratings, so no factors: the list is the item-bias ranking everyone gets
        out["source"] = "item biases only (this user has no factors)"
    elif fallback is not None:
        out["source"] = "model"
    return out


def top_n_batch(model, users, n: int = 10, *, exclude=None) -> np.ndarray:
    """The top-``n`` item indices for each of ``users``, best first: a (len(users), n) int array.

    Row ``j`` is ``top_n(model, users[j], n, exclude=exclude)["item"]`` (ties by item index),
    padded with -1 when the user has fewer than ``n`` items left after ``exclude``. Scored a block
    of users at a time (at most about 2**22 cells), so memory stays bounded for any number of users.
    """
    users = _checks.indices("users", users, None, what="user")
    model._check_known("user", users, model.n_users)
    n = _checks.count("n", n)
    if exclude is not None:
        require_ratings("exclude", exclude)
        _checks.fits_model("exclude", exclude, model)
    out = np.full((len(users), n), -1, dtype=np.int64)
    step = max(1, _BLOCK_CELLS // max(model.n_items, 1))
    for s in range(0, len(users), step):
        out[s:s + step] = _ranked(_scores(model, users[s:s + step], exclude), n)
    return out


def _scores(model, users, exclude) -> np.ndarray:
    """(len(users), n_items) predicted ratings (with draws: their mean); -inf where excluded."""
    draws = getattr(model, "draws", None)
    if model.k == 0:
        dots = np.zeros((len(users), model.n_items))
    elif draws is None:
        dots = model.P[users] @ model.Q.T
    else:  # the mean over draws of P_s Q_s^T, a chunk of draws side by side at a time
        dots = np.zeros((len(users), model.n_items))
        chunk = max(1, _BLOCK_CELLS // (model.k * (len(users) + model.n_items)))
        for s in range(0, len(draws), chunk):
            dots += (np.concatenate(draws.P[s:s + chunk, users], axis=1)
                     @ np.concatenate(draws.Q[s:s + chunk], axis=1).T)
        dots /= len(draws)
    scores = model.mu + model.user_bias[users][:, None] + model.item_bias[None, :] + dots
    if exclude is not None:
        g = exclude.by_user
        starts, lengths = g.indptr[users], g.indptr[users + 1] - g.indptr[users]
        rows = np.repeat(np.arange(len(users)), lengths)
        pos = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())
        scores[rows, g.other[pos]] = -np.inf
    return scores


def _ranked(scores, n) -> np.ndarray:
    """Per row, the ``n`` best column indices (ties by index), -1 for excluded (-inf) ones."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
    order[np.take_along_axis(scores, order, axis=1) == -np.inf] = -1
    if order.shape[1] < n:
        order = np.pad(order, ((0, 0), (0, n - order.shape[1])), constant_values=-1)
    return order


def recommend_new_user(model, items, ratings, n: int = 10, *, reg=None, reg_bias=None,
                       reg_scaling=None) -> pd.DataFrame:
    """Top-``n`` items for a user known only by ``ratings`` of ``items`` (folded in, see
    :func:`fold_in`), the rated items excluded."""
    n = _checks.count("n", n)
    p_u, b_u = fold_in(model, items, ratings, reg=reg, reg_bias=reg_bias, reg_scaling=reg_scaling)
    scores = model.mu + b_u + model.item_bias + model.Q @ p_u
    candidates = np.ones(model.n_items, dtype=bool)
    candidates[_checks.indices("items", items, model.n_items)] = False
    top = _top(scores, candidates, n)
    return _frame(model, top, "score", scores[top])


def cosine_similarity(V: np.ndarray) -> np.ndarray:
    """Matrix of cosine similarities between the rows of ``V``; a zero row has similarity 0."""
    V = _checks.real_array("V", V, ndim=2)
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    U = np.divide(V, norms, out=np.zeros_like(V, dtype=float), where=norms > 0)
    return U @ U.T


def similar_items(model, item: int, n: int = 10) -> pd.DataFrame:
    """The ``n`` items most cosine-similar to ``item`` in factor space (the item itself excluded).

    With draws, on the posterior-mean ``Q``.
    """
    n = _checks.count("n", n)
    item = _checks.index("item", item, model.n_items, what="item")
    if model.k == 0:
        raise ValueError("similar_items needs latent factors; this model has k = 0 (a baseline)")
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


def _user_index(name, value) -> int:
    """A user index >= 0 (beyond the model's users too: a new user); bools, floats, text refused."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer user index (0-based); got {value!r}")
    if value < 0:
        raise ValueError(f"{name} = {value}: user indices are 0-based and >= 0 (-1 is not the last user)")
    return int(value)


def _top(scores, candidates, n):
    """Indices of the ``n`` highest ``scores`` among ``candidates``, best first; ties by index."""
    idx = np.flatnonzero(candidates)
    order = np.lexsort((idx, -scores[idx]))
    return idx[order[:n]]
