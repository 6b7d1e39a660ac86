"""Checks for exercises: run a student's function on small hidden cases against mflab's own.

An exercise that asks you to write a piece of an algorithm can end with, for example::

    from mflab import checks
    checks.sgd_step(my_step)

Each check draws a few cases (seeded, so the same every time), calls your function and mflab's
verified version on each, prints one line per case, and returns True when every case agrees to
``1e-8``. For the first case that fails it also prints the inputs, what was expected and what your
function gave, side by side, with a hint when the mistake is a known one, and it ends with a
one-line summary. It is strict where a later lesson would trip: a ``(1, k)`` array is not a
``(k,)`` vector, and a function that returns nothing is reported as "returned None". A function
that raises is a failed case, with the exception and the line that raised it.

Your function runs in a separate process (a fork of the notebook's kernel, so a function defined in
a cell is there as written): one still running after :data:`TIMEOUT` seconds on a case is stopped,
whatever it is doing, and reported as stopped; the notebook carries on. Where processes cannot be
forked (Windows), it runs in the notebook itself and only a loop in Python code can be stopped
(:mod:`mflab.checks._runner` says more).

Adding a check (a lesson author)
--------------------------------
Write a module ``mflab/checks/<topic>.py`` with a function ``name(yours, *, timeout=None) -> bool``
that builds a few seeded cases (tuples of arguments) and returns
``_compare.compare(name, cases, yours, reference, params=..., results=..., label=..., slips=...,
timeout=timeout)``, where ``reference`` is mflab's own function and each slip is a
``(wrong_function, hint)`` pair: a wrong answer students give (it may raise where the student's
code would), and the hint that names it. Import the function here and add it to ``__all__``; test
it in ``tests/test_checks_<topic>.py`` with a correct function, and each slip with a function that makes it.
"""
from ._compare import TIMEOUT, TOLERANCE, compare
from .metrics import rmse                               # RMSE itself (any lesson)
from .observed import observed_rmse                     # lesson 01: RMSE over the observed cells
from .sgd import sgd_step                               # lesson 02: one SGD step
from .spectrum import above_noise                       # lesson 03: singular values above the noise
from .baseline_svd import baseline_biases, svd_predict  # lesson 04: biases, truncated SVD
from .ridge import solve_user                           # lesson 05: one user's ridge solve
from .ranking import ndcg_at_k                          # lesson 06: NDCG@k
from .similarity import most_similar                    # lesson 07: nearest movies in the latent space
from .coldstart import fold_in                          # lesson 08: a new user's fold-in
from .bayes import posterior_draw                       # lesson 09: one Gibbs draw
from .fm import fm_pairwise                             # lesson 10: the FM pairwise term in O(kn)
from .bpr import bpr_step                               # lesson 11: one BPR step
from .blocks import items_shipped                       # lesson 12: what blocked ALS ships
from .demo import top_n                                 # lesson 13: a user's top n

__all__ = [
    "rmse", "observed_rmse", "sgd_step", "solve_user", "above_noise", "baseline_biases", "svd_predict",
    "ndcg_at_k", "most_similar", "fold_in", "posterior_draw", "fm_pairwise", "bpr_step",
    "items_shipped", "top_n", "compare", "TIMEOUT", "TOLERANCE",
]
