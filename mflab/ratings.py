"""``Ratings``: the one container of observed ratings.

A rating matrix in recommender systems is mostly empty, so mflab never stores it densely. A
``Ratings`` holds three aligned arrays, the coordinate ("COO") form of the observed cells::

    user[t], item[t], value[t]   for t = 0 .. len(ratings) - 1

with 0-based ``user`` in ``[0, n_users)`` and ``item`` in ``[0, n_items)``. The same code then
fits a 5 x 4 toy matrix and 100,000 MovieLens ratings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from . import _checks
from ._freeze import read_only
from ._grouped import Grouped
from ._ratings_input import _as_index, _as_values, _lookup

_SPARSE_WAYS = ("Work with the aligned arrays (user, item, value) or the grouped views "
                "(by_user, by_item), which hold only the observed ratings.")


@dataclass(frozen=True, eq=False)
class Ratings:
    """Observed ratings as aligned arrays ``user``, ``item``, ``value``.

    Parameters
    ----------
    user, item : int arrays of shape (n,)
        0-based user and item index of each rating.
    value : float array of shape (n,)
        The ratings; finite numbers.
    n_users, n_items : int
        Size of the index (users or items may have no rating at all).
    scale : (low, high), optional
        The rating scale, used when predictions are clipped. Defaults to the smallest and largest
        observed value.
    user_ids, item_ids : arrays, optional
        The raw id of each index (``user_ids[u]`` is the dataset's id of user ``u``), kept by
        :meth:`from_frame` so that results can be reported with the dataset's own ids.

    The constructor checks everything: ids in range, no NaN or infinite values, no (user, item)
    pair twice; the error names the first offending row.
    """

    user: np.ndarray
    item: np.ndarray
    value: np.ndarray
    n_users: int
    n_items: int
    scale: tuple | None = None
    user_ids: np.ndarray | None = field(default=None, repr=False)
    item_ids: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)  # frozen: we only normalise fields here
        for name in ("n_users", "n_items"):  # first: the index checks need them
            n = getattr(self, name)
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"{name} must be a positive integer; got {n!r}")
            set_(name, int(n))
        user = _as_index("user", self.user, self.n_users)
        item = _as_index("item", self.item, self.n_items)
        value = _as_values(self.value)
        if not (len(user) == len(item) == len(value)):
            raise ValueError(
                f"user, item and value must have the same length; got {len(user)}, {len(item)}, {len(value)}"
            )
        bad = np.flatnonzero(~np.isfinite(value))
        if bad.size:
            t = bad[0]
            raise ValueError(f"row {t}: value is {value[t]} (user {user[t]}, item {item[t]}); ratings must be finite numbers")
        key = user.astype(np.int64) * self.n_items + item
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(key[order][1:] == key[order][:-1])
        if dup.size:
            first, second = sorted(order[dup[0] : dup[0] + 2])
            raise ValueError(
                f"rows {first} and {second} both rate user {user[first]}, item {item[first]}; "
                f"each (user, item) pair may appear once"
            )
        if self.scale is None:
            scale = (float(value.min()), float(value.max())) if len(value) else None
        else:
            try:
                low, high = (float(s) for s in self.scale)
            except (TypeError, ValueError):
                raise TypeError(f"scale must be a pair (low, high) of numbers; got {self.scale!r}") from None
            if not (np.isfinite(low) and np.isfinite(high) and low <= high):
                raise ValueError(f"scale must be (low, high) with finite low <= high; got {self.scale!r}")
            scale = (low, high)
            outside = np.flatnonzero((value < low) | (value > high))
            if outside.size:
                t = outside[0]
                raise ValueError(f"row {t}: value {value[t]:g} (user {user[t]}, item {item[t]}) is outside "
                                 f"the declared scale {scale}; fix the value or the scale")
        for name, arr in (("user", user), ("item", item), ("value", value)):
            arr.flags.writeable = False
            set_(name, arr)
        set_("scale", scale)
        for name, n in (("user_ids", self.n_users), ("item_ids", self.n_items)):
            ids = getattr(self, name)
            if ids is not None:
                ids = read_only(ids)  # a private copy: editing the caller's array renames nobody
                if ids.shape != (n,):
                    raise ValueError(f"{name} must have one raw id per index ({n}); got shape {ids.shape}")
                set_(name, ids)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_dense(cls, R, *, scale=None) -> "Ratings":
        """Ratings from a dense matrix with NaN for "not rated" (lesson 1's 5 x 4 matrix).

        >>> Ratings.from_dense([[5, np.nan], [np.nan, 1]]).value
        array([5., 1.])
        """
        R = np.asarray(R, dtype=float)
        if R.ndim != 2:
            raise ValueError(f"R must be a 2-D users x items matrix; got an array with {R.ndim} dimension(s), shape {R.shape}")
        if np.isinf(R).any():
            u, i = np.argwhere(np.isinf(R))[0]
            raise ValueError(f"R[{u}, {i}] is {R[u, i]}; use NaN for unrated cells and finite numbers for ratings")
        user, item = np.nonzero(~np.isnan(R))
        return cls(user, item, R[user, item], n_users=R.shape[0], n_items=R.shape[1], scale=scale)

    @classmethod
    def from_frame(cls, df, *, user="user_id", item="item_id", rating="rating",
                   users=None, items=None, scale=None) -> "Ratings":
        """Ratings from a DataFrame with one row per rating, keeping raw id <-> index maps.

        ``users`` and ``items`` fix the index: ``users[u]`` is the raw id of user index ``u``.
        Pass the full id lists when several frames (a train and a test set) must share one index;
        by default the sorted unique ids of ``df`` are used.
        """
        for arg, col in (("user", user), ("item", item), ("rating", rating)):
            if col not in df.columns:
                raise ValueError(f"{arg}={col!r} is not a column of the DataFrame; its columns are {list(df.columns)}")
        if not hasattr(df, "columns"):
            raise TypeError(f"df must be a pandas DataFrame; got {type(df).__name__}")
        raw_u, raw_i = df[user].to_numpy(), df[item].to_numpy()
        try:
            users = np.unique(raw_u) if users is None else np.asarray(users)
            items = np.unique(raw_i) if items is None else np.asarray(items)
        except TypeError:
            raise TypeError(f"the {user!r} and {item!r} columns must each hold ids of one kind (all "
                            f"numbers or all strings); they mix types") from None
        for name, ids in (("users", users), ("items", items)):
            if ids.ndim != 1:
                raise ValueError(f"{name} must be a 1-D list of raw ids; got shape {ids.shape}")
            values, counts = np.unique(ids, return_counts=True)
            if (counts > 1).any():
                raise ValueError(f"{name} lists the id {values[counts > 1].tolist()[0]!r} more than once; each raw "
                                 f"id must name one index")
        u = _lookup("user", users, raw_u)
        i = _lookup("item", items, raw_i)
        return cls(u, i, df[rating].to_numpy(dtype=float), n_users=len(users), n_items=len(items),
                   scale=scale, user_ids=users, item_ids=items)

    def subset(self, rows) -> "Ratings":
        """The ratings at ``rows``, on the same index and scale.

        ``rows`` is a boolean mask of length ``len(self)`` or 0-based row indices in
        ``[0, len(self))`` (negative indices are refused: -1 is not read as "the last row").
        """
        if isinstance(rows, np.ndarray) and rows.dtype == bool or (
                isinstance(rows, (list, tuple)) and rows and all(isinstance(r, (bool, np.bool_)) for r in rows)):
            rows = np.asarray(rows)
            if rows.shape != (len(self),):
                raise ValueError(f"rows as a boolean mask must have one entry per rating ({len(self)}); "
                                 f"got shape {rows.shape}")
        else:
            rows = _checks.indices("rows", rows, len(self), what="row")
        return Ratings(self.user[rows], self.item[rows], self.value[rows], self.n_users, self.n_items,
                       scale=self.scale, user_ids=self.user_ids, item_ids=self.item_ids)

    # ----------------------------------------------------------------- views
    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return (f"Ratings({len(self)} ratings, {self.n_users} users x {self.n_items} items, "
                f"density {self.density:.1%}, scale {self.scale})")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_users, self.n_items)

    @property
    def density(self) -> float:
        """Fraction of the users x items cells that are observed."""
        return len(self) / (self.n_users * self.n_items)

    def mean(self) -> float:
        """The global mean rating, mu; an empty Ratings has none (a clear error, not NaN)."""
        return _checks.nonempty_mean("Ratings.mean(): this Ratings", self.value)

    def to_dense(self, fill=np.nan, *, force: bool = False) -> np.ndarray:
        """The users x items matrix, ``fill`` where unrated. Only for small data.

        Refused above ``mflab._checks.DENSE_CELL_LIMIT`` cells unless ``force=True``.
        """
        _checks.dense_size("Ratings.to_dense()", *self.shape, force=force, alternative=_SPARSE_WAYS)
        R = np.full(self.shape, fill, dtype=float)
        R[self.user, self.item] = self.value
        return R

    def mask(self, *, force: bool = False) -> np.ndarray:
        """Dense boolean users x items matrix, True where rated. Only for small data."""
        _checks.dense_size("Ratings.mask()", *self.shape, force=force, alternative=_SPARSE_WAYS)
        M = np.zeros(self.shape, dtype=bool)
        M[self.user, self.item] = True
        return M

    def user_counts(self) -> np.ndarray:
        """Number of ratings of each user, shape (n_users,)."""
        return np.bincount(self.user, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Number of ratings of each item, shape (n_items,)."""
        return np.bincount(self.item, minlength=self.n_items)

    @cached_property
    def by_user(self) -> "Grouped":
        """Ratings grouped by user (CSR): ``by_user[u]`` is ``(items, values)`` of user ``u``."""
        return Grouped(self.user, self.item, self.value, self.n_users)

    @cached_property
    def by_item(self) -> "Grouped":
        """Ratings grouped by item (CSC): ``by_item[i]`` is ``(users, values)`` of item ``i``."""
        return Grouped(self.item, self.user, self.value, self.n_items)

    def user_items(self, u: int):
        """``(items, values)`` rated by user ``u``, without building a dense matrix."""
        return self.by_user[u]

    def item_users(self, i: int):
        """``(users, values)`` who rated item ``i``, without building a dense matrix."""
        return self.by_item[i]


# ----------------------------------------------------------------- argument checks
def require_ratings(name: str, value) -> "Ratings":
    """Check that ``value`` is a :class:`mflab.Ratings` and return it."""
    if not isinstance(value, Ratings):
        hint = ""
        if isinstance(value, np.ndarray):
            hint = " (for a dense matrix with NaN for unrated cells, use mflab.Ratings.from_dense(R))"
        elif type(value).__name__ == "DataFrame":
            hint = " (for a DataFrame, use mflab.Ratings.from_frame(df, user=..., item=..., rating=...))"
        raise TypeError(f"{name} must be an mflab.Ratings; got {type(value).__name__}{hint}")
    if len(value) == 0:
        raise ValueError(f"{name} holds no ratings; a model needs at least one observed rating")
    return value


def require_same_index(name: str, other, train) -> None:
    """A test set must index the same users and items as the training set it is compared with."""
    if other is None:
        return
    require_ratings(name, other)
    if other.n_users > train.n_users or other.n_items > train.n_items:
        raise ValueError(
            f"{name} has shape {other.n_users} users x {other.n_items} items but the training set "
            f"has {train.n_users} x {train.n_items}; build both from one index (a split of one "
            f"Ratings, or Ratings.from_frame with the same users= and items=)"
        )
