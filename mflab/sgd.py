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

These four lines are :func:`epoch` below, written once as plain Python a student can read; it is
what runs with ``compiled=False`` or without numba. What numba compiles (``compiled_epoch``) is
:func:`_fast_epoch`: the same updates in the same order, with the penalty folded into a decay
factor, ``p_u <- (1 - lr reg) p_u + (lr e) q_i`` (3 operations per factor instead of 5), and the
factor rows of the ratings a few steps ahead requested from memory early. The tests hold it to
:func:`epoch` within 1e-12 per step (the two differ by rounding only).
"""
from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from . import _checks, _history, _numba
from ._numba import njit, prefetch_row
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


# How many ratings ahead _fast_epoch asks for the factor rows: far enough for the memory to answer
# during the work on the ratings before, near enough that the rows are still cached when used.
_AHEAD = 4


def _fast_epoch(users, items, values, P, Q, b_u, b_i, mu, lr, reg, reg_bias, biases):
    """:func:`epoch` arranged for the compiler; the same updates up to rounding.

    Two changes, both measured on MovieLens 100K with k = 100 (bench/ml100k.py): the penalty as a
    decay factor, ``p <- keep p + step q`` with ``keep = 1 - lr reg`` and ``step = lr e`` (15-20%
    less time where the CPU has no AVX); and ``prefetch_row`` for the rows ``_AHEAD`` ratings later,
    whose random order otherwise leaves the loop waiting for memory (another 10%).
    """
    k = P.shape[1]
    n = len(values)
    keep, keep_bias = 1.0 - lr * reg, 1.0 - lr * reg_bias
    sse = 0.0
    for t in range(n):
        if t + _AHEAD < n:
            prefetch_row(P, users[t + _AHEAD])
            prefetch_row(Q, items[t + _AHEAD])
        u, i = users[t], items[t]
        dot = 0.0
        for f in range(k):
            dot += P[u, f] * Q[i, f]
        e = values[t] - (mu + b_u[u] + b_i[i] + dot)
        sse += e * e
        step = lr * e
        if biases:
            b_u[u] = keep_bias * b_u[u] + step
            b_i[i] = keep_bias * b_i[i] + step
        for f in range(k):
            p_uf, q_if = P[u, f], Q[i, f]
            P[u, f] = keep * p_uf + step * q_if
            Q[i, f] = keep * q_if + step * p_uf
    return sse


# "reassoc" lets the compiler reorder the dot product's sum and vectorise it (twice as fast); each
# step differs from the plain loop's by rounding only (tests/test_sgd.py: below 1e-12). nogil: fit
# runs the bookkeeping of the epochs before and after on a second thread meanwhile.
compiled_epoch = njit(fastmath={"reassoc"}, nogil=True, fallback=_plain_epoch)(_fast_epoch)

# fit overlaps each epoch with the previous epoch's history and the next epoch's shuffle on a second
# thread when there are two cores and an epoch is long enough (ratings x k at least _OVERLAP_MIN;
# below it, handing work to the thread costs more than it saves: 2000 epochs of a 5 x 4 toy take
# 0.05 s in turn, 0.3 s overlapped). False: always in turn (the tests compare the two).
_OVERLAP = True
_OVERLAP_MIN = 200_000

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
    On two or more cores, a long fit records each epoch's history (on a copy of its model) and draws
    the next epoch's order on a second thread while the next epoch runs: the same numbers, sooner.
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
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    report = Progress("SGD epoch", epochs, enabled=progress)

    def visit_order():  # the ratings in this epoch's order (a shuffled copy, read front to back)
        if not shuffle:
            return train.user, train.item, train.value
        shuffled = rng.permutation(len(train))
        return train.user[shuffled], train.item[shuffled], train.value[shuffled]

    def record(P, Q, b_u, b_i):  # the RMSEs of one epoch's model (a copy: the next epoch moves on)
        history["train_rmse"].append(_history.rmse(train, P, Q, mu, b_u, b_i))
        if test is not None:
            history["test_rmse"].append(_history.rmse(test, P, Q, mu, b_u, b_i))
        report.step(history)

    # Epoch n runs while a second thread records epoch n-1's history and draws epoch n+1's order, in
    # the same order as without it (the same numbers); on two cores that bookkeeping (a third of
    # the time without AVX) costs no wall-clock time. The compiled epoch releases the GIL to allow it.
    overlap = (_OVERLAP and run is compiled_epoch and _numba.ENABLED and (os.cpu_count() or 1) > 1
               and len(train) * max(k, 1) >= _OVERLAP_MIN)
    with ThreadPoolExecutor(1) if overlap else _InTurn() as helper:
        order, recorded = helper.submit(visit_order), None
        for n in range(epochs):
            users, items, values = order.result()
            if n + 1 < epochs:
                order = helper.submit(visit_order)
            sse = run(users, items, values, P, Q, b_u, b_i, mu, lr, reg, reg_bias, biases)
            if not (np.isfinite(sse) and np.isfinite(P).all() and np.isfinite(Q).all()):
                raise DivergenceError(
                    f"SGD diverged in epoch {n + 1}: the squared error became {sse} with lr={lr}. "
                    f"The learning rate is too large for this data; try lr={lr / 10:g}.")
            if recorded is not None:
                recorded.result()
            recorded = helper.submit(record, *((a.copy() for a in (P, Q, b_u, b_i)) if overlap else (P, Q, b_u, b_i)))
        recorded.result()
    params = {"k": k, "lr": lr, "reg": reg, "reg_bias": reg_bias, "reg_scaling": "count", "epochs": epochs,
              "biases": biases, "shuffle": shuffle, "init_scale": init_scale}
    return Factorization.from_training(train, P, Q, mu, b_u, b_i, history=history, method="sgd", params=params)


class _InTurn:
    """An executor that runs each task at once, in the caller's thread (fit without overlap)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, task, *args) -> Future:
        done = Future()
        try:
            done.set_result(task(*args))
        except BaseException as error:  # raised where the result is asked for, as with a thread
            done.set_exception(error)
        return done
