"""Accuracy and ranking metrics.

Rating accuracy, over n test ratings::

    RMSE = sqrt( (1/n) sum (r - r_hat)^2 )        MAE = (1/n) sum |r - r_hat|

Ranking quality of one user's top-k list ``ranked`` against the set ``relevant`` of items they
liked (rated at or above a threshold in the test set)::

    precision@k = |top-k  ∩ relevant| / k
    recall@k    = |top-k  ∩ relevant| / |relevant|
    NDCG@k      = DCG / IDCG,  DCG = sum_{position p = 1..k, item relevant} 1 / log2(p + 1)
                  and IDCG is the DCG of a perfect list (all relevant items first).
    hit rate@k  = 1 if any of the top k is relevant, else 0
    AP@k        = sum_{p = 1..k, item p relevant} precision@p / min(k, |relevant|)   (MAP: its mean)
    AUC         = P(a random relevant item scores above a random non-relevant one), ties count 1/2
    coverage    = |items appearing in any user's top-k| / n_items

Recall, NDCG, hit rate and AP are undefined for a user with no relevant item, so they refuse one;
a ranked list that repeats an item, or anything that is not a flat list of items, is refused too
(either would give a number that looks right and is not).
"""
from __future__ import annotations


import numpy as np

from . import _checks
from .ratings import require_ratings
from .recommend import top_n_batch


def _pair(y_true, y_pred):
    y_true = _checks.real_array("y_true", y_true, ndim=None)
    y_pred = _checks.real_array("y_pred", y_pred, ndim=None)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("y_true is empty; an error needs at least one rating")
    return y_true, y_pred


def rmse(y_true, y_pred) -> float:
    """Root mean squared error over n ratings: ``sqrt((1/n) sum_j (y_true_j - y_pred_j)^2)``.

    With ``y_true`` the ratings r_ui of a set Omega (a test set) and ``y_pred`` the predictions:
    ``RMSE = sqrt((1/|Omega|) sum_{(u,i) in Omega} e_ui^2)``, e_ui = r_ui - r_hat_ui. One shape.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error over n ratings: ``(1/n) sum_j |y_true_j - y_pred_j|``.

    Over a set Omega of ratings: ``MAE = (1/|Omega|) sum_{(u,i) in Omega} |e_ui|``, in stars.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def _ranked(ranked, k=None, *, name="ranked", n=None) -> list:
    """A ranked list of item indices, checked (flat, integers >= 0, no repeats); its first k if given."""
    if hasattr(ranked, "columns"):
        raise TypeError(f"{name} must be a list of items, best first; got a DataFrame (pass its item "
                        "column, e.g. top_n(...)['item'])")
    if np.ndim(ranked) == 0:
        raise TypeError(f"{name} must be a list of items, best first; got the single value {ranked!r}")
    if np.ndim(ranked) > 1:
        raise ValueError(f"{name} must be a flat list of items; got shape {np.shape(ranked)}")
    items = _checks.indices(name, ranked, n).tolist()
    if len(set(items)) != len(items):
        seen = set()
        repeat = next(x for x in items if x in seen or seen.add(x))
        raise ValueError(f"{name} lists item {repeat!r} more than once; a ranking names each item once")
    return items if k is None else items[:k]


def _relevant(relevant, metric, *, allow_empty=False, name="relevant", n=None) -> set:
    if relevant is None:
        raise TypeError(f"{name} must be a collection of item indices (the user's relevant items); "
                        f"got None")
    if hasattr(relevant, "columns"):
        raise TypeError(f"{name} must be a collection of items; got a DataFrame")
    if np.ndim(list(relevant) if isinstance(relevant, (set, frozenset)) else relevant) > 1:
        raise ValueError(f"{name} must be a flat collection of items; got shape {np.shape(relevant)}")
    found = set(_checks.indices(name, relevant, n).tolist())
    if not found and not allow_empty:
        raise ValueError(f"{name} is empty: {metric} is undefined for a user with no relevant "
                         f"item; leave such users out (ranking_metrics does)")
    return found


def precision_at_k(ranked, relevant, k: int = 10) -> float:
    """``precision@k = |top-k ∩ relevant| / k``: the share of the first ``k`` items of ``ranked``
    that are relevant (divided by ``k`` even when ``ranked`` is shorter or ``relevant`` smaller).
    """
    k = _checks.positive_int("k", k)
    return len(set(_ranked(ranked, k)) & _relevant(relevant, "precision", allow_empty=True)) / k


def recall_at_k(ranked, relevant, k: int = 10) -> float:
    """``recall@k = |top-k ∩ relevant| / |relevant|``: the share of the relevant items found in the
    first ``k`` of ``ranked``. Undefined (refused) for an empty ``relevant``.
    """
    k = _checks.positive_int("k", k)
    relevant = _relevant(relevant, "recall")
    return len(set(_ranked(ranked, k)) & relevant) / len(relevant)


def ndcg_at_k(ranked, relevant, k: int = 10) -> float:
    """Binary-relevance ``NDCG@k = DCG@k / IDCG@k``, in [0, 1].

    ``DCG@k = sum_{p = 1..k, item at p relevant} 1 / log2(p + 1)`` (positions from 1, so the top
    item counts 1); ``IDCG@k = sum_{p = 1..min(k, |relevant|)} 1 / log2(p + 1)``, the DCG of the
    best list (every relevant item on top). The log's base cancels in the ratio.
    """
    k = _checks.positive_int("k", k)
    relevant = _relevant(relevant, "NDCG")
    gains = [1.0 if item in relevant else 0.0 for item in _ranked(ranked, k)]
    dcg = sum(g / np.log2(p + 2) for p, g in enumerate(gains))
    idcg = sum(1.0 / np.log2(p + 2) for p in range(min(k, len(relevant))))
    return float(dcg / idcg)


def hit_rate_at_k(ranked, relevant, k: int = 10) -> float:
    """``hit@k = 1`` if any of the first ``k`` items of ``ranked`` is relevant, else 0 (its mean
    over users is the hit rate@k)."""
    k = _checks.positive_int("k", k)
    return float(bool(set(_ranked(ranked, k)) & _relevant(relevant, "hit rate")))


def average_precision_at_k(ranked, relevant, k: int = 10) -> float:
    """``AP@k = (1 / min(k, |relevant|)) sum_{p = 1..k, item at p relevant} precision@p``: the
    precision at each position that holds a relevant item, averaged over the most hits a top-k
    list can hold (its mean over users is MAP@k)."""
    k = _checks.positive_int("k", k)
    relevant = _relevant(relevant, "average precision")
    hits, total = 0, 0.0
    for position, item in enumerate(_ranked(ranked, k), start=1):
        if item in relevant:
            hits += 1
            total += hits / position
    return total / min(k, len(relevant))


def auc(scores, positives, *, exclude=None) -> float:
    """Exact AUC of one user's ``scores`` (one per item) for the item indices ``positives``.

    The non-positives are every other item not in ``exclude`` (e.g. the user's training items).
    Both are integer item indices in ``[0, len(scores))``: a float, a boolean mask or a negative
    index is refused rather than read as another item.
    """
    scores = _checks.real_array("scores", scores)
    pos = np.array(sorted(_relevant(positives, "AUC", name="positives", n=len(scores))), dtype=np.int64)
    negative = np.ones(len(scores), dtype=bool)
    negative[pos] = False
    if exclude is not None:
        negative[_checks.indices("exclude", exclude, len(scores))] = False
    neg = np.sort(scores[negative])
    if len(neg) == 0:
        raise ValueError("every item is positive or excluded: AUC needs at least one non-positive item")
    below = np.searchsorted(neg, scores[pos], side="left")
    ties = np.searchsorted(neg, scores[pos], side="right") - below
    return float((below + 0.5 * ties).sum() / (len(pos) * len(neg)))


def coverage(ranked_lists, n_items: int) -> float:
    """Share of the catalogue (``n_items`` items) that appears in at least one ranked list.

    ``ranked_lists``: one list of item indices per user (a list of lists, or a 2-D integer array
    such as :func:`mflab.recommend.top_n_batch` returns).
    """
    n_items = _checks.count("n_items", n_items)
    if hasattr(ranked_lists, "columns") or isinstance(ranked_lists, (str, bytes)) or np.ndim(ranked_lists) == 0:
        raise TypeError(f"ranked_lists must be a list of ranked lists (one list of item indices per "
                        f"user); got {type(ranked_lists).__name__}")
    shown = set()
    for u, ranked in enumerate(ranked_lists):
        if np.ndim(ranked) == 0 and not hasattr(ranked, "columns"):
            raise TypeError(f"ranked_lists must be a list of ranked lists (one per user); its entry "
                            f"{u} is the single value {ranked!r} (wrap one list as [ranked])")
        shown.update(_ranked(ranked, name=f"ranked_lists[{u}]", n=n_items))
    return len(shown) / n_items


def relevance_threshold(threshold, ratings, *, name: str = "threshold", of: str = "test"):
    """``threshold`` checked against ``ratings``: finite, on its scale, and reached by some rating.

    ``None`` passes (every rating relevant, as for implicit feedback); ``of`` names ``ratings``.
    The one check of a relevance threshold, shared by :func:`ranking_metrics` and
    :func:`mflab.coldstart.fold_in_study`.
    """
    if threshold is None:
        return None
    threshold = _checks.real(name, threshold)
    if len(ratings) and threshold > ratings.value.max():
        raise ValueError(f"{name}={threshold:g} is above every {of} rating (the highest is "
                         f"{ratings.value.max():g}): no item would be relevant. Pick a threshold "
                         f"on the rating scale, or threshold=None for implicit data")
    return _checks.on_scale(name, threshold, ratings.scale)


def ranking_metrics(model, test, *, k: int = 10, exclude=None, threshold: float | None = 4.0) -> dict:
    """Mean precision, recall, NDCG, hit rate and MAP at ``k`` over the users with a relevant test item.

    For each such user, the model ranks every item they did not rate in ``exclude`` (usually the
    training set); an item is relevant when the user rated it ``>= threshold`` in ``test``
    (``threshold=None``: every test item is relevant, as for implicit feedback). A threshold above
    every test rating is refused, so at least one user is scored (never a misleading 0 over none),
    and so is one off the rating scale. ``test`` and ``exclude`` must have the model's shape.
    The top-k lists come from the batched :func:`mflab.recommend.top_n_batch`.
    """
    require_ratings("test", test)
    _checks.fits_model("test", test, model)
    if exclude is not None:
        require_ratings("exclude", exclude)
        _checks.fits_model("exclude", exclude, model)
    k = _checks.count("k", k)
    threshold = relevance_threshold(threshold, test)
    liked = test if threshold is None else test.subset(test.value >= threshold)
    names = ("precision", "recall", "ndcg", "hit_rate", "map")
    functions = (precision_at_k, recall_at_k, ndcg_at_k, hit_rate_at_k, average_precision_at_k)
    scores = {name: [] for name in names}
    users = np.unique(liked.user)
    for u, ranked in zip(users, top_n_batch(model, users, k, exclude=exclude)):
        ranked = ranked[ranked >= 0]  # -1 pads a user with fewer than k candidates left
        relevant = liked.user_items(u)[0]
        for name, metric in zip(names, functions):
            scores[name].append(metric(ranked, relevant, k))
    out = {f"{name}@{k}": float(np.mean(v)) for name, v in scores.items()}  # >= 1 user: see threshold
    out["users"] = len(scores["ndcg"])
    return out
