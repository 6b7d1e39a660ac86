"""``Factorization.save`` / ``Factorization.load``: one ``.npz`` file, no pickle.

The file holds the model's arrays (``P``, ``Q``, the biases, the raw ids, the draws) as arrays, and
everything else (``mu``, ``scale``, ``method``, ``params``, ``info``, ``history``) as one JSON text
``__mflab__`` that also names the format and its version. Arrays nested in ``params``/``info``/
``history`` are stored beside the others and referenced from the JSON, so every field round-trips
exactly (dtypes included). Imports nothing of mflab's.
"""
from __future__ import annotations

import base64
import json
import os
import zipfile
from collections.abc import Mapping

import numpy as np

FORMAT = "mflab.Factorization"
FORMAT_VERSION = 1
_ARRAYS = ("P", "Q", "user_bias", "item_bias", "user_ids", "item_ids")
_DRAWS = ("P", "Q", "user_bias", "item_bias", "mu")


def write(path, model) -> None:
    """Write ``model`` (a Factorization) to ``path`` exactly as named (no suffix is added)."""
    path = _path(path)
    blobs = {}
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "mu": model.mu,
            "scale": list(model.scale) if model.scale is not None else None, "method": model.method,
            "params": _encode(model.params, blobs), "info": _encode(model.info, blobs),
            "history": _encode(model.history, blobs), "arrays": {}, "draws": None}
    for name in _ARRAYS:
        value = getattr(model, name)
        meta["arrays"][name] = None if value is None else _encode(value, blobs, where=name)
    if model.draws is not None:
        meta["draws"] = {name: None if getattr(model.draws, name) is None
                         else _encode(getattr(model.draws, name), blobs) for name in _DRAWS}
    with open(path, "wb") as file:
        np.savez(file, __mflab__=np.array(json.dumps(meta)), **blobs)


def read(path) -> dict:
    """The fields of the model stored at ``path`` (``draws`` as a dict or None)."""
    path = _path(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"path {str(path)!r}: no such file")
    not_ours = (f"path {str(path)!r} is not a model file written by mflab's Factorization.save "
                f"(format {FORMAT!r}, version {FORMAT_VERSION})")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a .npy file: one bare array
            raise ValueError(not_ours + "; it holds a single array, not an .npz archive")
        with archive:
            if "__mflab__" not in archive.files:
                raise ValueError(not_ours + "; it has no '__mflab__' entry")
            meta = json.loads(str(archive["__mflab__"]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError(not_ours)
            if meta.get("version") != FORMAT_VERSION:
                raise ValueError(f"path {str(path)!r} holds a model in format version "
                                 f"{meta.get('version')!r}; this mflab reads version {FORMAT_VERSION} "
                                 f"only. Save it again with the mflab that reads it, or refit.")
            blobs = {name: archive[name] for name in archive.files if name != "__mflab__"}
    except (zipfile.BadZipFile, OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError, KeyError):
        raise ValueError(not_ours) from None
    except ValueError as error:
        if str(error).startswith(f"path {str(path)!r}"):
            raise
        raise ValueError(not_ours + f" ({error})") from None
    fields = {name: _decode(meta[name], blobs) for name in ("params", "info", "history")}
    fields |= {name: None if ref is None else _decode(ref, blobs) for name, ref in meta["arrays"].items()}
    fields |= {"mu": meta["mu"], "scale": meta["scale"], "method": meta["method"]}
    fields["draws"] = (None if meta["draws"] is None else
                       {name: None if ref is None else _decode(ref, blobs) for name, ref in meta["draws"].items()})
    return fields


def _path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (str or pathlib.Path); got {type(path).__name__}")
    return os.fspath(path)


def _encode(value, blobs, where="info"):
    """JSON-able description of ``value``; arrays go into ``blobs`` and are referenced by name."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        ref = {"__array__": f"a{len(blobs)}", "scalar": isinstance(value, np.generic)}
        if array.dtype == object:  # raw ids from a pandas string column; saved as text, no pickle
            if not all(isinstance(v, str) for v in array.ravel().tolist()):
                raise TypeError(f"{where} holds an object array of mixed types, which cannot be saved "
                                f"without pickle; give the ids as one type (all strings or all numbers)")
            array, ref["object"] = array.astype(str), True
        blobs[ref["__array__"]] = array
        return ref
    if isinstance(value, Mapping):
        return {"__dict__": [[_encode(k, blobs, where), _encode(v, blobs, where)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"__tuple__": [_encode(v, blobs, where) for v in value]}
    if isinstance(value, frozenset):
        return {"__frozenset__": [_encode(v, blobs, where) for v in value]}
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    if isinstance(value, complex):
        return {"__complex__": [value.real, value.imag]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{where} holds a {type(value).__name__}, which Factorization.save cannot store")


def _decode(ref, blobs):
    if not isinstance(ref, dict):
        return ref
    if "__array__" in ref:
        array = blobs[ref["__array__"]]
        if ref.get("object"):
            array = array.astype(object)
        return array[()] if ref.get("scalar") else array
    if "__dict__" in ref:
        return {_decode(k, blobs): _decode(v, blobs) for k, v in ref["__dict__"]}
    if "__tuple__" in ref:
        return tuple(_decode(v, blobs) for v in ref["__tuple__"])
    if "__frozenset__" in ref:
        return frozenset(_decode(v, blobs) for v in ref["__frozenset__"])
    if "__bytes__" in ref:
        return base64.b64decode(ref["__bytes__"])
    if "__complex__" in ref:
        return complex(*ref["__complex__"])
    raise ValueError(f"unknown entry {ref!r} in the model file")
