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
print(_numba.ENABLED, sum("plain Python" in str(w.message) for w in caught), repr(m.P.sum()))
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
    assert compiled[2] == plain[2]
