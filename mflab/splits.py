"""Train/test splits of a :class:`mflab.Ratings`; both halves keep the full user and item index.

* ``random_split``: a random fraction of all ratings is held out.
* ``per_user_split``: each user's ratings are shuffled and ``round(test_frac * n_u)`` held out,
  so every user is in both halves (the MovieLens lesson's split).
* ``leave_one_out``: one rating per user held out (the latest, given timestamps, else a random one).
* ``temporal_split``: ratings before a time cut-off train, the rest test (no peeking at the future).
* ``leave_last_out``: each user's most recent rating held out (implicit-feedback evaluation).

A split that would leave either half empty is refused: a model cannot be fitted on, or scored
against, nothing.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from .ratings import require_ratings


def _fraction(test_frac):
    test_frac = _checks.positive("test_frac", test_frac)
    if test_frac >= 1:
        raise ValueError(f"test_frac must be in (0, 1); got {test_frac}")
    return test_frac


def _halves(ratings, test_rows):
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[test_rows] = True
    if is_test.all() or not is_test.any():
        half = "training" if is_test.all() else "test"
        raise ValueError(f"this split of {len(ratings)} ratings leaves the {half} half empty; use "
                         f"more ratings or another test_frac")
    return ratings.subset(~is_test), ratings.subset(is_test)


def _timestamps(timestamps, n):
    """``timestamps`` as numbers or datetimes that order correctly, one per rating.

    Text is never compared as text ('9' would come after '10'): strings that all read as numbers are
    compared as those numbers, other strings are refused with the conversion to use.
    """
    if hasattr(timestamps, "columns"):
        raise TypeError("timestamps must be one time per rating; got a DataFrame (pass its timestamp column)")
    timestamps = np.asarray(timestamps)
    if timestamps.shape != (n,):
        raise ValueError(f"timestamps must have one entry per rating ({n}); got shape {timestamps.shape}")
    if timestamps.dtype.kind in "USO":
        timestamps = _from_objects(timestamps)
    if timestamps.dtype.kind == "b" or not (np.issubdtype(timestamps.dtype, np.number)
                                             or np.issubdtype(timestamps.dtype, np.datetime64)):
        raise TypeError(f"timestamps must be numbers (e.g. Unix seconds) or datetimes; got {timestamps.dtype}")
    if np.issubdtype(timestamps.dtype, np.number) and not np.isfinite(timestamps).all():
        t = int(np.flatnonzero(~np.isfinite(timestamps))[0])
        raise ValueError(f"timestamps[{t}] is {timestamps[t]}; every rating needs a finite time")
    if np.issubdtype(timestamps.dtype, np.datetime64) and np.isnat(timestamps).any():
        raise ValueError(f"timestamps[{int(np.flatnonzero(np.isnat(timestamps))[0])}] is NaT; every rating needs a time")
    return timestamps


def _from_objects(timestamps):
    import datetime

    import pandas as pd

    values = timestamps.tolist()
    if all(isinstance(v, (str, bytes)) for v in values):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
        if np.isnan(numbers).any():
            t = int(np.flatnonzero(np.isnan(numbers))[0])
            raise TypeError(f"timestamps are strings, and timestamps[{t}] = {values[t]!r} is not a number; "
                            f"strings are not compared as text ('9' would come after '10'): convert them "
                            f"first, e.g. pd.to_datetime(column) for dates or column.astype(float)")
        return numbers
    missing = [t for t, v in enumerate(values) if v is None]
    if missing:
        raise ValueError(f"timestamps[{missing[0]}] is None; every rating needs a time")
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=float)
    if all(isinstance(v, (datetime.datetime, np.datetime64)) for v in values):
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True).to_numpy(dtype="datetime64[ns]")
    odd = next(v for v in values if not isinstance(v, (int, float, datetime.datetime, np.datetime64)))
    raise TypeError(f"timestamps must be numbers or datetimes, not a mix; got {odd!r} "
                    f"({type(odd).__name__}) among them")


def random_split(ratings, test_frac: float = 0.2, *, seed=None):
    """``(train, test)`` with ``int(test_frac * n)`` random ratings in test."""
    require_ratings("ratings", ratings)
    test_frac = _fraction(test_frac)
    rng = _checks.generator(seed)
    perm = rng.permutation(len(ratings))
    return _halves(ratings, perm[: int(test_frac * len(ratings))])


def per_user_split(ratings, test_frac: float = 0.2, *, seed=None):
    """``(train, test)`` holding out ``round(test_frac * n_u)`` shuffled ratings of each user.

    Every user keeps at least one training rating (a user with one rating stays whole in train).
    """
    require_ratings("ratings", ratings)
    test_frac = _fraction(test_frac)
    rng = _checks.generator(seed)
    test_rows = []
    grouped = ratings.by_user
    for u in range(ratings.n_users):
        rows = grouped.rows(u)
        n_test = min(int(round(test_frac * len(rows))), len(rows) - 1)
        test_rows.append(rng.permutation(rows)[:n_test])
    return _halves(ratings, np.concatenate(test_rows).astype(np.int64))


def leave_one_out(ratings, *, timestamps=None, seed=None):
    """``(train, test)`` with one rating per user (who has at least two) in test.

    With ``timestamps`` (aligned with the ratings) the latest rating is held out, else a random one.
    """
    require_ratings("ratings", ratings)
    rng = _checks.generator(seed)
    if timestamps is not None:
        timestamps = _timestamps(timestamps, len(ratings))
    grouped = ratings.by_user
    test_rows = []
    for u in range(ratings.n_users):
        rows = grouped.rows(u)
        if len(rows) < 2:
            continue
        test_rows.append(rows[np.argmax(timestamps[rows])] if timestamps is not None else rng.choice(rows))
    return _halves(ratings, np.array(test_rows, dtype=np.int64))


def temporal_split(ratings, timestamps, test_frac: float = 0.2):
    """``(train, test)``: the latest ``test_frac`` of ratings (by ``timestamps``) form the test set."""
    require_ratings("ratings", ratings)
    test_frac = _fraction(test_frac)
    timestamps = _timestamps(timestamps, len(ratings))
    order = np.argsort(timestamps, kind="stable")
    n_test = int(test_frac * len(ratings))
    return _halves(ratings, order[len(ratings) - n_test :])


def leave_last_out(ratings, timestamps):
    """``(train, test)`` with each user's most recent rating (by ``timestamps``) in test.

    Users with a single rating stay whole in train. Ties in time go to the later row.
    """
    require_ratings("ratings", ratings)
    timestamps = _timestamps(timestamps, len(ratings))
    grouped = ratings.by_user
    test_rows = []
    for u in range(ratings.n_users):
        rows = grouped.rows(u)
        if len(rows) >= 2:
            rows = np.sort(rows)
            test_rows.append(rows[len(rows) - 1 - np.argmax(timestamps[rows][::-1])])
    return _halves(ratings, np.array(test_rows, dtype=np.int64))
