"""The baseline predictor: global mean plus user and item biases, no latent factors.

    r_hat(u, i) = mu + b_u + b_i

    mu  = mean of all training ratings
    b_u = sum_{i in I(u)} (r_ui - mu)        / (reg_user + |I(u)|)
    b_i = sum_{u in U(i)} (r_ui - mu - b_u)  / (reg_item + |U(i)|)

With ``reg_user = reg_item = 0`` these are plain means of the deviations (lesson 04's baseline); a
positive value shrinks the bias of a user or item with few ratings toward 0. Each is the ridge
solution ``b_u = argmin sum_i (r_ui - mu - b_u)^2 + reg_user b_u^2`` (plain lambda, as in
``als.fit``'s ``reg_bias``), one bias at a time: users first, then items given the users.

:func:`popularity` is the other model without factors: the popularity ranking as a k = 0
Factorization (``item_bias`` = each item's popularity score), so it goes through ``top_n`` and the
ranking metrics like any fitted model.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from .factorization import Factorization
from .ratings import require_ratings
from .recommend import popularity_scores


def fit(train, *, reg_user: float = 0.0, reg_item: float = 0.0) -> Factorization:
    """Fit ``mu``, user biases then item biases; a Factorization with k = 0.

    A user or item without training ratings gets bias 0.
    """
    require_ratings("train", train)
    reg_user = _checks.nonnegative("reg_user", reg_user)
    reg_item = _checks.nonnegative("reg_item", reg_item)
    mu = train.mean()
    b_u = _damped_mean(train.user, train.value - mu, train.n_users, reg_user)
    b_i = _damped_mean(train.item, train.value - mu - b_u[train.user], train.n_items, reg_item)
    return Factorization.from_training(
        train, np.zeros((train.n_users, 0)), np.zeros((train.n_items, 0)), mu, b_u, b_i,
        method="baseline", params={"k": 0, "reg_user": reg_user, "reg_item": reg_item, "reg_scaling": "none"},
    )


def popularity(train, *, by: str = "rating", damping: float = 10.0, force: bool = False) -> Factorization:
    """The popularity ranking as a model: ``r_hat(u, i) = score_i`` for every user, k = 0.

    ``by="rating"``: the damped mean rating ``(sum_u r_ui + damping * mu) / (n_i + damping)``;
    ``by="count"``: the number of ratings ``n_i`` (implicit feedback). See
    :func:`mflab.recommend.popularity_scores`. Refused above the size guard of
    ``mflab._checks.array_size`` (``train.n_items`` entries) unless ``force=True``.
    """
    require_ratings("train", train)
    score = popularity_scores(train, by=by, damping=damping, force=force)
    return Factorization.from_training(train, np.zeros((train.n_users, 0)), np.zeros((train.n_items, 0)),
                                       0.0, None, score, method="popularity",
                                       params={"k": 0, "by": by, "damping": damping})


def _damped_mean(group, x, n, reg) -> np.ndarray:
    """sum of ``x`` per group / (reg + count per group); 0 for an empty group."""
    total = np.bincount(group, weights=x, minlength=n)
    count = np.bincount(group, minlength=n)
    denom = reg + count
    return np.divide(total, denom, out=np.zeros(n), where=denom > 0)
