"""Checks for exercises: run a student's function on small hidden cases against mflab's own.

An exercise that asks you to write a piece of an algorithm can end with, for example::

    from mflab import checks
    checks.sgd_step(my_step)

Each check draws a few cases (seeded, so the same every time), calls your function and mflab's
verified version on each, prints one line per case, and returns True when every case agrees to
``1e-8``. For the first case that fails it also prints the inputs, what was expected and what your
function gave, side by side, and it ends with a one-line summary. It is strict where a later lesson
would trip: a ``(1, k)`` array is not a ``(k,)`` vector, a function that returns nothing is
reported as "returned None", and a function still running after :data:`TIMEOUT` seconds (an
endless loop) is stopped and reported instead of freezing the notebook. A function that raises is a
failed case too, with the exception and the line that raised it.
"""
from __future__ import annotations

import ctypes
import signal
import threading
import traceback
from pathlib import Path

import numpy as np

from . import als, metrics, sgd

__all__ = ["sgd_step", "solve_user", "rmse", "TIMEOUT", "TOLERANCE"]

TOLERANCE = 1e-8
TIMEOUT = 5.0  # seconds a student's function may take on one case
_MFLAB_DIR = str(Path(__file__).resolve().parent)


class _TimedOut(BaseException):
    """Raised inside a student's function that runs past the limit. A BaseException, so that an
    ``except Exception`` in the student's own code cannot swallow it."""


def _call(fn, args, seconds: float):
    """``fn(*args)``, interrupted with :class:`_TimedOut` after ``seconds``.

    In the main thread (a Jupyter kernel runs cells there) a SIGALRM timer raises inside ``fn``;
    elsewhere (another thread, or a system without SIGALRM) ``fn`` runs in a helper thread that is
    given up on, and sent the exception, when it overruns.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return _call_in_thread(fn, args, seconds)

    def alarm(signum, frame):
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:  # nested, so the handler comes back even if the alarm fires in the inner finally
        signal.signal(signal.SIGALRM, previous)


def _call_in_thread(fn, args, seconds: float):
    box = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name="mflab-check")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():  # stop a Python-level loop; code stuck inside C cannot be stopped
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_TimedOut))
        worker.join(1.0)
        raise _TimedOut
    if "error" in box:
        raise box["error"]
    return box["value"]


def _shape_words(shape) -> str:
    return "a single number (shape ())" if shape == () else f"an array of shape {shape}"


def _mismatch(got, expected, name: str):
    """None if ``got`` equals ``expected`` (an array or number); else ``(what is wrong, hint)``."""
    if got is None:
        return f"{name} is None", "return the value itself, not the result of an in-place update"
    try:
        if isinstance(got, (str, bytes)) or np.asarray(got).dtype.kind not in "biuf":
            raise TypeError  # numpy would read "3.05" as a number; a student's result must be one
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return (f"{name} is a {type(got).__name__}, not "
                f"{'a number' if np.ndim(expected) == 0 else 'an array of numbers'}", "")
    x = np.asarray(expected, dtype=float)
    if g.shape != x.shape:
        hint = ""
        if g.size == x.size:
            hint = "the right number of entries in the wrong shape: " + (
                "return a plain number, e.g. float(...)" if x.shape == ()
                else f"return a 1-D array of shape {x.shape}, e.g. with .ravel(), or avoid building a 2-D one")
        return f"{name} is {_shape_words(g.shape)}; expected {_shape_words(x.shape)}", hint
    if not np.isfinite(g).all():
        return f"{name} holds NaN or infinity; expected finite numbers", ""
    if not np.allclose(g, x, rtol=TOLERANCE, atol=TOLERANCE):
        return f"{name} differs from the expected value (largest difference {np.abs(g - x).max():.3g})", ""
    return None


def _judge(got, expected, names):
    """None when ``got`` is right; else ``(what is wrong, hint)``. ``names`` names each result."""
    if got is None:
        return "returned None", "does the function end with a `return` line?"
    if len(names) == 1:
        if isinstance(got, (tuple, list)) and any(g is None or np.ndim(g) > 0 for g in got):
            return (f"returned a {type(got).__name__} of {len(got)} values; expected one result, {names[0]}",
                    f"return {names[0]} alone")
        return _mismatch(got, expected, names[0])
    wanted = f"the {len(names)} results ({', '.join(names)}) as a tuple or list"
    if not isinstance(got, (tuple, list)):
        what = f"a numpy array of shape {got.shape}" if isinstance(got, np.ndarray) else f"a {type(got).__name__}"
        return f"returned {what}; expected {wanted}", f"end with `return {', '.join(names)}`"
    if len(got) != len(names):
        return f"returned {len(got)} values; expected {wanted}", ""
    for g, x, name in zip(got, expected, names):
        reason = _mismatch(g, x, name)
        if reason:
            return reason
    return None


class _Note(str):
    """Shown as is in place of a result (a function that raised or was stopped returned none)."""


def _fmt(x, names=None) -> str:
    """A value as a student would want to read it: 4 decimals, its shape, results named."""
    if isinstance(x, _Note):
        return str(x)
    if x is None:
        return "None"
    if isinstance(x, (tuple, list)) and x and not all(np.isscalar(v) for v in x):
        if names and len(names) == len(x) and len(names) > 1:
            return ",  ".join(f"{n} = {_fmt(v)}" for n, v in zip(names, x))
        return "(" + ", ".join(_fmt(v) for v in x) + ")"
    if isinstance(x, (bool, int, float, np.floating, np.integer)):
        return f"{round(float(x), 4):g}"
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        text = repr(x)
        return text if len(text) <= 80 else text[:77] + "..."
    text = np.array2string(np.round(a, 4), separator=", ", threshold=12, suppress_small=True)
    text = text.replace("\n", "\n" + " " * 14)  # continuation rows under the first
    return f"{text} (shape {a.shape})" if a.ndim else text


def _where(exc: BaseException) -> str:
    """`` (in f, line 3: `return 1 / 0`)`` for the innermost frame outside numpy and mflab."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_MFLAB_DIR) and "site-packages" not in f.filename]
    if not frames:
        return ""
    f = frames[-1]
    return f" (in {f.name}, line {f.lineno}: `{f.line}`)" if f.line else f" (in {f.name}, line {f.lineno})"


def _compare(name, cases, yours, reference, *, params, results, label, slips=(), timeout=None) -> bool:
    """Run ``yours`` and ``reference`` on every case; print one line per case, the first failure
    in full (inputs, expected beside got, why) and a one-line summary. True when all agree.

    ``slips``: ``(function, hint)`` pairs, each a known wrong answer; a result that matches one
    gets its hint, which names the mistake."""
    if not callable(yours):
        raise TypeError(f"pass your function itself (e.g. checks.{name}(my_function)); got {type(yours).__name__}")
    timeout = TIMEOUT if timeout is None else float(timeout)
    if not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0; got {timeout}")
    first, passed = None, 0
    for n, args in enumerate(cases, 1):
        expected = reference(*args)
        try:
            got = _call(yours, [a.copy() if isinstance(a, np.ndarray) else a for a in args], timeout)
            reason = _judge(got, expected, results)
            if reason is not None:
                for slip, hint in slips:
                    if _judge(got, slip(*args), results) is None:
                        reason = reason[0], hint
                        break
        except _TimedOut:
            got = _Note(f"nothing: stopped after {timeout:g} s")
            reason = (f"still running after {timeout:g} s, so it was stopped",
                      "an endless loop? check that every loop's condition eventually becomes false")
        except Exception as exc:  # a student's bug is a failed case, not a crash
            got = _Note(f"nothing: it raised {type(exc).__name__}")
            reason = f"raised {type(exc).__name__}: {exc}{_where(exc)}", ""
        print(f"case {n} ({label(*args)}): " + ("ok" if reason is None else f"FAIL: {reason[0]}"))
        if reason is None:
            passed += 1
            continue
        if first is None:
            first = (n, args, expected, got, reason)
        if isinstance(got, _Note) and "stopped" in got and n < len(cases):
            print(f"  (the other {len(cases) - n} cases were not run)")
            break
    if first is None:
        print(f"{name}: all {len(cases)} cases agree with mflab's answer.")
        return True
    n, args, expected, got, (what, hint) = first
    print(f"first failing case, case {n}: {getattr(yours, '__name__', 'yours')}({', '.join(params)}) with")
    for p, a in zip(params, args):
        print(f"  {p:<9} = {_fmt(a)}")
    print(f"  expected  {_fmt(expected, results)}")
    print(f"  got       {_fmt(got, results)}")
    if hint:
        print(f"  hint:     {hint}")
    print(f"{name}: {passed} of {len(cases)} cases agree; case {n} is the first to fail: {what}")
    return False


def sgd_step(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(r, p, q, lr, reg) -> (p_new, q_new)``: one SGD step without biases.

    ``e = r - p . q``; ``p_new = p + lr (e q - reg p)``; ``q_new = q + lr (e p - reg q)`` (old ``p``).
    ``p`` and ``q`` are 1-D arrays of length k; both results must be too. ``timeout``: seconds per
    case (default :data:`TIMEOUT`).
    """
    rng = np.random.default_rng(2024)
    cases = [(float(rng.integers(1, 6)), rng.normal(0, 0.5, k), rng.normal(0, 0.5, k),
              float(rng.choice([0.01, 0.05])), float(rng.choice([0.0, 0.02, 0.1]))) for k in (1, 2, 3, 5)]

    def reference(r, p, q, lr, reg):
        p_new, q_new, _, _ = sgd.step(r, p, q, lr=lr, reg=reg)
        return p_new, q_new

    def new_p(r, p, q, lr, reg):  # q updated with the p just changed
        p_new, _ = reference(r, p, q, lr, reg)
        return p_new, q + lr * ((r - p @ q) * p_new - reg * q)

    def new_error(r, p, q, lr, reg):  # the error recomputed between the two updates
        p_new, _ = reference(r, p, q, lr, reg)
        return p_new, q + lr * ((r - p_new @ q) * p_new - reg * q)

    slips = ((new_p, "q_new matches an update that uses the new p: compute both updates from the old p "
                     "(keep p_new in its own variable until both are done)"),
             (new_error, "q_new matches an update with the error recomputed from the new p: compute "
                         "e = r - p . q once, before either update"),
             (lambda r, p, q, lr, reg: reference(r, p, q, lr, 0.0), "the results match reg = 0: the "
                                                                  "-reg * p and -reg * q terms are missing"),
             (lambda r, p, q, lr, reg: reference(r, p, q, -lr, reg), "the step goes the wrong way: the "
                                                                   "error is e = r - p . q, and the step adds lr * e * q"))
    return _compare("sgd_step", cases, yours, reference, params=("r", "p", "q", "lr", "reg"),
                    results=("p_new", "q_new"), label=lambda r, p, *_: f"k={len(p)}", slips=slips,
                    timeout=timeout)


def solve_user(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(Q_u, r_u, reg) -> p_u``: ALS's ridge solve ``(Q_u^T Q_u + reg I)^{-1} Q_u^T r_u``.

    ``Q_u`` is n x k, ``r_u`` has length n; ``p_u`` must be a 1-D array of length k."""
    rng = np.random.default_rng(7)
    cases = [(rng.normal(size=(n, k)), rng.integers(1, 6, n).astype(float), reg)
             for n, k, reg in ((5, 2, 0.1), (3, 3, 1.0), (2, 4, 0.5), (10, 3, 0.0))]
    slips = ((lambda Q, r, reg: np.linalg.lstsq(Q, r, rcond=None)[0],
              "the result matches plain least squares: add reg * I (k x k) to Q_u^T Q_u"),
             (lambda Q, r, reg: np.linalg.solve(Q.T @ Q + reg * len(r) * np.eye(Q.shape[1]), Q.T @ r),
              "the result matches reg scaled by the number of ratings; here the ridge is plain reg * I"),
             (lambda Q, r, reg: np.linalg.solve(Q.T @ Q + reg ** 2 * np.eye(Q.shape[1]), Q.T @ r),
              "the result matches a ridge of reg**2: stacked as least squares, the extra rows must be "
              "sqrt(reg) * I, whose squares give reg"))
    return _compare("solve_user", cases, yours, als.solve_user, params=("Q_u", "r_u", "reg"),
                    results=("p_u",), label=lambda Q, r, reg: f"{Q.shape[0]} ratings, k={Q.shape[1]}, reg={reg}",
                    slips=slips, timeout=timeout)


def rmse(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(y_true, y_pred) -> float``: ``sqrt(mean((y_true - y_pred)^2))``, one number."""
    rng = np.random.default_rng(3)
    cases = [(rng.integers(1, 6, n).astype(float), rng.uniform(1, 5, n)) for n in (1, 4, 50)]
    cases.append((np.full(3, 4.0), np.full(3, 4.0)))
    slips = ((lambda a, b: float(np.mean((a - b) ** 2)), "that is the mean squared error: take its square root"),
             (lambda a, b: float(np.mean(np.abs(a - b))), "that is the mean absolute error (MAE): square the "
                                                           "errors, average, then take the square root"),
             (lambda a, b: float(np.sqrt(np.sum((a - b) ** 2))), "that is the root of the sum: divide by the "
                                                                 "number of ratings before the square root"))
    return _compare("rmse", cases, yours, metrics.rmse, params=("y_true", "y_pred"), results=("the RMSE",),
                    slips=slips,
                    label=lambda y, _: f"{len(y)} rating{'s' if len(y) > 1 else ''}", timeout=timeout)
