"""Read-only copies, all the way down: what a fitted model and a Ratings hand out.

A model is a result: if a caller could append to its ``info`` or write into one of its arrays, the
model would silently disagree with its ``history`` (and a later fit that reads it would change).
So every container is copied on construction into an immutable one:

    dict -> read-only mapping (``types.MappingProxyType``)     list, tuple -> tuple
    set -> frozenset            numpy array -> read-only copy     number, str, None -> itself

Anything else (an object that could change under us) is refused, naming where it was found.
Imports nothing of mflab's.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

_SCALARS = (str, bytes, int, float, complex, bool, type(None), np.generic)


def read_only(array) -> np.ndarray:
    """A read-only copy of ``array`` (never a view of the caller's data)."""
    copy = np.array(array, copy=True)
    copy.flags.writeable = False
    return copy


def finite(name: str, value, ndim: int) -> np.ndarray:
    """A read-only float copy of ``value``, which must be ``ndim``-dimensional and finite."""
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    array.flags.writeable = False
    return array


def freeze(value, where: str):
    """An immutable deep copy of ``value`` (see the module docstring); ``where`` names it in errors."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, np.ndarray):
        return read_only(value)
    if isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item, f"{where}[{key!r}]") for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(item, f"{where}[{n}]") for n, item in enumerate(value))
    if isinstance(value, (set, frozenset)):
        return frozenset(freeze(item, f"{where} element") for item in value)
    raise TypeError(f"{where} holds a {type(value).__name__}; a model's params and info may hold "
                    f"numbers, strings, None, numpy arrays, and lists, tuples or dicts of those")


def history(values: Mapping, where: str = "history") -> MappingProxyType:
    """Per-step records: a sequence of numbers -> tuple of floats (``history["train_rmse"][-1]``);
    a sequence of arrays (a trace of vectors, one per sweep) -> a read-only stacked array."""
    out = {}
    for name, steps in dict(values).items():
        steps = list(steps)
        if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
               for v in steps):
            out[name] = tuple(float(v) for v in steps)
            continue
        try:
            out[name] = read_only(np.array(steps, dtype=float))
        except (TypeError, ValueError):
            raise TypeError(f"{where}[{name!r}] must be a sequence of numbers, or of equally shaped "
                            f"arrays of numbers (one per step)") from None
    return MappingProxyType(out)


def scale_pair(name, value) -> tuple:
    """``(low, high)`` as two finite floats with low <= high (equal: every training rating alike)."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high) of numbers; got {value!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(f"{name} must be (low, high) with finite low <= high; got {value!r}")
    return (low, high)
