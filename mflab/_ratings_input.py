"""The parsers behind ``Ratings``'s constructors: ids and values as arrays, with errors that name
the first offending row. Imports nothing of mflab's."""
from __future__ import annotations

import numpy as np


def _as_index(name, ids, n) -> np.ndarray:
    """``ids`` as a 1-D int64 array, checked in its own dtype first (so a huge id is reported as
    it was given, not as the number int64 wraps it to)."""
    ids = np.asarray(ids)
    if ids.ndim > 1:
        raise ValueError(f"{name} must be a 1-D array of indices; got shape {ids.shape} (flatten it "
                         f"yourself if that is what you mean)")
    ids = ids.ravel()
    if ids.size and not (np.issubdtype(ids.dtype, np.integer) or np.issubdtype(ids.dtype, np.floating)):
        raise TypeError(f"{name} must hold integer indices; got dtype {ids.dtype} (for raw ids such as "
                        f"strings, use Ratings.from_frame, which maps them to indices)")
    if np.issubdtype(ids.dtype, np.floating):
        bad = np.flatnonzero(~np.isfinite(ids) | (ids != np.round(ids)))
        if bad.size:
            raise TypeError(f"row {bad[0]}: {name} index {ids[bad[0]].item()!r} is not a whole number; "
                            f"{name} must hold integer indices")
    bad = np.flatnonzero((ids < 0) | (ids >= n))
    if bad.size:
        t = bad[0]
        raise ValueError(f"row {t}: {name} index {ids[t].item()!r} is outside [0, {n}) "
                         f"(n_{name}s={n}); indices are 0-based")
    return ids.astype(np.int64)


def _as_values(value) -> np.ndarray:
    """The ratings as a 1-D float array; text or other non-numbers are named."""
    raw = np.asarray(value)
    if raw.ndim > 1:
        raise ValueError(f"value must be a 1-D array of ratings; got shape {raw.shape}")
    try:
        return np.array(raw, dtype=float).ravel()
    except (TypeError, ValueError):
        first = next((v for v in raw.ravel().tolist() if not _is_number(v)), None)
        raise TypeError(f"value must hold numbers; found {first!r}") from None


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _lookup(name, known, raw) -> np.ndarray:
    """Index of each raw id in ``known``; an error naming the first id that is not there."""
    order = np.argsort(known, kind="stable")
    pos = np.searchsorted(known, raw, sorter=order)
    pos = np.clip(pos, 0, len(known) - 1)
    idx = order[pos]
    missing = np.flatnonzero(known[idx] != raw)
    if missing.size:
        t = missing[0]
        bad = raw[t].item() if isinstance(raw[t], np.generic) else raw[t]
        raise ValueError(f"row {t}: {name} id {bad!r} is not in the {name}s index ({len(known)} ids given)")
    return idx
