"""The one switch between numba-compiled loops and the same loops in plain Python.

``from mflab._numba import njit, prange`` and decorate a loop with ``@njit()`` (keyword options as
numba's; ``prange`` is numba's parallel range in a loop compiled with ``parallel=True``, and the
builtin ``range`` when numba is off, so the plain loop runs the same iterations in order;
``prefetch_row(array, row)`` asks the memory for a row a few steps before a compiled loop reads it,
and does nothing in plain Python).
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
if ENABLED:
    from numba import prange
else:
    prange = range
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


def prefetch_row(array, row) -> None:
    """Ask the memory system for row ``row`` of the 2-D C-contiguous ``array`` before it is read.

    A hint with no effect on any result: compiled, it issues one prefetch instruction per cache
    line of the row (``llvm.prefetch``); in plain Python it does nothing. A loop that visits rows in
    random order (SGD over shuffled ratings) uses it to overlap the wait for memory with work.
    """
    return None


def _register_prefetch() -> None:
    from llvmlite import binding, ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic, overload

    # LLVM 15 made pointers opaque, which renamed the intrinsic
    name = "llvm.prefetch.p0" if binding.llvm_version_info >= (15,) else "llvm.prefetch.p0i8"

    @intrinsic
    def _prefetch(typingctx, array, row):
        def codegen(context, builder, signature, args):
            array_type = signature.args[0]
            view = context.make_array(array_type)(context, builder, args[0])
            zero = context.get_constant(types.intp, 0)
            start = cgutils.get_item_pointer(context, builder, array_type, view, [args[1], zero],
                                             wraparound=False)
            byte = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            hint = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
                ir.VoidType(), [byte, i32, i32, i32]), name)
            base = builder.bitcast(start, byte)
            width = builder.mul(builder.extract_value(view.shape, 1),
                                context.get_constant(types.intp, array_type.dtype.bitwidth // 8))
            line = context.get_constant(types.intp, 64)
            with cgutils.for_range_slice(builder, zero, width, line, intp=zero.type) as (offset, _):
                # read (0), keep in all cache levels (3), data cache (1)
                builder.call(hint, [builder.gep(base, [offset]), ir.Constant(i32, 0), ir.Constant(i32, 3),
                                    ir.Constant(i32, 1)])
            return context.get_dummy_value()

        return types.void(array, row), codegen

    @overload(prefetch_row)
    def _prefetch_row(array, row):
        if isinstance(array, types.Array) and array.ndim == 2 and array.layout == "C":
            return lambda array, row: _prefetch(array, row)
        return lambda array, row: None  # rows not contiguous: no hint


if ENABLED:
    _register_prefetch()
