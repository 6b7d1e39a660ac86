"""Implicit feedback: who watched, clicked or bought what, with no rating to predict.

A missing entry is not "unknown" but "probably not interested, weakly". Two models:

**Confidence-weighted ALS** (Hu, Koren and Volinsky, ICDM 2008). Every cell has a preference
``p_ui = 1`` if user u interacted with item i, else 0, and a confidence ``c_ui = 1 + alpha r_ui``
(``r_ui`` the number of interactions, or a rating used as their strength; 0 for empty cells). The
loss runs over ALL cells, not only the observed ones::

    sum_(u,i) c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)

With Y fixed, user u's solve is ``(Y^T C_u Y + reg I) x_u = Y^T C_u p_u``. Forming ``Y^T C_u Y``
would touch every item for every user; but ``C_u - I`` is zero except on the user's own items, so

    Y^T C_u Y = Y^T Y + Y_u^T (C_u - I) Y_u        (Y^T Y computed once per sweep)

and the cost is linear in the number of observed entries. :func:`solve_user` is that solve for one
user; ``als(..., solver="exact")`` does it for all users at once; ``solver="cg"`` takes a few
conjugate-gradient steps from the current vector instead (Takacs et al., 2011), never forming the
k x k matrix.

**BPR** (Rendle et al., UAI 2009): learn to rank a user's items above items they did not touch.
For a sampled triple (u, i observed, j not), ``x_uij = x_u . (y_i - y_j) + b_i - b_j`` and SGD climbs
``ln sigmoid(x_uij) - reg/2 |theta|^2``; :func:`bpr_epoch` is the loop, compiled by numba.
Both return a :class:`~mflab.Factorization` (``P`` = X, ``Q`` = Y; scores rank, they are not ratings).
"""
from __future__ import annotations

import numpy as np

from . import _checks
from ._numba import njit
from ._progress import Progress
from .als import _Batches
from .factorization import Factorization


def solve_user(Y, YtY, items, confidence, reg):
    """One user's exact solve: ``x_u = (Y^T Y + Y_u^T (C_u - I) Y_u + reg I)^-1 Y_u^T c_u``.

    ``items`` are the user's items, ``confidence`` their ``c_ui`` (the preference is 1 on them).
    """
    Y_u = Y[items]
    A = YtY + Y_u.T @ ((confidence - 1)[:, None] * Y_u) + reg * np.eye(Y.shape[1])
    return np.linalg.solve(A, Y_u.T @ confidence)


def loss(model, interactions, *, alpha, reg):
    """The full confidence-weighted loss over every cell (dense: for small problems and tests)."""
    C = 1 + alpha * interactions.to_dense(fill=0.0)
    pref = interactions.mask().astype(float)
    E = pref - model.P @ model.Q.T
    return float(np.sum(C * E * E) + reg * (np.sum(model.P ** 2) + np.sum(model.Q ** 2)))


def _dot(a, b):
    total = 0.0
    for f in range(len(a)):
        total += a[f] * b[f]
    return total


def cg_rows(indptr, other, weights, Y, YtY, X, cg_steps):
    """``cg_steps`` of conjugate gradient on every row's system, from its current vector in ``X``.

    Row u solves ``(YtY + Y_u^T W_u Y_u) x = Y_u^T (W_u + 1)`` (``YtY`` includes ``reg I``; ``W_u``
    the weights ``c - 1`` of its ratings), using only products with that matrix. Updates ``X``.
    """
    k = Y.shape[1]
    for u in range(len(indptr) - 1):
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            continue
        r, p, Ap = np.zeros(k), np.zeros(k), np.zeros(k)
        x = X[u]
        for f in range(k):  # r = b - A x, with b = Y_u^T c_u
            r[f] = -_dot(YtY[f], x)
        for t in range(lo, hi):
            y = Y[other[t]]
            coeff = (weights[t] + 1.0) - weights[t] * _dot(y, x)
            for f in range(k):
                r[f] += coeff * y[f]
        p[:] = r
        rs = _dot(r, r)
        for _ in range(cg_steps):
            if rs <= 1e-20:
                break
            for f in range(k):  # Ap = YtY p + Y_u^T W_u Y_u p
                Ap[f] = _dot(YtY[f], p)
            for t in range(lo, hi):
                y = Y[other[t]]
                coeff = weights[t] * _dot(y, p)
                for f in range(k):
                    Ap[f] += coeff * y[f]
            step = rs / _dot(p, Ap)
            for f in range(k):
                x[f] += step * p[f]
                r[f] -= step * Ap[f]
            rs_new = _dot(r, r)
            for f in range(k):
                p[f] = r[f] + rs_new / rs * p[f]
            rs = rs_new


_dot = njit(fastmath={"reassoc"})(_dot)
compiled_cg_rows = njit()(cg_rows)


def _solve_side(batches, grouped, Y, weights, reg, current, solver, cg_steps):
    """Every row's solve against the fixed side ``Y``: exact (batched, readable), or ``cg_steps`` of
    CG from ``current`` (:func:`cg_rows`, compiled)."""
    k = Y.shape[1]
    YtY = Y.T @ Y + reg * np.eye(k)
    if solver == "cg":  # compiled, row by row, like the implicit library
        out = current.copy()
        compiled_cg_rows(grouped.indptr, grouped.other, weights, Y, YtY, out, cg_steps)
        return out
    Y_pad = np.vstack([Y, np.zeros((1, k))])
    w_pad = np.r_[weights, 0.0]  # c - 1 per rating; padding adds nothing
    out = current.copy()
    for rows, other, pos in batches.batches:
        Yb, w = Y_pad[other], w_pad[pos]  # (rows, width, k), (rows, width)
        Ybt = Yb.transpose(0, 2, 1)
        b = (Ybt @ (w + (pos >= 0))[..., None])[..., 0]  # Y_u^T c_u
        A = YtY + (Ybt * w[:, None, :]) @ Yb
        out[rows] = np.linalg.solve(A, b[..., None])[..., 0]
    return out


def als(interactions, k: int, *, reg: float = 0.01, alpha: float = 40.0, epochs: int = 15,
        seed=None, solver: str = "cg", cg_steps: int = 3, init_scale: float = 0.01,
        progress: bool = False) -> Factorization:
    """Confidence-weighted ALS on ``interactions`` (a Ratings of counts or strengths >= 0).

    Objective: the loss in the module docstring. Defaults follow the ``implicit`` library (alpha
    40 as in Hu et al., reg 0.01, 15 sweeps, 3 CG steps). ``history["loss"]`` is not recorded
    (it needs every cell); use :func:`loss` on small data.
    """
    _checks.ratings("interactions", interactions)
    k = _checks.positive_int("k", k)
    reg = _checks.positive("reg", reg)
    alpha = _checks.nonnegative("alpha", alpha)
    epochs = _checks.positive_int("epochs", epochs)
    cg_steps = _checks.positive_int("cg_steps", cg_steps)
    init_scale = _checks.positive("init_scale", init_scale)
    if solver not in ("cg", "exact"):
        raise ValueError(f"solver must be 'cg' (conjugate gradient, fast) or 'exact' (readable); got {solver!r}")
    if (interactions.value < 0).any():
        raise ValueError("interactions must be >= 0 (counts or strengths); a confidence 1 + alpha r "
                         "below 1 would reward predicting the wrong preference")
    X, Y = _checks.initial_factors(interactions, k, None, init_scale, seed)
    by_user, by_item = interactions.by_user, interactions.by_item
    # the exact solver works on batches of rows with similar counts; CG goes row by row
    user_rows, item_rows = (_Batches(by_user, k), _Batches(by_item, k)) if solver == "exact" else (None, None)
    report = Progress("implicit ALS sweep", epochs, enabled=progress)
    for _ in range(epochs):
        X = _solve_side(user_rows, by_user, Y, alpha * by_user.value, reg, X, solver, cg_steps)
        Y = _solve_side(item_rows, by_item, X, alpha * by_item.value, reg, Y, solver, cg_steps)
        report.step({})
    params = {"k": k, "reg": reg, "alpha": alpha, "epochs": epochs, "solver": solver,
              "cg_steps": cg_steps, "init_scale": init_scale}
    return Factorization.from_training(interactions, X, Y, method="implicit-als", params=params)


def bpr_epoch(users, positives, negatives, indptr, items_sorted, P, Q, b, lr, reg):
    """One pass of BPR over sampled triples (u, i, j); a triple whose j the user did touch is skipped.

    For each: ``x = p_u . (q_i - q_j) + b_i - b_j``, ``z = 1 / (1 + exp(x))`` (the gradient of
    ``ln sigmoid(x)``), then every parameter steps up its gradient (old values on the right).
    Returns the number of triples used.
    """
    k = P.shape[1]
    used = 0
    for t in range(len(users)):
        u, i, j = users[t], positives[t], negatives[t]
        lo, hi = indptr[u], indptr[u + 1]  # is j among u's items? (sorted: binary search)
        while lo < hi:
            mid = (lo + hi) // 2
            if items_sorted[mid] < j:
                lo = mid + 1
            else:
                hi = mid
        if lo < indptr[u + 1] and items_sorted[lo] == j:
            continue
        x = b[i] - b[j]
        for f in range(k):
            x += P[u, f] * (Q[i, f] - Q[j, f])
        z = 1.0 / (1.0 + np.exp(x))
        b[i] += lr * (z - reg * b[i])
        b[j] += lr * (-z - reg * b[j])
        for f in range(k):
            p_uf, q_if, q_jf = P[u, f], Q[i, f], Q[j, f]
            P[u, f] += lr * (z * (q_if - q_jf) - reg * p_uf)
            Q[i, f] += lr * (z * p_uf - reg * q_if)
            Q[j, f] += lr * (-z * p_uf - reg * q_jf)
        used += 1
    return used


compiled_bpr_epoch = njit()(bpr_epoch)


def bpr(interactions, k: int, *, lr: float = 0.05, reg: float = 0.01, epochs: int = 30, seed=None,
        init_scale: float = 0.1, progress: bool = False, compiled: bool = True) -> Factorization:
    """Bayesian personalised ranking by SGD over uniformly sampled triples.

    Each epoch samples as many triples as there are interactions: an observed (u, i) uniformly,
    and an item j uniformly from the whole catalogue (skipped when u touched it). Returns scores
    ``b_i + p_u . q_i`` as a Factorization (``item_bias`` = b). ``history["used"]``: triples used.
    """
    _checks.ratings("interactions", interactions)
    k = _checks.positive_int("k", k)
    lr = _checks.positive("lr", lr)
    reg = _checks.nonnegative("reg", reg)
    epochs = _checks.positive_int("epochs", epochs)
    compiled = _checks.boolean("compiled", compiled)
    rng = _checks.generator(seed)
    P, Q = _checks.initial_factors(interactions, k, None, init_scale, rng)
    b = np.zeros(interactions.n_items)
    g = interactions.by_user
    order = np.lexsort((g.other, np.repeat(np.arange(interactions.n_users), g.counts())))
    items_sorted = g.other[order]  # each user's items, ascending, for the binary search
    run = compiled_bpr_epoch if compiled else bpr_epoch
    history = {"used": []}
    report = Progress("BPR epoch", epochs, enabled=progress)
    n = len(interactions)
    for _ in range(epochs):
        pick = rng.integers(0, n, n)
        negatives = rng.integers(0, interactions.n_items, n)
        used = run(interactions.user[pick], interactions.item[pick], negatives, g.indptr, items_sorted,
                   P, Q, b, lr, reg)
        if not (np.isfinite(P).all() and np.isfinite(Q).all()):
            raise ValueError(f"BPR diverged: the factors became infinite with lr={lr}; try lr={lr / 10:g}")
        history["used"].append(used)
        report.step({})
    params = {"k": k, "lr": lr, "reg": reg, "epochs": epochs, "init_scale": init_scale}
    return Factorization.from_training(interactions, P, Q, 0.0, None, b, history=history, method="bpr",
                                       params=params)
