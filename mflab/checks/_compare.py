"""Compare a student's function with mflab's on a few cases, print expected beside got, name slips.

:func:`compare` is what every check calls (see :mod:`mflab.checks` for how to add one). A result
passes when it has the expected type and shape and agrees to :data:`TOLERANCE`; a result that
matches a known wrong answer (a *slip*) gets that slip's hint.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ._runner import Outcome, forking, run_cases

TOLERANCE = 1e-8
TIMEOUT = 5.0  # seconds a student's function may take on one case


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
        if g.ndim and np.asarray(got).dtype.kind in "biu" and np.asarray(expected).dtype.kind in "biu":
            j = int(np.flatnonzero(~np.isclose(g.ravel(), x.ravel()))[0])  # indices or counts: where, not how far
            at = j if g.ndim == 1 else tuple(int(i) for i in np.unravel_index(j, g.shape))
            return (f"{name} differs from the expected value (first at position {at}: "
                    f"expected {int(x.ravel()[j])}, got {int(g.ravel()[j])})"), ""
        return f"{name} differs from the expected value (largest difference {np.abs(g - x).max():.3g})", ""
    return None


def judge(got, expected, names):
    """None when ``got`` is right; else ``(what is wrong, hint)``. ``names`` names each result."""
    if got is None:
        return "returned None", "does the function end with a `return` line?"
    if len(names) == 1:
        if (isinstance(got, (tuple, list)) and np.ndim(expected) >= 2 and len(got) == np.shape(expected)[0]
                and all(isinstance(g, (tuple, list, np.ndarray)) for g in got)):
            try:  # a table written as a list of rows is one result, not several
                got = np.asarray(got, dtype=float)
            except (TypeError, ValueError):
                pass
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


def fmt(x, names=None) -> str:
    """A value as a student would want to read it: 4 decimals, its shape, results named."""
    if isinstance(x, _Note):
        return str(x)
    if x is None:
        return "None"
    if isinstance(x, (tuple, list)) and x and not all(np.isscalar(v) for v in x):
        if names and len(names) == len(x) and len(names) > 1:
            return ",  ".join(f"{n} = {fmt(v)}" for n, v in zip(names, x))
        return "(" + ", ".join(fmt(v) for v in x) + ")"
    if isinstance(x, (bool, int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{round(float(x), 4):g}"
    if isinstance(x, (np.ndarray, list, tuple)) and np.asarray(x).dtype.kind in "biu":
        a = np.asarray(x)  # indices and counts read as whole numbers, not 6., 0., 7.
        text = np.array2string(a, separator=", ", threshold=12).replace("\n", "\n" + " " * 14)
        return f"{text} (shape {a.shape})" if a.ndim else text
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        text = repr(x)
        return text if len(text) <= 80 else text[:77] + "..."
    text = np.array2string(np.round(a, 4), separator=", ", threshold=12, suppress_small=True)
    text = text.replace("\n", "\n" + " " * 14)  # continuation rows under the first
    return f"{text} (shape {a.shape})" if a.ndim else text


def _explains(slip, args, outcome: Outcome, results):
    """How the wrong answer ``slip`` accounts for ``outcome``: "value" (the same result), "raise"
    (both raise the same exception type: a slip that cannot run on this case's shapes), or None."""
    try:
        wrong = slip(*args)
    except Exception as exc:  # noqa: BLE001
        return "raise" if outcome.kind == "raised" and outcome.error == type(exc).__name__ else None
    if outcome.kind == "value" and (judge(outcome.value, wrong, results) is None
                                    or _same_with_nan(outcome.value, wrong, len(results))):
        return "value"
    return None


def _same_with_nan(got, wrong, n_results) -> bool:
    """``got`` equals the slip's ``wrong`` with NaN or infinity in the same places (a 0/0 mean for an
    empty row is the commonest numpy slip, and a slip must be able to name it)."""
    if got is None or (n_results > 1 and not (isinstance(got, (tuple, list)) and len(got) == n_results)):
        return False
    pairs = zip(got, wrong) if n_results > 1 else [(got, wrong)]
    try:
        arrays = [(np.asarray(g, dtype=float), np.asarray(w, dtype=float)) for g, w in pairs]
    except (TypeError, ValueError):
        return False
    if any(g is None for g, _ in (zip(got, wrong) if n_results > 1 else [(got, wrong)])):
        return False
    return all(g.shape == w.shape and np.allclose(g, w, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True)
               for g, w in arrays) and any(not np.isfinite(g).all() for g, _ in arrays)


def _slip_hint(slips, failed, results):
    """The hint of the first slip that explains every failing case (matching at least one by
    value), else of the first slip that matches the first failing case and at least half of all
    failing cases by value (a slip that agrees on one case by chance, as a small count easily
    does, names nothing), else None."""
    table = [(hint, [_explains(slip, args, outcome, results) for args, outcome in failed])
             for slip, hint in slips]
    for hint, how in table:
        if all(how) and "value" in how:
            return hint
    for hint, how in table:
        if how[0] == "value" and 2 * how.count("value") >= len(how):
            return hint
    return None


def compare(name, cases, yours, reference, *, params, results, label, slips=(), timeout=None) -> bool:
    """Run ``yours`` (in a child process, :mod:`mflab.checks._runner`) and ``reference`` on every
    case; print one line per case, the first failure in full (inputs, expected beside got, why) and
    a one-line summary. True when all agree.

    ``cases``: tuples of arguments. ``params``/``results``: their names and the results' names.
    ``label(*args)``: a short description of a case. ``slips``: ``(function, hint)`` pairs, each a
    known wrong answer (which may raise on some cases); the first one that accounts for every
    failing case gives its hint, which names the mistake. ``timeout``: seconds per case.
    """
    if not callable(yours):
        raise TypeError(f"pass your function itself (e.g. checks.{name}(my_function)); got {type(yours).__name__}")
    if timeout is None:
        timeout = TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not np.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a number of seconds > 0; got {timeout!r}")
    timeout = float(timeout)
    cases = [tuple(_copy(a) for a in args) for args in cases]
    first, passed, failed = None, 0, []
    with contextlib.closing(run_cases(yours, cases, timeout)) as outcomes:  # ends the child on any exit
        for n, (args, outcome) in enumerate(zip(cases, outcomes), 1):
            if _report(n, args, outcome, reference, results, label, timeout, len(cases), failed):
                passed += 1
            elif first is None:
                first = (n, args, *failed[-1][2:])
    if first is None:
        print(f"{name}: all {len(cases)} cases agree with mflab's answer.")
        return True
    n, args, expected, got, (what, hint) = first
    hint = _slip_hint(slips, [f[:2] for f in failed], results) or hint
    print(f"first failing case, case {n}: {getattr(yours, '__name__', 'yours')}({', '.join(params)}) with")
    for p, a in zip(params, args):
        print(f"  {p:<9} = {fmt(a)}")
    print(f"  expected  {fmt(expected, results)}")
    print(f"  got       {fmt(got, results)}")
    if hint:
        print(f"  hint:     {hint}")
    print(f"{name}: {passed} of {len(cases)} cases agree; case {n} is the first to fail: {what}")
    return False


def _copy(a):
    """A private copy of a case's array that stays read-only when the case's was (as a fitted
    model's arrays are), so a function that writes into its input fails here as it would there."""
    if not isinstance(a, np.ndarray):
        return a
    b = a.copy()
    b.flags.writeable = a.flags.writeable
    return b


def _report(n, args, outcome, reference, results, label, timeout, n_cases, failed) -> bool:
    """Print case ``n``'s line; True if it passed, else append ``(args, outcome, expected, got,
    reason)`` to ``failed``."""
    if outcome.output:
        print(outcome.output, end="" if outcome.output.endswith("\n") else "\n")
    expected = reference(*args)
    if outcome.kind == "value":
        got, reason = outcome.value, judge(outcome.value, expected, results)
    elif outcome.kind == "stopped":
        got = _Note(f"nothing: stopped after {timeout:g} s")
        reason = (f"still running after {timeout:g} s, so it was stopped",
                  "an endless loop? check that every loop's condition eventually becomes false"
                  + (" (it ran in a separate process, which was ended; your notebook is unaffected)"
                     if forking() else ""))
    elif outcome.kind == "raised":
        got = _Note(f"nothing: it raised {outcome.error}")
        reason = f"raised {outcome.text}", ""
    elif outcome.kind == "died":
        got = _Note("nothing: the process running it ended")
        reason = outcome.text, "os._exit(), or a crash inside compiled code?"
    else:  # unsendable
        got = _Note(outcome.text)
        reason = f"returned {outcome.text}, not a number or an array", "return numbers or numpy arrays"
    print(f"case {n} ({label(*args)}): " + ("ok" if reason is None else f"FAIL: {reason[0]}"))
    if reason is None:
        return True
    failed.append((args, outcome, expected, got, reason))
    if outcome.kind in ("stopped", "died") and n < n_cases:
        print(f"  (the other {n_cases - n} cases were not run)")
    return False
