"""Alternating least squares: fix Q and solve every user, fix P and solve every item.

Objective (``reg`` = lambda)::

    sum_{(u,i) observed} (r_ui - p_u . q_i)^2 + reg (||P||^2 + ||Q||^2)

With ``reg_scaling="count"`` each user's and item's penalty is weighted by their number of ratings,
``reg (sum_u n_u ||p_u||^2 + sum_i n_i ||q_i||^2)`` (ALS-WR; Spark's ``regParam``): the objective
that :mod:`mflab.sgd` descends one rating at a time, so the two optimisers can be compared on it.

With Q fixed the loss splits into one ridge regression per user. For user u with rated items
I(u), stack their factor rows into ``Q_u`` (|I(u)| x k) and ratings into ``r_u``; then::

    p_u = (Q_u^T Q_u + reg I)^{-1} Q_u^T r_u           (the normal equations)

and symmetrically for every item with P fixed. Each half-step solves its problem exactly, so the
training loss never goes up. With ``biases=True`` the model is ``mu + b_u + b_i + p_u . q_i``:
the user step solves for ``[b_u, p_u]`` against features ``[1, q_i]`` and targets
``r_ui - mu - b_i`` (and the item step likewise), all inside the same alternation.

Implementation: no Python loop over ratings or users, only over batches of them. Rows (users, or
items) are put in batches of similar rating counts once per fit; in a batch every row's rated
factor rows are gathered into one zero-padded (rows x width x k) array, so all the Gram matrices
``Q_u^T Q_u`` of the batch come from one stacked matrix product and are solved by one batched
``numpy.linalg.solve``; rows with fewer ratings than unknowns solve the equivalent, smaller
(width x width) system instead (see :func:`_solve_dual`). Memory per batch is bounded, so the
same code fits millions of ratings. :func:`solve_user` is the one-user version a student reads;
the tests hold the batched solver to it and to ``numpy.linalg.lstsq``.
"""
from __future__ import annotations

import numpy as np

from . import _checks, _history
from ._progress import Progress
from .factorization import Factorization

_BATCH_FLOATS = 2_000_000  # gathered factor values and Gram entries per batch (~16 MB each)
_WIDTH_STEP = 1.125  # rows whose counts differ by less than this factor share a padded width


def solve_user(Q_u: np.ndarray, r_u: np.ndarray, reg: float) -> np.ndarray:
    """One ridge solve: ``p_u = (Q_u^T Q_u + reg I)^{-1} Q_u^T r_u``.

    ``Q_u`` is (n_rated, k), the factor rows of the items user u rated; ``r_u`` their ratings.
    """
    k = Q_u.shape[1]
    return np.linalg.solve(Q_u.T @ Q_u + reg * np.eye(k), Q_u.T @ r_u)


def solve_all(grouped, X: np.ndarray, y: np.ndarray, reg: float, current: np.ndarray, *,
              reg_scaling: str = "none") -> np.ndarray:
    """:func:`solve_user` for every row of a grouped rating table at once.

    ``grouped`` is ``Ratings.by_user`` (or ``by_item``): rows sorted by user, ``grouped.other``
    the item of each rating; ``X`` the fixed factors of the other side; ``y`` the targets in the
    same sorted order. Rows with no ratings keep their ``current`` value. ``reg_scaling="count"``
    uses ``reg * n_u`` as row u's ridge.
    """
    k = X.shape[1]
    counts = np.diff(grouped.indptr).astype(float) if reg_scaling == "count" else None
    return _Batches(grouped, k).solve(X, y, np.full(k, float(reg)), current, counts)


class _Batches:
    """The rows of a grouped table that have ratings, in batches of similar rating counts.

    Built once per fit. A batch is its row ids and a (rows x width) table of the positions of each
    row's ratings in the sorted order (and one of the other side's ids), padded to the batch's
    largest count with -1: the solver appends a zero factor row and a zero target, which -1 picks.
    A batch holds at most about ``_BATCH_FLOATS`` gathered values and Gram entries, so memory
    stays bounded whatever the number of rows.
    """

    def __init__(self, grouped, k: int):
        counts = np.diff(grouped.indptr)
        rated = np.flatnonzero(counts)
        rated = rated[np.argsort(counts[rated], kind="stable")]
        sorted_counts = counts[rated]
        width_class = np.floor(np.log(sorted_counts) / np.log(_WIDTH_STEP)).astype(np.int64)
        edges = np.r_[0, np.flatnonzero(np.diff(width_class)) + 1, len(rated)]
        self.batches = []  # (row ids, the other side's ids, the ratings' positions)
        for lo, hi in zip(edges[:-1], edges[1:]):
            width = int(sorted_counts[hi - 1])
            per_batch = max(1, _BATCH_FLOATS // ((width + k + 1) * k))
            for first in range(lo, hi, per_batch):
                rows = rated[first:min(first + per_batch, hi)]
                pos = grouped.indptr[rows][:, None] + np.arange(width)
                pos[np.arange(width) >= counts[rows][:, None]] = -1  # the zero row appended at the end
                other = np.where(pos >= 0, grouped.other[pos], -1)
                self.batches.append((rows, other, pos))

    def solve(self, X, y, ridge, current, counts=None):
        """Solve every rated row's ridge problem ``(X_u^T X_u + diag(ridge)) x = X_u^T y_u``.

        With ``counts`` (one number per row) row u's ridge is ``counts[u] * ridge`` instead.
        Rows without ratings keep their ``current`` value.
        """
        k = X.shape[1]
        X_pad = np.vstack([X, np.zeros((1, k))])  # padding (-1) gathers this zero row and zero
        y_pad = np.r_[y, 0.0]  # target, so padded entries add nothing to the sums
        # Products of at most ~2^17 multiply-adds each: a BLAS such as OpenBLAS runs larger ones on
        # several threads, which for matrices this small costs more than it saves (much more when
        # the machine is busy).
        step = max(8, 2**17 // (k * k))
        diag = np.arange(k)
        out = current.copy()
        for rows, other, pos in self.batches:
            row_ridge = ridge if counts is None else counts[rows][:, None] * ridge  # (k,) or (rows, k)
            if other.shape[1] < k and np.all(row_ridge > 0):
                out[rows] = _solve_dual(X_pad[other], y_pad[pos], np.reshape(row_ridge, (-1, 1, k)))
                continue
            A = np.zeros((len(rows), k, k))
            b = np.zeros((len(rows), k, 1))
            for s in range(0, other.shape[1], step):
                Xb = X_pad[other[:, s:s + step]]  # (rows, <= step, k)
                Xt = Xb.transpose(0, 2, 1)
                A += Xt @ Xb
                b += Xt @ y_pad[pos[:, s:s + step]][..., None]
            A[:, diag, diag] += row_ridge
            try:
                out[rows] = np.linalg.solve(A, b)[..., 0]
            except np.linalg.LinAlgError:
                raise ValueError(
                    "a normal-equation matrix is singular: the factors of the rated items (or users) "
                    "are linearly dependent and the ridge is zero; use reg > 0 (and reg_bias > 0 with "
                    "biases)") from None
        return out


def _solve_dual(Xb, yb, ridge):
    """The same ridge solutions for rows with fewer ratings (w) than unknowns (k), via a w x w system.

    With ``D = diag(ridge)`` (all > 0; ``ridge`` is (k,) or one row of it per problem), ``(X^T X + D)^{-1} X^T y = D^{-1} X^T (X D^{-1} X^T + I)^{-1} y``
    (push-through identity), so each row costs a w x w solve instead of a k x k one. ``Xb`` is
    (rows, w, k) and ``yb`` (rows, w), zero-padded; a padded entry gets a 1 on the diagonal of its
    system and a zero target, so it contributes nothing.
    """
    Xs = Xb / ridge  # X D^{-1}
    M = Xs @ Xb.transpose(0, 2, 1)
    w = np.arange(M.shape[1])
    M[:, w, w] += 1.0
    z = np.linalg.solve(M, yb[..., None])
    return (Xs.transpose(0, 2, 1) @ z)[..., 0]


def fit(train, k: int, *, reg: float = 0.1, reg_bias: float | None = None, reg_scaling: str = "none",
        epochs: int = 20, biases: bool = True, seed=None, init_scale: float = 0.1, init=None,
        test=None, progress: bool = False) -> Factorization:
    """Fit ``P`` (n_users x k) and ``Q`` (n_items x k) by ``epochs`` alternating sweeps.

    Objective (``biases=False`` drops ``mu``, ``b``; ``reg_scaling="count"`` multiplies each row's
    penalty by its number of ratings ``n_u`` or ``n_i``)::

        sum_(u,i) (r_ui - mu - b_u - b_i - p_u . q_i)^2 + reg (|P|^2 + |Q|^2) + reg_bias (|b_user|^2 + |b_item|^2)

    so user u's solve for ``[b_u, p_u]`` uses the ridge ``diag(reg_bias, reg, ..., reg)``
    (times ``n_u`` with count scaling). ``reg_bias=None`` means ``reg_bias = reg``.

    Defaults: ``reg=0.1`` is plain lambda, one penalty per user and item; it reproduces the genre
    lessons' figures but is far too weak for 80,000 MovieLens ratings, where a validated plain
    lambda is near 15. With ``reg_scaling="count"`` the penalty grows with the data, and ``reg``
    means what it means in :func:`mflab.sgd.fit` (default 0.02 there). ``biases=True`` as in SGD.

    ``P`` then ``Q`` are drawn from ``normal(0, init_scale)`` with ``seed`` (an int or a Generator),
    unless ``init=(P0, Q0)`` gives them; users and items without training ratings get zero factors
    and bias (their predictions fall back to ``mu + b``). ``history["train_rmse"]`` (and
    ``"test_rmse"`` when ``test`` is given) hold the RMSE after each sweep.
    """
    _checks.ratings("train", train)
    k = _checks.positive_int("k", k)
    reg = _checks.nonnegative("reg", reg)
    reg_bias = reg if reg_bias is None else _checks.nonnegative("reg_bias", reg_bias)
    if reg_scaling not in ("none", "count"):
        raise ValueError(f"reg_scaling must be 'none' (plain lambda) or 'count' (lambda times each "
                         f"row's number of ratings); got {reg_scaling!r}")
    epochs = _checks.positive_int("epochs", epochs)
    biases = _checks.boolean("biases", biases)
    init_scale = _checks.positive("init_scale", init_scale)
    _checks.same_shape("test", test, train)
    P, Q = _checks.initial_factors(train, k, init, init_scale, seed)
    by_user, by_item = train.by_user, train.by_item
    _check_solvable(by_user, by_item, k + biases, reg, reg_bias if biases else reg)
    mu = train.mean() if biases else 0.0
    b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
    ridge = np.r_[reg_bias, np.full(k, reg)] if biases else np.full(k, reg)
    user_counts = item_counts = None
    if reg_scaling == "count":
        user_counts, item_counts = (np.diff(g.indptr).astype(float) for g in (by_user, by_item))
    user_rows, item_rows = _Batches(by_user, len(ridge)), _Batches(by_item, len(ridge))  # once per fit
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    report = Progress("ALS sweep", epochs, enabled=progress)
    for sweep in range(epochs):
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked just below
            P, Q, b_u, b_i = _sweep(user_rows, item_rows, by_user, by_item, P, Q, b_u, b_i, mu,
                                    ridge, user_counts, item_counts, biases)
        history["train_rmse"].append(_history.rmse(train, P, Q, mu, b_u, b_i))
        if not (np.isfinite(history["train_rmse"][-1]) and np.isfinite(P).all() and np.isfinite(Q).all()):
            raise ValueError(
                f"ALS's loss became infinite or NaN in sweep {sweep + 1}: the ratings (largest "
                f"magnitude {np.abs(train.value).max():.3g}) overflow float64 in the normal equations. "
                f"Rescale them, e.g. to the range of a rating scale, before fitting.")
        if test is not None:
            history["test_rmse"].append(_history.rmse(test, P, Q, mu, b_u, b_i))
        report.step(history)
    params = {"k": k, "reg": reg, "reg_bias": reg_bias, "reg_scaling": reg_scaling, "epochs": epochs,
              "biases": biases, "init_scale": init_scale}
    return Factorization.from_training(train, P, Q, mu, b_u, b_i, history=history, method="als", params=params)


def _sweep(user_rows, item_rows, by_user, by_item, P, Q, b_u, b_i, mu, ridge, user_counts,
           item_counts, biases):
    """One ALS sweep: every user with ``Q`` fixed, then every item with the new ``P`` fixed."""
    if biases:  # solve [b_u, p_u] against features [1, q_i] and targets r_ui - mu - b_i
        X = np.column_stack([np.ones(len(Q)), Q])
        y = by_user.value - mu - b_i[by_user.other]
        sol = user_rows.solve(X, y, ridge, np.column_stack([b_u, P]), user_counts)
        b_u, P = sol[:, 0].copy(), sol[:, 1:].copy()
        X = np.column_stack([np.ones(len(P)), P])
        y = by_item.value - mu - b_u[by_item.other]
        sol = item_rows.solve(X, y, ridge, np.column_stack([b_i, Q]), item_counts)
        b_i, Q = sol[:, 0].copy(), sol[:, 1:].copy()
    else:
        P = user_rows.solve(Q, by_user.value, ridge, P, user_counts)
        Q = item_rows.solve(P, by_item.value, ridge, Q, item_counts)
    return P, Q, b_u, b_i


def _check_solvable(by_user, by_item, unknowns, reg, reg_bias):
    """A zero ridge leaves any row with fewer ratings than unknowns without a unique solution."""
    for name, value in (("reg", reg), ("reg_bias", reg_bias)):
        if value > 0:
            continue
        for side, grouped in (("user", by_user), ("item", by_item)):
            counts = np.diff(grouped.indptr)
            short = np.flatnonzero((counts > 0) & (counts < unknowns))
            if short.size:
                raise ValueError(
                    f"{name}=0 leaves {side} {short[0]}'s least-squares problem without a unique "
                    f"solution: it has {counts[short[0]]} rating(s) for {unknowns} unknowns. Use "
                    f"{name} > 0, or a smaller k.")
