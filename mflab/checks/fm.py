"""Check of lesson 10's exercise: the pairwise term of a factorization machine in O(k n),
``checks.fm_pairwise(my_pairwise)``.

The student writes ``my_pairwise(V, x) -> float`` for one feature vector ``x`` (n,) and the factor
vectors ``f_j`` as the rows of ``V`` (n, k, as in mflab), by the identity::

    sum_{j<l} (f_j . f_l) x_j x_l = 1/2 sum_f [ (sum_j f_jf x_j)^2 - sum_j f_jf^2 x_j^2 ]

mflab's answer is the double sum itself, over every pair j < l, written out (independent of
:func:`mflab.fm.pairwise`, which the tests hold to it). The hidden cases have real-valued entries
(as the implicit blocks' ``1/sqrt(n_u)``), so that ``x_j^2`` and ``x_j`` differ.
"""
from __future__ import annotations

import numpy as np

from ._compare import compare


def _double_sum(V, x):
    """``sum_{j<l} (f_j . f_l) x_j x_l``, pair by pair: O(k n^2)."""
    V, x = np.asarray(V, dtype=float), np.asarray(x, dtype=float)
    return float(sum(V[j] @ V[l] * x[j] * x[l] for j in range(len(x)) for l in range(j + 1, len(x))))


def _parts(V, x):
    """``s_f = sum_j f_jf x_j`` (k,) and the diagonal terms ``d_f = sum_j f_jf^2 x_j^2`` (k,)."""
    return V.T @ x, (V ** 2).T @ (x ** 2)


SLIPS = (
    (lambda V, x: float(np.sum(_parts(V, x)[0] ** 2 - _parts(V, x)[1])),
     "the 1/2 is missing: the square of the sum, minus its j = l terms, counts every pair j != l twice "
     "(once as (j, l), once as (l, j)); the sum over j < l is half of it"),
    (lambda V, x: 0.5 * float(np.sum(_parts(V, x)[0] ** 2)),
     "the squares are not subtracted: (sum_j f_jf x_j)^2 also holds the terms j = l, (f_jf x_j)^2, which "
     "are no pair; subtract sum_j f_jf^2 x_j^2 before halving"),
    (lambda V, x: float(np.sum(_parts(V, x)[0] ** 2)),
     "neither the 1/2 nor the subtraction: (sum_j f_jf x_j)^2 counts every pair twice and also holds the "
     "terms j = l; the pairwise term is 1/2 sum_f [(sum_j f_jf x_j)^2 - sum_j f_jf^2 x_j^2]"),
    (lambda V, x: 0.5 * float(np.sum(_parts(V, x)[0] ** 2 - (V ** 2).T @ x)),
     "x_j is not squared in the subtracted terms: the j = l term of the square is (f_jf x_j)^2 = "
     "f_jf^2 x_j^2. With 0/1 features x_j^2 = x_j hides the slip; the implicit blocks' 1/sqrt(n_u) "
     "entries show it"),
    (lambda V, x: 0.5 * float(np.sum(_parts(V, x)[0] ** 2 - V.T @ (x ** 2))),
     "f_jf is not squared in the subtracted terms: the j = l term of the square is (f_jf x_j)^2 = "
     "f_jf^2 x_j^2"),
    (lambda V, x: 0.5 * float(np.sum((V * x[:, None]).sum(axis=1) ** 2) - np.sum(_parts(V, x)[1])),
     "the sum runs over the wrong axis: s_f = sum_j f_jf x_j sums over the features j (the rows of V), "
     "one sum per factor f, so s = V.T @ x has k entries; (V * x[:, None]).sum(axis=1) sums each "
     "feature's own factors instead"),
    (lambda V, x: 0.5 * float(np.sum(V.T @ x) ** 2 - np.sum(_parts(V, x)[1])),
     "the square is taken once, of everything: square each factor's sum s_f = sum_j f_jf x_j on its "
     "own, then add the k squares, sum_f s_f^2 = s @ s"),
)


def cases():
    """The hidden cases ``(V, x)``: real-valued and one-hot-with-implicit feature vectors, one
    factor, one feature (no pair at all: 0) and zero entries (features absent from the rating)."""
    rng = np.random.default_rng(10)
    out = [(rng.normal(size=(5, 3)), rng.normal(size=5))]
    x = np.zeros(9)
    x[[1, 4]] = 1.0                          # a user id and a movie id ...
    x[6:] = 1 / np.sqrt(3)                   # ... and an implicit block of three movies
    out.append((rng.normal(0, 0.5, (9, 2)), x))
    out.append((rng.normal(size=(6, 1)), np.array([0.5, -1.0, 0.0, 2.0, 0.0, 0.3])))
    out.append((rng.normal(size=(1, 4)), np.array([0.7])))
    out.append((rng.normal(size=(12, 5)), np.where(rng.random(12) < 0.5, rng.uniform(0.1, 1.5, 12), 0.0)))
    return out


def fm_pairwise(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(V, x) -> float``: the FM's pairwise term for one feature vector ``x`` (n,)
    with the factor vectors as the rows of ``V`` (n, k), in O(k n)::

        sum_{j<l} (f_j . f_l) x_j x_l = 1/2 sum_f [ (sum_j f_jf x_j)^2 - sum_j f_jf^2 x_j^2 ]

    held to the double sum over every pair. Named slips: the 1/2 missing, the squares not
    subtracted (or both), x_j or f_jf not squared in the subtracted terms, the sum over the wrong
    axis of V, and the square taken once of everything instead of once per factor.
    """
    return compare("fm_pairwise", cases(), yours, _double_sum, params=("V", "x"), results=("pairwise",),
                   label=lambda V, x: f"n={V.shape[0]}, k={V.shape[1]}, {int(np.count_nonzero(x))} nonzero",
                   slips=SLIPS, timeout=timeout)
