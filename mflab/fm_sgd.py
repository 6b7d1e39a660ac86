"""A factorization machine fitted by stochastic gradient descent, one rating at a time.

The objective, summed over the ratings (each feature charged once per rating it appears in, as
:mod:`mflab.sgd` charges users and items: ``reg_scaling="count"``)::

    sum_n [ e_n^2 + sum_{j: x_nj != 0} (reg |v_j|^2 + reg_bias w_j^2) ],   e_n = y_n - y_hat(x_n)

``w0`` is the training mean and is not learned (as ``mu`` in :mod:`mflab.sgd`). The prediction's
derivatives, with ``s_f = sum_l v_lf x_l`` computed once per rating::

    d y_hat / d w_j  = x_j
    d y_hat / d v_jf = x_j (s_f - v_jf x_j)

so SGD steps against half the gradient of one rating's term, as :mod:`mflab.sgd` does::

    w_j  <- w_j  + lr (e x_j - reg_bias w_j)
    v_jf <- v_jf + lr (e x_j (s_f - v_jf x_j) - reg v_jf)        (s_f from before the step)

With only the id features, ``s - v_u = q_i`` and ``s - v_i = p_u``: these are mflab.sgd's four
update lines, and :func:`epoch` makes the same steps to rounding (tests/test_fm.py).
"""
from __future__ import annotations

import numpy as np

from ._numba import njit


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
    from .fm_design import vectors

    return vectors(side, np.column_stack([w, V]))
