"""Bayesian MF by Gibbs sampling, held to ALS, to the moments of the distributions it claims to
draw from, and to known noise levels and coverage on synthetic data."""
import numpy as np
import pytest

from mflab import Ratings, als, bayes, datasets
from mflab.ridge import Batches


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    R = np.where(rng.random((40, 30)) < 0.4, rng.integers(1, 6, (40, 30)).astype(float), np.nan)
    R[:, 29] = np.nan
    return Ratings.from_dense(R)


def test_a_noiseless_sweep_with_fixed_hyperparameters_is_an_als_sweep(data):
    k, tau, alpha = 3, 0.6, 2.0
    rng = np.random.default_rng(1)
    P, Q = rng.normal(size=(data.n_users, k)), rng.normal(size=(data.n_items, k))
    zero, prior = np.zeros(k), tau * np.eye(k)
    g_u, g_i = data.by_user, data.by_item
    P_b = bayes.sample_all(Batches(g_u, k), Q, g_u.value, zero, prior, alpha, P, None)
    Q_b = bayes.sample_all(Batches(g_i, k), P_b, g_i.value, zero, prior, alpha, Q, None)
    P_a = als.solve_all(g_u, Q, g_u.value, tau / alpha, P)
    Q_a = als.solve_all(g_i, P_a, g_i.value, tau / alpha, Q)
    np.testing.assert_allclose(P_b, P_a, atol=1e-10)
    np.testing.assert_allclose(Q_b, Q_a, atol=1e-10)


def test_the_batched_posterior_means_are_the_readable_per_user_ones(data):
    k = 3
    rng = np.random.default_rng(2)
    Q = rng.normal(size=(data.n_items, k))
    m, Lam = rng.normal(size=k), np.eye(k) * 0.5 + 0.1
    got = bayes.sample_all(Batches(data.by_user, k), Q, data.by_user.value, m, Lam, 1.5,
                           np.zeros((data.n_users, k)), None)
    for u in range(data.n_users):
        items, values = data.user_items(u)
        np.testing.assert_allclose(got[u], bayes.sample_user(Q[items], values, m, Lam, 1.5), atol=1e-10)


def test_row_draws_have_the_posterior_mean_and_covariance():
    rng = np.random.default_rng(3)
    Z, y = rng.normal(size=(6, 2)), rng.normal(size=6)
    m0, Lam, alpha = np.array([0.3, -0.2]), np.array([[2.0, 0.5], [0.5, 1.0]]), 1.7
    draws = np.array([bayes.sample_user(Z, y, m0, Lam, alpha, rng) for _ in range(20000)])
    A = Lam + alpha * Z.T @ Z
    mean = np.linalg.solve(A, alpha * Z.T @ y + Lam @ m0)
    cov = np.linalg.inv(A)
    se = np.sqrt(np.diag(cov) / len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * se)
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.05, atol=0.002)


def test_wishart_draws_average_nu_times_the_scale():
    rng = np.random.default_rng(4)
    W, nu = np.array([[1.0, 0.3, 0.0], [0.3, 0.5, 0.1], [0.0, 0.1, 2.0]]), 7
    mean = np.mean([bayes.sample_wishart(W, nu, rng) for _ in range(20000)], axis=0)
    np.testing.assert_allclose(mean, nu * W, rtol=0.03, atol=0.05)


def test_a_sampled_noise_precision_recovers_the_true_noise():
    rng = np.random.default_rng(5)
    U, V = rng.normal(size=(150, 2)), rng.normal(size=(120, 2))
    R = 3 + U @ V.T + rng.normal(0, 0.5, (150, 120))  # noise precision 1 / 0.25 = 4
    R[rng.random(R.shape) < 0.5] = np.nan
    m = bayes.fit(Ratings.from_dense(R), 2, samples=80, burn_in=30, noise_precision=None, seed=0)
    assert np.mean(m.info["noise_precision"][30:]) == pytest.approx(4.0, rel=0.15)


def test_intervals_cover_held_out_genre_ratings_at_about_their_level():
    d = datasets.synthetic_genres()
    m = bayes.fit(d.train, 3, samples=150, burn_in=50, noise_precision=None, seed=0)
    _, low, high = bayes.predict_interval(m, d.test.user, d.test.item, 0.9)
    coverage = np.mean((d.test.value >= low) & (d.test.value <= high))
    assert 0.8 <= coverage <= 0.97, coverage


def test_predict_is_the_average_of_the_kept_draws(data):
    m = bayes.fit(data, 2, samples=12, burn_in=4, noise_precision=2.0, seed=0)
    draws = m.info["draws"]
    manual = np.mean([m.mu + bu[3] + bi[5] + P[3] @ Q[5] for P, Q, bu, bi in draws])
    assert m.predict(3, 5) == pytest.approx(manual)
    assert len(repr(m)) < 300 and "k=2" in repr(m)
    # item 29 has no rating: zero factors and bias in every draw
    assert all(not Q[29].any() and bi[29] == 0 for _, Q, _, bi in draws)


@pytest.mark.parametrize("kwargs, words", [
    (dict(samples=10, burn_in=10), "burn_in=10 must be smaller than samples=10"),
    (dict(noise_precision=0), "noise_precision must be > 0"),
    (dict(biases="yes"), "biases must be True or False"),
])
def test_bad_arguments_are_refused(data, kwargs, words):
    with pytest.raises((ValueError, TypeError), match=words):
        bayes.fit(data, 2, **kwargs)


def test_huge_ratings_give_a_clear_error():
    R = Ratings.from_dense(np.array([[1e200, 3.0], [4.0, -1e200]]))
    with pytest.raises(ValueError, match="rescale the ratings"):
        bayes.fit(R, 1, samples=3, burn_in=1, seed=0)
