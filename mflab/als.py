"""Alternating least squares: fix Q and solve every user, fix P and solve every item.

Objective (the slides' regularised loss, ``reg`` = lambda)::

    sum_{(u,i) observed} (r_ui - p_u . q_i)^2 + reg (||P||^2 + ||Q||^2)

With Q fixed the loss splits into one ridge regression per user. For user u with rated items
I(u), stack their factor rows into ``Q_u`` (|I(u)| x k) and ratings into ``r_u``; then::

    p_u = (Q_u^T Q_u + reg I)^{-1} Q_u^T r_u           (the normal equations)

and symmetrically for every item with P fixed. Each half-step solves its problem exactly, so the
training loss never goes up. With ``biases=True`` the model is ``mu + b_u + b_i + p_u . q_i``:
the user step solves for ``[b_u, p_u]`` against features ``[1, q_i]`` and targets
``r_ui - mu - b_i`` (and the item step likewise), all inside the same alternation.

Implementation: no Python loop over ratings or users. All users' Gram matrices ``Q_u^T Q_u`` are
summed at once from per-rating outer products (in chunks, to bound memory), then solved in one
batched ``numpy.linalg.solve``. :func:`solve_user` is the one-user version a student reads; the
tests hold the batched solver to it and to ``numpy.linalg.lstsq``.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from ._progress import Progress
from .factorization import Factorization

_CHUNK_FLOATS = 8_000_000  # ~64 MB of outer products at a time


def solve_user(Q_u: np.ndarray, r_u: np.ndarray, reg: float) -> np.ndarray:
    """One ridge solve: ``p_u = (Q_u^T Q_u + reg I)^{-1} Q_u^T r_u``.

    ``Q_u`` is (n_rated, k), the factor rows of the items user u rated; ``r_u`` their ratings.
    """
    k = Q_u.shape[1]
    return np.linalg.solve(Q_u.T @ Q_u + reg * np.eye(k), Q_u.T @ r_u)


def solve_all(grouped, X: np.ndarray, y: np.ndarray, reg: float, current: np.ndarray) -> np.ndarray:
    """:func:`solve_user` for every row of a grouped rating table at once.

    ``grouped`` is ``Ratings.by_user`` (or ``by_item``): rows sorted by user, ``grouped.other``
    the item of each rating; ``X`` the fixed factors of the other side; ``y`` the targets in the
    same sorted order. Rows with no ratings keep their ``current`` value.
    """
    n, k = len(grouped), X.shape[1]
    counts = np.diff(grouped.indptr)
    rows = np.repeat(np.arange(n), counts)
    Xr = X[grouped.other]
    A = np.zeros((n, k, k))
    b = np.zeros((n, k))
    _sum_rows(b, rows, Xr * y[:, None])
    chunk = max(1, _CHUNK_FLOATS // max(k * k, 1))
    for start in range(0, len(rows), chunk):
        stop = min(start + chunk, len(rows))
        outer = Xr[start:stop, :, None] * Xr[start:stop, None, :]
        _sum_rows(A, rows[start:stop], outer)
    A += reg * np.eye(k)
    has = counts > 0
    out = current.copy()
    try:
        out[has] = np.linalg.solve(A[has], b[has][..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ValueError(
            f"reg={reg} leaves a normal-equation matrix singular (a user or item with fewer ratings "
            f"than factors, k={k}); use reg > 0"
        ) from None
    return out


def _sum_rows(out, rows, values):
    """``out[rows] += values`` for sorted ``rows`` with repeats, using one ``reduceat``."""
    if len(rows) == 0:
        return
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    out[rows[starts]] += np.add.reduceat(values, starts, axis=0)


def fit(train, k: int, *, reg: float = 0.1, iters: int = 50, biases: bool = False, seed=None,
        init_scale: float = 0.1, test=None, progress: bool = False) -> Factorization:
    """Fit ``P`` (n_users x k) and ``Q`` (n_items x k) by ``iters`` alternating sweeps.

    ``P`` then ``Q`` are drawn from ``normal(0, init_scale)`` with ``seed`` (an int or a Generator,
    used as is, so a lesson can continue its own stream). ``history["train_rmse"]`` (and
    ``"test_rmse"`` when ``test`` is given) hold the RMSE after each sweep.
    """
    _checks.ratings("train", train)
    k = _checks.positive_int("k", k)
    reg = _checks.nonnegative("reg", reg)
    iters = _checks.positive_int("iters", iters)
    init_scale = _checks.positive("init_scale", init_scale)
    _checks.same_shape("test", test, train)
    rng = _checks.generator(seed)
    P = rng.normal(0, init_scale, (train.n_users, k))
    Q = rng.normal(0, init_scale, (train.n_items, k))
    mu = train.mean() if biases else 0.0
    b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
    by_user, by_item = train.by_user, train.by_item
    users_of_item = train.user[by_item.order]
    items_of_user = train.item[by_user.order]
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    report = Progress("ALS sweep", iters, enabled=progress)
    for _ in range(iters):
        if biases:
            X = np.column_stack([np.ones(train.n_items), Q])
            sol = solve_all(by_user, X, by_user.value - mu - b_i[items_of_user], reg, np.column_stack([b_u, P]))
            b_u, P = sol[:, 0], sol[:, 1:]
            X = np.column_stack([np.ones(train.n_users), P])
            sol = solve_all(by_item, X, by_item.value - mu - b_u[users_of_item], reg, np.column_stack([b_i, Q]))
            b_i, Q = sol[:, 0], sol[:, 1:]
        else:
            P = solve_all(by_user, Q, by_user.value, reg, P)
            Q = solve_all(by_item, P, by_item.value, reg, Q)
        model = Factorization.from_training(train, P, Q, mu, b_u, b_i)
        history["train_rmse"].append(model.rmse(train))
        if test is not None:
            history["test_rmse"].append(model.rmse(test))
        report.step(history)
    params = {"k": k, "reg": reg, "iters": iters, "biases": biases, "init_scale": init_scale}
    return Factorization.from_training(train, P, Q, mu, b_u, b_i, history=history, method="als", params=params)
