"""Check of lesson 02's exercise: one SGD step without biases, ``checks.sgd_step(my_step)``."""
from __future__ import annotations

import numpy as np

from .. import sgd
from ._compare import compare


def _reference(r, p, q, lr, reg):
    p_new, q_new, _, _ = sgd.step(r, p, q, lr=lr, reg=reg)
    return p_new, q_new


def _new_p(r, p, q, lr, reg):  # q updated with the p just changed
    p_new, _ = _reference(r, p, q, lr, reg)
    return p_new, q + lr * ((r - p @ q) * p_new - reg * q)


def _new_error(r, p, q, lr, reg):  # the error recomputed between the two updates
    p_new, _ = _reference(r, p, q, lr, reg)
    return p_new, q + lr * ((r - p_new @ q) * p_new - reg * q)


def _error_doubled(r, p, q, lr, reg):  # 2 e q from the gradient, the penalty left as reg p
    e = r - p @ q
    return p + lr * (2 * e * q - reg * p), q + lr * (2 * e * p - reg * q)


def _penalty_doubled(r, p, q, lr, reg):  # 2 reg p from the gradient, the error left as e q
    e = r - p @ q
    return p + lr * (e * q - 2 * reg * p), q + lr * (e * p - 2 * reg * q)


def _penalty_sign(r, p, q, lr, reg):  # + reg p: the penalty pushing away from zero
    e = r - p @ q
    return p + lr * (e * q + reg * p), q + lr * (e * p + reg * q)


def _error_reversed(r, p, q, lr, reg):  # e = p . q - r, with the rule written for e = r - p . q
    e = p @ q - r
    return p + lr * (e * q - reg * p), q + lr * (e * p - reg * q)


SLIPS = (
    (_new_p, "q_new matches an update that uses the new p: compute both updates from the old p "
             "(keep p_new in its own variable until both are done)"),
    (_new_error, "q_new matches an update with the error recomputed from the new p: compute "
                 "e = r - p . q once, before either update"),
    (lambda r, p, q, lr, reg: _reference(r, p, q, 2 * lr, reg),
     "the factor 2: your step is exactly twice mflab's. You kept the 2 of the gradient "
     "-2 e q + 2 reg p; mflab folds it into lr, so the step is lr (e q - reg p), not lr (2 e q - 2 reg p)"),
    (_error_doubled,
     "the factor 2 on the error term only: you wrote 2 e q (and 2 e p) where the rule has e q; "
     "the 2 of the gradient is folded into lr for every term: p + lr (e q - reg p)"),
    (lambda r, p, q, lr, reg: _reference(r, p, q, lr / 2, reg),
     "the factor 2: your step is exactly half of mflab's. The 1/2 is already inside lr (the step "
     "against the gradient is lr/2 times it), so do not halve again: p + lr (e q - reg p)"),
    (_penalty_doubled,
     "the factor 2 on the penalty only: you wrote 2 reg p where the rule has reg p (the 2 is "
     "folded into lr for every term, the penalty's too)"),
    (lambda r, p, q, lr, reg: _reference(r, p, q, lr, 0.0),
     "the results match reg = 0: the -reg * p and -reg * q terms are missing"),
    (lambda r, p, q, lr, reg: _reference(r, p, q, -lr, reg),
     "the step goes the wrong way: the error is e = r - p . q, and the step adds lr * e * q"),
    (_penalty_sign, "the penalty has the wrong sign: it pulls towards zero, so the step subtracts "
                    "lr * reg * p: p + lr (e q - reg p)"),
    (_error_reversed, "the error is the wrong way round: e = r - p . q (the rating minus the "
                      "prediction), not p . q - r"),
)


def sgd_step(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(r, p, q, lr, reg) -> (p_new, q_new)``: one SGD step without biases.

    ``e = r - p . q``; ``p_new = p + lr (e q - reg p)``; ``q_new = q + lr (e p - reg q)`` (old ``p``).
    ``p`` and ``q`` are 1-D arrays of length k; both results must be too. ``timeout``: seconds per
    case (default :data:`mflab.checks.TIMEOUT`). Named slips: q updated with the new p, the error
    recomputed, the factor 2 (a step twice or half as large, or 2 on one term), no penalty, the
    wrong sign of the step or of the penalty, the error as p . q - r.
    """
    rng = np.random.default_rng(2024)
    cases = [(float(rng.integers(1, 6)), rng.normal(0, 0.5, k), rng.normal(0, 0.5, k),
              float(rng.choice([0.01, 0.05])), float(rng.choice([0.0, 0.02, 0.1]))) for k in (1, 2, 3, 5)]
    return compare("sgd_step", cases, yours, _reference, params=("r", "p", "q", "lr", "reg"),
                   results=("p_new", "q_new"), label=lambda r, p, *_: f"k={len(p)}", slips=SLIPS,
                   timeout=timeout)
