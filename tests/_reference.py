"""Independent references the tests hold mflab to (imported by several test files)."""
import numpy as np


def stacked_ridge(X, y, ridge):
    """argmin |X w - y|^2 + sum_j ridge_j w_j^2, as ordinary least squares on the stacked system
    [X; diag(sqrt(ridge))] w = [y; 0]. ``ridge`` is one number (lambda I) or one per column."""
    k = X.shape[1]
    ridge = np.broadcast_to(np.asarray(ridge, dtype=float), (k,))
    A = np.vstack([X, np.diag(np.sqrt(ridge))])
    return np.linalg.lstsq(A, np.r_[y, np.zeros(k)], rcond=None)[0]


def reachable_arrays(obj, path="model", seen=None):
    """Every (path, numpy array) reachable from ``obj`` through its public fields: dataclass fields,
    mappings, tuples, a Ratings' grouped views, a model's draws. A mutable container on the way
    (list, dict, set) is reported as ``(path, container)`` so that the caller can refuse it too."""
    import dataclasses
    from collections.abc import Mapping

    from mflab.ratings import Grouped, Ratings

    seen = set() if seen is None else seen
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, complex, np.generic)):
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        yield path, obj
        return
    if isinstance(obj, (list, dict, set)):
        yield path, obj
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from reachable_arrays(value, f"{path}[{key!r}]", seen)
    elif isinstance(obj, (tuple, list, set, frozenset)):
        for n, value in enumerate(obj):
            yield from reachable_arrays(value, f"{path}[{n}]", seen)
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from reachable_arrays(getattr(obj, f.name), f"{path}.{f.name}", seen)
        if isinstance(obj, Ratings):
            for name in ("by_user", "by_item"):
                yield from reachable_arrays(getattr(obj, name), f"{path}.{name}", seen)
    elif isinstance(obj, Grouped):
        for name, value in vars(obj).items():
            yield from reachable_arrays(value, f"{path}.{name}", seen)


def assert_all_read_only(obj, path="model"):
    """Every array reachable from ``obj`` refuses a write; no list, dict or set is reachable."""
    found = list(reachable_arrays(obj, path))
    assert found, f"nothing reachable from {path}"
    for where, value in found:
        assert isinstance(value, np.ndarray), f"{where} is a mutable {type(value).__name__}"
        if value.size == 0:
            assert not value.flags.writeable, f"{where} is writeable"
            continue
        try:
            first = (0,) * value.ndim  # (reshape could write into a copy)
            value[first] = value[first]
        except ValueError as error:
            assert "read-only" in str(error), where
        else:
            raise AssertionError(f"{where} accepted a write")
    return found


def same_value(a, b):
    """Deep equality of field values (arrays by dtype and content, mappings, tuples, scalars)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b))
    if hasattr(a, "keys"):
        return hasattr(b, "keys") and list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, frozenset):
        a, b = sorted(a, key=repr), sorted(b, key=repr) if isinstance(b, frozenset) else None
        return b is not None and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, tuple):
        return type(b) is tuple and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def assert_same_model(a, b):
    """Every field of two Factorizations equal (arrays by dtype and content), draws included."""
    for name in ("P", "Q", "mu", "user_bias", "item_bias", "history", "scale", "method", "params",
                 "info", "user_ids", "item_ids"):
        assert same_value(getattr(a, name), getattr(b, name)), name
    assert (a.draws is None) == (b.draws is None)
    if a.draws is not None:
        for name in ("P", "Q", "user_bias", "item_bias", "mu"):
            assert same_value(getattr(a.draws, name), getattr(b.draws, name)), f"draws.{name}"
    np.testing.assert_array_equal(a.predict_all(), b.predict_all())


def printed(x, text):
    """``x`` prints as ``text`` at ``text``'s number of decimals (half a unit, plus rounding slack)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(x) - float(text)) <= 0.5 * 10 ** -decimals + 1e-12
