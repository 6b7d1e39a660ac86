"""Confidence-weighted ALS for implicit feedback (Hu, Koren and Volinsky, ICDM 2008).

Every cell (u, i) of the users x items grid gets a preference ``pref_ui`` (written pi_ui in the
lessons): 1 if user u interacted with item i, else 0; and a confidence ``c_ui = 1 + alpha r_ui``,
with ``r_ui`` the stored interaction value (a count or a strength; 0 for an empty cell, so
``c_ui = 1`` there). The loss runs over ALL cells, not only the observed ones::

    L(P, Q) = sum_(u,i) c_ui (pref_ui - p_u . q_i)^2 + reg (|P|^2 + |Q|^2)

with ``p_u`` row u of ``P`` (n_users x k) and ``q_i`` row i of ``Q`` (n_items x k). The penalty
charges each user and item once (``params["reg_scaling"] == "none"``).

With Q fixed, user u's vector solves ``(Q^T C_u Q + reg I) p_u = Q^T C_u pref_u`` (``C_u`` the
diagonal matrix of the user's confidences ``c_ui``, ``pref_u`` their preferences).
Forming ``Q^T C_u Q`` would touch every item for every user; but ``C_u - I`` is zero except on the
user's own items ``Q_u``, so

    Q^T C_u Q = Q^T Q + Q_u^T (C_u - I) Q_u        (Q^T Q computed once per sweep)

and a sweep costs time linear in the number of interactions. :func:`solve_user` is that solve for
one user; ``fit(..., solver="exact")`` solves all users at once; ``solver="cg"`` instead takes a
few steps of conjugate gradients (:func:`conjugate_gradient`, the textbook method in ten lines)
from the current vector, never forming the k x k matrix (Takacs et al., 2011): :func:`cg_rows`,
compiled by numba and run over the rows on every core. The item side is the same with the roles
of P and Q swapped. The same trick gives the loss of every sweep without visiting every cell
(:func:`trace_loss`; CG also keeps it as it goes).
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._numba import njit, prange
from .._progress import Progress
from ..factorization import Factorization
from ..ridge import Batches
from . import _input


def solve_user(Q, QtQ, items, confidence, reg):
    """One user's exact solve: ``p_u = (Q^T Q + Q_u^T (C_u - I) Q_u + reg I)^-1 Q_u^T c_u``.

    ``Q`` (n_items, k) the item factors, ``QtQ`` = ``Q.T @ Q``; ``items`` the user's items,
    ``confidence`` their ``c_ui`` (``pref_ui`` is 1 on them and 0 elsewhere, so the right-hand side
    ``Q^T C_u pref_u`` keeps only the user's own items).
    """
    Q_u = Q[items]
    A = QtQ + Q_u.T @ ((confidence - 1)[:, None] * Q_u) + reg * np.eye(Q.shape[1])
    return np.linalg.solve(A, Q_u.T @ confidence)


def conjugate_gradient(matvec, b, x0, steps):
    """``steps`` of conjugate gradients on ``A x = b`` from ``x0``, A symmetric positive definite.

    Only products ``matvec(v) = A v`` are needed, never A itself. Each step moves along a new
    direction ``d``, A-conjugate to the previous ones (``d_s . A d_t = 0``), by the step that
    minimises ``x.A x / 2 - b.x`` along it; in exact arithmetic a k x k system is solved in k steps.
    """
    x = np.array(x0, dtype=float)
    r = b - matvec(x)  # the residual, also minus the gradient of x.A x / 2 - b.x
    d = r.copy()
    rr = r @ r
    for _ in range(steps):
        if rr <= 1e-20:  # solved (to rounding): a further step would divide by ~0
            break
        Ad = matvec(d)
        step = rr / (d @ Ad)
        x += step * d
        r -= step * Ad
        rr_new = r @ r
        d = r + (rr_new / rr) * d  # the next direction: A-conjugate to all before it
        rr = rr_new
    return x


def _dot(a, b):
    total = a.dtype.type(0)  # float32 arrays sum in float32, float64 in float64
    for f in range(len(a)):
        total += a[f] * b[f]
    return total


def cg_rows(rows, indptr, other, confidence, weights, Q, gram, P, cg_steps, objective):
    """:func:`conjugate_gradient` for every row u in ``rows``: ``cg_steps`` steps from ``P[u]``.

    Row u solves ``A_u p_u = b_u``: ``A_u = gram + Q_u^T W_u Q_u``, ``b_u = Q_u^T c_u``, with
    ``gram = Q^T Q + reg I``, the rows ``Q_u`` of ``Q`` listed at ``other[indptr[u]:indptr[u + 1]]``,
    ``c_u`` their ``confidence`` and ``W_u`` their ``weights`` (c - 1). Only products with ``A_u``
    are used, ``O(n_u k + k^2)`` per step for a row with ``n_u`` interactions. ``P`` is updated in
    place, and ``objective[u]`` receives ``f(p_u) = p_u . A_u p_u / 2 - b_u . p_u`` at the final
    vector (row u's share of the loss is ``2 f(p_u) + sum c_u``), kept up to date as CG goes at
    O(n_u) extra: :func:`fit` reads its loss from it. The item side passes the user factors as
    ``Q``. Rows are independent, so the compiled version solves them on all cores (``prange`` gives
    each thread one contiguous share of ``rows``; shuffled rows make the shares equal work).
    """
    k = Q.shape[1]
    for s in prange(len(rows)):
        u = rows[s]
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            continue
        r, d, Ad = np.empty(k, P.dtype), np.empty(k, P.dtype), np.empty(k, P.dtype)
        x = P[u]
        for f in range(k):  # r = b - A x, with b = Q_u^T c_u
            r[f] = -_dot(gram[f], x)
        value = -0.5 * float(_dot(r, x))  # f(x), from its pieces as they pass: x.gram x / 2 ...
        for t in range(lo, hi):
            q = Q[other[t]]
            score = _dot(q, x)
            value += (0.5 * weights[t] * score - confidence[t]) * score  # ... + x.Q_u^T W_u Q_u x / 2 - b.x
            coeff = confidence[t] - weights[t] * score
            for f in range(k):
                r[f] += coeff * q[f]
        d[:] = r
        rr = _dot(r, r)
        for _ in range(cg_steps):
            if rr <= 1e-20:
                break
            for f in range(k):  # Ad = gram d + Q_u^T W_u Q_u d
                Ad[f] = _dot(gram[f], d)
            for t in range(lo, hi):
                q = Q[other[t]]
                coeff = weights[t] * _dot(q, d)
                for f in range(k):
                    Ad[f] += coeff * q[f]
            step = rr / _dot(d, Ad)
            value += step * (0.5 * rr - _dot(d, r))  # f(x + step d) - f(x), as step d.A d = r.r
            for f in range(k):
                x[f] += step * d[f]
                r[f] -= step * Ad[f]
            rr_new = _dot(r, r)
            beta = rr_new / rr
            for f in range(k):
                d[f] = r[f] + beta * d[f]
            rr = rr_new
        objective[u] = value


def observed_terms(indptr, other, confidence, P, Q):
    """``sum over the interactions (u, i) of c_ui (1 - s_ui)^2 - s_ui^2``, ``s_ui = p_u . q_i``:
    what the observed cells add to the loss beyond ``sum_(u,i) s_ui^2`` (see :func:`trace_loss`)."""
    total = 0.0
    for u in range(len(indptr) - 1):
        for t in range(indptr[u], indptr[u + 1]):
            s = _dot(P[u], Q[other[t]])
            total += confidence[t] * (1.0 - s) ** 2 - s * s
    return total


def _observed_terms_numpy(indptr, other, confidence, P, Q):
    """:func:`observed_terms` vectorised (the path without numba), in blocks of bounded memory."""
    user = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    step = max(1, 2_000_000 // max(1, P.shape[1]))
    total = 0.0
    for lo in range(0, len(other), step):
        s = np.einsum("tk,tk->t", P[user[lo:lo + step]], Q[other[lo:lo + step]])
        total += float(np.sum(confidence[lo:lo + step] * (1.0 - s) ** 2 - s * s))
    return total


# "reassoc" lets the compiler reorder the dot products' sums (vectorised); it assumes nothing about
# NaN, so the finite checks on the results still work.
_dot = njit(fastmath={"reassoc"}, inline="always")(_dot)
compiled_cg_rows = njit(parallel=True, fastmath={"reassoc"})(cg_rows)
# one thread: about a millisecond on MovieLens 100K, less than a parallel region costs on a busy machine
compiled_observed_terms = njit(fastmath={"reassoc"}, fallback=_observed_terms_numpy)(observed_terms)


def loss(model, interactions, *, alpha, reg):
    """The loss ``L(P, Q)`` of the module docstring at ``model``, by its definition: every cell of
    the dense users x items grid (small data and tests; :func:`trace_loss` is the fast way)."""
    alpha, reg = _checks.nonnegative("alpha", alpha), _checks.nonnegative("reg", reg)
    interactions = _input.interactions("interactions", interactions, model="implicit ALS")
    if not isinstance(model, Factorization):
        raise TypeError(f"model must be an mflab.Factorization (what fit returns); got {type(model).__name__}")
    _checks.fits_model("interactions", interactions, model)
    C = 1 + alpha * interactions.to_dense(fill=0.0)
    pref = interactions.mask().astype(float)
    E = pref - model.P @ model.Q.T
    return float(np.sum(C * E * E) + reg * (np.sum(model.P ** 2) + np.sum(model.Q ** 2)))


def trace_loss(P, Q, interactions, *, alpha, reg):
    """The same loss, without visiting every cell: ``O(nnz k + (n_users + n_items) k^2)``.

    With ``s_ui = p_u . q_i``, ``pref = 1`` and ``c = 1 + alpha r`` on the interactions and
    ``pref = 0``, ``c = 1`` elsewhere::

        L = sum_(u,i) s_ui^2 + sum_interactions [c_ui (1 - s_ui)^2 - s_ui^2] + reg (|P|^2 + |Q|^2)

    and the sum over every cell is ``trace(P^T P Q^T Q)``: two k x k matrices, no users x items grid.
    """
    alpha, reg = _checks.nonnegative("alpha", alpha), _checks.nonnegative("reg", reg)
    interactions = _input.interactions("interactions", interactions, model="implicit ALS")
    P, Q = _checks.real_array("P", P, ndim=2), _checks.real_array("Q", Q, ndim=2)
    if P.shape[0] != interactions.n_users or Q.shape != (interactions.n_items, P.shape[1]):
        raise ValueError(f"P and Q must be ({interactions.n_users}, k) and ({interactions.n_items}, k), one row "
                         f"per user and per item of interactions; got {P.shape} and {Q.shape}")
    g = interactions.by_user
    return _trace_loss(P.T @ P, Q.T @ Q, g.indptr, g.other, 1 + alpha * g.value, P, Q, reg)


def _trace_loss(PtP, QtQ, indptr, other, confidence, P, Q, reg):
    # in float64 whatever the factors' dtype (and one compiled version of observed_terms)
    PtP, QtQ, P, Q = (np.asarray(a, dtype=float) for a in (PtP, QtQ, P, Q))
    every_cell = np.sum(PtP * QtQ)  # trace(P^T P Q^T Q): both are symmetric
    observed = compiled_observed_terms(indptr, other, confidence, P, Q)
    return float(every_cell + observed + reg * (np.trace(PtP) + np.trace(QtQ)))


def _solve_side(rows, grouped, Q, gram, weights, current, solver, cg_steps, objective):
    """Every row's solve against the fixed side ``Q`` (``gram`` = ``Q^T Q + reg I``): exact
    (``rows`` a ``Batches``: batched, readable numpy), or ``cg_steps`` of CG from ``current``
    (:func:`cg_rows`, compiled; ``rows`` the row ids, shuffled; fills ``objective``).
    ``weights`` are the c - 1."""
    k = Q.shape[1]
    out = current.copy()
    if solver == "cg":  # compiled, row by row, like the implicit library
        compiled_cg_rows(rows, grouped.indptr, grouped.other, weights + 1, weights, Q, gram, out, cg_steps,
                         objective)
        return out
    Q_pad = np.vstack([Q, np.zeros((1, k), Q.dtype)])
    w_pad = np.r_[weights, 0.0].astype(Q.dtype)  # c - 1 per interaction; padding adds nothing
    for batch, other, pos in rows.batches:
        Qb, w = Q_pad[other], w_pad[pos]  # (rows, width, k), (rows, width)
        Qbt = Qb.transpose(0, 2, 1)
        b = (Qbt @ (w + (pos >= 0))[..., None])[..., 0]  # Q_u^T c_u
        A = gram + (Qbt * w[:, None, :]) @ Qb
        out[batch] = np.linalg.solve(A, b[..., None])[..., 0]
    return out


def fit(interactions, k: int, *, reg: float = 0.01, alpha: float = 40.0, epochs: int = 15,
        seed=None, solver: str = "cg", cg_steps: int = 3, init=None, init_scale: float = 0.01,
        dtype="float64", progress: bool = False, force: bool = False) -> Factorization:
    """Confidence-weighted ALS: minimise ``L(P, Q)`` of the module docstring by alternating sweeps.

    ``interactions``: a Ratings whose stored positive values are the interactions (counts or
    strengths; ``r_ui`` in ``c_ui = 1 + alpha r_ui``). Stored zeros are dropped with a warning
    (a zero count is no interaction); negative values are refused. Defaults follow the
    ``implicit`` library (alpha 40 as in Hu et al., reg 0.01, 15 sweeps, 3 CG steps); note that
    the library takes the matrix it is given as the confidence itself (``c = alpha r``, not
    ``1 + alpha r``). A sweep solves every user (P) against Q, then every item (Q) against P.
    ``solver="exact"`` solves each k x k system; ``"cg"`` takes ``cg_steps`` conjugate-gradient
    steps from the previous vector (faster, approximate). ``init=(P0, Q0)`` starts from given
    factors, else ``normal(0, init_scale)`` from ``seed``. ``dtype="float32"`` computes in single
    precision (the library's default): about twice as fast, rounding errors near 1e-7 (relative)
    instead of 1e-16. ``force=True`` allows factors larger than the memory guard (k is checked
    before anything is allocated).

    Returns a Factorization with scores ``p_u . q_i`` (they rank items; they are not ratings) and
    ``history["loss"]``: ``L(P, Q)`` after each sweep, never visiting every cell: the exact solver
    uses :func:`trace_loss`; CG reads it from its own record of each item's objective
    (:func:`cg_rows`), at no extra pass over the interactions. Both equal :func:`loss` (tested).
    """
    k = _checks.count("k", k)
    reg = _checks.positive("reg", reg)
    alpha = _checks.nonnegative("alpha", alpha)
    epochs = _checks.count("epochs", epochs)
    # CG solves a k x k system in k steps; a huge count would only spin on rounding for hours
    cg_steps = _checks.count("cg_steps", cg_steps, maximum=max(1000, k))
    init_scale = _checks.positive("init_scale", init_scale)
    progress = _checks.boolean("progress", progress)
    if solver not in ("cg", "exact"):
        raise ValueError(f"solver must be 'cg' (conjugate gradient, fast) or 'exact' (readable); got {solver!r}")
    if str(dtype) not in ("float32", "float64") and dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}")
    dtype = np.dtype(dtype)
    data = _input.interactions("interactions", interactions, model="implicit ALS")
    _input.factor_size("implicit.als.fit", data, k, k, dtype, force)  # P, Q and the k x k Grams
    P, Q = (a.astype(dtype) for a in _checks.initial_factors(data, k, init, init_scale, seed))
    if alpha > 0 and data.value.max() >= float(np.finfo(dtype).max) / alpha:
        raise ValueError(f"alpha={alpha:g} times the largest interaction ({data.value.max():g}) is beyond "
                         f"{dtype.name}; use a smaller alpha or smaller interaction values")
    by_user, by_item = data.by_user, data.by_item
    w_user, w_item = (alpha * by_user.value).astype(dtype), (alpha * by_item.value).astype(dtype)
    # the exact solver works on batches of rows with similar counts; CG goes row by row, shuffled
    # (the order changes no result) because popular items come first and would load one thread
    if solver == "exact":
        user_rows, item_rows = Batches(by_user, k), Batches(by_item, k)
    else:
        shuffle = np.random.default_rng(0)
        user_rows, item_rows = shuffle.permutation(len(by_user)), shuffle.permutation(len(by_item))
    ridge = (reg * np.eye(k)).astype(dtype)
    confidence = 1 + alpha * by_user.value
    objective = {"users": np.zeros(data.n_users), "items": np.zeros(data.n_items)}  # CG's f per row
    history = {"loss": []}
    report = Progress("implicit ALS sweep", epochs, enabled=progress)
    QtQ = Q.T @ Q  # each Gram matrix serves one side's solve and the loss
    for sweep in range(1, epochs + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow shows in the loss, checked below
            try:
                P = _solve_side(user_rows, by_user, Q, QtQ + ridge, w_user, P, solver, cg_steps, objective["users"])
                PtP = P.T @ P
                Q = _solve_side(item_rows, by_item, P, PtP + ridge, w_item, Q, solver, cg_steps, objective["items"])
                QtQ = Q.T @ Q
                if solver == "cg":  # each item's 2 f(q_i) + sum_u c_ui, which includes reg |q_i|^2
                    value = float(np.sum(confidence) + 2 * np.sum(objective["items"]) + reg * np.trace(PtP))
                else:
                    value = _trace_loss(PtP, QtQ, by_user.indptr, by_user.other, confidence, P, Q, reg)
            except np.linalg.LinAlgError:  # a solve met infinite or NaN entries
                value = float("nan")
        if not np.isfinite(value):  # finite only if every factor is (reg > 0 charges |P|^2 + |Q|^2)
            raise ValueError(f"implicit ALS: the loss became {value} in sweep {sweep} with alpha={alpha:g}, "
                             f"reg={reg:g}: the confidences 1 + alpha r are too large for floating point; "
                             f"use a smaller alpha or smaller interaction values")
        history["loss"].append(value)
        report.step(history)
    params = {"k": k, "reg": reg, "reg_scaling": "none", "alpha": alpha, "epochs": epochs, "solver": solver,
              "cg_steps": cg_steps, "init_scale": init_scale, "dtype": dtype.name}
    return Factorization.from_training(interactions, P, Q, history=history, method="implicit-als", params=params)
