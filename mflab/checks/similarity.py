"""Check of lesson 07's exercise: the n items most cosine-similar to a vector, ``checks.most_similar(f)``."""
from __future__ import annotations

import numpy as np

from .. import recommend
from ._compare import compare


def _cosines(Q, v):
    """cos(q_j, v) for every row j of Q, through mflab's own cosine_similarity (v stacked on top)."""
    return recommend.cosine_similarity(np.vstack([v, Q]))[0, 1:]


def _reference(Q, v, n):
    return np.argsort(-_cosines(Q, v), kind="stable")[:n]


def _by_dot(Q, v, n):  # no normalisation (or v's length only, which is the same order)
    return np.argsort(-(Q @ v), kind="stable")[:n]


def _columns_normalised(Q, v, n):
    Qn = Q / np.linalg.norm(Q, axis=0)
    return np.argsort(-(Qn @ v), kind="stable")[:n]


def _euclidean(Q, v, n):
    return np.argsort(np.linalg.norm(Q - v, axis=1), kind="stable")[:n]


SLIPS = (
    (_by_dot, "the order matches the dot product q_j . v: cosine divides each one by |q_j| |v| "
              "(np.linalg.norm(Q, axis=1) for the rows), so a long vector does not win by its length. "
              "Dividing by |v| alone changes nothing: it is the same for every row"),
    (_columns_normalised, "the order matches Q normalised by its columns (axis=0): a row's length is "
                          "np.linalg.norm(Q, axis=1), one per item"),
    (lambda Q, v, n: np.argsort(_cosines(Q, v), kind="stable")[:n],
     "these are the least similar rows: sort the similarities from high to low, e.g. np.argsort(-sims)"),
    (_euclidean, "the order matches the Euclidean distance |q_j - v|, which mixes direction with length; "
                 "rank by the cosine (q_j . v) / (|q_j| |v|)"),
    (lambda Q, v, n: np.argsort(-_cosines(Q, v), kind="stable")[1:n + 1],
     "the best match is missing: return the n most similar rows, the first one included (if v is "
     "one of Q's rows, that row comes first with similarity 1; leave it out only when asked)"),
    (lambda Q, v, n: -np.sort(-_cosines(Q, v))[:n],
     "these are the similarities themselves: return the row indices, best first (np.argsort)"),
    (lambda Q, v, n: np.argsort(_cosines(Q, v), kind="stable")[-n:],
     "the right n rows in the wrong order (least similar of them first): put the most similar first, "
     "e.g. np.argsort(-sims)[:n]"),
    (lambda Q, v, n: np.argsort(-np.abs(_cosines(Q, v)), kind="stable")[:n],
     "the order matches |cos|: a row pointing the opposite way (cosine near -1) is the least similar, "
     "not one of the most; rank by the cosine itself"),
)


def most_similar(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(Q, v, n) -> items``: the indices of the ``n`` rows of ``Q`` most cosine-similar to ``v``.

    ``cos(q_j, v) = (q_j . v) / (|q_j| |v|)``; ``Q`` is (n_items, k), ``v`` (k,); ``items`` is a 1-D
    integer array of length ``n``, the most similar first (``v`` may be one of Q's rows: it then
    comes first). The hidden cases have no zero rows and no ties. Named slips: the dot product
    without dividing by the lengths, columns normalised instead of rows, the least similar first,
    Euclidean distance, the best match dropped, similarities returned instead of indices, the right
    rows least similar first, ranking by the absolute cosine.
    """
    rng = np.random.default_rng(70)
    cases = []
    for m, k, n in ((8, 2, 3), (20, 3, 5), (12, 5, 1), (30, 4, 6)):
        Q = rng.normal(size=(m, k)) * rng.lognormal(0.0, 0.8, size=(m, 1))  # rows of unequal length
        cases.append((Q, rng.normal(size=k) * 2.0, n))
    Q = cases[-1][0]
    cases[-1] = (Q, Q[7].copy(), 6)  # the vector of one of Q's items, as for "more like this movie"
    return compare("most_similar", cases, yours, _reference, params=("Q", "v", "n"), results=("items",),
                   label=lambda Q, v, n: f"{Q.shape[0]} items, k={Q.shape[1]}, n={n}", slips=SLIPS,
                   timeout=timeout)
