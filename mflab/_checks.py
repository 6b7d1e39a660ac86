"""Argument checks shared by every public function.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the argument, says what
was wrong and what is accepted, so a student sees the fix rather than a traceback deep in numpy.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np


def count(name: str, value, *, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]``: a count (``n``, ``k``, ``epochs``, ``max_lines``).

    Bools, strings and floats with a fraction (``2.5``) are refused; an integral float (``3.0``) is
    read as its int, since ``k=3.0`` can only mean 3.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer in [{minimum}, {maximum}]; got {value}")
    return int(value)


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    """The older name of :func:`count` (same checks)."""
    return count(name, value, minimum=minimum)


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


def real(name: str, value) -> float:
    """``value`` as a finite float; bools, strings, None and NaN or infinity are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return value


_real = real  # the older, private name


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
    """Refuse to build an ``n_rows x n_cols`` float64 array above :data:`DENSE_CELL_LIMIT` cells.

    ``what`` names the call, ``alternative`` says what to use instead; ``force=True`` allows it.
    The two-dimensional case of :func:`array_size`.
    """
    array_size(what, (n_rows, n_cols), 8, force=force, alternative=alternative)


# ----------------------------------------------------------------- arrays of numbers and indices
def real_array(name: str, value, *, ndim: int | None = 1) -> np.ndarray:
    """``value`` as a float array of finite numbers (ratings, predictions, scores).

    Refused: strings (numpy would read ``"3"`` as a number or fail deep inside), booleans, objects
    that are not numbers, NaN and infinity; ``ndim`` (when given) is the number of dimensions.
    """
    if hasattr(value, "columns"):
        raise TypeError(f"{name} must be an array of numbers; got a DataFrame (pass one column)")
    array = np.asarray(value)
    if array.dtype == object:
        if not all(isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in array.ravel()):
            bad = next(x for x in array.ravel() if not isinstance(x, numbers.Real) or isinstance(x, (bool, np.bool_)))
            raise TypeError(f"{name} must hold numbers only; got {bad!r}")
        array = array.astype(float)
    if array.dtype.kind not in "iuf":
        kind = {"b": "booleans", "U": "text", "S": "bytes"}.get(array.dtype.kind, f"{array.dtype} values")
        raise TypeError(f"{name} must be an array of numbers; got {kind}"
                        + (f" such as {array.ravel()[0].item()!r}" if array.size and kind != "booleans" else ""))
    array = array.astype(float)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array.ravel()))
    if bad.size:
        raise ValueError(f"{name} holds NaN or infinite values ({array.ravel()[bad[0]]} at position "
                         f"{int(bad[0])}); only finite numbers are accepted")
    return array


def _integers(name: str, array: np.ndarray, what: str) -> np.ndarray:
    """The integer array behind ``array``, or the error saying what was given instead."""
    if array.dtype == object and all(isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))
                                     for x in array.ravel()):
        return array.astype(np.int64)
    if array.dtype.kind in "iu":
        return array.astype(np.int64)
    if array.dtype.kind == "b":
        raise TypeError(f"{name} holds booleans (a boolean mask?), but {what} indices are expected: "
                        f"True is not read as {what} 1, nor a mask as the {what}s 0 and 1; for a mask "
                        f"pass np.flatnonzero(mask), the positions that are True")
    example = array.ravel()[0].item() if array.size and array.dtype.kind in "iufc" else (
        array.ravel()[0] if array.size else None)
    raise TypeError(f"{name} must hold integer {what} indices (0-based); got {array.dtype} values"
                    + (f" such as {example!r}" if example is not None else "")
                    + (" (a float such as 1.5 is never read as index 1)" if array.dtype.kind == "f" else ""))


def indices(name: str, value, n: int | None, *, what: str = "item") -> np.ndarray:
    """``value`` as a 1-D int64 array of 0-based indices into ``range(n)`` (items or users).

    ``n=None``: no upper bound is known (a ranked list scored on its own), only ``>= 0``.
    Accepted: a list, tuple, set, range, numpy or pandas array of integers, or a single integer.
    Refused, each with its own message: booleans and boolean masks (a mask would read as the indices
    0 and 1), floats (1.5 is not item 1), strings, negative indices (``-1`` is not "the last"),
    indices ``>= n``, nested lists, DataFrames and None.
    """
    accepted = f"{what} indices in [0, {n})" if n is not None else f"0-based {what} indices"
    if value is None:
        raise TypeError(f"{name} must be {accepted}; got None")
    if hasattr(value, "columns"):
        raise TypeError(f"{name} must be {accepted}; got a DataFrame (pass its "
                        f"{what} column, e.g. df[{what!r}])")
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=lambda x: (str(type(x)), x))
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be {accepted}; got the string {value!r}")
    array = np.asarray(value)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a flat list of {what} indices; got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    array = _integers(name, array, what)
    if array.min() < 0:
        raise ValueError(f"{name} holds {array.min()}: {what} indices are 0-based and >= 0 "
                         f"(-1 is not read as the last {what}); accepted: {accepted}")
    if n is not None and array.max() >= n:
        raise ValueError(f"{name} holds {array.max()}, outside the {n} {what}s: {what} indices must "
                         f"be in [0, {n})")
    return array


def index(name: str, value, n: int, *, what: str = "user") -> int:
    """``value`` as one 0-based index in ``range(n)``: an int, never a bool, float or string."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {what} index in [0, {n}); got {value!r}"
                        + (" (a float is never rounded to an index)" if isinstance(value, float) else ""))
    if not 0 <= value < n:
        raise ValueError(f"{name} = {value} is outside [0, {n}): {what} indices are 0-based"
                         + (" (-1 is not read as the last)" if value < 0 else ""))
    return int(value)


# ----------------------------------------------------------------- ratings, scales, models
def on_scale(name: str, value, scale) -> float:
    """``value`` as a finite number inside the rating ``scale`` ``(low, high)`` (a threshold).

    ``scale=None`` (unknown) only asks for a finite number. A threshold outside the scale would make
    every item relevant, or none, and a ranking metric over them meaningless.
    """
    value = real(name, value)
    if scale is not None:
        low, high = (float(s) for s in scale)
        if not low <= value <= high:
            raise ValueError(f"{name} = {value:g} is outside the rating scale [{low:g}, {high:g}]; "
                             f"give a value on the scale")
    return value


def values_on_scale(name: str, values, scale) -> np.ndarray:
    """``values`` as a 1-D float array of finite ratings, all inside ``scale`` (when it is known)."""
    values = real_array(name, values)
    if scale is not None:
        low, high = (float(s) for s in scale)
        outside = np.flatnonzero((values < low) | (values > high))
        if outside.size:
            raise ValueError(f"{name} holds the rating {values[outside[0]]:g}, outside the scale "
                             f"[{low:g}, {high:g}]; ratings must lie on the model's scale")
    return values


def fits_model(name: str, ratings, model) -> None:
    """``ratings`` (a test set, an ``exclude``) must index the same users x items as ``model``.

    Another shape means another index: items the model cannot rank would count as misses, and users
    would be matched with another data set's ratings. ``None`` passes (nothing to compare).
    """
    if ratings is None:
        return
    if not (hasattr(model, "n_users") and hasattr(model, "n_items")):
        raise TypeError(f"model must be a fitted model (an mflab Factorization); got {type(model).__name__}")
    shape, expected = tuple(getattr(ratings, "shape", ())), (model.n_users, model.n_items)
    if shape != expected:
        raise ValueError(f"{name} has shape {shape[0] if shape else '?'} users x "
                         f"{shape[1] if len(shape) > 1 else '?'} items but the model was fitted on "
                         f"{expected[0]} x {expected[1]}; split one Ratings (or use "
                         f"Ratings.from_frame with the same users= and items=) so both share an index")


def nonempty_mean(name: str, values) -> float:
    """The mean of ``values``, refused when there are none (NumPy would give NaN and a warning)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError(f"{name} holds no ratings: the mean of no values is undefined")
    return float(values.mean())


def path(name: str, value) -> Path:
    """``value`` as a ``Path`` (from a str or an ``os.PathLike``); a number or None is refused."""
    if isinstance(value, (str, os.PathLike)):
        return Path(value).expanduser()
    raise TypeError(f"{name} must be a path (a str or pathlib.Path); got {type(value).__name__} {value!r}")


# ----------------------------------------------------------------- environment variables
def env_number(var: str, default: float, *, unit: str = "") -> float:
    """The environment variable ``var`` as a finite number > 0, or ``default`` when unset or empty.

    The message names the variable: the user never passed it as an argument, and would otherwise
    search their code for a ``timeout`` they never wrote.
    """
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return float(default)
    accepted = (f"set it to a finite number{' of ' + unit if unit else ''} > 0 (e.g. {default:g}), "
                f"or unset it for the default {default:g}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"the environment variable {var}={raw!r} is not a number; {accepted}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"the environment variable {var}={raw!r} is not a finite number > 0; {accepted}")
    return value


# ----------------------------------------------------------------- sizes against memory
def array_size(what: str, shape, itemsize, *, force: bool, alternative: str = "") -> None:
    """Refuse to allocate an array of ``shape`` above :data:`DENSE_CELL_LIMIT` x 8 bytes (400 MB).

    ``itemsize`` is bytes per entry (an int, or a numpy dtype); ``what`` names the call and the
    argument that sets the size (``"implicit.als.fit: k"``), ``alternative`` says what to do
    instead; ``force=True`` allows it. Checked before anything is allocated: a size from a typo
    (``k=10**6``) must be an error, not minutes of swapping or a killed kernel.
    """
    force = boolean("force", force)
    itemsize = itemsize if isinstance(itemsize, numbers.Integral) else np.dtype(itemsize).itemsize
    dims = [int(d) for d in shape]
    cells = 1
    for d in dims:
        cells *= d
    limit = DENSE_CELL_LIMIT * 8  # read at call time, so that a test can lower it
    if cells * itemsize > limit and not force:
        kind = "float64" if itemsize == 8 else f"{itemsize}-byte entries"
        raise ValueError(
            f"{what} would build a dense {' x '.join(f'{d:,}' for d in dims)} array ({cells:,} cells, "
            f"{cells * itemsize / 1e9:.1f} GB as {kind}), above the limit of {limit / 1e9:g} GB "
            f"({DENSE_CELL_LIMIT:,}-cell limit as float64). {alternative + ' ' if alternative else ''}"
            f"Pass force=True to build it anyway.")
