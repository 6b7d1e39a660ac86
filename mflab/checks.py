"""Checks for exercises: run a student's function on small hidden cases against mflab's own.

An exercise that asks you to write a piece of an algorithm can end with, for example::

    from mflab import checks
    checks.sgd_step(my_step)

Each check draws a few random cases (seeded, so the same every time), calls your function and
mflab's verified version on each, prints one line per case with the expected and the actual
result, and returns True when every case agrees to ``1e-8``. A function that raises is reported
as a failed case, with the exception, rather than stopping the notebook.
"""
from __future__ import annotations

import numpy as np

from . import als, metrics, sgd

__all__ = ["sgd_step", "solve_user", "rmse"]

_TOL = 1e-8


def _compare(name, cases, yours, reference) -> bool:
    """Print expected against actual for every case; True when all agree."""
    if not callable(yours):
        raise TypeError(f"pass your function itself (e.g. checks.{name}(my_function)); got {type(yours).__name__}")
    ok_all = True
    for n, args in enumerate(cases, 1):
        expected = reference(*args)
        try:
            got = yours(*(np.copy(a) for a in args))  # copies: the student's function may change them
            ok = all(np.allclose(np.asarray(g, dtype=float), np.asarray(x, dtype=float), rtol=_TOL, atol=_TOL)
                     for g, x in zip(_as_tuple(got), _as_tuple(expected))) and \
                len(_as_tuple(got)) == len(_as_tuple(expected))
            shown = _fmt(got)
        except Exception as exc:  # a student's bug is a failed case, not a crash
            ok, shown = False, f"raised {type(exc).__name__}: {exc}"
        ok_all &= ok
        print(f"case {n}: {'ok  ' if ok else 'FAIL'} expected {_fmt(expected)}")
        if not ok:
            print(f"              got {shown}")
    print(f"{name}: {'all cases agree' if ok_all else 'some cases differ; compare the lines marked FAIL'}")
    return ok_all


def _as_tuple(x):
    return tuple(x) if isinstance(x, tuple) else (x,)


def _fmt(x):
    parts = [np.array2string(np.round(np.asarray(v, dtype=float), 4), separator=", ") for v in _as_tuple(x)]
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def sgd_step(yours) -> bool:
    """Check ``yours(r, p, q, lr, reg) -> (p_new, q_new)``: one SGD step without biases.

    ``e = r - p . q``; ``p_new = p + lr (e q - reg p)``; ``q_new = q + lr (e p - reg q)`` (old ``p``).
    """
    rng = np.random.default_rng(2024)
    cases = [(float(rng.integers(1, 6)), rng.normal(0, 0.5, k), rng.normal(0, 0.5, k),
              float(rng.choice([0.01, 0.05])), float(rng.choice([0.0, 0.02, 0.1]))) for k in (1, 2, 3, 5)]

    def reference(r, p, q, lr, reg):
        p_new, q_new, _, _ = sgd.step(r, p, q, lr=lr, reg=reg)
        return p_new, q_new

    return _compare("sgd_step", cases, yours, reference)


def solve_user(yours) -> bool:
    """Check ``yours(Q_u, r_u, reg) -> p_u``: ALS's ridge solve ``(Q_u^T Q_u + reg I)^{-1} Q_u^T r_u``."""
    rng = np.random.default_rng(7)
    cases = [(rng.normal(size=(n, k)), rng.integers(1, 6, n).astype(float), reg)
             for n, k, reg in ((5, 2, 0.1), (3, 3, 1.0), (2, 4, 0.5), (10, 3, 0.0))]
    return _compare("solve_user", cases, yours, als.solve_user)


def rmse(yours) -> bool:
    """Check ``yours(y_true, y_pred) -> float``: ``sqrt(mean((y_true - y_pred)^2))``."""
    rng = np.random.default_rng(3)
    cases = [(rng.integers(1, 6, n).astype(float), rng.uniform(1, 5, n)) for n in (1, 4, 50)]
    cases.append((np.full(3, 4.0), np.full(3, 4.0)))
    return _compare("rmse", cases, yours, metrics.rmse)
