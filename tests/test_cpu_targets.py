"""The compiled loops give the same digits on another CPU (issue 26): numba compiles for the machine
it runs on (AVX-512 here, AVX2 or SSE on a laptop), and with ``fastmath={"reassoc"}`` a sum may be
vectorised differently, so the last bits of a result can move. What a lesson prints must not.

One child process compiles the kernels that feed the lessons' printed numbers (SGD's epoch and its
history, implicit ALS's conjugate gradients, BPR's epoch) for a generic x86-64 CPU
(``NUMBA_CPU_NAME=generic NUMBA_CPU_FEATURES=``, a cache of its own), another for this machine;
the fits must agree to 1e-9, far below the four decimals a lesson prints.
"""
import json
import os
import platform
import subprocess
import sys

import pytest

CODE = """
import json
import numpy as np
import mflab
from mflab import implicit, sgd
train, test = mflab.datasets.movielens_100k_split("u1")
m = sgd.fit(train, 10, epochs=5, lr=0.01, reg=0.05, biases=True, seed=0, test=test)
seen = mflab.Ratings(train.user, train.item, np.ones(len(train)), train.n_users, train.n_items)
a = implicit.als.fit(seen, 8, epochs=3, seed=0)
b = implicit.bpr.fit(seen, 8, epochs=2, seed=0)
print(json.dumps({"sgd_test_rmse": list(m.history["test_rmse"]), "sgd_P": float(np.abs(m.P).sum()),
                  "als_loss": list(a.history["loss"]), "als_P": float(np.abs(a.P).sum()),
                  "bpr_loss": list(b.history["loss"]), "bpr_Q": float(np.abs(b.Q).sum())}))
"""


def fit(tmp_path, generic: bool):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_") and k != "MFLAB_NO_NUMBA"}
    if generic:
        env.update(NUMBA_CPU_NAME="generic", NUMBA_CPU_FEATURES="", NUMBA_CACHE_DIR=str(tmp_path / "generic"))
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.needs_numba
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="the generic target named here is x86-64's")
def test_the_compiled_loops_give_the_same_digits_for_a_generic_cpu(tmp_path):
    here, generic = fit(tmp_path, False), fit(tmp_path, True)
    assert here.keys() == generic.keys()
    for key in here:
        assert generic[key] == pytest.approx(here[key], rel=1e-9, abs=1e-12), key
