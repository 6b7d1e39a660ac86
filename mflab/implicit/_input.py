"""What the implicit models accept, checked once for both: interactions, and sizes against memory."""
from __future__ import annotations

import warnings

import numpy as np

from .. import _checks
from ..ratings import require_ratings


def interactions(name: str, value, *, model: str):
    """The interactions in ``value`` (a Ratings), by the rule of both implicit models.

    **An interaction is a stored positive value** (a count, or a strength such as a rating).
    A stored 0 means "no interaction": those rows are dropped, with a warning that says how many
    (``Ratings.from_dense(counts)`` of a count matrix stores every cell that is not NaN, the zeros
    too). A negative value has no meaning as an amount of interaction and is refused. Data left with
    no interaction at all is refused.
    """
    require_ratings(name, value)
    negative = np.flatnonzero(value.value < 0)
    if negative.size:
        t = negative[0]
        raise ValueError(
            f"{name} holds {negative.size:,} negative value(s) (first: row {t}, user {value.user[t]}, "
            f"item {value.item[t]}, value {value.value[t]:g}); {model} reads a stored positive value as "
            f"an interaction (a count or a strength) and 0 as none, so a negative one has no meaning. "
            f"Drop those rows or shift the values to counts >= 0.")
    zero = value.value == 0
    if zero.any():
        warnings.warn(
            f"{name}: {int(zero.sum()):,} of {len(value):,} stored values are 0 and were dropped. "
            f"{model} reads a stored positive value as an interaction and 0 as none "
            f"(Ratings.from_dense stores every cell that is not NaN, zeros included; pass "
            f"np.where(counts > 0, counts, np.nan), or use interactions.subset(interactions.value > 0), "
            f"to store only the interactions).", UserWarning, stacklevel=3)
        value = value.subset(~zero)
    if len(value) == 0:
        raise ValueError(f"{name} holds no interaction (no stored positive value); {model} needs at "
                         f"least one (user, item) pair with a positive count or strength")
    return value


def factor_size(what: str, interactions, k: int, extra_rows: int, dtype, force) -> None:
    """Refuse, before allocating, factors (and ``extra_rows`` k-vectors more) that would not fit.

    The check is on the ``(n_users + n_items + extra_rows) x k`` entries of ``dtype`` a fit holds
    at once: ``k=10**6`` must be an error naming ``k``, not minutes of swapping.
    """
    rows = interactions.n_users + interactions.n_items + extra_rows
    _checks.array_size(f"{what} with k={k:,}", (rows, k), np.dtype(dtype), force=force,
                       alternative="k is the number of factors: a few dozen to a few hundred is usual.")
