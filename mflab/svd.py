"""Truncated SVD of the bias-removed rating matrix: "fill and factor".

1. Fit the baseline ``mu + b_u + b_i``.
2. Residual matrix ``E[u, i] = r_ui - (mu + b_u + b_i)`` where rated, 0 where not.
3. Truncated SVD ``E ~ U_k diag(s_k) V_k^T`` (the best rank-k approximation, Eckart-Young).
4. Predict ``mu + b_u + b_i + (U_k diag(s_k) V_k^T)[u, i]``.

Filling the unrated cells with 0 assumes "an unrated movie is average for this user": that is the
flaw ALS removes. The factors are split symmetrically, ``P = U_k sqrt(s_k)``,
``Q = V_k sqrt(s_k)``, so that ``P Q^T`` is the rank-k reconstruction.

This builds the dense users x items residual, so it is for small data (the genre lessons,
MovieLens 100K); ALS and SGD never do.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from . import baseline as _baseline
from .factorization import Factorization
from .ratings import require_ratings


def fit(train, k: int, *, baseline: Factorization | None = None, force: bool = False) -> Factorization:
    """Rank-``k`` SVD of the zero-filled residual of ``baseline`` (fitted on ``train`` if None).

    Objective: ``min ||E - P Q^T||_F`` over rank-k products, every cell counted (the unrated ones
    as 0). The singular values are in ``model.info["singular_values"]`` (all of them, not only k).
    Refused above ``mflab._checks.DENSE_CELL_LIMIT`` cells unless ``force=True``.
    """
    require_ratings("train", train)
    k = _checks.positive_int("k", k)
    if k > min(train.shape):
        raise ValueError(f"k must be at most min(n_users, n_items) = {min(train.shape)}; got {k}")
    if baseline is None:
        baseline = _baseline.fit(train)
    elif not isinstance(baseline, Factorization) or baseline.k != 0:
        raise TypeError("baseline must be a Factorization from mflab.baseline.fit (k = 0)")
    elif baseline.shape != train.shape:
        raise ValueError(f"baseline was fitted on {baseline.n_users} users x {baseline.n_items} items "
                         f"but train has {train.n_users} x {train.n_items}; fit it on train")
    _checks.dense_size("svd.fit", *train.shape, force=force,
                       alternative="Use als.fit or sgd.fit, which never build the dense matrix.")
    residual = np.zeros(train.shape)
    residual[train.user, train.item] = train.value - baseline.predict(train.user, train.item)
    U, s, Vt = np.linalg.svd(residual, full_matrices=False)
    root = np.sqrt(s[:k])
    return Factorization.from_training(
        train, U[:, :k] * root, Vt[:k].T * root, baseline.mu, baseline.user_bias, baseline.item_bias,
        method="svd", params={"k": k}, info={"singular_values": s},
    )
