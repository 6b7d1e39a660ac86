"""The one switch between numba-compiled loops and the same loops in plain Python.

``from mflab._numba import njit`` and decorate a loop with ``@njit()`` (keyword options as numba's).
It is compiled (and cached on disk) when numba imports; otherwise, or when the environment variable
``MFLAB_NO_NUMBA`` is set (the tests use it to prove the fallback), the plain function is returned
unchanged and one warning says the lessons will be slow. The plain loops give the same numbers.
"""
from __future__ import annotations

import os
import warnings


def _numba_njit():
    if os.environ.get("MFLAB_NO_NUMBA"):
        return None, "MFLAB_NO_NUMBA is set"
    try:
        from numba import njit as numba_njit
    except ImportError as error:  # a dependency, but a student may have an environment without it
        return None, f"numba could not be imported ({error})"
    return numba_njit, ""


_NJIT, _WHY_NOT = _numba_njit()
ENABLED = _NJIT is not None
_warned = False


def njit(*, fallback=None, **options):
    """Compile the decorated function with ``numba.njit(cache=True, **options)`` when numba is on.

    Without numba the function is returned as it is (or ``fallback``, a numpy version computing the
    same thing, where a plain loop would be too slow to be useful), after a single warning.
    """
    def decorate(function):
        global _warned
        if ENABLED:
            return _NJIT(cache=True, **options)(function)
        if not _warned:
            _warned = True
            warnings.warn(f"mflab runs its training loops as plain Python: {_WHY_NOT}. The results "
                          f"are the same, but SGD on MovieLens takes minutes instead of seconds, so "
                          f"the lessons will be slow.", UserWarning, stacklevel=2)
        return function if fallback is None else fallback

    return decorate
