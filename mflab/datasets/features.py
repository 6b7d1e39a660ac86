"""MovieLens 100K's user and movie tables as feature groups, for factorization machines.

:func:`movielens_features` turns ``u.user`` and ``u.item`` into one-hot (0/1) tables, one per
attribute, each with one row per user (or movie) index of a :class:`~mflab.Ratings`::

    users:  age      under 20, 20-29, 30-39, 40-49, 50-59, 60 and over     (6 columns)
            gender   F, M                                                   (2)
            occupation  the 21 occupations of u.occupation                  (21)
            zip      the zip code's first character: 0 .. 9, or "letter" (18 Canadian codes)  (11)
    movies: year     release year: before 1940, then each decade to the 1980s, then each year
                     1990 .. 1998 (most movies are from the 1990s)          (15)
            genre    the 19 genre flags of u.item (a movie may have several)  (19)

A movie without a release date (one, "unknown") has an all-zero ``year`` row. Each table is a
``pandas.DataFrame`` whose columns name the categories, so ``mflab.fm.fit`` can label what it learns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..ratings import require_ratings
from .movielens import N_ITEMS, N_USERS, movielens_100k

__all__ = ["movielens_features", "movielens_user_row", "AGE_BINS", "YEAR_BINS"]

AGE_BINS = ((0, "under 20"), (20, "20-29"), (30, "30-39"), (40, "40-49"), (50, "50-59"), (60, "60 and over"))
YEAR_BINS = ((0, "before 1940"), (1940, "1940s"), (1950, "1950s"), (1960, "1960s"), (1970, "1970s"),
             (1980, "1980s")) + tuple((y, str(y)) for y in range(1990, 1999))


def movielens_features(ratings=None, *, path=None) -> tuple[dict, dict]:
    """``(user_features, item_features)``: dicts of one-hot DataFrames aligned with ``ratings``.

    Row ``u`` of every user table describes the user at index ``u`` of ``ratings`` (found through
    ``ratings.user_ids``, the raw MovieLens ids); row ``i`` of every movie table, movie ``i``.
    ``ratings=None`` (or a Ratings without raw ids on the full 943 x 1682 index) uses the
    canonical index ``u = user_id - 1``, ``i = item_id - 1`` of ``movielens_100k_split``.
    Keys: ``"age"``, ``"gender"``, ``"occupation"``, ``"zip"``; ``"year"``, ``"genre"``
    (the module docstring lists the columns). ``path`` is passed to :func:`movielens_100k`.
    """
    user_ids, item_ids = _raw_ids(ratings)
    data = movielens_100k(path)
    users = data.users.set_index("user_id")
    movies = data.movies.set_index("item_id")
    unknown_users = np.setdiff1d(user_ids, users.index)
    unknown_items = np.setdiff1d(item_ids, movies.index)
    if unknown_users.size or unknown_items.size:
        which = (f"user id {unknown_users[0]}" if unknown_users.size else f"item id {unknown_items[0]}")
        raise ValueError(f"ratings has {which}, which is not in MovieLens 100K's tables: pass a Ratings "
                         f"made from MovieLens 100K (movielens_100k_split or movielens_100k().to_ratings())")
    users, movies = users.loc[user_ids], movies.loc[item_ids]

    age = _binned(users["age"].to_numpy(), AGE_BINS)
    zip_first = users["zip_code"].str[0]
    zip_first = zip_first.where(zip_first.str.isdigit(), "letter")
    year = _binned(movies["release_date"].dt.year.to_numpy(), YEAR_BINS)
    user_features = {
        "age": _one_hot(age, [label for _, label in AGE_BINS]),
        "gender": _one_hot(users["gender"].to_numpy(), ["F", "M"]),
        "occupation": _one_hot(users["occupation"].to_numpy(),
                               sorted(data.users["occupation"].unique())),
        "zip": _one_hot(zip_first.to_numpy(), [str(d) for d in range(10)] + ["letter"]),
    }
    item_features = {
        "year": _one_hot(year, [label for _, label in YEAR_BINS]),
        "genre": pd.DataFrame(movies[data.genre_names].to_numpy(dtype=float), columns=data.genre_names),
    }
    return user_features, item_features


def movielens_user_row(*, age=None, gender=None, occupation=None, zip_code=None, path=None) -> dict:
    """One new user's attribute rows, coded as :func:`movielens_features` codes them: only the
    groups given, e.g. ``movielens_user_row(age=25, gender="F", occupation="student")`` ->
    ``{"age": (6,) one-hot, "gender": (2,), "occupation": (21,)}`` (for ``mflab.fm.user_vector``)."""
    users = movielens_100k(path).users
    given = {"age": age, "gender": gender, "occupation": occupation, "zip": zip_code}
    tables = {}
    for name, value in given.items():
        if value is None:
            continue
        if name == "age":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 130:
                raise ValueError(f"age must be a number of years in [0, 130); got {value!r}")
            tables[name] = _one_hot(_binned([value], AGE_BINS), [label for _, label in AGE_BINS])
            continue
        if name == "zip":
            value = str(value)[:1]
            value = value if value.isdigit() else "letter"
            categories = [str(d) for d in range(10)] + ["letter"]
        else:
            categories = ["F", "M"] if name == "gender" else sorted(users["occupation"].unique())
            if value not in categories:
                raise ValueError(f"{name} must be one of {', '.join(categories)}; got {value!r}")
        tables[name] = _one_hot([value], categories)
    if not tables:
        raise ValueError("give at least one of age, gender, occupation, zip_code")
    return {name: table.to_numpy()[0] for name, table in tables.items()}


def _raw_ids(ratings):
    """The raw MovieLens user and item id of every index of ``ratings``."""
    if ratings is None:
        return np.arange(1, N_USERS + 1), np.arange(1, N_ITEMS + 1)
    require_ratings("ratings", ratings)
    if ratings.user_ids is not None and ratings.item_ids is not None:
        return np.asarray(ratings.user_ids), np.asarray(ratings.item_ids)
    if ratings.shape == (N_USERS, N_ITEMS):
        return np.arange(1, N_USERS + 1), np.arange(1, N_ITEMS + 1)
    raise ValueError(f"ratings has no raw ids (user_ids/item_ids) and its shape {ratings.shape} is not "
                     f"MovieLens 100K's {(N_USERS, N_ITEMS)}, so its rows cannot be matched to the "
                     f"user and movie tables; pass a Ratings from movielens_100k_split or "
                     f"movielens_100k().to_ratings()")


def _binned(values, bins):
    """The label of the last bin whose lower edge is <= each value (None where the value is NaN)."""
    values = np.asarray(values, dtype=float)
    edges = np.array([edge for edge, _ in bins], dtype=float)
    labels = np.array([label for _, label in bins] + [None], dtype=object)
    where = np.searchsorted(edges, values, side="right") - 1
    where[np.isnan(values)] = len(bins)
    return labels[where]


def _one_hot(values, categories):
    """A DataFrame with one 0/1 float column per category (a value in none of them: all zeros)."""
    values = np.asarray(values, dtype=object)
    table = np.stack([values == c for c in categories], axis=1).astype(float)
    return pd.DataFrame(table, columns=[str(c) for c in categories])
