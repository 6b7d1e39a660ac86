"""Bayesian MF's fit: the contract (draws, posterior means, kept sweeps, keywords), the noise
precision and hyperprior it samples, and calibrated intervals at the default settings."""
import numpy as np
import pytest

import mflab
from mflab import Factorization, Ratings, bayes, datasets


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    R = np.where(rng.random((40, 30)) < 0.4, rng.integers(1, 6, (40, 30)).astype(float), np.nan)
    R[:, 29] = np.nan
    return Ratings.from_dense(R)


def known_noise(seed=5, n_users=300, n_items=250, k=3, noise_sd=0.5):
    """Ratings 3 + U V^T + N(0, noise_sd^2) (noise precision 4 by default): 30% for training, and
    10% of the rest for testing."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(size=(n_users, k)), rng.normal(size=(n_items, k))
    R = 3 + U @ V.T + rng.normal(0, noise_sd, (n_users, n_items))
    train = rng.random(R.shape) < 0.3
    test = ~train & (rng.random(R.shape) < 0.1)
    return Ratings.from_dense(np.where(train, R, np.nan)), Ratings.from_dense(np.where(test, R, np.nan))


def coverage(model, test, level=0.9):
    _, low, high = bayes.predict_interval(model, test.user, test.item, level)
    return np.mean((test.value >= low) & (test.value <= high))


def test_the_model_is_the_posterior_mean_of_its_draws(data):
    m = bayes.fit(data, 2, epochs=12, burn_in=4, noise_precision=2.0, seed=0)
    assert isinstance(m, Factorization) and m.k == m.params["k"] == 2
    assert m.P.shape == (40, 2) and m.draws.P.shape == (8, 40, 2) and m.draws.Q.shape == (8, 30, 2)
    np.testing.assert_allclose(m.P, m.draws.P.mean(axis=0))
    np.testing.assert_allclose(m.item_bias, m.draws.item_bias.mean(axis=0))
    manual = np.mean([m.mu + bu[3] + bi[5] + P[3] @ Q[5]
                      for P, Q, bu, bi in zip(m.draws.P, m.draws.Q, m.draws.user_bias, m.draws.item_bias)])
    assert m.predict(3, 5) == pytest.approx(manual)
    assert not m.draws.P.flags.writeable and not m.info["noise_precision"].flags.writeable
    assert not m.draws.Q[:, 29].any() and not m.draws.item_bias[:, 29].any()  # item 29 has no rating
    Q = m.Q / np.linalg.norm(m.Q, axis=1, keepdims=True).clip(1e-12)  # the posterior-mean Q (k columns)
    cosine = Q[:29] @ Q[0]
    cosine[0] = -np.inf
    assert m.similar_items(0, 3)["item"].iloc[0] == np.argmax(cosine)


def test_keep_none_keeps_every_sweep_after_burn_in_and_an_int_thins_evenly(data):
    m = bayes.fit(data, 2, epochs=12, burn_in=4, seed=0)
    assert m.info["kept"] == len(m.draws) == 8 and list(m.info["kept_sweeps"]) == list(range(5, 13))
    thin = bayes.fit(data, 2, epochs=30, burn_in=10, keep=5, seed=0)
    sweeps = np.array(thin.info["kept_sweeps"])
    assert len(thin.draws) == thin.info["kept"] == 5 and sweeps[0] == 11 and sweeps[-1] == 30
    assert set(np.diff(sweeps)) <= {4, 5, 6}
    every = bayes.fit(data, 2, epochs=30, burn_in=10, keep=20, seed=0)
    assert list(every.info["kept_sweeps"]) == list(range(11, 31))
    # the kept draws are those sweeps' states: the same chain, thinned
    np.testing.assert_array_equal(thin.draws.P, every.draws.P[sweeps - 11])
    np.testing.assert_array_equal(thin.info["noise_precision"], np.array(every.history["noise_precision"])[sweeps - 1])


def test_history_traces_the_noise_the_hyperparameters_and_the_running_mean(data):
    train, test = data, Ratings(data.user[:40], data.item[:40], data.value[:40], 40, 30)
    m = bayes.fit(train, 2, epochs=15, burn_in=5, keep=4, seed=1, test=test)
    assert {len(v) for v in m.history.values()} == {15}
    assert set(m.history) == {"train_rmse", "test_rmse", "noise_precision", "user_prior_precision",
                              "item_prior_precision"}
    assert m.history["test_rmse"][-1] == pytest.approx(m.rmse(test))  # running mean of the kept draws
    fixed = bayes.fit(train, 2, epochs=6, burn_in=2, noise_precision=1.7, seed=1)
    assert fixed.history["noise_precision"] == (1.7,) * 6
    assert np.all(np.array(m.history["user_prior_precision"]) > 0)
    assert m.info["user_prior_precision"].shape == (3, 3) and m.info["item_prior_mean"].shape == (3,)


def test_samples_is_another_name_for_epochs(data):
    a = bayes.fit(data, 2, samples=8, burn_in=2, seed=3)
    b = bayes.fit(data, 2, epochs=8, burn_in=2, seed=3)
    c = bayes.fit(data, 2, epochs=8, samples=8, burn_in=2, seed=3)
    np.testing.assert_array_equal(a.draws.P, b.draws.P)
    np.testing.assert_array_equal(c.draws.P, b.draws.P)
    assert a.params["epochs"] == 8 and "samples" not in a.params
    assert len(bayes.fit(data, 1, burn_in=99, seed=0).history["train_rmse"]) == bayes.EPOCHS == 100


def test_a_sampled_noise_precision_recovers_the_true_one():
    train, _ = known_noise(n_users=150, n_items=120, k=2, noise_sd=0.5)
    m = bayes.fit(train, 2, epochs=60, burn_in=20, seed=0)  # noise precision sampled by default
    assert m.params["noise_precision"] is None
    assert np.mean(m.info["noise_precision"]) == pytest.approx(4.0, rel=0.15)


def test_the_hyperprior_keywords_reach_the_sampler(data):
    # a prior mean held by kappa0 = 10^6 pseudo-rows pins the users' prior mean m_P to m0
    m0 = np.array([0.5, -1.0, 2.0])
    m = bayes.fit(data, 2, epochs=6, burn_in=2, m0=m0, kappa0=1e6, seed=0)
    np.testing.assert_allclose(m.info["user_prior_mean"], m0, atol=0.01)
    assert m.params["nu0"] == 3 and m.params["kappa0"] == 1e6
    # a tiny W0 with a large nu0 sets the prior precision near nu0 W0 whatever the data
    tight = bayes.fit(data, 2, epochs=6, burn_in=2, W0=1e-3, nu0=1e4, biases=False, seed=0)
    np.testing.assert_allclose(tight.info["user_prior_precision"], 10 * np.eye(2), rtol=0.1, atol=0.3)


def test_init_starts_the_chain(data):
    rng = np.random.default_rng(0)
    init = (rng.normal(size=(40, 2)), rng.normal(size=(30, 2)))
    a = bayes.fit(data, 2, epochs=3, burn_in=1, init=init, seed=0)
    b = bayes.fit(data, 2, epochs=3, burn_in=1, seed=0)
    assert a.history["train_rmse"][0] != b.history["train_rmse"][0]
    with pytest.raises(ValueError, match="init must be"):
        bayes.fit(data, 2, epochs=3, burn_in=1, init=(init[0][:, :1], init[1]))


@pytest.mark.parametrize("kwargs, words", [
    (dict(epochs=10, burn_in=10), "burn_in=10 must be smaller than epochs=10"),
    (dict(samples=10, epochs=12), "epochs=12 and samples=10 disagree"),
    (dict(epochs=30, burn_in=10, keep=21), "keep=21 is more than the 20 sweeps after burn-in"),
    (dict(keep=0), "keep must be an integer >= 1"),
    (dict(noise_precision=0), "noise_precision must be > 0"),
    (dict(noise_shape=-1), "noise_shape must be > 0"),
    (dict(nu0=2), r"nu0 must be > d - 1 = 2"),
    (dict(W0=np.eye(2)), r"W0 must be a number > 0 \(times the identity\) or a symmetric positive definite 3 x 3"),
    (dict(W0=-np.eye(3)), "W0 must be"),
    (dict(m0=[1.0, 2.0]), "m0 must be a number or a vector of d = 3 entries"),
    (dict(kappa0=0), "kappa0 must be > 0"),
    (dict(biases="yes"), "biases must be True or False"),
    (dict(seed="a"), "seed must be"),
])
def test_bad_arguments_are_refused(data, kwargs, words):
    with pytest.raises((ValueError, TypeError), match=words):
        bayes.fit(data, 2, **kwargs)


def test_every_draw_goes_through_a_cholesky_factor(data, monkeypatch):
    # an SVD or eigendecomposition (rng.multivariate_normal uses an SVD) can flip a vector's sign
    # under a rounding-sized change of its input: that made the chain, and lesson figures, depend
    # on the BLAS kernel. A Cholesky factor is continuous in its input.
    def refuse(*args, **kwargs):
        raise AssertionError("the sampler called an SVD or eigendecomposition")

    for name in ("svd", "eig", "eigh"):
        monkeypatch.setattr(np.linalg, name, refuse)
    bayes.fit(data, 2, epochs=4, burn_in=1, W0=np.eye(3), seed=0)


def test_huge_ratings_give_a_clear_error():
    R = Ratings.from_dense(np.array([[1e200, 3.0], [4.0, -1e200]]))
    with pytest.raises(ValueError, match="rescale the ratings"):
        bayes.fit(R, 1, epochs=3, burn_in=1, seed=0)


def test_intervals_cover_known_noise_at_about_their_level_at_the_defaults():
    train, test = known_noise()  # noise precision 4
    m = bayes.fit(train, 3, seed=0)
    assert np.mean(m.info["noise_precision"]) == pytest.approx(4.0, rel=0.05)
    assert 0.87 <= coverage(m, test) <= 0.93, coverage(m, test)  # measured 0.8925 (seeds 0-2: 0.891-0.894)


def test_intervals_cover_held_out_genre_ratings_at_about_their_level():
    d = datasets.synthetic_genres()
    m = bayes.fit(d.train, 3, epochs=150, burn_in=50, seed=0)
    assert 0.85 <= coverage(m, d.test) <= 0.95, coverage(m, d.test)


@pytest.fixture(scope="module")
def u1():
    train, test = mflab.datasets.movielens_100k_split("u1")
    return bayes.fit(train, 10, seed=0), test  # the defaults: 100 sweeps, 20 burn-in, beta sampled


def test_u1_at_the_defaults_is_accurate_and_calibrated(u1):
    # about 2.5 s on two quiet cores. Across OpenBLAS kernels (SkylakeX, Haswell, Nehalem) the draws
    # agree to 1e-12; the tolerance leaves room for other numpy and LAPACK builds.
    model, test = u1
    assert model.rmse(test, clip=True) == pytest.approx(0.9074, abs=0.001)
    assert 0.89 <= coverage(model, test) <= 0.92  # measured 0.9040 (seeds 0-2: 0.903-0.905)
    assert model.info["kept"] == 80 and np.mean(model.info["noise_precision"]) == pytest.approx(1.47, abs=0.03)
