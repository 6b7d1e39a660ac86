"""Fold-in: a new user's vector from their first ratings with the item side fixed (public as
``mflab.recommend.fold_in``). Imports no model module, and not :mod:`mflab.recommend`."""
from __future__ import annotations

import numpy as np

from . import _checks
from .gibbs import sample_user
from .ridge import solve_user


def fold_in(model, items, ratings, *, reg=None, reg_bias=None, reg_scaling=None):
    """A new user's ``(p_u, b_u)`` from their first ratings, with the item side fixed.

    One ridge solve, :func:`mflab.ridge.solve_user` on the rated items' factors::

        p_u = (Q_u^T Q_u + reg I)^{-1} Q_u^T (r_u - mu - b_i)          (b_u = 0 without biases)

    With biases it solves ``[b_u, p_u]`` against features ``X = [1, q_i]`` with ridge
    ``D = diag(reg_bias, reg, ..., reg)``: ``(X^T X + D)^{-1} X^T (r_u - mu - b_i)``. ``items`` (n,) item indices, ``ratings`` (n,) numbers;
    returns ``p_u`` (k,) and ``b_u``. A model with k = 0 gets ``b_u = sum(r - mu - b_i) / (reg_bias + n)``.

    By default the model's own regularisation (LensKit's rule): ``reg=None`` is ``params["reg"]``
    (``reg_bias``: ``params["reg_bias"]``, else ``reg``); a ``reg`` given without ``reg_bias`` charges
    ``b_u`` that same ``reg`` (as ``fit(reg=...)`` does), so pass both to change only the factors'
    ridge. ``reg_scaling=None`` is
    ``params["reg_scaling"]``: with ``"count"`` (SGD, ALS-WR) the ridge is ``reg * n``, as the
    model charged a user with n ratings. Bayesian MF (a model whose ``info`` holds its learned user
    prior): the posterior mean under that prior ``N(m_P, Lambda_P^-1)`` and the noise precision
    ``beta`` (means over the kept sweeps), :func:`mflab.gibbs.sample_user` without a draw. A model
    fitted without either (svd, popularity) needs ``reg`` given. ``reg_scaling="none"`` makes a
    given ``reg`` the plain lambda on any model.
    """
    items = _checks.indices("items", items, model.n_items)
    ratings = _checks.real_array("ratings", ratings)
    if len(items) == 0 or ratings.shape != items.shape:
        raise ValueError(f"items and ratings must be two 1-D sequences of the same, non-zero length; "
                         f"got {len(items)} items and ratings of shape {ratings.shape}")
    if len(np.unique(items)) != len(items):
        raise ValueError("items lists an item more than once; give each rated item once")
    target = ratings - model.mu - model.item_bias[items]
    if model.method.startswith("implicit"):
        raise ValueError(f"fold_in solves the ridge problem of explicit ratings; {model.method} weighs "
                         f"every cell by confidence: use mflab.implicit.als.solve_user(Q, Q.T @ Q, items, "
                         f"confidence, reg) for its fold-in")
    if reg is None and reg_bias is None and reg_scaling is None and "user_prior_precision" in model.info:
        return _prior_fold_in(model, items, target)
    reg, reg_bias = _own_reg(model, reg, reg_bias, reg_scaling, len(items))
    if model.k == 0:
        return np.zeros(0), float(target.sum() / (reg_bias + len(items)))
    biases = model.params.get("biases", bool(model.mu != 0 or model.item_bias.any()))
    if not biases:
        return solve_user(model.Q[items], target, reg), 0.0
    X = np.column_stack([np.ones(len(items)), model.Q[items]])  # the ones column fits b_u
    ridge = np.r_[reg_bias, np.full(model.k, reg)]
    solution = np.linalg.solve(X.T @ X + np.diag(ridge), X.T @ target)
    return solution[1:], float(solution[0])


def _prior_fold_in(model, items, target):
    """Bayesian MF's fold-in: the posterior mean of ``[b_u, p_u]`` under the model's learned prior."""
    info = model.info
    biases = model.params.get("biases", True)
    Z = np.column_stack([np.ones(len(items)), model.Q[items]]) if biases else model.Q[items]
    x = sample_user(Z, target, np.asarray(info["user_prior_mean"]), np.asarray(info["user_prior_precision"]),
                    float(np.mean(info["noise_precision"])))
    return (x[1:], float(x[0])) if biases else (x, 0.0)


def _own_reg(model, reg, reg_bias, reg_scaling, n):
    """The (reg, reg_bias) of one fold-in of ``n`` ratings, from the arguments or the model's params."""
    params, method = model.params, model.method or "this model"
    scaling = params.get("reg_scaling", "none") if reg_scaling is None else reg_scaling
    if scaling not in ("none", "count"):
        raise ValueError(f"reg_scaling must be 'none' (plain lambda) or 'count' (lambda times the "
                         f"number of ratings); got {scaling!r}" + (
                             f" (the model's own; pass reg= and reg_scaling='none')" if reg_scaling is None else ""))
    own = reg is None
    if own:
        if "reg" in params:
            reg = params["reg"]
        elif model.k == 0 and "reg_user" in params:  # the baseline: its user-bias ridge
            reg = reg_bias = params["reg_user"] if reg_bias is None else reg_bias
        else:
            raise ValueError(f"fold_in needs reg: {method} was fitted without a reg of its own "
                             f"(params {sorted(params)}); pass reg=, a plain lambda such as 1.0")
        if reg_bias is None:
            reg_bias = params.get("reg_bias", reg)
    where = f" (the model's params['reg'])" if own else ""
    reg = _checks.nonnegative("reg", reg)
    reg_bias = reg if reg_bias is None else _checks.nonnegative("reg_bias", reg_bias)
    if model.k and reg == 0:
        raise ValueError(f"reg must be > 0 for a fold-in{where}: with few ratings the ridge problem "
                         f"has no unique solution without it; pass reg=")
    if scaling == "count":
        reg, reg_bias = reg * n, reg_bias * n
    return reg, reg_bias
