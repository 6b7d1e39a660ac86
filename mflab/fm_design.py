"""The feature table of a factorization machine, one side (users or items) at a time.

A rating (u, i) has the feature vector ``x = [x_user(u), x_item(i)]``: every feature describes
either the user or the movie, never the pair. So one side's features are stored once per user
(or movie), not once per rating: a sparse table with a row per user and a column per feature,
both as rows -> features (CSR, to build a user's vectors) and features -> rows (CSC, to visit
every user having a feature). The columns come in *groups*, in this order::

    user side:  "id"  (one column per user: 1 in its own)       item side:  "id"
                each attribute group given (age, gender, ...)               year, genre, ...
                "implicit": which movies the user rated, each               "implicit": which users
                1 / sqrt(n_u) (SVD++'s normalisation)                        rated it, 1 / sqrt(n_i)

This is Rendle's relation-block layout (2013): a user's features are shared by all of that
user's ratings, so they are held, and their terms computed, once per user.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import index

RESERVED = ("id", "implicit")


@dataclass(frozen=True, eq=False)
class Side:
    """One side's features. ``groups``: (name, first column, end column, column labels)."""

    name: str                # "user" or "item"
    groups: tuple
    indptr: np.ndarray       # CSR: features of row r are col[indptr[r]:indptr[r+1]], val[...]
    col: np.ndarray
    val: np.ndarray
    t_indptr: np.ndarray     # CSC: rows having feature j are t_row[t_indptr[j]:t_indptr[j+1]]
    t_row: np.ndarray
    t_val: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_features(self) -> int:
        return len(self.t_indptr) - 1

    def dense(self, row) -> np.ndarray:
        """Row ``row``'s features as a dense vector (n_features,): its side's half of a rating's
        ``x``, so that user u's ``p_u`` is ``dense(u) @ V`` with the side's f_j as the rows of ``V``."""
        row = index("row", row, self.n_rows, what=self.name)
        x = np.zeros(self.n_features)
        x[self.col[self.indptr[row]:self.indptr[row + 1]]] = self.val[self.indptr[row]:self.indptr[row + 1]]
        return x

    def group(self, name):
        """``(first, end, labels)`` of the group ``name``."""
        for group, first, end, labels in self.groups:
            if group == name:
                return first, end, labels
        raise KeyError(name)


def build_side(name, n_rows, features, implicit_rows=None, n_implicit=0):
    """A :class:`Side` with the id group, the attribute ``features`` (dict name -> table, checked
    here) and, if ``implicit_rows`` (a grouped Ratings view) is given, the implicit group."""
    rows, cols, vals = [np.arange(n_rows)], [np.arange(n_rows)], [np.ones(n_rows)]
    groups, first = [("id", 0, n_rows, None)], n_rows
    for group, (values, labels) in checked_features(f"{name}_features", features, n_rows).items():
        r, c = np.nonzero(values)
        rows.append(r)
        cols.append(first + c)
        vals.append(values[r, c])
        groups.append((group, first, first + values.shape[1], tuple(labels)))
        first += values.shape[1]
    if implicit_rows is not None:
        counts = implicit_rows.counts()
        r = np.repeat(np.arange(n_rows), counts)
        rows.append(r)
        cols.append(first + implicit_rows.other)
        vals.append(1.0 / np.sqrt(counts[r]))
        groups.append(("implicit", first, first + n_implicit, None))
        first += n_implicit
    row, col, val = (np.concatenate(a) for a in (rows, cols, vals))
    order = np.lexsort((col, row))
    indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=n_rows))]
    t_order = np.lexsort((row, col))
    t_indptr = np.r_[0, np.cumsum(np.bincount(col, minlength=first))]
    as_int = lambda a: np.ascontiguousarray(a, dtype=np.int64)
    return Side(name, tuple(groups), as_int(indptr), as_int(col[order]), np.ascontiguousarray(val[order]),
                as_int(t_indptr), as_int(row[t_order]), np.ascontiguousarray(val[t_order]))


def checked_features(arg, features, n_rows) -> dict:
    """``{name: (values (n_rows, n_cols) float array, column labels)}`` from a dict of tables.

    A table is a 1-D array (one column) or a 2-D array or DataFrame with one row per index; its
    column labels are the DataFrame's, else "0", "1", ...
    """
    if features is None:
        return {}
    if not isinstance(features, dict):
        raise TypeError(f"{arg} must be a dict of feature groups (name -> array with one row per "
                        f"{arg.split('_')[0]} index); got {type(features).__name__}")
    out = {}
    for group, table in features.items():
        where = f"{arg}[{group!r}]"
        if not isinstance(group, str) or group in RESERVED:
            raise ValueError(f"{arg} has the group name {group!r}; names must be strings other than "
                             f"{' and '.join(map(repr, RESERVED))} (the model's own groups)")
        labels = [str(c) for c in table.columns] if hasattr(table, "columns") else None
        try:
            values = np.array(table, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{where} must be an array of numbers (0/1 flags or real values); got "
                            f"{type(table).__name__}") from None
        values = values[:, None] if values.ndim == 1 else values
        if values.ndim != 2 or len(values) != n_rows or values.shape[1] < 1:
            raise ValueError(f"{where} must have one row per {arg.split('_')[0]} index of train "
                             f"({n_rows}) and at least one column; got shape {np.shape(table)}")
        if not np.isfinite(values).all():
            r, c = np.argwhere(~np.isfinite(values))[0]
            raise ValueError(f"{where} row {r}, column {c} is {values[r, c]}; features must be finite")
        out[group] = (values, labels or [str(c) for c in range(values.shape[1])])
    return out


def row_features(side_name, layout, features):
    """The CSR rows ``(indptr, col, val)`` of new rows described by attribute groups only (no id,
    no implicit). ``layout``: the side's attribute groups as (name, first, end) in the compact
    numbering of the attributes alone; ``features`` maps some of those names to one row (1-D) or
    ``n`` rows (2-D) each. A group left out counts as all zeros."""
    if not isinstance(features, dict) or not features:
        raise TypeError(f"features must be a non-empty dict of {side_name} attribute groups "
                        f"(name -> values); got {features!r}")
    known = {name: (first, end) for name, first, end in layout}
    rows, cols, vals, count = [], [], [], None
    for group, values in features.items():
        if group not in known:
            raise ValueError(f"features has the group {group!r}, but the model has no {side_name} "
                             f"attribute group of that name; it has: {', '.join(known) or 'none'}")
        first, end = known[group]
        try:
            table = np.atleast_2d(np.array(values, dtype=float))
        except (TypeError, ValueError):
            raise TypeError(f"features[{group!r}] must be numbers: one row (1-D) or one row per new "
                            f"{side_name} (2-D); got {type(values).__name__}") from None
        if table.ndim != 2 or table.shape[1] != end - first:
            raise ValueError(f"features[{group!r}] must have the {end - first} columns of the model's "
                             f"group {group!r}; got shape {np.shape(values)}")
        if not np.isfinite(table).all():
            raise ValueError(f"features[{group!r}] holds NaN or infinite values")
        if count is not None and len(table) != count:
            raise ValueError(f"features[{group!r}] has {len(table)} rows, another group {count}; give "
                             f"every group the same rows (one per new {side_name})")
        count = len(table)
        r, c = np.nonzero(table)
        rows.append(r)
        cols.append(first + c)
        vals.append(table[r, c])
    row, col, val = (np.concatenate(a) for a in (rows, cols, vals))
    order = np.lexsort((col, row))
    indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=count))]
    return indptr.astype(np.int64), col[order].astype(np.int64), val[order]


def attribute_columns(side):
    """The columns of ``side``'s attribute groups (not the id, not the implicit block), in order."""
    return np.concatenate([np.arange(first, end) for name, first, end, _ in side.groups
                           if name not in RESERVED] + [np.zeros(0, np.int64)]).astype(np.int64)


def attribute_layout(side):
    """The attribute groups of ``side`` as (name, first, end) numbered among the attributes only."""
    layout, first = [], 0
    for name, start, end, _ in side.groups:
        if name not in RESERVED:
            layout.append((name, first, first + end - start))
            first += end - start
    return tuple(layout)


def vectors(side, theta, indptr=None, col=None, val=None):
    """``[B_r, a_r]`` of every row (numpy; :func:`mflab.fm_gibbs.side_vectors` is the loop)::

        a_r = sum_j x_j f_j,   B_r = sum_j x_j w_j + 1/2 (|a_r|^2 - sum_j x_j^2 |f_j|^2)

    for ``side``'s rows (``theta[j] = [w_j, f_j]``), or for the CSR rows ``indptr, col, val`` if
    given (new users).
    """
    if indptr is None:
        indptr, col, val = side.indptr, side.col, side.val
    n_rows = len(indptr) - 1
    row = np.repeat(np.arange(n_rows), np.diff(indptr))
    xw = val * theta[col, 0]
    xv = val[:, None] * theta[col, 1:]
    a = np.zeros((n_rows, theta.shape[1] - 1))
    np.add.at(a, row, xv)
    linear = np.bincount(row, weights=xw, minlength=n_rows)
    squares = np.bincount(row, weights=np.sum(xv ** 2, axis=1), minlength=n_rows)
    return np.column_stack([linear + 0.5 * (np.sum(a ** 2, axis=1) - squares), a])


def has_data(side, counts):
    """Which features appear in a row that has ratings (``counts``: ratings per row). The others
    have no data: they stay at zero (as :mod:`mflab.sgd` keeps unrated users at zero)."""
    feature = np.repeat(np.arange(side.n_features), np.diff(side.t_indptr))
    rated = np.bincount(feature, weights=counts[side.t_row] > 0, minlength=side.n_features)
    return rated > 0


def initial_theta(sides, train, k, init_scale, rng, P0=None, Q0=None):
    """Starting ``[w_j, f_j]`` rows per side: ``w = 0``, ``f ~ normal(0, init_scale)`` (user side
    drawn first), or the given ``P0`` / ``Q0`` for the id groups; zero for features without data."""
    thetas, present = [], []
    for side, counts, start in zip(sides, (train.user_counts(), train.item_counts()), (P0, Q0)):
        mask = has_data(side, counts)
        theta = np.zeros((side.n_features, k + 1))
        theta[:, 1:] = rng.normal(0.0, init_scale, (side.n_features, k))
        if start is not None:
            theta[:side.n_rows, 1:] = start
        theta[~mask] = 0.0
        thetas.append(theta)
        present.append(mask)
    return thetas, present
