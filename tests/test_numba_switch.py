"""One switch between compiled and plain loops (mflab/_numba.py): the same numbers either way, and
one warning when the loops run as plain Python."""
import os
import subprocess
import sys

import pytest

CODE = """
import warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import numpy as np
    from mflab import Ratings, _numba, sgd
    R = np.where(np.random.default_rng(0).random((12, 9)) < 0.5, 3.0 + np.arange(9) % 3, np.nan)
    m = sgd.fit(Ratings.from_dense(R), 2, epochs=3, biases=True, seed=0)
print(_numba.ENABLED, sum("plain Python" in str(w.message) for w in caught), float(m.P.sum()))
"""


def run(no_numba: bool):
    env = {k: v for k, v in os.environ.items() if k != "MFLAB_NO_NUMBA"}
    if no_numba:
        env["MFLAB_NO_NUMBA"] = "1"
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.needs_numba
def test_compiled_and_plain_runs_give_the_same_factors_and_one_warning():
    compiled, plain = run(False), run(True)
    assert compiled[:2] == ["True", "0"]
    assert plain[:2] == ["False", "1"]
    assert float(compiled[2]) == pytest.approx(float(plain[2]), rel=1e-12)  # the same up to rounding


def test_prange_is_numba_s_or_the_builtin_range():
    from mflab import _numba

    if _numba.ENABLED:
        import numba

        assert _numba.prange is numba.prange
    else:
        assert _numba.prange is range


def _history_case(seed=0):
    import numpy as np

    from mflab import Ratings

    rng = np.random.default_rng(seed)
    keys = rng.choice(40 * 30, 500, replace=False)
    r = Ratings(keys // 30, keys % 30, rng.uniform(1, 5, 500), 40, 30)
    return r, rng.normal(size=(40, 7)), rng.normal(size=(30, 7)), rng.normal(size=40), rng.normal(size=30)


def test_history_kernel_compiled_plain_and_numpy_compute_the_same_sum():
    # the compiled loop, the same loop run as Python, and the numpy fallback used without numba
    from mflab import _history

    r, P, Q, b_u, b_i = _history_case()
    args = (r.user, r.item, r.value, P, Q, b_u, b_i, 3.5)
    plain = _history._sse(*args)
    assert _history._compiled_sse(*args) == pytest.approx(plain, rel=1e-13)
    assert _history._sse_numpy(*args) == pytest.approx(plain, rel=1e-13)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_history_kernel_keeps_nan_and_inf_for_the_divergence_check(bad):
    # full fastmath would let the compiler assume no NaN/inf and fold the check away
    import numpy as np

    from mflab import _history

    r, P, Q, b_u, b_i = _history_case(1)
    P[r.user[3], 2] = bad
    value = _history.rmse(r, P, Q, 3.5, b_u, b_i)
    assert not np.isfinite(value)
    Q[:] = 1e200  # overflow inside the dot product
    assert not np.isfinite(_history.rmse(r, np.abs(P) + 1e200, Q, 3.5, b_u, b_i))
