"""The Gibbs loops of :mod:`mflab.fm_gibbs` in numpy, for an environment without numba.

Same arguments, same results to rounding (tests/test_fm.py holds them together); vectorised over
the ratings, or over the rows having one feature, instead of looping over them one at a time,
so that Bayesian FM stays usable when the loops cannot be compiled.
"""
from __future__ import annotations

import numpy as np

from .fm_design import vectors


def side_vectors(indptr, col, val, theta, X):
    X[:] = vectors(None, theta, indptr, col, val)


def rating_stats(indptr, other, value, X_other, w0, G, r):
    n, d = len(indptr) - 1, X_other.shape[1]
    row = np.repeat(np.arange(n), np.diff(indptr))
    Z = np.column_stack([np.ones(len(other)), X_other[other, 1:]])
    target = value - w0 - X_other[other, 0]
    for a in range(d):
        r[:, a] = np.bincount(row, weights=target * Z[:, a], minlength=n)
        for c in range(a + 1):
            G[:, a, c] = G[:, c, a] = np.bincount(row, weights=Z[:, a] * Z[:, c], minlength=n)


def sample_group(first, end, t_indptr, t_row, t_val, present, theta, X, G, rho, m, Lam, alpha, eps):
    for j in range(first, end):
        if not present[j]:
            continue
        u, x = t_row[t_indptr[j]:t_indptr[j + 1]], t_val[t_indptr[j]:t_indptr[j + 1]]
        old = theta[j].copy()
        z = X[u].copy()
        z[:, 0] = 0.0
        z[:, 1:] -= x[:, None] * old[1:]
        Gu = G[u]
        s = Gu[:, :, 0] + 0.5 * Gu[:, 0, 0][:, None] * z
        T = np.einsum("na,nc->ac", (x ** 2)[:, None] * z, s)
        A = np.einsum("n,nac->ac", x ** 2, Gu) + T + T.T
        b = np.sum(x[:, None] * (rho[u] + z * rho[u][:, :1]), axis=0)
        y = Lam @ m + alpha * (b + A @ old)
        try:
            L = np.linalg.cholesky(Lam + alpha * A)
        except np.linalg.LinAlgError:
            return False
        theta[j] = np.linalg.solve(L.T, np.linalg.solve(L, y) + eps[j - first])
        delta = theta[j] - old
        shift = np.column_stack([x * (delta[0] + z[:, 1:] @ delta[1:]), x[:, None] * delta[1:]])
        X[u] += shift
        rho[u] -= np.einsum("nac,nc->na", Gu, shift)
    return True


def residual_sums(users, items, values, X_user, X_item, w0):
    e = values - w0 - X_user[users, 0] - X_item[items, 0] - np.einsum(
        "nc,nc->n", X_user[users, 1:], X_item[items, 1:])
    return float(e.sum()), float(e @ e)
