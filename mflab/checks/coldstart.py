"""Check of lesson 08's exercise: a new user's fold-in solve, ``checks.fold_in(my_fold_in)``."""
from __future__ import annotations

import numpy as np

from .. import recommend
from ..factorization import Factorization
from ._compare import compare


def _reference(Q_u, y_u, reg, reg_bias):
    """recommend.fold_in on a model whose items are the rated ones, with mu = 0 and b_i = 0, so that
    its targets r - mu - b_i are y_u."""
    n, k = Q_u.shape
    model = Factorization(np.zeros((1, k)), Q_u, 0.0, np.zeros(1), np.zeros(n), method="als",
                          params={"k": k, "reg": reg, "reg_bias": reg_bias, "reg_scaling": "none", "biases": True})
    p_u, b_u = recommend.fold_in(model, np.arange(n), y_u, reg=reg, reg_bias=reg_bias, reg_scaling="none")
    return p_u, b_u


def _solve(Z, y, ridge):
    return np.linalg.solve(Z.T @ Z + np.diag(ridge), Z.T @ y)


def _Z(Q_u):
    return np.column_stack([np.ones(len(Q_u)), Q_u])


def _split(x):
    return x[1:], float(x[0])


def _one_ridge(Q_u, y_u, reg, reg_bias):
    return _split(_solve(_Z(Q_u), y_u, np.full(Q_u.shape[1] + 1, reg)))


def _bias_free(Q_u, y_u, reg, reg_bias):
    return _split(_solve(_Z(Q_u), y_u, np.r_[0.0, np.full(Q_u.shape[1], reg)]))


def _no_bias(Q_u, y_u, reg, reg_bias):
    return _solve(Q_u, y_u, np.full(Q_u.shape[1], reg)), 0.0


def _bias_first(Q_u, y_u, reg, reg_bias):
    b_u = float(y_u.sum() / (len(y_u) + reg_bias))
    return _solve(Q_u, y_u - b_u, np.full(Q_u.shape[1], reg)), b_u


def _swapped(Q_u, y_u, reg, reg_bias):
    return _split(_solve(_Z(Q_u), y_u, np.r_[reg, np.full(Q_u.shape[1], reg_bias)]))


def _no_ridge(Q_u, y_u, reg, reg_bias):  # raises on a singular Z^T Z (fewer ratings than k + 1), as the student's would
    return _split(_solve(_Z(Q_u), y_u, np.zeros(Q_u.shape[1] + 1)))


def _no_ridge_lstsq(Q_u, y_u, reg, reg_bias):
    return _split(np.linalg.lstsq(_Z(Q_u), y_u, rcond=None)[0])


_NO_RIDGE = ("no ridge: the solve is (Z_u^T Z_u + D)^{-1} Z_u^T y_u with D = diag(reg_bias, reg, ..., reg); "
             "without D a user with fewer ratings than k + 1 has no unique solution")


def _count_scaled(Q_u, y_u, reg, reg_bias):
    return _reference(Q_u, y_u, reg * len(y_u), reg_bias * len(y_u))


def _outer(Q_u, y_u, reg, reg_bias):  # Z Z^T (n x n): raises unless n == k + 1, as the student's would
    Z = _Z(Q_u)
    return _split(np.linalg.solve(Z @ Z.T + np.diag(np.r_[reg_bias, np.full(Q_u.shape[1], reg)]), Z.T @ y_u))


SLIPS = (
    (_one_ridge, "b_u was charged reg: the ridge is D = diag(reg_bias, reg, ..., reg), reg_bias on the "
                 "ones column (b_u), reg on the k factor columns"),
    (_bias_free, "b_u was not penalised: put reg_bias on the first diagonal entry of D, the one of the "
                 "ones column"),
    (_no_bias, "b_u is missing (0): add a column of ones to Q_u, Z_u = [1, Q_u], and solve for [b_u, p_u] together"),
    (_bias_first, "you fitted b_u first and p_u on what was left: solve the two together, "
                  "[b_u, p_u] = (Z_u^T Z_u + D)^{-1} Z_u^T y_u with Z_u = [1, Q_u]"),
    (_count_scaled, "your ridge is reg * n and reg_bias * n (the count scaling of an SGD model); here "
                    "reg and reg_bias are the plain lambdas: D = diag(reg_bias, reg, ..., reg)"),
    (_swapped, "reg and reg_bias are swapped in D: reg_bias goes on the first diagonal entry (the ones "
               "column, b_u), reg on the k factor columns"),
    (_no_ridge, _NO_RIDGE),
    (_no_ridge_lstsq, _NO_RIDGE),
    (lambda Q_u, y_u, reg, reg_bias: _reference(Q_u, y_u, reg, reg_bias)[::-1],
     "the two results are swapped: return p_u first, then b_u"),
    (_outer, "Z_u Z_u^T: you formed Z @ Z.T (n x n, one row per rating) where the normal equations have "
             "Z_u^T Z_u = Z.T @ Z ((k+1) x (k+1))"),
)


def fold_in(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(Q_u, y_u, reg, reg_bias) -> (p_u, b_u)``: a new user's fold-in, Q fixed.

    ``Q_u`` (n, k) are the factor rows of the n items the user rated, ``y_u`` (n,) the targets
    ``r_ui - mu - b_i``. With ``Z_u = [1, Q_u]`` and ``D = diag(reg_bias, reg, ..., reg)``::

        [b_u, p_u] = (Z_u^T Z_u + D)^{-1} Z_u^T y_u

    ``p_u`` is a 1-D array of length k, ``b_u`` a number. The reference is
    :func:`mflab.recommend.fold_in` with ``reg_scaling="none"``. Named slips: b_u charged reg, b_u
    not charged, no b_u, b_u fitted before p_u, a count-scaled ridge, reg and reg_bias swapped, no ridge
    at all, the results swapped, Z_u Z_u^T.
    """
    rng = np.random.default_rng(80)
    cases = [(rng.normal(0, 0.5, (n, k)), rng.normal(0, 1, n).round(2), reg, reg_bias)
             for n, k, reg, reg_bias in ((1, 2, 1.0, 5.0), (4, 3, 0.5, 2.0), (10, 2, 3.0, 0.1), (6, 4, 2.0, 10.0))]
    return compare("fold_in", cases, yours, _reference, params=("Q_u", "y_u", "reg", "reg_bias"),
                   results=("p_u", "b_u"),
                   label=lambda Q_u, y_u, reg, reg_bias: f"{len(y_u)} rating{'s' * (len(y_u) != 1)}, "
                                                         f"k={Q_u.shape[1]}, reg={reg}, reg_bias={reg_bias}",
                   slips=SLIPS, timeout=timeout)
