"""Stochastic gradient descent: one small step per observed rating.

Model ``r_hat = mu + b_u + b_i + p_u . q_i`` (``biases=False`` drops ``mu``, ``b_u``, ``b_i``).
Objective, summed over the observed ratings (so a user with n_u ratings is penalised n_u times)::

    sum_(u,i) [ e_ui^2 + reg (|p_u|^2 + |q_i|^2) + reg_bias (b_u^2 + b_i^2) ],   e_ui = r_ui - r_hat_ui

the same as ``mflab.als.fit(..., reg_scaling="count")``. For one rating the gradient in ``p_u``
is ``-2 e q_i + 2 reg p_u`` (and so on); SGD steps against half of it, so the learning rate
``lr`` is the eta of the update rules::

    b_u <- b_u + lr (e - reg_bias b_u)
    b_i <- b_i + lr (e - reg_bias b_i)
    p_u <- p_u + lr (e q_i - reg p_u)
    q_i <- q_i + lr (e p_u - reg q_i)      (p_u before this rating's update)

These four lines are :func:`epoch` below, written once as plain Python a student can read. The
same function is compiled by numba for speed; the tests run it both ways and require the same
factors to rounding (the compiled loop may sum the dot product in another order).
"""
from __future__ import annotations

import numpy as np

from . import _checks, _history
from ._numba import njit
from ._progress import Progress
from .factorization import Factorization
from .ratings import require_ratings, require_same_index


class DivergenceError(ValueError):
    """SGD's loss became infinite or NaN: the learning rate is too large."""


def epoch(users, items, values, P, Q, b_u, b_i, mu, lr, reg, reg_bias, biases):
    """One pass over the ratings in the given order, updating ``P``, ``Q``, ``b_u``, ``b_i`` in place.

    Returns the sum of squared errors seen during the pass (before each update).
    """
    k = P.shape[1]
    sse = 0.0
    for t in range(len(values)):
        u, i = users[t], items[t]
        dot = 0.0
        for f in range(k):
            dot += P[u, f] * Q[i, f]
        e = values[t] - (mu + b_u[u] + b_i[i] + dot)
        sse += e * e
        if biases:
            b_u[u] += lr * (e - reg_bias * b_u[u])
            b_i[i] += lr * (e - reg_bias * b_i[i])
        for f in range(k):
            p_uf, q_if = P[u, f], Q[i, f]
            P[u, f] += lr * (e * q_if - reg * p_uf)
            Q[i, f] += lr * (e * p_uf - reg * q_if)
    return sse


def _plain_epoch(*args):
    """:func:`epoch` uncompiled; overflow gives inf (reported as divergence), not a warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        return epoch(*args)


# "reassoc" lets the compiler reorder the dot product's sum and vectorise it: twice as fast, and
# each step differs from the plain loop's by rounding only (tests/test_sgd.py: below 1e-12).
compiled_epoch = njit(fastmath={"reassoc"}, fallback=_plain_epoch)(epoch)

def objective(model, train, *, reg: float, reg_bias: float | None = None) -> float:
    """The loss SGD descends (and ``als.fit(..., reg_scaling="count")`` minimises) at ``model``::

        sum_(u,i) e_ui^2 + reg (sum_u n_u |p_u|^2 + sum_i n_i |q_i|^2)
                         + reg_bias (sum_u n_u b_u^2 + sum_i n_i b_i^2)

    the per-rating penalties of the module docstring summed (user u appears in n_u ratings).
    """
    require_ratings("train", train)
    reg = _checks.nonnegative("reg", reg)
    reg_bias = reg if reg_bias is None else _checks.nonnegative("reg_bias", reg_bias)
    e = train.value - model.predict(train.user, train.item)
    n_u, n_i = train.user_counts(), train.item_counts()
    factors = n_u @ np.sum(model.P ** 2, axis=1) + n_i @ np.sum(model.Q ** 2, axis=1)
    bias = n_u @ model.user_bias ** 2 + n_i @ model.item_bias ** 2
    return float(e @ e + reg * factors + reg_bias * bias)


def step(r, p, q, *, lr, reg=0.0, reg_bias=None, b_u=0.0, b_i=0.0, mu=0.0, biases=False):
    """The update for one rating ``r``, returned as new ``(p, q, b_u, b_i)``; inputs are not changed.

    This calls :func:`epoch` on a one-rating problem, so it is exactly the update ``fit`` applies.
    """
    P = np.array([p], dtype=float)
    Q = np.array([q], dtype=float)
    bu, bi = np.array([b_u], dtype=float), np.array([b_i], dtype=float)
    zero = np.zeros(1, dtype=np.int64)
    reg_bias = reg if reg_bias is None else reg_bias
    epoch(zero, zero, np.array([r], dtype=float), P, Q, bu, bi, float(mu), float(lr), float(reg),
          float(reg_bias), biases)
    return P[0], Q[0], float(bu[0]), float(bi[0])


def fit(train, k: int, *, lr: float = 0.005, reg: float = 0.02, reg_bias: float | None = None,
        epochs: int = 20, biases: bool = True, seed=None, shuffle: bool = True,
        init_scale: float = 0.1, init=None, test=None, progress: bool = False,
        compiled: bool = True) -> Factorization:
    """Fit by ``epochs`` passes of SGD over the training ratings (objective in the module docstring).

    Defaults are Surprise's SVD defaults except ``k`` (Surprise uses 100); ``reg_bias=None`` means
    ``reg_bias = reg``. ``P`` then ``Q`` are drawn from ``normal(0, init_scale)`` with ``seed``
    (int or Generator), unless ``init=(P0, Q0)`` gives starting factors (copied); users and items
    without training ratings get zero factors. With ``shuffle`` each epoch visits the ratings in a
    fresh random order from the same generator; without it, in the order of ``train``.
    ``compiled=False`` runs the plain-Python loop (slow; for teaching and tests).
    A loss that becomes infinite or NaN raises :class:`DivergenceError` naming ``lr``.
    """
    require_ratings("train", train)
    k = _checks.positive_int("k", k)
    lr = _checks.positive("lr", lr)
    reg = _checks.nonnegative("reg", reg)
    reg_bias = reg if reg_bias is None else _checks.nonnegative("reg_bias", reg_bias)
    epochs = _checks.positive_int("epochs", epochs)
    biases = _checks.boolean("biases", biases)
    shuffle = _checks.boolean("shuffle", shuffle)
    compiled = _checks.boolean("compiled", compiled)
    init_scale = _checks.positive("init_scale", init_scale)
    require_same_index("test", test, train)
    rng = _checks.generator(seed)
    P, Q = _checks.initial_factors(train, k, init, init_scale, rng)
    mu = train.mean() if biases else 0.0
    b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
    run = compiled_epoch if compiled else _plain_epoch
    users, items, values = train.user, train.item, train.value
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    report = Progress("SGD epoch", epochs, enabled=progress)
    for n in range(epochs):
        if shuffle:
            # Visit the ratings of a shuffled copy front to back: no jump in memory to fetch each one.
            shuffled = rng.permutation(len(train))
            users, items, values = train.user[shuffled], train.item[shuffled], train.value[shuffled]
        sse = run(users, items, values, P, Q, b_u, b_i, mu, lr, reg, reg_bias, biases)
        if not (np.isfinite(sse) and np.isfinite(P).all() and np.isfinite(Q).all()):
            raise DivergenceError(
                f"SGD diverged in epoch {n + 1}: the squared error became {sse} with lr={lr}. "
                f"The learning rate is too large for this data; try lr={lr / 10:g}."
            )
        history["train_rmse"].append(_history.rmse(train, P, Q, mu, b_u, b_i))
        if test is not None:
            history["test_rmse"].append(_history.rmse(test, P, Q, mu, b_u, b_i))
        report.step(history)
    params = {"k": k, "lr": lr, "reg": reg, "reg_bias": reg_bias, "epochs": epochs, "biases": biases,
              "shuffle": shuffle, "init_scale": init_scale}
    return Factorization.from_training(train, P, Q, mu, b_u, b_i, history=history, method="sgd", params=params)
