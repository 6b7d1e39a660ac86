"""A factorization machine fitted by stochastic gradient descent, one rating at a time.

The objective, summed over the ratings (each feature charged once per rating it appears in, as
:mod:`mflab.sgd` charges users and items: ``reg_scaling="count"``)::

    sum_n [ e_n^2 + sum_{j: x_nj != 0} (reg |f_j|^2 + reg_bias w_j^2) ],   e_n = y_n - y_hat(x_n)

``w0`` is the training mean and is not learned (as ``mu`` in :mod:`mflab.sgd`). The prediction's
derivatives, with ``s_f = sum_l f_lf x_l`` computed once per rating (the code's ``V[j, f]`` is
``f_jf``, the f-th entry of feature j's vector)::

    d y_hat / d w_j  = x_j
    d y_hat / d f_jf = x_j (s_f - f_jf x_j)

so SGD steps against half the gradient of one rating's term, as :mod:`mflab.sgd` does::

    w_j  <- w_j  + lr (e x_j - reg_bias w_j)
    f_jf <- f_jf + lr (e x_j (s_f - f_jf x_j) - reg f_jf)        (s_f from before the step)

With only the id features, ``s - f_u = q_i`` and ``s - f_i = p_u``: these are mflab.sgd's four
update lines, and :func:`epoch` makes the same steps to rounding (tests/test_fm.py).
"""
from __future__ import annotations

import time

import numpy as np

from ._numba import njit
from .fm_design import vectors
from .sgd import DivergenceError


def epoch(users, items, values, u_indptr, u_col, u_val, i_indptr, i_col, i_val, n_user_features,
          w, V, w0, lr, reg, reg_bias, s):
    """One pass over the ratings in the given order, updating ``w`` and ``V`` in place.

    A rating's features are its user's row of the user table (``u_indptr``, ``u_col``, ``u_val``)
    and its item's row of the item table, whose columns follow the user table's
    (``n_user_features`` on). ``s`` is a length-k work array. Returns the sum of squared errors
    seen during the pass (before each update).
    """
    k = V.shape[1]
    sse = 0.0
    for t in range(len(values)):
        u, i = users[t], items[t]
        linear, squares = w0, 0.0
        s[:] = 0.0
        for side in range(2):
            indptr, col, val, row, offset = ((u_indptr, u_col, u_val, u, 0) if side == 0
                                             else (i_indptr, i_col, i_val, i, n_user_features))
            for p in range(indptr[row], indptr[row + 1]):
                j, x = offset + col[p], val[p]
                linear += w[j] * x
                for f in range(k):
                    s[f] += V[j, f] * x
                    squares += (V[j, f] * x) ** 2
        pairwise = 0.0
        for f in range(k):
            pairwise += s[f] * s[f]
        e = values[t] - (linear + 0.5 * (pairwise - squares))  # the O(k n) identity
        sse += e * e
        for side in range(2):
            indptr, col, val, row, offset = ((u_indptr, u_col, u_val, u, 0) if side == 0
                                             else (i_indptr, i_col, i_val, i, n_user_features))
            for p in range(indptr[row], indptr[row + 1]):
                j, x = offset + col[p], val[p]
                w[j] += lr * (e * x - reg_bias * w[j])
                for f in range(k):
                    v = V[j, f]
                    V[j, f] += lr * (e * x * (s[f] - v * x) - reg * v)
    return sse


def _plain_epoch(*args):
    """:func:`epoch` uncompiled; overflow gives inf (reported as divergence), not a warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        return epoch(*args)


compiled_epoch = njit()(epoch)


def run(train, sides, thetas, *, epochs, lr, reg, reg_bias, shuffle, rng, test=None, report=None,
        compiled=True):
    """``epochs`` passes of :func:`epoch` from the starting ``thetas`` (one (n_features, k + 1)
    array of ``[w_j, f_j]`` rows per side). Returns the final ``thetas``, each side's ``[B, a]``
    rows, the ``history`` (train and test RMSE per epoch) and the seconds per epoch."""
    w = np.concatenate([t[:, 0] for t in thetas])
    V = np.concatenate([t[:, 1:] for t in thetas])
    n_user, w0 = sides[0].n_features, float(train.mean())
    step = compiled_epoch if compiled else _plain_epoch
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    users, items, values = train.user, train.item, train.value
    (u, i), work, seconds = sides, np.zeros(V.shape[1]), []
    for n in range(epochs):
        start = time.perf_counter()
        if shuffle:
            order = rng.permutation(len(train))
            users, items, values = train.user[order], train.item[order], train.value[order]
        sse = step(users, items, values, u.indptr, u.col, u.val, i.indptr, i.col, i.val, n_user, w, V, w0,
                   lr, reg, reg_bias, work)
        if not (np.isfinite(sse) and np.isfinite(V).all() and np.isfinite(w).all()):
            raise DivergenceError(f"SGD diverged in epoch {n + 1}: the squared error became {sse} with "
                                  f"lr={lr}; the learning rate is too large for these features, try "
                                  f"lr={lr / 10:g}")
        seconds.append(time.perf_counter() - start)
        thetas = [np.column_stack([w[:n_user], V[:n_user]]), np.column_stack([w[n_user:], V[n_user:]])]
        X = [vectors(side, theta) for side, theta in zip(sides, thetas)]
        for name, ratings in (("train_rmse", train), ("test_rmse", test)):
            if ratings is not None:
                pred = w0 + X[0][ratings.user, 0] + X[1][ratings.item, 0] + np.einsum(
                    "nf,nf->n", X[0][ratings.user, 1:], X[1][ratings.item, 1:])
                history[name].append(float(np.sqrt(np.mean((ratings.value - pred) ** 2))))
        if report is not None:
            report.step(history)
    return thetas, X, history, np.array(seconds)


def objective(sides, train, w, V, w0, reg, reg_bias):
    """The objective of the module docstring at ``(w, V)``: the squared errors plus each
    feature's penalty times the number of training ratings it appears in."""
    users_side, items_side = sides
    n_user = users_side.n_features
    counts = []
    for side, g in zip(sides, (train.by_user, train.by_item)):
        counts.append(np.bincount(side.col, weights=g.counts()[np.repeat(np.arange(side.n_rows),
                                                                          np.diff(side.indptr))],
                                  minlength=side.n_features))
    c = np.concatenate(counts)
    a_u = _rows_dot(users_side, V[:n_user], w[:n_user])
    a_i = _rows_dot(items_side, V[n_user:], w[n_user:])
    Xu, Xi = a_u[train.user], a_i[train.item]
    e = train.value - (w0 + Xu[:, 0] + Xi[:, 0] + np.einsum("nf,nf->n", Xu[:, 1:], Xi[:, 1:]))
    return float(e @ e + reg * c @ np.sum(V ** 2, axis=1) + reg_bias * c @ w ** 2)


def _rows_dot(side, V, w):
    return vectors(side, np.column_stack([w, V]))
