"""The Gibbs steps of mflab.gibbs (re-exported by mflab.bayes), each held to an independent reference:
ALS's solve, closed-form moments, numpy's own multivariate normal, and Bayes' rule evaluated
point by point."""
import numpy as np
import pytest

from mflab import Ratings, als, bayes, gibbs
from mflab.ridge import Batches


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    R = np.where(rng.random((40, 30)) < 0.4, rng.integers(1, 6, (40, 30)).astype(float), np.nan)
    R[:, 29] = np.nan
    return Ratings.from_dense(R)


def test_bayes_re_exports_the_steps():
    for name in ("sample_user", "sample_all", "sample_hyper", "sample_wishart", "normal_wishart_posterior",
                 "sample_noise_precision"):
        assert getattr(bayes, name) is getattr(gibbs, name)


def test_a_noiseless_sweep_with_fixed_hyperparameters_is_an_als_sweep(data):
    k, tau, beta = 3, 0.6, 2.0
    rng = np.random.default_rng(1)
    P, Q = rng.normal(size=(data.n_users, k)), rng.normal(size=(data.n_items, k))
    zero, prior = np.zeros(k), tau * np.eye(k)
    g_u, g_i = data.by_user, data.by_item
    P_b = gibbs.sample_all(Batches(g_u, k), Q, g_u.value, zero, prior, beta, P, None)
    Q_b = gibbs.sample_all(Batches(g_i, k), P_b, g_i.value, zero, prior, beta, Q, None)
    P_a = als.solve_all(g_u, Q, g_u.value, tau / beta, P)
    Q_a = als.solve_all(g_i, P_a, g_i.value, tau / beta, Q)
    np.testing.assert_allclose(P_b, P_a, atol=1e-10)
    np.testing.assert_allclose(Q_b, Q_a, atol=1e-10)
    np.testing.assert_array_equal(Q_b[29], Q[29])  # no ratings: kept as it was


@pytest.mark.parametrize("draw", [False, True])
def test_the_batched_sampler_is_sample_user_row_by_row(data, draw):
    # the same normal stream, taken in the batches' row order, gives the same draws: what the
    # lesson shows (sample_user) is what the fit runs
    k = 3
    rng = np.random.default_rng(2)
    Q = rng.normal(size=(data.n_items, k))
    m, Lam = rng.normal(size=k), np.eye(k) * 0.5 + 0.1
    batches = Batches(data.by_user, k)
    got = gibbs.sample_all(batches, Q, data.by_user.value, m, Lam, 1.5, np.zeros((data.n_users, k)),
                           np.random.default_rng(7) if draw else None)
    stream = np.random.default_rng(7) if draw else None
    for u in np.concatenate([rows for rows, _, _ in batches.batches]):
        items, values = data.user_items(u)
        np.testing.assert_allclose(got[u], gibbs.sample_user(Q[items], values, m, Lam, 1.5, stream), atol=1e-10)


def test_user_draws_have_the_posterior_mean_and_numpys_covariance():
    rng = np.random.default_rng(3)
    Z, y = rng.normal(size=(6, 2)), rng.normal(size=6)
    m0, Lam, beta = np.array([0.3, -0.2]), np.array([[2.0, 0.5], [0.5, 1.0]]), 1.7
    ours = np.array([gibbs.sample_user(Z, y, m0, Lam, beta, rng) for _ in range(8000)])
    A = Lam + beta * Z.T @ Z
    mean, cov = np.linalg.solve(A, beta * Z.T @ y + Lam @ m0), np.linalg.inv(A)
    theirs = rng.multivariate_normal(mean, cov, size=8000)
    se = np.sqrt(np.diag(cov) / len(ours))
    assert np.all(np.abs(ours.mean(axis=0) - mean) < 4 * se)
    np.testing.assert_allclose(np.cov(ours.T), cov, rtol=0.06, atol=0.003)
    np.testing.assert_allclose(np.cov(ours.T), np.cov(theirs.T), rtol=0.08, atol=0.003)
    assert gibbs.sample_user(Z, y, m0, Lam, beta) == pytest.approx(mean, abs=1e-12)  # rng=None: the mean


def test_with_no_ratings_a_user_draw_is_a_draw_from_the_prior():
    # N(m, Lambda^-1) given by its precision, by Cholesky: what lesson 09 shows in a few lines
    rng = np.random.default_rng(10)
    m, Lam = np.array([1.0, -2.0, 0.5]), np.array([[4.0, 1.0, 0.0], [1.0, 2.0, 0.3], [0.0, 0.3, 1.0]])
    draws = np.array([gibbs.sample_user(np.zeros((0, 3)), np.zeros(0), m, Lam, 2.0, rng) for _ in range(6000)])
    np.testing.assert_allclose(draws.mean(axis=0), m, atol=0.05)
    np.testing.assert_allclose(np.cov(draws.T), np.linalg.inv(Lam), rtol=0.08, atol=0.01)


def test_wishart_draws_have_mean_nu_W_and_the_wishart_variance():
    rng = np.random.default_rng(4)
    W, nu = np.array([[1.0, 0.3, 0.0], [0.3, 0.5, 0.1], [0.0, 0.1, 2.0]]), 7
    draws = np.array([gibbs.sample_wishart(W, nu, rng) for _ in range(8000)])
    np.testing.assert_allclose(draws.mean(axis=0), nu * W, rtol=0.03, atol=0.05)
    variance = nu * (W ** 2 + np.outer(np.diag(W), np.diag(W)))
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.1)
    assert all(np.all(np.linalg.eigvalsh(D) > 0) for D in draws[:100])


def _log_normal_wishart(m, Lam, m_n, kappa_n, nu_n, W_n):
    """log NW(m, Lam) up to a constant that depends on the parameters only."""
    d = len(m)
    _, logdet = np.linalg.slogdet(Lam)
    gap = m - m_n
    return ((nu_n - d - 1) / 2 * logdet - np.trace(np.linalg.solve(W_n, Lam)) / 2
            + logdet / 2 - kappa_n / 2 * gap @ Lam @ gap)


def test_the_normal_wishart_update_is_bayes_rule():
    # log posterior - (log prior + log likelihood) must be the same number at every (m, Lambda):
    # that is what "the posterior is Normal-Wishart with these parameters" means
    rng = np.random.default_rng(5)
    d, N = 3, 12
    X = rng.normal(1.0, 2.0, size=(N, d))
    m0, kappa0, nu0 = np.array([0.5, -1.0, 0.0]), 1.5, 4.0
    W0 = np.array([[1.0, 0.2, 0.0], [0.2, 2.0, 0.3], [0.0, 0.3, 0.5]])
    post = gibbs.normal_wishart_posterior(X, m0=m0, kappa0=kappa0, nu0=nu0, W0=W0)
    gaps = []
    for _ in range(6):
        m = rng.normal(size=d)
        B = rng.normal(size=(d, d))
        Lam = B @ B.T + 0.5 * np.eye(d)
        _, logdet = np.linalg.slogdet(Lam)
        loglik = sum(logdet / 2 - (x - m) @ Lam @ (x - m) / 2 for x in X)
        prior = _log_normal_wishart(m, Lam, m0, kappa0, nu0, W0)
        gaps.append(_log_normal_wishart(m, Lam, *post) - prior - loglik)
    assert np.ptp(gaps) < 1e-8, gaps
    assert post[1] == kappa0 + N and post[2] == nu0 + N


def test_hyper_draws_have_the_normal_wishart_moments():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(8, 2)) + [1.0, -0.5]
    m_n, kappa_n, nu_n, W_n = gibbs.normal_wishart_posterior(X, m0=np.zeros(2), kappa0=2.0, nu0=2.0, W0=np.eye(2))
    ms, Lams = zip(*(gibbs.sample_hyper(X, rng) for _ in range(4000)))  # defaults: m0 0, kappa0 2, nu0 d, W0 I
    np.testing.assert_allclose(np.mean(Lams, axis=0), nu_n * W_n, rtol=0.03, atol=0.02)
    # m | Lambda ~ N(m_n, (kappa_n Lambda)^-1), so cov(m) = E[Lambda^-1] / kappa_n = W_n^-1 / ((nu_n - d - 1) kappa_n)
    np.testing.assert_allclose(np.mean(ms, axis=0), m_n, atol=0.025)
    np.testing.assert_allclose(np.cov(np.array(ms).T), np.linalg.inv(W_n) / ((nu_n - 3) * kappa_n), rtol=0.1)


def test_noise_precision_draws_have_the_gamma_posterior_mean_and_variance():
    rng = np.random.default_rng(7)
    draws = np.array([gibbs.sample_noise_precision(30.0, 100, rng, shape=2.0, rate=0.5) for _ in range(20000)])
    shape, rate = 2.0 + 50, 0.5 + 15.0
    assert draws.mean() == pytest.approx(shape / rate, rel=0.01)
    assert draws.var() == pytest.approx(shape / rate ** 2, rel=0.05)


def test_the_hyperprior_defaults_are_bpmfs_and_sample_hyper_takes_them():
    prior = gibbs.hyperprior(3)
    np.testing.assert_array_equal(prior["m0"], np.zeros(3))
    np.testing.assert_array_equal(prior["W0"], np.eye(3))
    assert prior["kappa0"] == 2.0 and prior["nu0"] == 3.0
    X = np.random.default_rng(8).normal(size=(10, 3))
    a = gibbs.sample_hyper(X, np.random.default_rng(9), **prior)
    b = gibbs.sample_hyper(X, np.random.default_rng(9))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError, match="W0 must be"):
        gibbs.hyperprior(2, W0=[[1.0, 2.0], [2.0, 1.0]])  # symmetric, not positive definite
