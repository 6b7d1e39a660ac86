"""``Grouped``: a Ratings sorted by user (or item) with offsets, the CSR layout every fit reads.

Re-exported by :mod:`mflab.ratings`; imports nothing of mflab's.
"""
from __future__ import annotations

import numpy as np


class Grouped:
    """The ratings sorted by one key (user or item), with ``indptr`` offsets: the CSR layout.

    For ``g = ratings.by_user``: the ratings of user ``u`` are positions ``indptr[u]`` to
    ``indptr[u + 1]`` of the sorted arrays ``other`` (their items) and ``value``; ``order`` maps
    each sorted position back to its row in the original Ratings. ``g[u]`` is ``(items, values)``;
    ``g.rows(u)`` the original rows of user ``u``'s ratings (what a split holds out);
    ``g.counts()`` the number of ratings per user. ``by_item`` is the same with users and items
    swapped. ALS reads these arrays directly, a whole batch of users at once.
    """

    def __init__(self, key, other, value, n):
        order = np.argsort(key, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n))])
        for name, array in (("order", order), ("other", other[order]), ("value", value[order]),
                            ("indptr", indptr)):
            array.flags.writeable = False  # a cache every later fit reads: nobody may edit it
            object.__setattr__(self, name, array)

    def __setattr__(self, name, value):
        raise AttributeError(f"a Grouped view is read-only (every fit reads it); cannot set {name!r}")

    def __len__(self):
        return len(self.indptr) - 1

    def __getitem__(self, row):
        if not 0 <= row < len(self):
            raise IndexError(f"index {row} is outside [0, {len(self)})")
        lo, hi = self.indptr[row], self.indptr[row + 1]
        return self.other[lo:hi], self.value[lo:hi]

    def rows(self, row: int) -> np.ndarray:
        """The original Ratings rows of ``row``'s ratings (in sorted order)."""
        if not 0 <= row < len(self):
            raise IndexError(f"index {row} is outside [0, {len(self)})")
        return self.order[self.indptr[row]:self.indptr[row + 1]]

    def counts(self) -> np.ndarray:
        """Number of ratings of each row, shape (len(self),)."""
        return np.diff(self.indptr)
