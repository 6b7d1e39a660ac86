"""Check of lesson 09's exercise: one user's Gibbs draw, ``checks.posterior_draw(my_draw)``.

The student writes ``my_draw(Z_u, y_u, m_P, Lambda_P, beta, eps) -> x_u``: the posterior precision
and mean of one user's vector, then one draw through a Cholesky factor, with the standard normals
``eps`` given so that the answer is one number::

    A = Lambda_P + beta Z_u^T Z_u,    b = beta Z_u^T y_u + Lambda_P m_P,    A = L L^T
    x_u = A^-1 b + L^-T eps                         (covariance L^-T L^-1 = A^-1)

mflab's answer is :func:`mflab.gibbs.sample_user` fed these ``eps``; it writes the same draw as
``A^-1 (b + L eps)`` (``A^-1 L = L^-T``).
"""
from __future__ import annotations

import numpy as np

from .. import gibbs
from ._compare import compare


class _Given:
    """Stands in for a random generator: hands out the given standard normals, so mflab's
    ``sample_user`` makes the draw the student's function makes from the same ``eps``."""

    def __init__(self, eps):
        self.eps = eps

    def standard_normal(self, size):
        return np.array(self.eps, dtype=float).reshape(size)


def _reference(Z, y, m, Lam, beta, eps):
    return gibbs.sample_user(Z, y, m, Lam, beta, _Given(eps))


def _system(Z, y, m, Lam, beta):
    return Lam + beta * Z.T @ Z, beta * Z.T @ y + Lam @ m


def _draw(A, b, eps, root=lambda L, eps: np.linalg.solve(L.T, eps)):
    """``A^-1 b`` plus ``root(L, eps)``, with ``A = L L^T``: the right draw by default."""
    return np.linalg.solve(A, b) + root(np.linalg.cholesky(A), eps)


def _slip(A=None, b=None, root=None):
    """A wrong answer: ``A`` or ``b`` built another way (functions of the arguments), or another
    square root of the covariance."""
    def wrong(Z, y, m, Lam, beta, eps):
        A0, b0 = _system(Z, y, m, Lam, beta)
        A1 = A0 if A is None else A(Z, y, m, Lam, beta)
        b1 = b0 if b is None else b(Z, y, m, Lam, beta)
        return _draw(A1, b1, eps) if root is None else _draw(A1, b1, eps, root)
    return wrong


_PRIOR = ("the prior is missing: the posterior precision is A = Lambda_P + beta Z_u^T Z_u and the "
          "right-hand side b = beta Z_u^T y_u + Lambda_P m_P (the prior's two terms)")
_LOWER = ("L in place of L^T: with A = L L^T the jitter is L^-T eps = np.linalg.solve(L.T, eps), whose "
          "covariance is L^-T L^-1 = (L L^T)^-1 = A^-1; np.linalg.solve(L, eps) has covariance "
          "(L^T L)^-1, which is not A^-1")
_OUTER = ("Z_u Z_u^T: you formed Z_u @ Z_u.T (n x n, one row per rating) where the posterior precision "
          "has Z_u^T Z_u = Z_u.T @ Z_u (d x d): A = Lambda_P + beta Z_u^T Z_u")

SLIPS = (
    (lambda Z, y, m, Lam, beta, eps: np.linalg.solve(*_system(Z, y, m, Lam, beta)),
     "that is the posterior mean A^-1 b only: add the jitter L^-T eps (A = L L^T) to make it a draw"),
    (_slip(root=lambda L, eps: np.linalg.solve(L, eps)), _LOWER),
    (lambda Z, y, m, Lam, beta, eps: np.linalg.solve(*(lambda A, b: (A, b + np.linalg.cholesky(A).T @ eps))(
        *_system(Z, y, m, Lam, beta))), _LOWER),
    (_slip(root=lambda L, eps: L @ eps),
     "the covariance in place of the precision: mean + L eps has covariance L L^T = A, but A is the "
     "posterior precision, the inverse of the covariance; the jitter is L^-T eps = np.linalg.solve(L.T, eps)"),
    (_slip(root=lambda L, eps: np.linalg.cholesky(np.linalg.inv(L @ L.T)) @ eps),
     "your draw has the right distribution (covariance A^-1) but another square root of it: "
     "cholesky(inv(A)) @ eps. This exercise asks for the Cholesky factor of the precision itself, "
     "x_u = A^-1 b + L^-T eps with A = L L^T (no inverse needed), so the same eps gives the same draw"),
    (_slip(A=lambda Z, y, m, Lam, beta: beta * Z.T @ Z, b=lambda Z, y, m, Lam, beta: beta * Z.T @ y), _PRIOR),
    (_slip(A=lambda Z, y, m, Lam, beta: beta * Z.T @ Z), _PRIOR + "; Lambda_P is missing from A"),
    (_slip(b=lambda Z, y, m, Lam, beta: beta * Z.T @ y),
     "the prior mean's term is missing from the right-hand side: b = beta Z_u^T y_u + Lambda_P m_P "
     "(it vanishes only when m_P = 0)"),
    (_slip(A=lambda Z, y, m, Lam, beta: Lam + Z.T @ Z, b=lambda Z, y, m, Lam, beta: Z.T @ y + Lam @ m),
     "beta is missing: the ratings' terms are beta Z_u^T Z_u in A and beta Z_u^T y_u in b"),
    (_slip(b=lambda Z, y, m, Lam, beta: beta * (Z.T @ y + Lam @ m)),
     "beta multiplies the prior's term too: b = beta Z_u^T y_u + Lambda_P m_P, where only the ratings' "
     "term carries beta (it cannot be factored out of both)"),
    (_slip(b=lambda Z, y, m, Lam, beta: Z.T @ y + Lam @ m),
     "beta is missing from the right-hand side: b = beta Z_u^T y_u + Lambda_P m_P, with the same beta as "
     "in A = Lambda_P + beta Z_u^T Z_u"),
    (_slip(A=lambda Z, y, m, Lam, beta: Lam + Z.T @ Z),
     "beta is missing from A: the posterior precision is A = Lambda_P + beta Z_u^T Z_u, with the same beta "
     "as in b = beta Z_u^T y_u + Lambda_P m_P"),
    (_slip(A=lambda Z, y, m, Lam, beta: Z.T @ Z + Lam / beta, b=lambda Z, y, m, Lam, beta: Z.T @ y + Lam @ m / beta),
     "the mean is right but the jitter is sqrt(beta) times what it should be: you divided A by beta (the ALS "
     "form Z_u^T Z_u + Lambda_P / beta). The mean does not change, but the covariance is the inverse of "
     "A = Lambda_P + beta Z_u^T Z_u itself"),
    (lambda Z, y, m, Lam, beta, eps: np.linalg.solve(np.linalg.cholesky(_system(Z, y, m, Lam, beta)[0]).T, eps),
     "that is the jitter L^-T eps alone: add the posterior mean A^-1 b"),
    (_slip(A=lambda Z, y, m, Lam, beta: Lam + beta * Z @ Z.T), _OUTER),
    (lambda Z, y, m, Lam, beta, eps: np.linalg.solve(Lam + beta * Z @ Z.T, beta * Z.T @ y + Lam @ m), _OUTER),
)


def cases():
    """The hidden cases: ``(Z_u, y_u, m_P, Lambda_P, beta, eps)`` with n ratings and d coordinates;
    a full (not diagonal) prior precision, a non-zero prior mean, beta != 1, and one user with
    fewer ratings than coordinates (only the prior makes A invertible)."""
    rng = np.random.default_rng(9)
    out = []
    for n, d, beta in ((6, 2, 1.5), (3, 3, 0.8), (2, 4, 2.0), (8, 1, 1.2)):
        G = rng.normal(size=(d, d))
        out.append((rng.normal(0, 0.7, (n, d)), rng.integers(1, 6, n) - 3.5, rng.normal(0, 0.5, d),
                    G @ G.T + 0.5 * np.eye(d), beta, rng.standard_normal(d)))
    return out


def posterior_draw(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(Z_u, y_u, m_P, Lambda_P, beta, eps) -> x_u``: one user's Gibbs draw.

    ``Z_u`` (n, d) the other side's rows for the user's n ratings, ``y_u`` (n,) the targets,
    ``m_P`` (d,) and ``Lambda_P`` (d, d) the prior ``N(m_P, Lambda_P^-1)``, ``beta`` the noise
    precision, ``eps`` (d,) standard normals; ``x_u`` must be a 1-D array of length d::

        A = Lambda_P + beta Z_u^T Z_u,  b = beta Z_u^T y_u + Lambda_P m_P,  A = L L^T,  x_u = A^-1 b + L^-T eps

    Named slips: the mean alone, L in place of L^T, the covariance in place of the precision
    (``mean + L eps``), another square root (``cholesky(inv(A)) @ eps``), the prior forgotten (in A, in
    b, or both), beta forgotten (in A, in b, or both) or put on the prior's term too, the ALS form
    ``Z^T Z + Lambda / beta`` (right mean, wrong spread), the jitter alone, and ``Z_u Z_u^T`` in place
    of ``Z_u^T Z_u``.
    """
    return compare("posterior_draw", cases(), yours, _reference,
                   params=("Z_u", "y_u", "m_P", "Lambda_P", "beta", "eps"), results=("x_u",),
                   label=lambda Z, *_: f"{Z.shape[0]} ratings, d={Z.shape[1]}", slips=SLIPS, timeout=timeout)
