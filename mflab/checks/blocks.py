"""Check of lesson 12's exercise: what blocked ALS ships, ``checks.items_shipped(my_items_shipped)``.

Spark puts user u in block ``u % n_user_blocks`` and item i in block ``i % n_item_blocks``. Before
the users of block b are solved, item block c sends them the factors of its items that a user of
block b rated, each once (however many of b's users rated it). The student's function returns
that count for every pair of blocks.
"""
from __future__ import annotations

import numpy as np

from ._compare import compare


def _reference(user, item, n_user_blocks, n_item_blocks):
    """``shipped[b, c]``: distinct items of block c rated by some user of block b (a set per cell)."""
    shipped = np.zeros((n_user_blocks, n_item_blocks), dtype=np.int64)
    for b, i in {(int(u) % n_user_blocks, int(i)) for u, i in zip(user, item)}:
        shipped[b, i % n_item_blocks] += 1
    return shipped


def _table(rows, cols, n_rows, n_cols):
    out = np.zeros((n_rows, n_cols), dtype=np.int64)
    np.add.at(out, (rows, cols), 1)  # raises IndexError for a block number >= the table's size
    return out


def _per_rating(user, item, B, C):
    return _table(user % B, item % C, B, C)


def _once_in_all(user, item, B, C):
    items = np.unique(item)
    return np.tile(np.bincount(items % C, minlength=C), (B, 1))


def _user_factors(user, item, B, C):
    pairs = {(int(u), int(i) % C) for u, i in zip(user, item)}
    return _table([u % B for u, _ in pairs], [c for _, c in pairs], B, C)


def _transposed(user, item, B, C):
    return _reference(user, item, B, C).T


def _ranges(user, item, B, C):
    pairs = {(int(u) // B, int(i)) for u, i in zip(user, item)}
    return _table([b for b, _ in pairs], [i // C for _, i in pairs], B, C)


SLIPS = (
    (_per_rating,
     "you counted ratings: Spark sends a movie's factor to a user block once, however many of that "
     "block's users rated it; count the distinct items per (user block, item block)"),
    (_once_in_all,
     "you counted each item once in all: its factor goes to every user block that has a rating of "
     "it, once per such block; count distinct (user block, item) pairs"),
    (_user_factors,
     "you counted user factors (what the item half-sweep ships): here the users are being solved, "
     "so the item blocks send item factors; count the distinct items, not the distinct users"),
    (_transposed,
     "the table is transposed: rows are user blocks b (n_user_blocks of them), columns item blocks c"),
    (_ranges,
     "the blocks are ranges of ids (id // n_blocks): Spark's partitioner takes the id modulo the "
     "number of blocks, user u in block u % n_user_blocks and item i in block i % n_item_blocks"),
)


def _cases():
    """Small rating tables (no repeated (user, item) pair) with their block counts, seeded."""
    rng = np.random.default_rng(12)
    cases = []
    for n_users, n_items, n_ratings, B, C in ((4, 6, 12, 2, 3), (9, 7, 25, 3, 2), (5, 5, 10, 1, 1),
                                              (12, 10, 45, 4, 4)):
        cells = rng.choice(n_users * n_items, n_ratings, replace=False)
        cases.append((cells // n_items, cells % n_items, B, C))
    return cases


CASES = _cases()


def items_shipped(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(user, item, n_user_blocks, n_item_blocks) -> shipped``.

    ``user`` and ``item`` are 1-D integer arrays of the same length, one rating per position (each
    (user, item) pair at most once). ``shipped`` is an (n_user_blocks x n_item_blocks) array:
    ``shipped[b, c]`` = the number of distinct items i with ``i % n_item_blocks == c`` rated by a
    user u with ``u % n_user_blocks == b``, the item factors that block c sends to block b when
    Spark solves the users (``mflab.spark.block_traffic(...)["items_shipped"]``). Named slips:
    counting ratings, each item once in all, user factors instead of item factors, the table
    transposed, blocks as ranges of ids.
    """
    return compare("items_shipped", CASES, yours, _reference,
                   params=("user", "item", "n_user_blocks", "n_item_blocks"), results=("shipped",),
                   label=lambda u, i, B, C: f"{len(u)} ratings, {B} x {C} blocks", slips=SLIPS,
                   timeout=timeout)
