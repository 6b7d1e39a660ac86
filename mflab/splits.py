"""Train/test splits of a :class:`mflab.Ratings`; both halves keep the full user and item index.

* ``random_split``: a random fraction of all ratings is held out.
* ``per_user_split``: each user's ratings are shuffled and ``round(test_frac * n_u)`` held out,
  so every user is in both halves (the MovieLens lesson's split).
* ``leave_one_out``: one rating per user held out (the latest, given timestamps, else a random one).
* ``temporal_split``: ratings before a time cut-off train, the rest test (no peeking at the future).
"""
from __future__ import annotations

import numpy as np

from . import _checks


def _fraction(test_frac):
    test_frac = _checks.positive("test_frac", test_frac)
    if test_frac >= 1:
        raise ValueError(f"test_frac must be in (0, 1); got {test_frac}")
    return test_frac


def _halves(ratings, test_rows):
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[test_rows] = True
    return ratings.subset(~is_test), ratings.subset(is_test)


def random_split(ratings, test_frac: float = 0.2, *, seed=None):
    """``(train, test)`` with ``int(test_frac * n)`` random ratings in test."""
    _checks.ratings("ratings", ratings)
    test_frac = _fraction(test_frac)
    rng = _checks.generator(seed)
    perm = rng.permutation(len(ratings))
    return _halves(ratings, perm[: int(test_frac * len(ratings))])


def per_user_split(ratings, test_frac: float = 0.2, *, seed=None):
    """``(train, test)`` holding out ``round(test_frac * n_u)`` shuffled ratings of each user."""
    _checks.ratings("ratings", ratings)
    test_frac = _fraction(test_frac)
    rng = _checks.generator(seed)
    test_rows = []
    grouped = ratings.by_user
    for u in range(ratings.n_users):
        rows = grouped.rows(u)
        n_test = int(round(test_frac * len(rows)))
        test_rows.append(rng.permutation(rows)[:n_test])
    return _halves(ratings, np.concatenate(test_rows).astype(np.int64))


def leave_one_out(ratings, *, timestamps=None, seed=None):
    """``(train, test)`` with one rating per user (who has at least two) in test.

    With ``timestamps`` (aligned with the ratings) the latest rating is held out, else a random one.
    """
    _checks.ratings("ratings", ratings)
    rng = _checks.generator(seed)
    if timestamps is not None:
        timestamps = np.asarray(timestamps)
        if timestamps.shape != (len(ratings),):
            raise ValueError(f"timestamps must have one entry per rating ({len(ratings)}); got shape {timestamps.shape}")
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
    _checks.ratings("ratings", ratings)
    test_frac = _fraction(test_frac)
    timestamps = np.asarray(timestamps)
    if timestamps.shape != (len(ratings),):
        raise ValueError(f"timestamps must have one entry per rating ({len(ratings)}); got shape {timestamps.shape}")
    order = np.argsort(timestamps, kind="stable")
    n_test = int(test_frac * len(ratings))
    return _halves(ratings, order[len(ratings) - n_test :])
