"""Argument checks shared by every public function.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the argument, says what
was wrong and what is accepted, so a student sees the fix rather than a traceback deep in numpy.
"""
from __future__ import annotations

import numbers

import numpy as np


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; bools and floats with a fraction are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def nonnegative(name: str, value) -> float:
    """``value`` as a finite float >= 0 (a regularisation strength, say)."""
    value = _real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")
    return value


def positive(name: str, value) -> float:
    """``value`` as a finite float > 0 (a learning rate, a scale)."""
    value = _real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return value


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return value


def generator(seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int, ``None`` or a Generator (used as is, not copied).

    Passing a Generator continues one stream of draws across calls (data generation, then a fit);
    the tests use that to pin a reference stream, while lessons give each call its own int seed.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        try:
            return np.random.default_rng(seed)
        except ValueError as error:  # numpy's words name no argument
            raise ValueError(f"seed must be an int >= 0, None or a numpy.random.Generator; got "
                             f"{seed!r} ({error})") from None
    raise TypeError(f"seed must be an int, None or a numpy.random.Generator; got {seed!r}")


def initial_factors(train, k: int, init, init_scale: float, seed):
    """Starting ``(P, Q)`` of an iterative fit: ``init`` checked and copied, else drawn.

    Drawn as ``P`` then ``Q`` from ``normal(0, init_scale)`` with ``seed``. Rows of users and items
    without training ratings are set to zero either way: no step ever moves them, and a random
    vector would make their predictions (and their similar items) noise.
    """
    rng = generator(seed)
    if init is None:
        P = rng.normal(0, init_scale, (train.n_users, k))
        Q = rng.normal(0, init_scale, (train.n_items, k))
    else:
        try:
            P, Q = (np.array(a, dtype=float) for a in init)
        except (TypeError, ValueError):
            raise TypeError(f"init must be a pair (P0, Q0) of arrays of numbers; got {type(init).__name__}") from None
        if P.shape != (train.n_users, k) or Q.shape != (train.n_items, k):
            raise ValueError(f"init must be (P0, Q0) of shapes {(train.n_users, k)} and "
                             f"{(train.n_items, k)}; got {P.shape} and {Q.shape}")
        if not (np.isfinite(P).all() and np.isfinite(Q).all()):
            raise ValueError("init holds NaN or infinite values; starting factors must be finite")
    P[train.user_counts() == 0] = 0.0
    Q[train.item_counts() == 0] = 0.0
    return P, Q


def boolean(name: str, value) -> bool:
    """``value`` if it is a bool (numpy's bool too); anything else, 0 and 1 included, is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False; got {value!r}")


# The largest users x items array a function builds without being asked to (force=True): 50 million
# cells is 400 MB of float64, about what a laptop can hold twice over without swapping.
DENSE_CELL_LIMIT = 50_000_000


def dense_size(what: str, n_rows: int, n_cols: int, *, force: bool, alternative: str) -> None:
    """Refuse to build an ``n_rows x n_cols`` dense array above :data:`DENSE_CELL_LIMIT` cells.

    ``what`` names the call, ``alternative`` says what to use instead; ``force=True`` allows it.
    """
    cells = int(n_rows) * int(n_cols)
    if cells > DENSE_CELL_LIMIT and not boolean("force", force):
        raise ValueError(
            f"{what} would build a dense {n_rows:,} x {n_cols:,} array ({cells:,} cells, "
            f"{cells * 8 / 1e9:.1f} GB as float64), above the {DENSE_CELL_LIMIT:,}-cell limit. "
            f"{alternative} Pass force=True to build it anyway."
        )
