"""Check of lesson 13's exercise: a new user's top-n list from their folded-in vector,
``checks.top_n(my_top_n)``."""
from __future__ import annotations

import numpy as np

from .. import recommend
from ..factorization import Factorization
from ..ratings import Ratings
from ._compare import compare


def _reference(item_bias, Q, p_u, rated, n):
    """recommend.top_n for a one-user model with P = [p_u], the rated items excluded. mu and b_u are
    0: they add the same number to every item's score, so they never change the order."""
    n_items, k = Q.shape
    model = Factorization(p_u[None, :], Q, 0.0, np.zeros(1), item_bias, method="als",
                          params={"k": k, "biases": True})
    rated = np.asarray(rated, dtype=int)
    exclude = Ratings(np.zeros(len(rated), dtype=int), rated, np.ones(len(rated)), 1, n_items)
    return recommend.top_n(model, 0, n, exclude=exclude)["item"].to_numpy()


def _ranked(scores, rated, n):
    scores = scores.astype(float)
    scores[np.asarray(rated, dtype=int)] = -np.inf
    return np.argsort(-scores, kind="stable")[:n]


def _rated_scored_zero(item_bias, Q, p_u, rated, n):
    scores = item_bias + Q @ p_u
    scores[np.asarray(rated, dtype=int)] = 0.0
    return np.argsort(-scores, kind="stable")[:n]


def _deleted(item_bias, Q, p_u, rated, n):  # positions in the shortened array, not item indices
    scores = np.delete(item_bias + Q @ p_u, np.asarray(rated, dtype=int))
    return np.argsort(-scores, kind="stable")[:n]


def _removed_after(item_bias, Q, p_u, rated, n):  # the top n first, the rated ones then dropped
    top = np.argsort(-(item_bias + Q @ p_u), kind="stable")[:n]
    return top[~np.isin(top, rated)]


SLIPS = (
    (lambda b, Q, p, rated, n: _ranked(Q @ p, rated, n),
     "you ranked by p_u . q_i alone: the prediction is mu + b_u + b_i + p_u . q_i, and b_i changes "
     "the order (mu + b_u is the same for every item, so it does not)"),
    (lambda b, Q, p, rated, n: _ranked(b, rated, n),
     "you ranked by b_i alone, the list of a user with no ratings: add the personal part p_u . q_i"),
    (lambda b, Q, p, rated, n: np.argsort(-(b + Q @ p), kind="stable")[:n],
     "your list holds an item the user rated: leave the rated items out before taking the top n"),
    (_removed_after, "you took the top n and then removed the rated items, so fewer than n are left: "
                     "remove the rated items first, then take the top n"),
    (_deleted, "you deleted the rated items from the scores, so every item after a deleted one moved up a "
               "place: argsort then returns positions in the shortened array, not item indices. Give the "
               "rated items a score of -np.inf instead"),
    (_rated_scored_zero, "you gave the rated items a score of 0, which still beats every negative score: "
                         "give them -np.inf, or drop them from the candidates"),
    (lambda b, Q, p, rated, n: np.argsort(b + Q @ p, kind="stable")[:n],
     "your list starts with the worst items: sort the scores from high to low, e.g. np.argsort(-scores)"),
    (lambda b, Q, p, rated, n: np.sort(b + Q @ p)[::-1][:n],
     "these are scores: return the items' indices, best first (np.argsort)"),
)


def top_n(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(item_bias, Q, p_u, rated, n) -> items``: the ``n`` unrated items of highest
    predicted rating for a user with vector ``p_u``.

    ``item_bias`` (n_items,), ``Q`` (n_items, k), ``p_u`` (k,), ``rated`` a list of item indices the
    user rated, ``n`` an int. The score of item i is ``b_i + p_u . q_i`` (``mu + b_u`` is the same
    for every item); ``items`` is a 1-D integer array of ``n`` indices, best first, none of them
    rated. The hidden cases have no ties. The reference is :func:`mflab.recommend.top_n` with the
    rated items excluded. ``item_bias`` and ``Q`` are read-only, as a fitted model's are, so a
    function that writes into them fails here as it would on the model. Named slips: p_u . q_i
    alone, b_i alone, rated items kept, rated items removed after the cut, rated items deleted from
    the scores (indices shifted), rated items scored 0, worst first, scores returned instead of
    items.
    """
    rng = np.random.default_rng(13)
    cases = []
    # item biases mostly negative in the last case, so that a rated item scored 0 would climb
    for n_items, k, n_rated, n, shift in ((8, 2, 2, 3, 0.0), (12, 3, 3, 5, 0.0), (20, 2, 4, 6, -1.0),
                                          (30, 3, 5, 10, -0.8)):
        item_bias = rng.normal(shift, 0.5, n_items)
        Q, p_u = rng.normal(0, 0.4, (n_items, k)), rng.normal(0, 0.6, k)
        scores = item_bias + Q @ p_u
        best = np.argsort(-scores)
        rated = np.sort(rng.choice(best[: n + 2], n_rated, replace=False)).tolist()  # some in the top n
        item_bias.flags.writeable = Q.flags.writeable = False  # read-only, as a fitted model's arrays are
        cases.append((item_bias, Q, p_u, rated, n))
    return compare("top_n", cases, yours, _reference, params=("item_bias", "Q", "p_u", "rated", "n"),
                   results=("items",),
                   label=lambda b, Q, p, rated, n: f"{len(b)} items, k={Q.shape[1]}, {len(rated)} rated, n={n}",
                   slips=SLIPS, timeout=timeout)
