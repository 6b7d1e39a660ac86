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
k x k matrix: :func:`cg_rows`, compiled by numba and run over the rows on every core.

**BPR** (Rendle et al., UAI 2009): learn to rank a user's items above items they did not touch.
For a sampled triple (u, i observed, j not), ``x_uij = x_u . (y_i - y_j) + b_i - b_j`` and SGD climbs
``ln sigmoid(x_uij) - reg/2 |theta|^2``; :func:`bpr_epoch` is the loop, compiled by numba. The
negative j is drawn uniformly from the catalogue (Rendle's choice) or, as the ``implicit`` library
does, in proportion to popularity (``negatives="popularity"``): a different model, not a detail.
Both return a :class:`~mflab.Factorization` (``P`` = X, ``Q`` = Y; scores rank, they are not ratings).
"""
from __future__ import annotations

import numpy as np

try:  # prange: a parallel loop when compiled, a plain range otherwise
    from numba import prange
except ImportError:
    prange = range

from . import _checks
from ._numba import njit
from ._progress import Progress
from .ridge import Batches
from .factorization import Factorization
from .ratings import require_ratings


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
    total = a.dtype.type(0)  # float32 arrays sum in float32, float64 in float64
    for f in range(len(a)):
        total += a[f] * b[f]
    return total


def cg_rows(rows, indptr, other, confidence, weights, Y, YtY, X, cg_steps):
    """``cg_steps`` of conjugate gradient on the system of each row in ``rows``, from its current
    vector in ``X``.

    Row u solves ``(YtY + Y_u^T W_u Y_u) x = Y_u^T c_u`` (``YtY`` includes ``reg I``; ``c_u`` the
    confidences of its ratings, ``W_u`` their ``c - 1``), using only products with that matrix:
    ``O(n_u k + k^2)`` per step for a row with ``n_u`` ratings. Updates ``X`` in place. The rows
    are independent, so the compiled version solves them on all cores (``prange`` gives each
    thread one contiguous share of ``rows``; shuffled rows make the shares equal work).
    """
    k = Y.shape[1]
    for s in prange(len(rows)):
        u = rows[s]
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            continue
        r, p, Ap = np.empty(k, X.dtype), np.empty(k, X.dtype), np.empty(k, X.dtype)
        x = X[u]
        for f in range(k):  # r = b - A x, with b = Y_u^T c_u
            r[f] = -_dot(YtY[f], x)
        for t in range(lo, hi):
            y = Y[other[t]]
            coeff = confidence[t] - weights[t] * _dot(y, x)
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
            beta = rs_new / rs
            for f in range(k):
                p[f] = r[f] + beta * p[f]
            rs = rs_new


_dot = njit(fastmath={"reassoc"}, inline="always")(_dot)
compiled_cg_rows = njit(parallel=True, fastmath={"reassoc"})(cg_rows)


def _solve_side(rows, grouped, Y, weights, reg, current, solver, cg_steps):
    """Every row's solve against the fixed side ``Y``: exact (``rows`` is a ``Batches``: batched,
    readable), or ``cg_steps`` of CG from ``current`` (:func:`cg_rows`, compiled; ``rows`` the row
    ids, shuffled). ``weights`` are the ratings' ``c - 1``."""
    k = Y.shape[1]
    YtY = (Y.T @ Y + reg * np.eye(k)).astype(Y.dtype)
    out = current.copy()
    if solver == "cg":  # compiled, row by row, like the implicit library
        compiled_cg_rows(rows, grouped.indptr, grouped.other, weights + 1, weights, Y, YtY, out, cg_steps)
        return out
    Y_pad = np.vstack([Y, np.zeros((1, k), Y.dtype)])
    w_pad = np.r_[weights, 0.0].astype(Y.dtype)  # c - 1 per rating; padding adds nothing
    for batch, other, pos in rows.batches:
        Yb, w = Y_pad[other], w_pad[pos]  # (rows, width, k), (rows, width)
        Ybt = Yb.transpose(0, 2, 1)
        b = (Ybt @ (w + (pos >= 0))[..., None])[..., 0]  # Y_u^T c_u
        A = YtY + (Ybt * w[:, None, :]) @ Yb
        out[batch] = np.linalg.solve(A, b[..., None])[..., 0]
    return out


def als(interactions, k: int, *, reg: float = 0.01, alpha: float = 40.0, epochs: int = 15,
        seed=None, solver: str = "cg", cg_steps: int = 3, init=None, init_scale: float = 0.01,
        dtype="float64", progress: bool = False) -> Factorization:
    """Confidence-weighted ALS on ``interactions`` (a Ratings of counts or strengths >= 0).

    Objective: the loss in the module docstring, with ``c_ui = 1 + alpha r_ui``. Defaults follow
    the ``implicit`` library (alpha 40 as in Hu et al., reg 0.01, 15 sweeps, 3 CG steps); note that
    the library takes the matrix it is given as the confidence itself (``c = alpha r``, not
    ``1 + alpha r``). ``init`` = ``(X0, Y0)`` starts from given factors, else ``normal(0,
    init_scale)`` from ``seed``. ``dtype="float32"`` computes in single precision (the library's
    default): about twice as fast, with rounding errors near 1e-7 (relative) instead of 1e-16.
    ``history["loss"]`` is not recorded (it needs every cell); use :func:`loss` on small data.
    """
    require_ratings("interactions", interactions)
    k = _checks.positive_int("k", k)
    reg = _checks.positive("reg", reg)
    alpha = _checks.nonnegative("alpha", alpha)
    epochs = _checks.positive_int("epochs", epochs)
    cg_steps = _checks.positive_int("cg_steps", cg_steps)
    init_scale = _checks.positive("init_scale", init_scale)
    if solver not in ("cg", "exact"):
        raise ValueError(f"solver must be 'cg' (conjugate gradient, fast) or 'exact' (readable); got {solver!r}")
    if str(dtype) not in ("float32", "float64") and dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}")
    dtype = np.dtype(dtype)
    if (interactions.value < 0).any():
        raise ValueError("interactions must be >= 0 (counts or strengths); a confidence 1 + alpha r "
                         "below 1 would reward predicting the wrong preference")
    X, Y = (a.astype(dtype) for a in _checks.initial_factors(interactions, k, init, init_scale, seed))
    by_user, by_item = interactions.by_user, interactions.by_item
    w_user, w_item = (alpha * by_user.value).astype(dtype), (alpha * by_item.value).astype(dtype)
    # the exact solver works on batches of rows with similar counts; CG goes row by row, shuffled
    # (the order changes no result) because popular items come first and would load one thread
    if solver == "exact":
        user_rows, item_rows = Batches(by_user, k), Batches(by_item, k)
    else:
        shuffle = np.random.default_rng(0)
        user_rows, item_rows = shuffle.permutation(len(by_user)), shuffle.permutation(len(by_item))
    report = Progress("implicit ALS sweep", epochs, enabled=progress)
    for _ in range(epochs):
        X = _solve_side(user_rows, by_user, Y, w_user, reg, X, solver, cg_steps)
        Y = _solve_side(item_rows, by_item, X, w_item, reg, Y, solver, cg_steps)
        report.step({})
    params = {"k": k, "reg": reg, "alpha": alpha, "epochs": epochs, "solver": solver,
              "cg_steps": cg_steps, "init_scale": init_scale, "dtype": dtype.name}
    return Factorization.from_training(interactions, X, Y, method="implicit-als", params=params)


def bpr_epoch(users, positives, negatives, indptr, items_sorted, P, Q, b, lr, reg):
    """One BPR pass over sampled triples (u, i, j), skipping a j that u did touch. Per triple:
    ``x = p_u . (q_i - q_j) + b_i - b_j``, ``z = 1 / (1 + exp(x))`` (the gradient of ``ln sigmoid(x)``),
    then every parameter steps up its gradient (old values on the right). Returns the triples used."""
    k = P.shape[1]
    used = 0
    for t in range(len(users)):
        u, i, j = users[t], positives[t], negatives[t]
        lo, hi = indptr[u], indptr[u + 1]  # is j among u's items? (sorted: binary search)
        at = lo + np.searchsorted(items_sorted[lo:hi], j)
        if at < hi and items_sorted[at] == j:
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
        negatives: str = "uniform", init=None, init_scale: float = 0.1, progress: bool = False,
        compiled: bool = True) -> Factorization:
    """Bayesian personalised ranking by SGD over sampled triples.

    Each epoch samples as many triples as there are interactions: an observed (u, i) uniformly,
    and a negative j (skipped when u touched it), drawn by ``negatives``:

    - ``"uniform"``: j uniform over the catalogue, as in Rendle et al.'s LearnBPR;
    - ``"popularity"``: j is the item of another uniformly drawn interaction, so an item is drawn
      in proportion to its number of interactions. This is what the ``implicit`` library's CPU BPR
      does (its negative is the column of a random non-zero). Popular items then serve as
      negatives far more often, which pushes the model away from popularity; on data where the
      next pick is usually a popular item (MovieLens) it ranks worse.

    ``init`` = ``(P0, Q0)`` starts from given factors (b starts at 0), else ``normal(0, init_scale)``.
    Returns scores ``b_i + p_u . q_i`` as a Factorization (``item_bias`` = b);
    ``history["used"]``: the triples used per epoch.
    """
    require_ratings("interactions", interactions)
    k = _checks.positive_int("k", k)
    lr = _checks.positive("lr", lr)
    reg = _checks.nonnegative("reg", reg)
    epochs = _checks.positive_int("epochs", epochs)
    compiled = _checks.boolean("compiled", compiled)
    if negatives not in ("uniform", "popularity"):
        raise ValueError(f"negatives must be 'uniform' (over the catalogue) or 'popularity' (in "
                         f"proportion to the interactions, as the implicit library); got {negatives!r}")
    rng = _checks.generator(seed)
    P, Q = _checks.initial_factors(interactions, k, init, init_scale, rng)
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
        if negatives == "uniform":
            drawn = rng.integers(0, interactions.n_items, n)
        else:
            drawn = interactions.item[rng.integers(0, n, n)]
        used = run(interactions.user[pick], interactions.item[pick], drawn, g.indptr, items_sorted,
                   P, Q, b, lr, reg)
        if not (np.isfinite(P).all() and np.isfinite(Q).all()):
            raise ValueError(f"BPR diverged: the factors became infinite with lr={lr}; try lr={lr / 10:g}")
        history["used"].append(used)
        report.step({})
    params = {"k": k, "lr": lr, "reg": reg, "epochs": epochs, "negatives": negatives, "init_scale": init_scale}
    return Factorization.from_training(interactions, P, Q, 0.0, None, b, history=history, method="bpr",
                                       params=params)
