"""Check of lesson 06's exercise: NDCG@k of one ranked list, ``checks.ndcg_at_k(my_ndcg)``.

The student writes ``my_ndcg(ranked, relevant, k) -> float``::

    DCG@k  = sum over positions p = 1..k whose item is relevant of 1 / log2(p + 1)
    NDCG@k = DCG@k / IDCG@k,   IDCG@k = sum_{p = 1..min(k, |relevant|)} 1 / log2(p + 1)

(the DCG of the best list: every relevant item on top). The base of the logarithm cancels in the
ratio, so ``np.log`` for ``np.log2`` in both is not a mistake; the slips named below are.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import metrics
from ._compare import compare


def _positions(ranked, relevant, k):
    """1-based positions, within the first k, of the relevant items of ``ranked``."""
    return [p for p, item in enumerate(list(ranked)[:k], start=1) if item in relevant]


def _dcg(positions, shift=1):
    return sum(1.0 / math.log2(p + shift) for p in positions)


def _reference(ranked, relevant, k):
    return metrics.ndcg_at_k(ranked, relevant, k)


def _dcg_only(ranked, relevant, k):
    return _dcg(_positions(ranked, relevant, k))


def _ideal_all_relevant(ranked, relevant, k):  # the ideal list not cut at k
    return _dcg(_positions(ranked, relevant, k)) / _dcg(range(1, len(relevant) + 1))


def _ideal_k(ranked, relevant, k):  # the ideal list always k relevant items long
    return _dcg(_positions(ranked, relevant, k)) / _dcg(range(1, k + 1))


def _whole_list(ranked, relevant, k):  # the list not cut at k
    return _dcg(_positions(ranked, relevant, len(ranked))) / _dcg(range(1, min(k, len(relevant)) + 1))


def _shifted(ranked, relevant, k):  # positions from 1 in a formula written for positions from 0
    ideal = range(1, min(k, len(relevant)) + 1)
    return _dcg(_positions(ranked, relevant, k), shift=2) / _dcg(ideal, shift=2)


def _zero_based(ranked, relevant, k):
    """Positions from 0 with 1/log2(p + 1), in NumPy floats: the top position divides by
    log2(1) = 0 (inf), so the ideal DCG is inf; the result is 0 when the top item is not relevant
    (nan otherwise, which the check reports through :func:`_guarded`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dcg = sum(np.float64(1.0) / np.log2(np.float64(p)) for p in _positions(ranked, relevant, k))
        ideal = sum(np.float64(1.0) / np.log2(np.float64(p)) for p in range(1, min(k, len(relevant)) + 1))
        return float(dcg / ideal)


def _hits_over(denominator):
    def slip(ranked, relevant, k):
        return _dcg(_positions(ranked, relevant, k)) / denominator(k, relevant)
    return slip


_ZERO_BASED = ("the top position's discount is 1/log2(1) = 1/0: count positions from 1 "
               "(1/log2(p + 1)), or write 1/log2(p + 2) for enumerate's p = 0, 1, ...")

SLIPS = (
    (_dcg_only, "that is the DCG: divide it by the ideal DCG (the DCG of a list with every relevant "
                "item on top), so that a perfect list scores 1"),
    (_hits_over(lambda k, relevant: k),
     "you divided the DCG by k: NDCG divides it by the ideal DCG, the DCG of the best possible list"),
    (_hits_over(lambda k, relevant: len(relevant)),
     "you divided the DCG by the number of relevant items: NDCG divides it by the ideal DCG, the "
     "DCG of the best possible list"),
    (_ideal_all_relevant,
     "your ideal DCG counts every relevant item, but a top-k list holds at most k of them: sum the "
     "ideal list over min(k, |relevant|) positions"),
    (_ideal_k,
     "your ideal DCG counts k relevant items, but this user has fewer: the ideal list holds "
     "min(k, |relevant|) relevant items"),
    (_whole_list, "you scored the whole list: only its first k items count (ranked[:k])"),
    (_shifted, "positions off by one: the top position's discount must be 1/log2(2) = 1. With "
               "positions counted from 1 the discount is 1/log2(p + 1); with enumerate's 0, 1, 2, "
               "..., it is 1/log2(p + 2)"),
    (_zero_based, _ZERO_BASED),
)

# ranked (best first), relevant, k: every slip above fails at least one case (tests/test_checks_ranking.py);
# the first case's top item is not relevant, so the 0-based discount gives a finite wrong number there
CASES = (
    (np.array([7, 3, 9, 1, 4]), {3, 4, 8}, 5),
    (np.array([2, 11, 5, 0, 6, 13, 8, 1, 9, 4]), {2, 6}, 10),
    (np.array([5, 1, 9, 0, 12, 3, 7, 2, 8, 14, 6, 11]), {1, 3, 8, 10, 13}, 4),
    (np.array([20, 4, 17, 9, 2, 15, 11, 0, 6, 13]), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 10),
    (np.array([3, 8, 1, 6]), {0, 2}, 4),
)


def _guarded(yours):
    """``yours``, with its two signs of the 0-based discount named: a ZeroDivisionError (Python
    floats) gets the hint in its message; a nan or inf result (NumPy floats) raises with it."""
    @functools.wraps(yours)
    def run(ranked, relevant, k):
        try:
            got = yours(ranked, relevant, k)
        except ZeroDivisionError as exc:
            exc.args = (f"{exc}; {_ZERO_BASED}",)
            raise
        try:
            finite = got is None or isinstance(got, (str, bytes)) or bool(np.all(np.isfinite(got)))
        except TypeError:
            finite = True  # not a number at all: the comparison says what it is
        if not finite:
            raise FloatingPointError(f"your NDCG came out as {got}: often {_ZERO_BASED}")
        return got
    return run


def ndcg_at_k(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(ranked, relevant, k) -> float``: binary-relevance NDCG of one user's list.

    ``ranked``: item indices, best first (an integer array); ``relevant``: a set of item indices;
    ``k``: the list length scored. ``DCG@k = sum_{p <= k, item p relevant} 1/log2(p + 1)``
    (positions from 1), divided by the DCG of the ideal list, ``min(k, |relevant|)`` relevant
    items on top. Named slips: no division by the ideal DCG (or by k, or by the number of
    relevant items instead), an ideal list not cut at k or always k long, the list not cut at k,
    positions off by one (1/log2(p + 2) from 1, or 1/log2(p + 1) from 0). ``timeout``: seconds
    per case (default :data:`mflab.checks.TIMEOUT`).
    """
    cases = [(ranked.copy(), set(relevant), k) for ranked, relevant, k in CASES]
    checked = _guarded(yours) if callable(yours) else yours
    return compare("ndcg_at_k", cases, checked, _reference, params=("ranked", "relevant", "k"),
                   results=("NDCG@k",), slips=SLIPS, timeout=timeout,
                   label=lambda ranked, relevant, k: f"{len(ranked)} items, {len(relevant)} relevant, k={k}")
