"""The loss of one rating and its gradients, derived by sympy and turned into numpy functions.

The model of :mod:`mflab.sgd` for one rating ``r`` of user u and item i, with k factors::

    r_hat = mu + b_u + b_i + p . q          (biases=False: r_hat = p . q)
    e     = r - r_hat
    L     = e^2 + lambda (|p|^2 + |q|^2 + b_u^2 + b_i^2)      (reg=False: L = e^2)

By the chain rule (``de/dp = -q``, ``de/dq = -p``, ``de/db_u = de/db_i = -1``)::

    dL/dp   = -2 e q + 2 lambda p          dL/dq   = -2 e p + 2 lambda q
    dL/db_u = -2 e   + 2 lambda b_u        dL/db_i = -2 e   + 2 lambda b_i

SGD's update for one rating, with learning rate ``eta`` (``mflab.sgd``'s ``lr``), is the step
``v <- v - (eta / 2) dL/dv``: the 2 of the squared error is folded into ``eta``, so that
``p <- p + eta (e q - lambda p)`` and so on (equivalently: a step of exactly ``eta`` on ``L / 2``). Nothing here is typed by hand: sympy
differentiates the loss and :func:`sympy.lambdify` turns the results into numpy functions, which
the tests hold against what :func:`mflab.sgd.step` applies and against finite differences
(:func:`finite_difference_gradients`, which only evaluates the loss and differentiates nothing).

:func:`normal_equations` does the same for ALS's per-user step: it sets the gradient of
``|r_u - Q_u p_u|^2 + lambda |p_u|^2`` to zero, solves, and checks that the solution is
``(Q_u^T Q_u + lambda I)^{-1} Q_u^T r_u`` (:func:`mflab.als.solve_user`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import sympy as sp

from . import _checks

__all__ = ["Loss", "loss", "gradients", "update_rule", "numeric_loss", "numeric_gradients", "sgd_update",
           "finite_difference_gradients", "Ridge", "normal_equations"]

eta = sp.Symbol("eta", positive=True)       # the learning rate, exactly mflab's ``lr``
lam = sp.Symbol("lambda", nonnegative=True)  # the regularisation strength, mflab's ``reg``
e = sp.Symbol("e", real=True)                # the error r - r_hat


class Loss(NamedTuple):
    """The loss of one rating as a sympy expression, with its symbols.

    ``p`` and ``q`` are k x 1 sympy matrices; ``params`` maps the names SGD updates (``"p"``,
    ``"q"``, and ``"b_u"``, ``"b_i"`` with biases) to their symbols.
    """

    expr: sp.Expr        # L as a function of r, p, q (and b_u, b_i, mu, lambda)
    error: sp.Expr       # e = r - r_hat written out
    penalty: sp.Expr     # lambda (|p|^2 + ...), 0 without reg
    r: sp.Symbol
    p: sp.Matrix
    q: sp.Matrix
    b_u: sp.Symbol
    b_i: sp.Symbol
    mu: sp.Symbol
    params: dict


MAX_K = 100  # loss, gradients and update rules: symbols for k factors (0.5 s at k = 50)
MAX_RIDGE = (4, 3)  # normal_equations: ratings n and factors k of the exact solve


@lru_cache(maxsize=None)
def loss(k: int, *, reg: bool = False, biases: bool = False) -> Loss:
    """``L = (r - r_hat)^2 [+ lambda (|p|^2 + |q|^2 [+ b_u^2 + b_i^2])]`` for k factors.

    ``k`` is at most :data:`MAX_K`: exact algebra is for small examples (``mflab.sgd`` for real k)."""
    k = _checks.count("k", k, maximum=MAX_K)
    r, b_u, b_i, mu = sp.symbols("r b_u b_i mu", real=True)
    p = sp.ImmutableMatrix(sp.symbols(f"p_:{k}", real=True))
    q = sp.ImmutableMatrix(sp.symbols(f"q_:{k}", real=True))
    prediction = p.dot(q) + (mu + b_u + b_i if biases else 0)
    params = {"p": p, "q": q} | ({"b_u": b_u, "b_i": b_i} if biases else {})
    penalty = lam * sum(_squared_norm(v) for v in params.values()) if reg else sp.Integer(0)
    error = r - prediction
    return Loss(error**2 + penalty, error, penalty, r, p, q, b_u, b_i, mu, params)


def _squared_norm(v):
    return v.dot(v) if isinstance(v, sp.MatrixBase) else v**2


def _diff(expr, v):
    return v.applyfunc(lambda x: sp.diff(expr, x)) if isinstance(v, sp.MatrixBase) else sp.diff(expr, v)


def gradients(k: int, *, reg: bool = False, biases: bool = False, in_error: bool = False) -> dict:
    """``{name: dL/d(name)}`` for ``name`` in ``p``, ``q`` (k x 1 matrices) and ``b_u``, ``b_i``.

    By default sympy differentiates ``L`` itself, so the result is written in ``r``, ``p``,
    ``q``, ... With ``in_error=True`` it is written through the error symbol ``e`` by the chain
    rule, ``dL/dv = dL/de * de/dv + (d penalty/dv)``, which reads like the update equations
    (e.g. ``-2 e q + 2 lambda p``). Both are the same function once ``e = r - r_hat``.
    """
    return dict(_gradients(k, reg, biases, in_error))


@lru_cache(maxsize=None)
def _gradients(k, reg, biases, in_error):
    L = loss(k, reg=reg, biases=biases)
    if not in_error:
        return {name: _diff(L.expr, v) for name, v in L.params.items()}
    dL_de = sp.diff(e**2, e)
    out = {}
    for name, v in L.params.items():
        chain = _diff(L.error, v) * dL_de
        out[name] = (chain + _diff(L.penalty, v)).applyfunc(sp.expand) if isinstance(v, sp.MatrixBase) \
            else sp.expand(chain + _diff(L.penalty, v))
    return out


def update_rule(k: int, *, reg: bool = False, biases: bool = False) -> dict:
    """SGD's update ``v <- v - (eta / 2) dL/dv`` for every parameter, in terms of ``e``.

    ``eta`` is mflab's ``lr``: the factor 2 of the squared error is folded into it, as in
    :mod:`mflab.sgd` (so ``p <- p + eta (e q - lambda p)``).
    """
    return dict(_update_rule(k, reg, biases))


@lru_cache(maxsize=None)
def _update_rule(k, reg, biases):
    L = loss(k, reg=reg, biases=biases)
    out = {}
    for name, g in gradients(k, reg=reg, biases=biases, in_error=True).items():
        step = L.params[name] - eta / 2 * g
        out[name] = step.applyfunc(lambda x: sp.collect(sp.expand(x), eta)) \
            if isinstance(step, sp.MatrixBase) else sp.collect(sp.expand(step), eta)
    return out


# ----------------------------------------------------------------------------- numpy versions
def _arguments(L: Loss):
    """The argument list every lambdified function takes: r, p, q, b_u, b_i, mu, lambda."""
    return [L.r, list(L.p), list(L.q), L.b_u, L.b_i, L.mu, lam]


def _values(k, has_reg, biases, r, p, q, b_u, b_i, mu, reg_value, who):
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    if p.shape != (k,) or q.shape != (k,):
        raise ValueError(f"p and q must be vectors of length k={k}; got shapes {p.shape} and {q.shape}")
    if not biases and (b_u or b_i or mu):
        raise ValueError(f"b_u, b_i and mu must be 0 for {who}(k, biases=False); got {b_u}, {b_i}, {mu}. "
                         f"Build it with biases=True to use them")
    if not has_reg and reg_value:
        raise ValueError(f"reg must be 0 for {who}(k, reg=False); got {reg_value}. Build it with reg=True")
    return [float(r), p, q, float(b_u), float(b_i), float(mu), float(reg_value)]


@lru_cache(maxsize=None)
def numeric_loss(k: int, *, reg: bool = False, biases: bool = False):
    """``L`` as a numpy function ``f(r, p, q, b_u=0, b_i=0, mu=0, reg=0) -> float``."""
    L = loss(k, reg=reg, biases=biases)
    f = sp.lambdify(_arguments(L), L.expr, "numpy")
    has_reg = reg

    def numeric(r, p, q, b_u=0.0, b_i=0.0, mu=0.0, reg=0.0):
        return float(f(*_values(k, has_reg, biases, r, p, q, b_u, b_i, mu, reg, "numeric_loss")))

    numeric.__doc__ = f"L = {L.expr}"
    return numeric


@lru_cache(maxsize=None)
def numeric_gradients(k: int, *, reg: bool = False, biases: bool = False):
    """The gradients as a numpy function ``f(r, p, q, b_u=0, b_i=0, mu=0, reg=0) -> dict``.

    The dict maps ``"p"``, ``"q"`` to arrays of shape (k,) and ``"b_u"``, ``"b_i"`` (with
    biases) to floats; ``reg`` is the value of lambda.
    """
    L = loss(k, reg=reg, biases=biases)
    grads = gradients(k, reg=reg, biases=biases)
    fs = {name: sp.lambdify(_arguments(L), g, "numpy") for name, g in grads.items()}
    has_reg = reg

    def numeric(r, p, q, b_u=0.0, b_i=0.0, mu=0.0, reg=0.0):
        args = _values(k, has_reg, biases, r, p, q, b_u, b_i, mu, reg, "numeric_gradients")
        return {name: _as_result(f(*args)) for name, f in fs.items()}

    return numeric


def _as_result(value):
    value = np.asarray(value, dtype=float)
    return float(value) if value.size == 1 and value.ndim == 0 else value.ravel()


@lru_cache(maxsize=None)
def _numeric_update(k: int, biases: bool):
    L = loss(k, reg=True, biases=biases)
    args = _arguments(L) + [eta, e]
    rules = {name: sp.lambdify(args, u, "numpy") for name, u in update_rule(k, reg=True, biases=biases).items()}
    residual = sp.lambdify(_arguments(L), L.error, "numpy")
    return rules, residual


def sgd_update(r, p, q, *, lr, reg=0.0, b_u=0.0, b_i=0.0, mu=0.0, biases=False, e=None):
    """One SGD step on rating ``r`` from the sympy-derived :func:`update_rule`: new ``(p, q, b_u, b_i)``.

    Same arguments and result as :func:`mflab.sgd.step`, but computed from the derivation rather
    than the training loop. ``e`` overrides the error ``r - r_hat`` (to apply the rule with a
    given error, e.g. one stated in an exercise); by default it is computed.
    """
    lr = _checks.positive("lr", lr)
    reg = _checks.nonnegative("reg", reg)
    p = np.asarray(p, dtype=float).ravel()
    k = _checks.positive_int("k (the length of p)", len(p))
    rules, residual = _numeric_update(k, bool(biases))
    args = _values(k, True, biases, r, p, q, b_u, b_i, mu, reg, "sgd_update")
    err = float(residual(*args)) if e is None else float(e)
    new = {name: _as_result(f(*args, lr, err)) for name, f in rules.items()}
    return new["p"], new["q"], new.get("b_u", float(b_u)), new.get("b_i", float(b_i))


def finite_difference_gradients(r, p, q, *, reg=0.0, b_u=0.0, b_i=0.0, mu=0.0, biases=False, h=1e-5) -> dict:
    """The gradients of the loss by central differences ``(L(v + h) - L(v - h)) / (2 h)``.

    Each parameter is nudged up and down by ``h`` in turn and only the loss is evaluated, so this
    is a check that shares nothing with the derivation. ``L`` is quadratic in any one parameter, so
    central differences are exact here up to rounding (about ``1e-16 * L / h``). Same arguments
    and result as ``numeric_gradients(k, reg=True, biases=biases)``.
    """
    h = _checks.positive("h", h)
    point = {"p": np.array(p, dtype=float).ravel(), "q": np.array(q, dtype=float).ravel()}
    if biases:
        point |= {"b_u": np.array([b_u], dtype=float), "b_i": np.array([b_i], dtype=float)}
    L = numeric_loss(_checks.positive_int("k (the length of p)", len(point["p"])), reg=True, biases=bool(biases))

    def loss_at(v):
        return L(r, v["p"], v["q"], v["b_u"][0] if biases else b_u, v["b_i"][0] if biases else b_i, mu, reg)

    grads = {}
    for name, value in point.items():
        grads[name] = np.empty_like(value)
        for j in range(len(value)):
            up, down = ({n: x.copy() for n, x in point.items()} for _ in range(2))
            up[name][j] += h
            down[name][j] -= h
            grads[name][j] = (loss_at(up) - loss_at(down)) / (2 * h)
    return {name: g if name in ("p", "q") else float(g[0]) for name, g in grads.items()}


# ----------------------------------------------------------------------------- ALS: normal equations
class Ridge(NamedTuple):
    """ALS's per-user problem for ``n`` rated items and ``k`` factors, solved by sympy.

    ``objective = |r_u - Q_u p_u|^2 + lambda |p_u|^2`` with ``Q_u`` (n x k; row j, entries
    ``q_j0 ... q_j(k-1)``, is the factor vector of the j-th item the user rated), ``r_u`` (n x 1,
    entries ``r_0 ...``: their ratings) and the unknown ``p_u`` (k x 1, entries ``p_0 ...``).
    ``gradient`` is its gradient in ``p_u``, which sympy writes as the linear system
    ``gradient = A p_u - b`` (:func:`sympy.linear_eq_to_matrix`). ``matches`` is True when sympy
    finds ``A = 2 (Q_u^T Q_u + lambda I)`` and ``b = 2 Q_u^T r_u`` identically, i.e. ``gradient = 0``
    is the normal equations. ``solution`` is sympy's solution of ``A p_u = b`` (one fraction per
    entry when k <= 2), ``closed_form`` is ``(Q_u^T Q_u + lambda I)^{-1} Q_u^T r_u``, and
    ``solve(Q_u, r_u, reg)`` evaluates ``A`` and ``b`` in numpy and solves for ``p_u``.
    """

    objective: sp.Expr
    gradient: sp.Matrix
    A: sp.Matrix
    b: sp.Matrix
    solution: sp.Matrix
    closed_form: sp.Matrix
    matches: bool
    Q_u: sp.Matrix
    r_u: sp.Matrix
    p_u: sp.Matrix
    solve: object


@lru_cache(maxsize=None)
def normal_equations(n: int, k: int) -> Ridge:
    """Set the ridge gradient to zero and solve it symbolically (exact algebra: ``n`` and ``k`` small).

    One user with ``n`` ratings and ``k`` factors, ``Q`` fixed: minimise
    ``|r_u - Q_u p_u|^2 + lambda |p_u|^2`` over ``p_u`` (see :class:`Ridge`). At most
    :data:`MAX_RIDGE` = (4, 3): the exact solve takes about a second there, several at (6, 3) and
    minutes at (5, 4), so a larger request is refused rather than left to hang.
    """
    n = _checks.count("n", n, maximum=MAX_RIDGE[0])
    k = _checks.count("k", k, maximum=MAX_RIDGE[1])
    Q_u = sp.Matrix(n, k, lambda j, f: sp.Symbol(f"q_{j}{f}", real=True))
    r_u = sp.Matrix(sp.symbols(f"r_:{n}", real=True))
    p_u = sp.Matrix(sp.symbols(f"p_:{k}", real=True))
    residual = r_u - Q_u * p_u
    objective = residual.dot(residual) + lam * p_u.dot(p_u)
    gradient = p_u.applyfunc(lambda v: sp.diff(objective, v))
    A, b = sp.linear_eq_to_matrix(list(gradient), list(p_u))  # gradient = A p_u - b, linear in p_u
    normal = Q_u.T * Q_u + lam * sp.eye(k)
    matches = (A - 2 * normal).applyfunc(sp.expand).is_zero_matrix and \
        (b - 2 * Q_u.T * r_u).applyfunc(sp.expand).is_zero_matrix
    # LUsolve rather than sympy.solve: the same exact answer, but a fraction of a second instead of
    # minutes at k = 3. Cancelling it to one fraction per entry is quick only for k <= 2.
    solution = A.LUsolve(b)
    if k <= 2:
        solution = solution.applyfunc(sp.cancel)
    closed_form = normal.inv() * Q_u.T * r_u
    f_A = sp.lambdify([list(Q_u), lam], A, "numpy")
    f_b = sp.lambdify([list(Q_u), list(r_u)], b, "numpy")

    def solve(Q_value, r_value, reg):
        """``p_u`` for numeric ``Q_u`` (n x k), ``r_u`` (n,) and ``reg`` (lambda): ``A p_u = b`` in numpy."""
        Q_value = np.asarray(Q_value, dtype=float)
        r_value = np.asarray(r_value, dtype=float).ravel()
        if Q_value.shape != (n, k) or r_value.shape != (n,):
            raise ValueError(f"Q_u must be ({n}, {k}) and r_u ({n},); got {Q_value.shape} and {r_value.shape}")
        reg = _checks.nonnegative("reg", reg)
        A_value = np.asarray(f_A(list(Q_value.ravel()), reg), dtype=float)
        b_value = np.asarray(f_b(list(Q_value.ravel()), list(r_value)), dtype=float)
        return np.linalg.solve(A_value, b_value).ravel()

    return Ridge(objective, gradient, A, b, solution, closed_form, bool(matches), Q_u, r_u, p_u, solve)
