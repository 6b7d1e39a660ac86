"""Stochastic gradient descent: one small step per observed rating.

Model ``r_hat = mu + b_u + b_i + p_u . q_i`` (``biases=False`` drops ``mu``, ``b_u``, ``b_i``).
For each rating, with ``e = r - r_hat``, the loss ``e^2 + reg (b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2)``
has gradient ``-2 e q_i + 2 reg p_u`` in ``p_u`` (and so on), and SGD steps against it (the 2 is
folded into the learning rate ``lr``)::

    b_u <- b_u + lr (e - reg b_u)
    b_i <- b_i + lr (e - reg b_i)
    p_u <- p_u + lr (e q_i - reg p_u)
    q_i <- q_i + lr (e p_u - reg q_i)      (p_u before this rating's update)

These four lines are :func:`epoch` below, written once as plain Python a student can read. The
same function is compiled by numba (``@njit(cache=True)``) for speed; the tests run it both ways
and require identical factors.
"""
from __future__ import annotations

import numpy as np

from . import _checks, _history
from ._progress import Progress
from .factorization import Factorization


class DivergenceError(ValueError):
    """SGD's loss became infinite or NaN: the learning rate is too large."""


def epoch(users, items, values, order, P, Q, b_u, b_i, mu, lr, reg, biases):
    """One pass over the ratings in ``order``, updating ``P``, ``Q``, ``b_u``, ``b_i`` in place.

    Returns the sum of squared errors seen during the pass (before each update).
    """
    k = P.shape[1]
    sse = 0.0
    for t in order:
        u, i = users[t], items[t]
        dot = 0.0
        for f in range(k):
            dot += P[u, f] * Q[i, f]
        e = values[t] - (mu + b_u[u] + b_i[i] + dot)
        sse += e * e
        if biases:
            b_u[u] += lr * (e - reg * b_u[u])
            b_i[i] += lr * (e - reg * b_i[i])
        for f in range(k):
            p_uf, q_if = P[u, f], Q[i, f]
            P[u, f] += lr * (e * q_if - reg * p_uf)
            Q[i, f] += lr * (e * p_uf - reg * q_if)
    return sse


try:
    from numba import njit

    compiled_epoch = njit(cache=True)(epoch)
except ImportError:  # numba is a dependency, but a student can still read and run the lesson without it
    compiled_epoch = epoch


def step(r, p, q, *, lr, reg=0.0, b_u=0.0, b_i=0.0, mu=0.0, biases=False):
    """The update for one rating ``r``, returned as new ``(p, q, b_u, b_i)``; inputs are not changed.

    This calls :func:`epoch` on a one-rating problem, so it is exactly the update ``fit`` applies.
    """
    P = np.array([p], dtype=float)
    Q = np.array([q], dtype=float)
    bu, bi = np.array([b_u], dtype=float), np.array([b_i], dtype=float)
    zero = np.zeros(1, dtype=np.int64)
    epoch(zero, zero, np.array([r], dtype=float), zero, P, Q, bu, bi, float(mu), float(lr), float(reg), biases)
    return P[0], Q[0], float(bu[0]), float(bi[0])


def fit(train, k: int, *, lr: float = 0.005, reg: float = 0.02, epochs: int = 20, biases: bool = True,
        seed=None, shuffle: bool = True, init_scale: float = 0.1, init=None, test=None,
        progress: bool = False, compiled: bool = True) -> Factorization:
    """Fit by ``epochs`` passes of SGD over the training ratings.

    Defaults are Surprise's SVD defaults except ``k`` (Surprise uses 100). ``P`` then ``Q`` are
    drawn from ``normal(0, init_scale)`` with ``seed`` (int or Generator), unless ``init=(P0, Q0)``
    gives starting factors (copied). With ``shuffle`` each epoch visits the ratings in a fresh
    random order from the same generator; without it, in the order of ``train``.
    ``compiled=False`` runs the plain-Python loop (slow; for teaching and tests).
    A loss that becomes infinite or NaN raises :class:`DivergenceError` naming ``lr``.
    """
    _checks.ratings("train", train)
    k = _checks.positive_int("k", k)
    lr = _checks.positive("lr", lr)
    reg = _checks.nonnegative("reg", reg)
    epochs = _checks.positive_int("epochs", epochs)
    init_scale = _checks.positive("init_scale", init_scale)
    _checks.same_shape("test", test, train)
    rng = _checks.generator(seed)
    if init is None:
        P = rng.normal(0, init_scale, (train.n_users, k))
        Q = rng.normal(0, init_scale, (train.n_items, k))
    else:
        P, Q = (np.array(a, dtype=float) for a in init)
        if P.shape != (train.n_users, k) or Q.shape != (train.n_items, k):
            raise ValueError(f"init must be (P0, Q0) of shapes {(train.n_users, k)} and {(train.n_items, k)}; "
                             f"got {P.shape} and {Q.shape}")
    mu = train.mean() if biases else 0.0
    b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
    run = compiled_epoch if compiled else epoch
    users, items, values = train.user, train.item, train.value
    order = np.arange(len(train))
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    report = Progress("SGD epoch", epochs, enabled=progress)
    for n in range(epochs):
        if shuffle:
            # Visit the ratings of a shuffled copy front to back: the same updates as passing the
            # permutation as ``order``, without a jump in memory to fetch each rating.
            shuffled = rng.permutation(len(train))
            users, items, values = train.user[shuffled], train.item[shuffled], train.value[shuffled]
        sse = run(users, items, values, order, P, Q, b_u, b_i, mu, lr, reg, biases)
        if not (np.isfinite(sse) and np.isfinite(P).all() and np.isfinite(Q).all()):
            raise DivergenceError(
                f"SGD diverged in epoch {n + 1}: the squared error became {sse} with lr={lr}. "
                f"The learning rate is too large for this data; try lr={lr / 10:g}."
            )
        history["train_rmse"].append(_history.rmse(train, P, Q, mu, b_u, b_i))
        if test is not None:
            history["test_rmse"].append(_history.rmse(test, P, Q, mu, b_u, b_i))
        report.step(history)
    params = {"k": k, "lr": lr, "reg": reg, "epochs": epochs, "biases": biases, "shuffle": shuffle,
              "init_scale": init_scale}
    return Factorization.from_training(train, P, Q, mu, b_u, b_i, history=history, method="sgd", params=params)
