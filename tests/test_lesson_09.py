"""The figures lesson 09 (Bayesian MF) prints and the claims its prose makes, held through the
mflab API, so a package change that moves one fails here, fast, before nbval runs the notebook.

Every draw of the sampler goes through a Cholesky factor, so its figures agree across BLAS kernels
and CPUs to about 1e-12 (issue 26); the tolerances below (1e-6 on RMSEs, 1e-4 on sampled
precisions) are far wider than that and far narrower than the printed digits. The fits are the
lesson's own (same data, settings and seeds), made once per module.
"""
from statistics import NormalDist

import numpy as np
import pytest

import mflab
from mflab import als, bayes, gibbs, splits

EXACT = dict(rel=0, abs=1e-6)


@pytest.fixture(scope="module")
def u1():
    return mflab.datasets.movielens_100k_split("u1")


@pytest.fixture(scope="module")
def model(u1):
    """Section 4's fit: 150 sweeps, 30 of burn-in, beta and both priors sampled."""
    train, test = u1
    return bayes.fit(train, 10, epochs=150, burn_in=30, seed=1, test=test)


@pytest.fixture(scope="module")
def intervals(model, u1):
    """Section 6's 90% intervals over the whole test set, and each rating's predictive sd."""
    test = u1[1]
    mean, low, high = bayes.predict_interval(model, test.user, test.item, 0.9)
    return mean, low, high, (high - low) / (2 * NormalDist().inv_cdf(0.95))


def test_section_2_cholesky_draw_has_covariance_inverse_of_the_precision():
    mean = np.array([1.0, -1.0])
    A = np.array([[4.0, 1.5], [1.5, 1.0]])
    eps = np.random.default_rng(0).standard_normal((2, 100_000))
    draws = mean[:, None] + np.linalg.solve(np.linalg.cholesky(A).T, eps)
    np.testing.assert_allclose(np.linalg.inv(A), [[0.571429, -0.857143], [-0.857143, 2.285714]], atol=1e-6)
    assert abs(np.cov(draws) - np.linalg.inv(A)).max() == pytest.approx(0.0100, abs=5e-4)
    np.testing.assert_allclose(draws.mean(axis=1), [0.999, -0.998], atol=1e-3)


def test_section_3_the_hyper_step_recovers_a_known_precision():
    m_true = np.array([0.5, -0.2, 0.1])
    Lam_true = np.array([[4.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    eps = np.random.default_rng(4).standard_normal((3, 943))
    rows = (m_true[:, None] + np.linalg.solve(np.linalg.cholesky(Lam_true).T, eps)).T
    hyper = gibbs.hyperprior(3)
    _, kappa_N, nu_N, _ = gibbs.normal_wishart_posterior(rows, **hyper)
    assert (kappa_N, nu_N) == (945, 946)
    rng = np.random.default_rng(5)
    draws = [gibbs.sample_hyper(rows, rng, **hyper) for _ in range(500)]
    mean_lam = np.mean([lam for _, lam in draws], axis=0)
    np.testing.assert_allclose(mean_lam, [[3.96, 1.06, 0.14], [1.06, 2.13, 0.51], [0.14, 0.51, 0.97]], atol=0.005)
    np.testing.assert_allclose(mean_lam, Lam_true, atol=0.15)  # "they gather around the truth"
    np.testing.assert_allclose(np.mean([m for m, _ in draws], axis=0), [0.49, -0.17, 0.07], atol=0.005)


def test_section_1_check_lambda_15_as_a_prior():
    """The check's answer: lambda = 15 with errors of about 0.9 stars (beta about 1 / 0.81) is a
    prior precision tau = lambda beta of about 18.5, a prior sd of about 0.23 per coordinate."""
    assert round(0.9 ** 2, 2) == 0.81
    tau = 15 / 0.81
    assert round(tau, 1) == 18.5 and round(1 / np.sqrt(tau), 2) == 0.23 and round(2 / np.sqrt(tau), 1) == 0.5


def test_section_3_check_kappa0_share_of_the_posterior_mean():
    """The check's answer: m0 weighs kappa0 / (kappa0 + N) = 2 / 945, about 0.2%."""
    assert round(2 / (2 + 943), 4) == 0.0021


def test_section_4_fit_and_traces(model, u1):
    train, test = u1
    h = {name: np.asarray(values) for name, values in model.history.items()}
    assert model.rmse(test, clip=True) == pytest.approx(0.906162, **EXACT)
    assert (model.info["kept"], model.draws.P.shape, model.P.shape) == (120, (120, 943, 10), (943, 10))
    assert h["noise_precision"][0] == pytest.approx(0.8459, abs=1e-4)
    assert h["noise_precision"][-1] == pytest.approx(1.6166, abs=1e-4)
    # "the sampled beta follows one over the training MSE ... and rises"
    assert 1 / h["train_rmse"][-1] ** 2 == pytest.approx(1.6145, abs=1e-4)
    assert np.corrcoef(h["noise_precision"], 1 / h["train_rmse"] ** 2)[0, 1] > 0.95
    assert h["user_prior_precision"][0] == pytest.approx(165.75, abs=0.01)
    assert h["user_prior_precision"][-1] == pytest.approx(7.4828, abs=1e-4)
    rows = np.column_stack([model.draws.user_bias[-1], model.draws.P[-1]])
    _, Lam_P = gibbs.sample_hyper(rows, np.random.default_rng(3), **gibbs.hyperprior(11))
    assert np.diag(Lam_P).mean() == pytest.approx(7.2606, abs=1e-4)


def test_section_4_equivalent_lambda(model):
    beta = model.info["noise_precision"].mean()
    assert beta == pytest.approx(1.5499, abs=1e-4)
    users = np.diag(model.info["user_prior_precision"]) / beta
    items = np.diag(model.info["item_prior_precision"]) / beta
    np.testing.assert_allclose(users[[0, 1, 8]], [5.871, 10.214, 3.947], atol=1e-3)
    np.testing.assert_allclose(items[[0, 1, 10]], [15.414, 10.623, 20.094], atol=1e-3)
    assert np.all(items > users)  # "items get a stronger pull than users in every coordinate"


def test_section_5_running_average_against_als(model, u1):
    train, test = u1
    h = np.asarray(model.history["test_rmse"])
    np.testing.assert_allclose(h[[39, 59, 99, 149]], [0.919482, 0.910564, 0.907256, 0.906540], atol=1e-6)
    als_model = als.fit(train, 10, reg=15.0, reg_bias=5.0, epochs=15, biases=True, seed=0)
    assert als_model.rmse(test) == pytest.approx(0.925460, **EXACT)
    assert int(np.argmax(h < als_model.rmse(test))) + 1 == 35  # "a few sweeps after burn-in" (30)
    assert np.all(h[35:] < als_model.rmse(test))  # and stays below
    assert als_model.rmse(test, clip=True) - model.rmse(test, clip=True) == pytest.approx(0.0188, abs=1e-4)
    # section 5's figure: each kept draw alone is worse than ALS, and worse at the end than at burn-in
    d = model.draws
    one_draw = np.array([mflab.Factorization(d.P[s], d.Q[s], model.mu, d.user_bias[s], d.item_bias[s]).rmse(test)
                         for s in range(model.info["kept"])])
    np.testing.assert_allclose(one_draw[[0, -1]], [0.950546, 0.991059], atol=1e-6)
    assert one_draw[0] == pytest.approx(h[30], abs=1e-12)  # the first kept draw is the first average
    assert np.all(one_draw > als_model.rmse(test)) and one_draw[-10:].mean() > one_draw[:10].mean()


def test_section_6_intervals(model, u1, intervals):
    train, test = u1
    picks = [0, 100, 2000, 7000, 15000]
    mean, low, high = bayes.predict_interval(model, test.user[picks], test.item[picks], 0.9)
    np.testing.assert_allclose(mean, [3.4817, 3.5903, 4.2081, 3.8348, 3.1569], atol=1e-4)
    np.testing.assert_allclose(low, [1.9826, 2.0976, 2.8165, 2.3591, 1.7793], atol=1e-4)
    np.testing.assert_allclose(high, [4.9808, 5.0831, 5.5998, 5.3105, 4.5345], atol=1e-4)
    draw_sd = np.array([model.mu + model.draws.user_bias[s, test.user] + model.draws.item_bias[s, test.item]
                        + np.einsum("tk,tk->t", model.draws.P[s, test.user], model.draws.Q[s, test.item])
                        for s in range(model.info["kept"])]).std(axis=0)
    n = train.item_counts()[test.item]
    bins = [0, 5, 20, 50, 100, 200, 600]
    by_count = [draw_sd[(n > a) & (n <= b)].mean() for a, b in zip(bins[:-1], bins[1:])]
    np.testing.assert_allclose(by_count, [0.6098, 0.4972, 0.4059, 0.3539, 0.3259, 0.3272], atol=1e-4)
    noise_sd = np.sqrt(np.mean(1 / model.info["noise_precision"]))
    assert noise_sd == pytest.approx(0.8044, abs=1e-4)
    assert noise_sd > max(by_count)  # "most of each interval is the rating noise"


def test_section_6_coverage(u1, intervals):
    test = u1[1]
    mean, _, _, s_ui = intervals
    levels = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    coverage = np.array([np.mean(np.abs(test.value - mean) <= NormalDist().inv_cdf(0.5 + level / 2) * s_ui)
                         for level in levels])
    np.testing.assert_allclose(coverage, [0.5026, 0.6077, 0.70745, 0.805, 0.9031, 0.9464], atol=1e-9)
    assert np.abs(coverage - levels).max() < 0.01  # "within one percentage point at every level"


def test_exercise_2_noise_only_intervals(model, u1, intervals):
    train, test = u1
    mean, low, high, _ = intervals
    noise_sd = np.sqrt(np.mean(1 / model.info["noise_precision"]))
    full = (test.value >= low) & (test.value <= high)
    noise = np.abs(test.value - mean) <= NormalDist().inv_cdf(0.95) * noise_sd
    rare = train.item_counts()[test.item] <= 20
    assert rare.sum() == 1597
    np.testing.assert_allclose([full.mean(), noise.mean(), full[rare].mean(), noise[rare].mean()],
                               [0.9031, 0.86515, 0.902317, 0.831559], atol=1e-6)
    # "the loss is small over all ratings ... and large for the rarely rated movies"
    assert full[rare].mean() - noise[rare].mean() > full.mean() - noise.mean()


def test_section_7_more_factors_on_validation(u1):
    """The cheap end of section 7's grid (a short chain, 20 sweeps, 10 of burn-in); k = 10 and 20
    take seconds more and are held by nbval. Weakly regularised ALS starts to overfit."""
    train = u1[0]
    fit_part, val = splits.per_user_split(train, 0.1, seed=0)
    m = bayes.fit(fit_part, 5, epochs=20, burn_in=10, seed=0)
    got = (m.rmse(fit_part, clip=True), m.rmse(val, clip=True), m.info["noise_precision"].mean())
    np.testing.assert_allclose(got, [0.8736, 0.9295, 1.2554], atol=1e-4)
    weak = [als.fit(fit_part, k, reg=1.0, reg_bias=1.0, epochs=15, biases=True, seed=0).rmse(val, clip=True)
            for k in (5, 10)]
    np.testing.assert_allclose(weak, [0.9910, 1.0336], atol=1e-4)
