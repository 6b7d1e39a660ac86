"""Checks of lesson 04's exercises: the baseline's biases and the truncated SVD of the residual.

``checks.baseline_biases(my_biases)`` checks ``my_biases(user, item, value, n_users, n_items) ->
(mu, b_user, b_item)``; ``checks.svd_predict(my_predict)`` checks ``my_predict(R, k) -> R_hat``,
the dense prediction ``mu + b_u + b_i + (U_k Sigma_k V_k^T)_ui`` of :func:`mflab.svd.fit`.
"""
from __future__ import annotations

import numpy as np

from .. import baseline, svd
from ..ratings import Ratings
from ._compare import compare


# ----------------------------------------------------------------- the baseline's biases
def _biases_reference(user, item, value, n_users, n_items):
    model = baseline.fit(Ratings(user, item, value, n_users, n_items))
    return model.mu, np.array(model.user_bias), np.array(model.item_bias)


def _mean_per(group, x, n, minlength=True):
    """Mean of ``x`` per group, 0 for a group without entries (``minlength=False``: np.bincount's
    own length, which stops at the largest group seen)."""
    size = n if minlength else 0
    total = np.bincount(group, weights=x, minlength=size)
    count = np.bincount(group, minlength=size)
    return np.divide(total, count, out=np.zeros(len(total)), where=count > 0)


def _biases(user, item, value, n_users, n_items, *, user_target, item_target, mu=None, minlength=True,
            items_first=False):
    """The baseline with one step changed; each slip below is one such change."""
    mu = value.mean() if mu is None else mu
    if items_first:
        b_i = _mean_per(item, value - mu, n_items, minlength)
        b_u = _mean_per(user, value - mu - b_i[item], n_users, minlength)
        return mu, b_u, b_i
    b_u = _mean_per(user, user_target(value, mu), n_users, minlength)
    b_i = _mean_per(item, item_target(value, mu, b_u[user]), n_items, minlength)
    return mu, b_u, b_i


def _deviation(value, mu):
    return value - mu


def _residual(value, mu, b_u):
    return value - mu - b_u


BIAS_SLIPS = (
    (lambda u, i, r, nu, ni: _biases(u, i, r, nu, ni, user_target=_deviation,
                                     item_target=lambda r, mu, b: r - mu),
     "b_item matches the mean of r_ui - mu over each item's ratings: subtract the user's bias too, "
     "b_i = mean of (r_ui - mu - b_u) over the item's ratings (users first, then items given the users)"),
    (lambda u, i, r, nu, ni: _biases(u, i, r, nu, ni, user_target=_deviation, item_target=_residual,
                                     items_first=True),
     "you fitted the items first: the baseline fits b_u from r_ui - mu first, then b_i from "
     "r_ui - mu - b_u"),
    (lambda u, i, r, nu, ni: _biases(u, i, r, nu, ni, user_target=lambda r, mu: r, item_target=_residual),
     "b_user matches each user's mean rating: a bias is the mean deviation from mu, b_u = mean of "
     "(r_ui - mu) over the user's ratings"),
    (lambda u, i, r, nu, ni: _biases(u, i, r, nu, ni, user_target=lambda r, mu: r,
                                     item_target=lambda r, mu, b: r - b),
     "b_user matches each user's mean rating: subtract mu, b_u = mean of (r_ui - mu), and "
     "b_i = mean of (r_ui - mu - b_u)"),
    (lambda u, i, r, nu, ni: _biases(u, i, r, nu, ni, user_target=_deviation, item_target=_residual,
                                     minlength=False),
     "np.bincount stops at the largest index it sees: pass minlength=n_users (and n_items) so that "
     "a user or item without ratings still gets an entry, bias 0"),
    (lambda u, i, r, nu, ni: _biases(u, i, r, nu, ni, user_target=_deviation, item_target=_residual,
                                     mu=np.mean(_mean_per(u, r, nu)[np.bincount(u, minlength=nu) > 0])),
     "mu matches the mean of the users' mean ratings: mu is the mean of all the ratings"),
)


def _rating_cases(rng):
    """Four small rating sets; the second leaves its last user and last item without ratings."""
    cases = []
    for n_users, n_items, n, empty in ((4, 3, 8, False), (6, 5, 14, True), (9, 7, 30, False), (20, 15, 90, False)):
        rows, cols = (n_users - 1, n_items - 1) if empty else (n_users, n_items)
        cells = rng.choice(rows * cols, n, replace=False)
        user, item = np.divmod(cells, cols)
        value = rng.integers(1, 6, n).astype(float)
        cases.append((user.astype(np.int64), item.astype(np.int64), value, n_users, n_items))
    return cases


def baseline_biases(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(user, item, value, n_users, n_items) -> (mu, b_user, b_item)``: the baseline.

    ``mu`` = mean of ``value``; ``b_user[u]`` = mean of ``value - mu`` over user u's ratings;
    ``b_item[i]`` = mean of ``value - mu - b_user[user]`` over item i's ratings; 0 for a user or
    item without ratings (as :func:`mflab.baseline.fit` with ``reg_user = reg_item = 0``).
    ``b_user`` has length ``n_users``, ``b_item`` length ``n_items``. Named slips: item biases
    without the user's bias subtracted, items fitted first, a user's mean rating taken for their
    bias, ``np.bincount`` without ``minlength``, mu as the mean of the users' means.
    """
    cases = _rating_cases(np.random.default_rng(4))
    return compare("baseline_biases", cases, yours, _biases_reference,
                   params=("user", "item", "value", "n_users", "n_items"), results=("mu", "b_user", "b_item"),
                   label=lambda u, i, r, nu, ni: f"{len(r)} ratings, {nu} users x {ni} items"
                   + (", some without ratings" if len(np.unique(u)) < nu or len(np.unique(i)) < ni else ""),
                   slips=BIAS_SLIPS, timeout=timeout)


# ----------------------------------------------------------------- truncated SVD of the residual
def _predict_reference(R, k):
    return svd.fit(Ratings.from_dense(R), k).predict_all()


def _dense_baseline(R, *, item_residual=True):
    mu = np.nanmean(R)
    b_u = np.nanmean(R - mu, axis=1)
    b_i = np.nanmean(R - mu - (b_u[:, None] if item_residual else 0.0), axis=0)
    return mu, b_u, b_i


def _layers(E, k, *, power=1.0, last=False, transpose_vt=False, truncate=True):
    U, s, Vt = np.linalg.svd(E, full_matrices=False)
    if not truncate:
        return U @ np.diag(s) @ Vt
    keep = slice(len(s) - k, None) if last else slice(None, k)
    V_rows = Vt.T[keep] if transpose_vt else Vt[keep]
    return U[:, keep] @ np.diag(s[keep] ** power) @ V_rows


def _svd_slip(R, k, *, fill="residual", add_back=True, biases=True, item_residual=True, **layers):
    mu, b_u, b_i = _dense_baseline(R, item_residual=item_residual)
    base = mu + b_u[:, None] + b_i[None, :] if biases else np.full(R.shape, mu)
    if fill == "ratings":  # the ratings themselves, 0 where unrated
        return _layers(np.nan_to_num(R), k, **layers)
    E = np.where(np.isnan(R), 0.0, R - base)
    return (base if add_back else 0.0) + _layers(E, k, **layers)


SVD_SLIPS = (
    (lambda R, k: _svd_slip(R, k, fill="ratings"),
     "you factored the ratings with 0 in the unrated cells, which reads as 'rated 0', far below "
     "any rating: subtract the baseline mu + b_u + b_i first, put 0 in the residual's unrated "
     "cells, and add the baseline back to the rank-k result"),
    (lambda R, k: _svd_slip(R, k, add_back=False),
     "the result is the rank-k residual alone: add the baseline mu + b_u + b_i back"),
    (lambda R, k: _svd_slip(R, k, biases=False),
     "you removed mu alone: the baseline is mu + b_u + b_i (users' biases first, then the items')"),
    (lambda R, k: _svd_slip(R, k, item_residual=False),
     "the item biases are the mean of r_ui - mu: subtract the user's bias too, b_i = mean of "
     "(r_ui - mu - b_u) over the item's ratings (users first, then items)"),
    (lambda R, k: _svd_slip(R, k, power=0.0),
     "the singular values are missing: the rank-k layers are U_k Sigma_k V_k^T"),
    (lambda R, k: _svd_slip(R, k, power=0.5),
     "that is U_k Sigma_k^(1/2) V_k^T: the square roots go into P = U_k Sigma_k^(1/2) and "
     "Q = V_k Sigma_k^(1/2) separately, and P Q^T = U_k Sigma_k V_k^T"),
    (lambda R, k: _svd_slip(R, k, last=True),
     "you kept the k smallest singular values: numpy returns them largest first, so keep the "
     "first k (U[:, :k], s[:k], Vt[:k])"),
    (lambda R, k: _svd_slip(R, k, transpose_vt=True),
     "numpy's third result is already V^T (call it Vt): its first k rows are v_1 ... v_k, so use "
     "Vt[:k], not Vt.T[:k]"),
    (lambda R, k: _svd_slip(R, k, truncate=False),
     "you kept every layer: the full SVD gives back the zero-filled residual, so every unrated "
     "cell gets the baseline. Keep the first k layers only"),
    (lambda R, k: np.clip(_svd_slip(R, k), 1.0, 5.0),
     "your prediction is clipped to the rating scale [1, 5]: return it unclipped (the lesson clips "
     "only when it scores, with rmse(..., clip=True))"),
)


def _matrix_cases(rng):
    """Dense matrices with NaN for unrated cells; every user and item has at least one rating."""
    cases = []
    for n_users, n_items, k in ((6, 5, 2), (8, 6, 1), (5, 7, 3), (10, 8, 4)):
        R = rng.integers(1, 6, (n_users, n_items)).astype(float)
        hidden = rng.random((n_users, n_items)) < 0.4
        hidden[np.arange(n_users), rng.integers(0, n_items, n_users)] = False
        hidden[rng.integers(0, n_users, n_items), np.arange(n_items)] = False
        R[hidden] = np.nan
        cases.append((R, k))
    return cases


def svd_predict(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(R, k) -> R_hat``: truncated SVD of the zero-filled residual of the baseline.

    ``R`` is a dense (n_users, n_items) matrix with NaN where unrated. ``R_hat`` (same shape,
    unclipped) is ``mu + b_u + b_i + (U_k Sigma_k V_k^T)[u, i]``, where ``U Sigma V^T`` is the SVD
    of ``E = R - (mu + b_u + b_i)`` with 0 in the unrated cells and the biases are the baseline's
    (users first, then items), as :func:`mflab.svd.fit` then ``predict_all()``. Named slips: the
    ratings zero-filled instead of the residual, the baseline not added back, mu without the
    biases (or item biases without the user's), Sigma left out or square-rooted, the k smallest
    layers, ``Vt.T[:k]``, no truncation, the result clipped to [1, 5].
    """
    cases = _matrix_cases(np.random.default_rng(5))
    return compare("svd_predict", cases, yours, _predict_reference, params=("R", "k"), results=("R_hat",),
                   label=lambda R, k: f"{R.shape[0]} users x {R.shape[1]} items, "
                                      f"{int(np.isnan(R).sum())} unrated, k={k}",
                   slips=SVD_SLIPS, timeout=timeout)
