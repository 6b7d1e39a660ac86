"""Check of lesson 11's exercise: one BPR step for one triple, ``checks.bpr_step(my_bpr_step)``.

The step (no item biases), with ``Delta = p_u . (q_i - q_j)`` and ``z = sigmoid(-Delta)``, the
gradient of ``ln sigmoid(Delta)``; every right-hand side uses the old values::

    p_u <- p_u + lr (z (q_i - q_j) - reg p_u)
    q_i <- q_i + lr (z p_u - reg q_i)
    q_j <- q_j + lr (-z p_u - reg q_j)

The reference is :func:`mflab.implicit.bpr.epoch` itself, run on the one triple with zero biases
(its factor updates are then exactly the three lines above).
"""
from __future__ import annotations

import numpy as np

from ..implicit import bpr
from ._compare import compare


def _reference(p_u, q_i, q_j, lr, reg):
    P, Q, b = p_u[None, :].copy(), np.vstack([q_i, q_j]), np.zeros(2)
    one = np.zeros(1, dtype=np.int64)
    # user 0, watched item 0, unwatched item 1; user 0's items (sorted) are [0]
    bpr.epoch(one, one, one + 1, np.array([0, 1]), one, P, Q, b, lr, reg)
    return P[0], Q[0], Q[1]


def _step(p_u, q_i, q_j, lr, reg, *, z=None, sign_j=-1.0, new_p=False, p_grad=None):
    """The step with one piece changed, to spell each slip."""
    delta = p_u @ (q_i - q_j)
    z = bpr.sigmoid(-delta) if z is None else z(delta)
    p_new = p_u + lr * ((z * (q_i - q_j) if p_grad is None else p_grad(z, q_i, q_j)) - reg * p_u)
    p = p_new if new_p else p_u
    return p_new, q_i + lr * (z * p - reg * q_i), q_j + lr * (sign_j * z * p - reg * q_j)


SLIPS = (
    (lambda p, qi, qj, lr, reg: _step(p, qi, qj, lr, reg, sign_j=1.0),
     "q_j moved the same way as q_i: the unwatched item's step has the opposite sign, "
     "q_j + lr (-z p_u - reg q_j), which pushes its score down"),
    (lambda p, qi, qj, lr, reg: _step(p, qi, qj, lr, reg, z=bpr.sigmoid),
     "z = sigmoid(Delta): the gradient of ln sigmoid(Delta) is 1 - sigmoid(Delta) = sigmoid(-Delta), "
     "large when the pair is ranked wrongly (Delta < 0) and small when it is already right"),
    (lambda p, qi, qj, lr, reg: _step(p, qi, qj, lr, reg, z=lambda d: bpr.sigmoid(d) * bpr.sigmoid(-d)),
     "z = sigmoid(Delta) sigmoid(-Delta) is the derivative of sigmoid itself; BPR climbs "
     "ln sigmoid(Delta), whose derivative is sigmoid(-Delta)"),
    (lambda p, qi, qj, lr, reg: _reference(p, qi, qj, lr, 0.0),
     "the results match reg = 0: the -reg p_u, -reg q_i and -reg q_j terms are missing"),
    (lambda p, qi, qj, lr, reg: _step(p, qi, qj, lr, reg, new_p=True),
     "q_i and q_j match updates that use the new p_u: compute all three steps from the old values "
     "(keep p_u's new value in its own variable until the end)"),
    (lambda p, qi, qj, lr, reg: _step(p, qi, qj, lr, reg, p_grad=lambda z, qi, qj: z * qi),
     "p_u's step uses q_i alone: Delta = p_u . (q_i - q_j) depends on p_u through both items, "
     "so its gradient is z (q_i - q_j)"),
    (lambda p, qi, qj, lr, reg: _reference(p, qi, qj, -lr, reg),
     "the step goes the wrong way: BPR climbs ln sigmoid(Delta) - reg/2 |.|^2, so each parameter "
     "moves by + lr times its gradient"),
    (lambda p, qi, qj, lr, reg: _reference(p, qi, qj, lr, reg / 2),
     "the penalty's gradient is halved: the penalty is reg/2 times the squared parameters, and the "
     "derivative of reg/2 |p_u|^2 is reg p_u, so each step has - reg p_u (- reg q_i, - reg q_j)"),
    (lambda p, qi, qj, lr, reg: _reference(p, qi, qj, lr, 2 * reg),
     "the penalty's gradient is doubled: BPR's penalty is reg/2 times the squared parameters (the "
     "ALS loss has no 1/2), so its derivative is reg p_u, not 2 reg p_u"),
    (lambda p, qi, qj, lr, reg: _reference(p, qi, qj, lr, -reg),
     "the penalty has the wrong sign: it pulls every parameter towards zero, so each step subtracts "
     "lr reg times the parameter: p_u + lr (z (q_i - q_j) - reg p_u)"),
)


def bpr_step(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(p_u, q_i, q_j, lr, reg) -> (p_u_new, q_i_new, q_j_new)``: one BPR step.

    ``p_u``, ``q_i`` (a watched item), ``q_j`` (an unwatched one) are 1-D arrays of length k; the
    results must be too. The step is the module docstring's (``mflab.implicit.bpr.epoch`` without
    item biases). ``timeout``: seconds per case (default :data:`mflab.checks.TIMEOUT`). Named slips:
    the sign of q_j's step, sigmoid(Delta) for sigmoid(-Delta), the derivative of sigmoid itself,
    no penalty, the new p_u used for the items, q_j missing from p_u's step, the wrong direction,
    the penalty's gradient halved, doubled or of the wrong sign.
    """
    rng = np.random.default_rng(11)
    cases = []
    for k, lr, reg in ((1, 0.1, 0.05), (2, 0.05, 0.01), (3, 0.5, 0.1), (5, 0.2, 0.02)):
        while True:  # |Delta| away from 0, where sigmoid(Delta) and sigmoid(-Delta) would agree
            p_u, q_i, q_j = (rng.normal(0, 1.0, k) for _ in range(3))
            if abs(p_u @ (q_i - q_j)) > 0.3:
                break
        cases.append((p_u, q_i, q_j, lr, reg))
    return compare("bpr_step", cases, yours, _reference, params=("p_u", "q_i", "q_j", "lr", "reg"),
                   results=("p_u_new", "q_i_new", "q_j_new"),
                   label=lambda p, qi, qj, lr, reg: f"k={len(p)}, Delta={p @ (qi - qj):+.2f}",
                   slips=SLIPS, timeout=timeout)
