"""Accuracy and ranking metrics.

Rating accuracy, over n test ratings::

    RMSE = sqrt( (1/n) sum (r - r_hat)^2 )        MAE = (1/n) sum |r - r_hat|

Ranking quality of one user's top-k list ``ranked`` against the set ``relevant`` of items they
liked (rated at or above a threshold in the test set)::

    precision@k = |top-k  ∩ relevant| / k
    recall@k    = |top-k  ∩ relevant| / |relevant|
    NDCG@k      = DCG / IDCG,  DCG = sum_{position p = 1..k, item relevant} 1 / log2(p + 1)
                  and IDCG is the DCG of a perfect list (all relevant items first).
"""
from __future__ import annotations

import numpy as np

from . import _checks


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("y_true is empty; an error needs at least one rating")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.isfinite(y).all():
            raise ValueError(f"{name} holds NaN or infinite values")
    return y_true, y_pred


def rmse(y_true, y_pred) -> float:
    """Root mean squared error: sqrt(mean((y_true - y_pred)^2))."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error: mean(|y_true - y_pred|)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def precision_at_k(ranked, relevant, k: int = 10) -> float:
    """Fraction of the first ``k`` items of ``ranked`` that are in ``relevant``."""
    k = _checks.positive_int("k", k)
    top = list(ranked)[:k]
    return len(set(top) & set(relevant)) / k


def recall_at_k(ranked, relevant, k: int = 10) -> float:
    """Fraction of ``relevant`` found in the first ``k`` items of ``ranked`` (0 if none relevant)."""
    k = _checks.positive_int("k", k)
    relevant = set(relevant)
    if not relevant:
        return 0.0
    return len(set(list(ranked)[:k]) & relevant) / len(relevant)


def ndcg_at_k(ranked, relevant, k: int = 10) -> float:
    """Binary-relevance NDCG of the first ``k`` items of ``ranked`` (0 if none relevant)."""
    k = _checks.positive_int("k", k)
    relevant = set(relevant)
    if not relevant:
        return 0.0
    gains = [1.0 if item in relevant else 0.0 for item in list(ranked)[:k]]
    dcg = sum(g / np.log2(p + 2) for p, g in enumerate(gains))
    idcg = sum(1.0 / np.log2(p + 2) for p in range(min(k, len(relevant))))
    return float(dcg / idcg)


def ranking_metrics(model, test, *, k: int = 10, exclude=None, threshold: float = 4.0) -> dict:
    """Mean precision@k, recall@k and NDCG@k over the users with a relevant test item.

    For each such user, the model ranks every item they did not rate in ``exclude`` (usually the
    training set); an item is relevant when the user rated it ``>= threshold`` in ``test``.
    """
    _checks.ratings("test", test)
    k = _checks.positive_int("k", k)
    from .recommend import top_n

    liked = test.subset(test.value >= threshold)
    scores = {"precision": [], "recall": [], "ndcg": []}
    for u in np.unique(liked.user):
        relevant = liked.user_items(u)[0]
        ranked = top_n(model, int(u), k, exclude=exclude)["item"].to_numpy()
        scores["precision"].append(precision_at_k(ranked, relevant, k))
        scores["recall"].append(recall_at_k(ranked, relevant, k))
        scores["ndcg"].append(ndcg_at_k(ranked, relevant, k))
    out = {f"{name}@{k}": float(np.mean(v)) if v else 0.0 for name, v in scores.items()}
    out["users"] = len(scores["ndcg"])
    return out
