"""Raw id -> index lookup for a model (the dataset's own user and item ids). Imports nothing of mflab's."""
from __future__ import annotations

import numpy as np


class RawIds:
    """Index of each raw id in a model's ``user_ids`` / ``item_ids``; an unknown id raises
    ``error`` (the model's ColdStartError) naming it."""

    def __init__(self, user_ids, item_ids, error):
        self._ids = {"user": user_ids, "item": item_ids}
        self._maps = {}
        self._error = error

    def users(self, raw, *, one=False) -> np.ndarray:
        return self._lookup("user", raw, one)

    def items(self, raw, *, one=False) -> np.ndarray:
        return self._lookup("item", raw, one)

    def _lookup(self, side, raw, one) -> np.ndarray:
        ids = self._ids[side]
        if ids is None:
            raise ValueError(f"this model carries no raw {side} ids (it was fitted on a Ratings built "
                             f"without them); use the {side} indices with predict/recommend, or build "
                             f"the training set with Ratings.from_frame, which keeps them")
        if side not in self._maps:
            self._maps[side] = {_key(v): n for n, v in enumerate(ids.tolist())}
        known = self._maps[side]
        values = np.asarray(raw, dtype=object)
        if one and values.ndim != 0:
            raise TypeError(f"raw_{side} must be one raw {side} id; got {type(raw).__name__} of shape "
                            f"{values.shape}")
        out = np.empty(values.shape, dtype=np.int64)
        flat = out.reshape(-1)
        for n, value in enumerate(values.reshape(-1).tolist()):
            try:
                flat[n] = known[_key(value)]
            except KeyError:
                raise self._error(
                    f"raw {side} id {value!r} is not in the model's {side}_ids ({len(ids)} known, e.g. "
                    f"{ids[0]!r}): a cold-start {side} the model has no factors for") from None
            except TypeError:
                raise TypeError(f"raw {side} id {value!r} is not a valid id ({type(value).__name__}); "
                                f"ids are numbers or strings like {ids[0]!r}") from None
        return out


def _key(value):
    """A hashable key under which 7, 7.0, numpy.int64(7) agree (and '7' stays apart from 7)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):  # True == 1 as a dict key; a bool is not an id
        return ("bool", value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
