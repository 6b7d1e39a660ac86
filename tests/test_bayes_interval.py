"""bayes.predict_interval: the posterior predictive of the kept draws, and clear errors for bad input."""
import numpy as np
import pytest
from statistics import NormalDist

from mflab import ColdStartError, Ratings, als, bayes


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    R = np.where(rng.random((30, 20)) < 0.5, rng.integers(1, 6, (30, 20)).astype(float), np.nan)
    return bayes.fit(Ratings.from_dense(R), 2, epochs=40, burn_in=10, keep=6, seed=0)


def test_the_interval_is_the_draws_spread_plus_the_kept_sweeps_noise(model):
    users, items = np.array([0, 3, 7, 7]), np.array([1, 1, 4, 19])
    mean, low, high = bayes.predict_interval(model, users, items, 0.8)
    d = model.draws
    per_draw = np.array([model.mu + d.user_bias[s, users] + d.item_bias[s, items]
                         + np.sum(d.P[s, users] * d.Q[s, items], axis=1) for s in range(len(d))])
    kept_betas = np.array(model.history["noise_precision"])[np.array(model.info["kept_sweeps"]) - 1]
    np.testing.assert_array_equal(model.info["noise_precision"], kept_betas)  # not the last sweeps'
    sd = np.sqrt(per_draw.var(axis=0) + np.mean(1 / kept_betas))
    z = NormalDist().inv_cdf(0.9)
    np.testing.assert_allclose(mean, per_draw.mean(axis=0))
    np.testing.assert_allclose(low, mean - z * sd)
    np.testing.assert_allclose(high, mean + z * sd)


def test_one_user_against_many_items_broadcasts_like_predict(model):
    mean, low, high = bayes.predict_interval(model, 4, np.arange(20))
    assert mean.shape == low.shape == (20,) and np.all(low < mean) and np.all(mean < high)
    np.testing.assert_allclose(mean, model.predict(4, np.arange(20)))
    one = bayes.predict_interval(model, 4, 7)
    assert np.shape(one[0]) == () and one[1] < one[0] < one[2]
    wider = bayes.predict_interval(model, 4, 7, 0.99)
    assert wider[1] < one[1] and wider[2] > one[2]


def test_no_pairs_give_empty_intervals(model):
    for users, items in (([], []), (np.array([], dtype=int), np.array([], dtype=int))):
        mean, low, high = bayes.predict_interval(model, users, items)
        assert mean.shape == low.shape == high.shape == (0,)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1])
def test_a_level_outside_zero_one_is_refused(model, level):
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        bayes.predict_interval(model, [0], [0], level)


@pytest.mark.parametrize("level", ["0.9", None, True, float("nan")])
def test_a_level_that_is_not_a_number_is_refused(model, level):
    with pytest.raises((TypeError, ValueError), match="level must be"):
        bayes.predict_interval(model, [0], [0], level)


def test_a_model_without_draws_is_refused_naming_what_is_needed(model):
    train = Ratings.from_dense(np.array([[5.0, 3.0], [4.0, np.nan]]))
    point = als.fit(train, 1, reg=0.1, epochs=2, seed=0)
    with pytest.raises(ValueError, match=r"has no posterior draws \(model.draws is None\).*bayes.fit"):
        bayes.predict_interval(point, [0], [0])
    with pytest.raises(TypeError, match="model must be a fitted mflab Factorization"):
        bayes.predict_interval({"draws": None}, [0], [0])


def test_misaligned_or_loose_indices_are_refused(model):
    with pytest.raises(ValueError, match="users and items must be aligned"):
        bayes.predict_interval(model, [0, 1, 2], [0, 1])
    with pytest.raises(TypeError, match="users must be integer indices"):
        bayes.predict_interval(model, [0.5], [1])


def test_unknown_ids_are_cold_start_errors_as_in_predict(model):
    with pytest.raises(ColdStartError, match="user 30 is not in the model"):
        bayes.predict_interval(model, [30], [0])
    with pytest.raises(ColdStartError, match="item 20 is not in the model"):
        bayes.predict_interval(model, [0], [20])
    with pytest.raises(ColdStartError):
        bayes.predict_interval(model, [-1], [0])


def test_intervals_computed_a_block_of_pairs_at_a_time_are_the_same(model, monkeypatch):
    users, items = np.repeat(np.arange(30), 20), np.tile(np.arange(20), 30)
    whole = bayes.predict_interval(model, users, items)
    monkeypatch.setattr(bayes, "_GATHER", 7)  # 3 pairs per block at k = 2
    np.testing.assert_allclose(bayes.predict_interval(model, users, items), whole, rtol=1e-12)
