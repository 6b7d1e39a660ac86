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
objective (penalty included) never goes up from one sweep to the next; the training RMSE, which
leaves the penalty out, can (lesson 05, exercise 3). With ``biases=True`` the model is ``mu + b_u + b_i + p_u . q_i``:
the user step solves for ``[b_u, p_u]`` against features ``[1, q_i]`` and targets
``r_ui - mu - b_i`` (and the item step likewise), all inside the same alternation.

Implementation: no Python loop over ratings or users, only over batches of them: the ridge
solves live in :mod:`mflab.ridge` (:func:`solve_user` for one user, which this module re-exports,
and :class:`~mflab.ridge.Batches` for all of them at once); the tests hold the batched solver to
:func:`solve_user` and to ``numpy.linalg.lstsq``.
"""
from __future__ import annotations

import numpy as np

from . import _checks, _history
from ._progress import Progress
from .factorization import Factorization
from .ridge import Batches, solve_all, solve_user  # noqa: F401  (als.solve_user: the lessons' name)
from .ratings import require_ratings, require_same_index


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
    require_ratings("train", train)
    k = _checks.positive_int("k", k)
    reg = _checks.nonnegative("reg", reg)
    reg_bias = reg if reg_bias is None else _checks.nonnegative("reg_bias", reg_bias)
    if reg_scaling not in ("none", "count"):
        raise ValueError(f"reg_scaling must be 'none' (plain lambda) or 'count' (lambda times each "
                         f"row's number of ratings); got {reg_scaling!r}")
    epochs = _checks.positive_int("epochs", epochs)
    biases = _checks.boolean("biases", biases)
    init_scale = _checks.positive("init_scale", init_scale)
    require_same_index("test", test, train)
    P, Q = _checks.initial_factors(train, k, init, init_scale, seed)
    by_user, by_item = train.by_user, train.by_item
    _check_solvable(by_user, by_item, k + biases, reg, reg_bias if biases else reg)
    mu = train.mean() if biases else 0.0
    b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
    ridge = np.r_[reg_bias, np.full(k, reg)] if biases else np.full(k, reg)
    user_counts = item_counts = None
    if reg_scaling == "count":
        user_counts, item_counts = (np.diff(g.indptr).astype(float) for g in (by_user, by_item))
    user_rows, item_rows = Batches(by_user, len(ridge)), Batches(by_item, len(ridge))  # once per fit
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
