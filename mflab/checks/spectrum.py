"""Check of lesson 03's exercise: how many singular values stand above the noise edge,
``checks.above_noise(my_above_noise)``."""
from __future__ import annotations

import numpy as np

from ._compare import compare


def _singular_values(R):
    return np.linalg.svd(R, compute_uv=False)


def _count_above(values, edge):
    return int(np.sum(values > edge))


def _reference(R, s):
    """sigma_j > s (sqrt(m) + sqrt(n)), counted."""
    m, n = R.shape
    return _count_above(_singular_values(R), s * (np.sqrt(m) + np.sqrt(n)))


def _with_edge(edge):
    return lambda R, s: _count_above(_singular_values(R), edge(s, *R.shape))


def _squared(R, s):  # eigenvalues of R^T R are the squared singular values
    m, n = R.shape
    return _count_above(np.linalg.eigvalsh(R.T @ R), s * (np.sqrt(m) + np.sqrt(n)))


def _the_values(R, s):
    m, n = R.shape
    values = _singular_values(R)
    return values[values > s * (np.sqrt(m) + np.sqrt(n))]


SLIPS = (
    (lambda R, s: min(R.shape),
     "you counted every singular value (the rank of a noisy matrix, or len() of the comparison): "
     "count only those above the edge, np.sum(values > edge)"),
    (_squared, "you compared squared singular values (the eigenvalues of R^T R or R R^T) with the edge: "
               "take their square roots, or use np.linalg.svd(R, compute_uv=False)"),
    (_with_edge(lambda s, m, n: s * np.sqrt(m + n)),
     "the edge is s (sqrt(m) + sqrt(n)), the sum of two square roots, not s sqrt(m + n)"),
    (_with_edge(lambda s, m, n: s * np.sqrt(m * n)),
     "the edge is s (sqrt(m) + sqrt(n)), the sum of two square roots, not s sqrt(m n)"),
    (_with_edge(lambda s, m, n: np.sqrt(m) + np.sqrt(n)),
     "the edge grows with the noise: multiply sqrt(m) + sqrt(n) by the noise's standard deviation s"),
    (_with_edge(lambda s, m, n: s ** 2 * (np.sqrt(m) + np.sqrt(n))),
     "s is the noise's standard deviation, not its variance: the edge is s (sqrt(m) + sqrt(n)), not s**2 (...)"),
    (lambda R, s: _count_above(_singular_values(R), R.std() * (np.sqrt(R.shape[0]) + np.sqrt(R.shape[1]))),
     "you took the noise level from R.std(), which holds the signal too: the noise's standard deviation "
     "is the s you are given"),
    (_the_values, "these are the singular values above the edge: return how many there are (one number)"),
)


def above_noise(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(R, s) -> int``: how many singular values of ``R`` exceed ``s (sqrt(m) + sqrt(n))``.

    ``R`` is an m x n matrix (signal plus noise of standard deviation ``s``); the edge
    ``s (sqrt(m) + sqrt(n))`` is about the largest singular value of pure noise of that shape.
    One whole number. Named slips: every value counted (the rank, or len of the comparison), squared
    singular values (eigenvalues of R^T R), the edge as s sqrt(m + n) or s sqrt(m n), without s,
    with s**2, s taken from R.std(), the values returned instead of their count.
    """
    rng = np.random.default_rng(33)
    cases = []
    # (m, n, s, signal singular values): some well above the edge, some near it, some below
    for m, n, s, strengths in ((40, 25, 0.5, (60, 12, 7, 3)), (30, 30, 0.2, (20, 5, 3, 2.2, 1)),
                               (60, 20, 1.0, (80, 16, 11, 6)), (25, 50, 2.0, (90, 40, 25, 18, 10))):
        U = np.linalg.qr(rng.normal(size=(m, len(strengths))))[0]
        V = np.linalg.qr(rng.normal(size=(n, len(strengths))))[0]
        cases.append(((U * strengths) @ V.T + rng.normal(0, s, (m, n)), s))
    return compare("above_noise", cases, yours, _reference, params=("R", "s"), results=("the count",),
                   label=lambda R, s: f"{R.shape[0]} x {R.shape[1]}, s={s}", slips=SLIPS, timeout=timeout)
