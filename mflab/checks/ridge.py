"""Check of the ALS user step (lesson 05's exercise 2): ``checks.solve_user(my_solve_user)``."""
from __future__ import annotations

import numpy as np

from .. import ridge
from ._compare import compare

_OUTER = ("Q_u Q_u^T: you formed Q_u @ Q_u.T (n x n, one row per rating) where the normal equations "
          "have Q_u^T Q_u = Q_u.T @ Q_u (k x k, one row per factor); the system is "
          "(Q_u^T Q_u + reg I_k) p_u = Q_u^T r_u")


def _eye(n):
    return np.eye(n)


SLIPS = (
    (lambda Q, r, reg: np.linalg.lstsq(Q, r, rcond=None)[0],
     "the result matches plain least squares: add reg * I (k x k) to Q_u^T Q_u"),
    (lambda Q, r, reg: np.linalg.solve(Q.T @ Q + reg * len(r) * _eye(Q.shape[1]), Q.T @ r),
     "the result matches reg scaled by the number of ratings; here the ridge is plain reg * I"),
    (lambda Q, r, reg: np.linalg.solve(Q.T @ Q + reg ** 2 * _eye(Q.shape[1]), Q.T @ r),
     "the result matches a ridge of reg**2: stacked as least squares, the extra rows must be "
     "sqrt(reg) * I, whose squares give reg"),
    # Q_u Q_u^T in its usual spellings; each raises where n != k, as the student's code does
    (lambda Q, r, reg: np.linalg.solve(Q @ Q.T + reg * _eye(Q.shape[1]), Q.T @ r), _OUTER),
    (lambda Q, r, reg: np.linalg.solve(Q @ Q.T + reg * _eye(Q.shape[0]), Q.T @ r), _OUTER),
    (lambda Q, r, reg: np.linalg.solve(Q @ Q.T + reg * _eye(Q.shape[0]), r), _OUTER),
    (lambda Q, r, reg: np.linalg.inv(Q @ Q.T + reg * _eye(Q.shape[1])) @ Q.T @ r, _OUTER),
    (lambda Q, r, reg: np.linalg.inv(Q @ Q.T + reg * _eye(Q.shape[0])) @ Q.T @ r, _OUTER),
)


def solve_user(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(Q_u, r_u, reg) -> p_u``: ALS's ridge solve ``(Q_u^T Q_u + reg I)^{-1} Q_u^T r_u``.

    ``Q_u`` is n x k, ``r_u`` has length n; ``p_u`` must be a 1-D array of length k. Named slips:
    no ridge (plain least squares), a ridge scaled by n, a ridge of reg**2, and Q_u Q_u^T in place
    of Q_u^T Q_u (recognised whether it raises on a non-square case or returns a wrong vector).
    """
    rng = np.random.default_rng(7)
    cases = [(rng.normal(size=(n, k)), rng.integers(1, 6, n).astype(float), reg)
             for n, k, reg in ((5, 2, 0.1), (3, 3, 1.0), (2, 4, 0.5), (10, 3, 0.0))]
    return compare("solve_user", cases, yours, ridge.solve_user, params=("Q_u", "r_u", "reg"),
                   results=("p_u",), label=lambda Q, r, reg: f"{Q.shape[0]} ratings, k={Q.shape[1]}, reg={reg}",
                   slips=SLIPS, timeout=timeout)
