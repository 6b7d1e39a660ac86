"""The conjugate draws a Gibbs sampler for factorization models is made of.

Shared by Bayesian MF (:mod:`mflab.bayes`) and Bayesian factorization machines (:mod:`mflab.fm`).
Each function is one step of the sweep, small enough to read beside its formula:

- :func:`sample_user`: one row's Gaussian posterior given the other side (the ALS solve plus a
  Cholesky draw); :func:`sample_all` does it for every row at once, batched like ALS.
- :func:`normal_wishart_posterior`: the conjugate update of a Normal-Wishart prior on the mean and
  precision of the rows; :func:`sample_hyper` draws ``(m, Lambda)`` from it with
  :func:`sample_wishart` (Bartlett's construction).
- :func:`sample_noise_precision`: the conjugate Gamma update of the noise precision.
- :func:`hyperprior`: the hyperprior keywords of a fit, checked, with BPMF's defaults.

Every draw goes through a Cholesky factor (never an SVD or an eigendecomposition, whose vectors can
flip sign under a tiny change of the input), so a change of BLAS kernel moves the draws by rounding
only. Imports nothing of mflab's but the argument checks (:mod:`mflab._checks`).
"""
from __future__ import annotations

import numpy as np

from . import _checks

_GROUP_FLOATS = 2_000_000  # posterior precision entries solved at once (16 MB)


def sample_user(Z_u, y_u, prior_mean, prior_precision, noise_precision, rng=None):
    """One draw of a user's vector from its Gaussian posterior (``rng=None``: its mean).

    ``Z_u`` (n_rated, d) holds the features of the items the user rated, ``y_u`` (n_rated,) the
    targets, ``prior_mean`` (d,) and ``prior_precision`` (d, d) the prior ``N(m, Lambda^-1)``,
    ``noise_precision`` the ``beta`` of ``y ~ N(Z x, 1/beta)``. The matrix and right-hand side are
    ALS's (:func:`mflab.ridge.solve_user`) plus the prior's terms::

        A = Lambda + beta Z_u^T Z_u,    b = beta Z_u^T y_u + Lambda m,    posterior N(A^-1 b, A^-1)
        A = L L^T (Cholesky),  eps ~ N(0, I):   draw = A^-1 (b + L eps)

    The draw is the mean ``A^-1 b`` plus ``A^-1 L eps``, whose covariance is
    ``A^-1 L L^T A^-1 = A^-1``: the ALS solve with its right-hand side jittered.
    """
    A = prior_precision + noise_precision * Z_u.T @ Z_u
    b = noise_precision * Z_u.T @ y_u + prior_precision @ prior_mean
    if rng is not None:
        L = np.linalg.cholesky(A)
        b = b + L @ rng.standard_normal(len(b))
    return np.linalg.solve(A, b)


def sample_all(batches, Z, y, prior_mean, prior_precision, noise_precision, current, rng):
    """:func:`sample_user` for every row with ratings, batched; rows without ratings keep ``current``.

    ``batches`` is a :class:`mflab.ridge.Batches` of the grouped ratings (built with width d),
    ``Z`` (n_other, d) the other side's features, ``y`` the targets in the grouped (sorted) order,
    ``current`` (n_rows, d). ``rng=None`` gives every row its posterior mean instead of a draw.
    The Gram matrices are built batch by batch; the Cholesky factors, draws and solves run over
    a group of batches at once (up to ``_GROUP_FLOATS`` matrix entries), the normal draws taken
    as one (rows, d) block per group in the batches' row order.
    """
    d = Z.shape[1]
    Z_pad = np.vstack([Z, np.zeros((1, d))])  # padding (-1) gathers this zero row and zero target
    y_pad = np.r_[y, 0.0]
    prior_term = prior_precision @ prior_mean
    out = current.copy()
    group, size = [], 0
    for n, (rows, other, pos) in enumerate(batches.batches):
        Zb = Z_pad[other]
        Zt = Zb.transpose(0, 2, 1)
        group.append((rows, Zt @ Zb, (Zt @ y_pad[pos][..., None])[..., 0]))
        size += len(rows) * d * d
        if size >= _GROUP_FLOATS or n == len(batches.batches) - 1:
            rows, gram, rhs = (np.concatenate(parts) for parts in zip(*group))
            A = noise_precision * gram + prior_precision
            b = noise_precision * rhs + prior_term
            if rng is not None:
                try:
                    L = np.linalg.cholesky(A)
                except np.linalg.LinAlgError:
                    raise ValueError("a posterior precision matrix is not positive definite; the "
                                     "ratings may be on a huge scale, or noise_precision far too "
                                     "large: rescale the ratings or lower noise_precision") from None
                b += (L @ rng.standard_normal((len(rows), d, 1)))[..., 0]
            out[rows] = np.linalg.solve(A, b[..., None])[..., 0]
            group, size = [], 0
    return out


def sample_wishart(W, nu, rng):
    """One draw from the Wishart distribution with scale ``W`` (d x d) and ``nu > d - 1`` degrees of
    freedom, whose mean is ``nu W`` (and ``Var(draw_ij) = nu (W_ij^2 + W_ii W_jj)``).

    Bartlett's construction: ``W = L L^T`` (Cholesky); ``A`` lower triangular with
    ``A_jj^2 ~ chi2(nu - j)`` (j = 0 .. d-1) and standard normal entries below the diagonal::

        draw = L A A^T L^T
    """
    d = len(W)
    L = np.linalg.cholesky(W)
    A = np.tril(rng.standard_normal((d, d)), -1)
    A[np.diag_indices(d)] = np.sqrt(rng.chisquare(nu - np.arange(d)))
    LA = L @ A
    return LA @ LA.T


def normal_wishart_posterior(X, *, m0, kappa0, nu0, W0):
    """The Normal-Wishart posterior ``(m_n, kappa_n, nu_n, W_n)`` given rows ``X`` (N x d).

    Prior: ``Lambda ~ Wishart(W0, nu0)`` and ``m | Lambda ~ N(m0, (kappa0 Lambda)^-1)``; each row
    ``x_n ~ N(m, Lambda^-1)``. The likelihood is again a Gaussian in ``m`` times a Wishart-shaped
    term in ``Lambda``, so the posterior is Normal-Wishart with (Bishop, PRML eq. 2.154-2.157;
    Salakhutdinov and Mnih 2008)::

        xbar = mean of the rows,   S = sum_n (x_n - xbar)(x_n - xbar)^T
        kappa_n = kappa0 + N,   nu_n = nu0 + N,   m_n = (kappa0 m0 + N xbar) / (kappa0 + N)
        W_n^-1 = W0^-1 + S + kappa0 N / (kappa0 + N) (xbar - m0)(xbar - m0)^T
    """
    N = len(X)
    xbar = X.mean(axis=0)
    centred = X - xbar
    gap = xbar - m0
    W_n_inv = np.linalg.inv(W0) + centred.T @ centred + kappa0 * N / (kappa0 + N) * np.outer(gap, gap)
    W_n = np.linalg.inv(W_n_inv)
    return (kappa0 * m0 + N * xbar) / (kappa0 + N), kappa0 + N, nu0 + N, (W_n + W_n.T) / 2


def sample_hyper(X, rng, *, kappa0=2.0, nu0=None, W0=None, m0=None):
    """Draw the rows' prior ``(m, Lambda)`` from its Normal-Wishart posterior given ``X`` (N x d).

    Hyperprior defaults as in BPMF (Salakhutdinov and Mnih 2008): ``m0 = 0``, ``kappa0 = 2``,
    ``nu0 = d``, ``W0 = I`` (:func:`hyperprior` checks a fit's keywords into this form). With
    ``(m_n, kappa_n, nu_n, W_n)`` from :func:`normal_wishart_posterior`::

        Lambda ~ Wishart(W_n, nu_n)                       (:func:`sample_wishart`)
        m = m_n + R^-T eps / sqrt(kappa_n),  Lambda = R R^T, eps ~ N(0, I):  m ~ N(m_n, (kappa_n Lambda)^-1)
    """
    d = X.shape[1]
    m_n, kappa_n, nu_n, W_n = normal_wishart_posterior(
        X, m0=np.zeros(d) if m0 is None else m0, kappa0=kappa0, nu0=d if nu0 is None else nu0,
        W0=np.eye(d) if W0 is None else W0)
    Lambda = sample_wishart(W_n, nu_n, rng)
    R = np.linalg.cholesky(Lambda)
    m = m_n + np.linalg.solve(R.T, rng.standard_normal(d)) / np.sqrt(kappa_n)
    return m, Lambda


def sample_noise_precision(sse, n, rng, *, shape=1.0, rate=1.0):
    """Draw the noise precision ``beta`` given the current model's squared error on ``n`` ratings.

    Prior ``beta ~ Gamma(shape, rate)`` (mean shape / rate); the likelihood of ``n`` Gaussian
    residuals with sum of squares ``sse`` is ``beta^(n/2) exp(-beta sse / 2)``, so::

        beta | rest ~ Gamma(shape + n / 2, rate + sse / 2)      (mean about n / sse = 1 / MSE)
    """
    return float(rng.gamma(shape + n / 2, 1.0 / (rate + sse / 2)))


def hyperprior(d, *, kappa0=2.0, nu0=None, W0=1.0, m0=0.0) -> dict:
    """The Normal-Wishart hyperprior of d-dimensional rows, checked, as the keywords of
    :func:`sample_hyper`: ``{"m0": (d,), "kappa0": float, "nu0": float, "W0": (d, d)}``.

    Defaults as in BPMF: ``m0 = 0`` (a number or a (d,) vector), ``kappa0 = 2`` (how many rows'
    worth of belief in m0), ``nu0 = d`` (``None``; must exceed d - 1), ``W0 = 1`` (a number times I,
    or a symmetric positive definite (d, d) matrix).
    """
    kappa0 = _checks.positive("kappa0", kappa0)
    nu0 = float(d) if nu0 is None else _checks.real("nu0", nu0)
    if nu0 <= d - 1:
        raise ValueError(f"nu0 must be > d - 1 = {d - 1} (d = {d} prior dimensions: k, plus 1 with "
                         f"biases) for the Wishart to exist; got {nu0}. None gives d")
    if np.ndim(W0) == 0:
        W0 = _checks.positive("W0", W0) * np.eye(d)
    else:
        W0 = _checks.real_array("W0", W0, ndim=2)
        if W0.shape != (d, d) or not np.allclose(W0, W0.T) or not _positive_definite(W0):
            raise ValueError(f"W0 must be a number > 0 (times the identity) or a symmetric positive "
                             f"definite {d} x {d} matrix (d = k, plus 1 with biases); got shape {W0.shape}")
    if np.ndim(m0) == 0:
        m0 = _checks.real("m0", m0) * np.ones(d)
    else:
        m0 = _checks.real_array("m0", m0, ndim=1)
        if m0.shape != (d,):
            raise ValueError(f"m0 must be a number or a vector of d = {d} entries (k, plus 1 with "
                             f"biases, the bias first); got shape {m0.shape}")
    return {"m0": m0, "kappa0": kappa0, "nu0": nu0, "W0": W0}


def _positive_definite(M) -> bool:
    try:
        np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        return False
    return True
