"""A Factorization checks its parts on construction, cannot be changed afterwards, and refuses
inputs that would give a silent wrong number."""
import numpy as np
import pytest

from mflab import Factorization, Ratings, _checks, als, sgd, svd


def model(**kw):
    parts = dict(P=np.ones((3, 2)), Q=np.ones((4, 2)), mu=1.0)
    return Factorization(**(parts | kw))


@pytest.mark.parametrize("kw, words", [
    (dict(user_bias=np.zeros(2)), "user_bias has 2 entries but P has 3 rows"),
    (dict(item_bias=np.zeros(5)), "item_bias has 5 entries but Q has 4 rows"),
    (dict(Q=np.ones((4, 3))), "same number of columns"),
    (dict(P=np.ones(3)), "P must be 2-D"),
    (dict(P=np.full((3, 2), np.nan)), "P holds NaN"),
    (dict(mu=float("inf")), "mu must be finite"),
    (dict(scale=(5, 1)), "low <= high"),
])
def test_parts_that_do_not_fit_are_refused(kw, words):
    with pytest.raises(ValueError, match=words):
        model(**kw)


def test_arrays_and_history_are_read_only():
    m = model(history={"train_rmse": [1.0, 0.5]}, params={"k": 2})
    for array in (m.P, m.Q, m.user_bias, m.item_bias):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 7
    with pytest.raises(TypeError):
        m.history["train_rmse"] = [0.0]
    with pytest.raises(AttributeError):
        m.history["train_rmse"].append(0.1)
    with pytest.raises(TypeError):
        m.params["k"] = 3


def test_the_caller_s_arrays_are_copied_not_frozen():
    P = np.ones((3, 2))
    model(P=P)
    P[0, 0] = 2.0  # still the caller's to change


def test_predict_refuses_misaligned_users_and_items_and_handles_empty():
    m = model()
    with pytest.raises(ValueError, match="aligned"):
        m.predict([0, 1], [0, 1, 2])
    assert m.predict([], []).shape == (0,)
    np.testing.assert_array_equal(m.predict(0, [1, 2]), [3.0, 3.0])  # one user, several items


@pytest.mark.parametrize("clip, words", [((5, 1), "low <= high"), ((1,), "pair"), ("yes", "pair")])
def test_clip_is_checked(clip, words):
    with pytest.raises((ValueError, TypeError), match=words):
        model().predict([0], [0], clip=clip)


def test_predict_all_is_guarded_above_the_cell_limit(monkeypatch):
    monkeypatch.setattr(_checks, "DENSE_CELL_LIMIT", 11)
    with pytest.raises(ValueError, match=r"dense 3 x 4 array \(12 cells.*force=True"):
        model().predict_all()
    assert model().predict_all(force=True).shape == (3, 4)


def test_predict_all_equals_predict_on_every_cell():
    rng = np.random.default_rng(0)
    m = Factorization(rng.normal(size=(5, 3)), rng.normal(size=(6, 3)), 2.0, rng.normal(size=5),
                      rng.normal(size=6))
    users, items = np.divmod(np.arange(30), 6)
    np.testing.assert_allclose(m.predict_all().ravel(), m.predict(users, items))


def test_repr_is_short_and_settings_are_apart_from_results():
    rng = np.random.default_rng(0)
    R = np.where(rng.random((60, 50)) < 0.5, rng.integers(1, 6, (60, 50)).astype(float), np.nan)
    train = Ratings.from_dense(R)
    fitted = [svd.fit(train, 5), als.fit(train, 5, epochs=3, biases=True, seed=0, test=train),
              sgd.fit(train, 5, epochs=3, biases=True, seed=0, test=train)]
    for m in fitted:
        assert len(repr(m)) < 300, repr(m)
        assert all(np.isscalar(v) or isinstance(v, (str, bool)) for v in m.params.values()), m.params
    assert len(fitted[0].info["singular_values"]) == 50


def test_rows_without_training_ratings_get_zero_factors():
    R = np.full((4, 5), np.nan)
    R[:3, :4] = [[5, 3, 1, 2], [4, 1, 5, 3], [1, 2, 4, 5]]
    train = Ratings.from_dense(R)  # user 3 and item 4 have no ratings
    for m in (als.fit(train, 2, epochs=5, biases=True, seed=0), sgd.fit(train, 2, epochs=5, biases=True, seed=0)):
        assert not m.P[3].any() and not m.Q[4].any()
        assert m.user_bias[3] == 0 and m.item_bias[4] == 0
        assert m.predict(3, 4) == pytest.approx(m.mu)


@pytest.mark.parametrize("fit", [als.fit, sgd.fit])
def test_fits_refuse_non_bool_biases_and_a_seed_numpy_refuses(fit):
    train = Ratings.from_dense(np.array([[5.0, 3.0], [4.0, np.nan]]))
    with pytest.raises(TypeError, match="biases must be True or False; got 1"):
        fit(train, 1, biases=1)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        fit(train, 1, biases=False, seed=-3)


@pytest.mark.parametrize("fit", [als.fit, sgd.fit])
def test_init_is_checked_for_shape_and_finiteness(fit):
    train = Ratings.from_dense(np.array([[5.0, 3.0], [4.0, np.nan]]))
    with pytest.raises(ValueError, match=r"init must be \(P0, Q0\) of shapes \(2, 1\) and \(2, 1\)"):
        fit(train, 1, biases=False, init=(np.ones((2, 2)), np.ones((2, 1))))
    with pytest.raises(ValueError, match="init holds NaN"):
        fit(train, 1, biases=False, init=(np.full((2, 1), np.nan), np.ones((2, 1))))


def test_als_reports_an_overflowing_loss_instead_of_returning_nan():
    train = Ratings.from_dense(np.array([[1e300, 3.0], [4.0, -1e300]]))
    with pytest.raises(ValueError, match="ALS's loss became infinite or NaN in sweep 1"):
        als.fit(train, 1, biases=False, seed=0)


def test_svd_checks_its_baseline_against_the_training_shape():
    from mflab import baseline

    small = Ratings.from_dense(np.array([[5.0, 3.0], [4.0, 1.0]]))
    big = Ratings.from_dense(np.array([[5.0, 3.0, 1.0], [4.0, 1.0, 2.0]]))
    with pytest.raises(ValueError, match="baseline was fitted on 2 users x 2 items but train has 2 x 3"):
        svd.fit(big, 1, baseline=baseline.fit(small))


def test_predict_in_blocks_equals_the_formula(monkeypatch):
    """predict gathers factor rows a block at a time; with tiny blocks it gives the same numbers."""
    from mflab import factorization

    rng = np.random.default_rng(0)
    m = Factorization(P=rng.normal(size=(7, 5)), Q=rng.normal(size=(6, 5)), mu=3.0,
                      user_bias=rng.normal(size=7), item_bias=rng.normal(size=6))
    users, items = rng.integers(0, 7, 40), rng.integers(0, 6, 40)
    direct = 3.0 + m.user_bias[users] + m.item_bias[items] + (m.P[users] * m.Q[items]).sum(axis=1)
    monkeypatch.setattr(factorization, "_GATHER_ELEMENTS", 12)  # two rows per block at k = 5
    np.testing.assert_allclose(m.predict(users, items), direct, rtol=0, atol=1e-12)
    u, i = np.meshgrid(np.arange(7), np.arange(6), indexing="ij")  # 2-D index arrays: the whole matrix
    np.testing.assert_allclose(m.predict(u, i), 3.0 + m.user_bias[:, None] + m.item_bias + m.P @ m.Q.T,
                               atol=1e-12)
    assert m.predict(2, 3).shape == () and m.predict(2, items).shape == (40,)


# ----------------------------------------------------------------------------- draws
def _draws(S=5, n_users=4, n_items=6, k=2, seed=0, mu=True):
    from mflab.factorization import Draws

    rng = np.random.default_rng(seed)
    return Draws(rng.normal(size=(S, n_users, k)), rng.normal(size=(S, n_items, k)),
                 rng.normal(size=(S, n_users)), rng.normal(size=(S, n_items)),
                 mu=3 + rng.normal(size=S) if mu else None)


def _mean_of_draws(D, users, items, mu=None):
    return np.mean([(D.mu[s] if D.mu is not None else mu) + D.user_bias[s][users] + D.item_bias[s][items]
                    + np.sum(D.P[s][users] * D.Q[s][items], axis=1) for s in range(len(D))], axis=0)


def test_with_draws_a_prediction_is_the_mean_of_the_draws_predictions(monkeypatch):
    import mflab.factorization as fz

    D = _draws()
    m = Factorization(None, None, None, draws=D)
    users, items = np.divmod(np.arange(24), 6)
    expected = _mean_of_draws(D, users, items)
    np.testing.assert_allclose(m.predict(users, items), expected, rtol=1e-12)
    np.testing.assert_allclose(m.predict_all().ravel(), expected, rtol=1e-12)
    monkeypatch.setattr(fz, "_GATHER_ELEMENTS", 7)  # one pair (and one draw) per block
    np.testing.assert_allclose(m.predict(users, items), expected, rtol=1e-12)
    np.testing.assert_allclose(m.predict_all().ravel(), expected, rtol=1e-12)
    np.testing.assert_allclose(m.P, D.P.mean(axis=0))
    assert m.k == m.params["k"] == 2 and m.mu == pytest.approx(D.mu.mean())
    assert "5 draws" in repr(m)


def test_draws_without_their_own_mu_use_the_model_s():
    D = _draws(mu=False)
    m = Factorization(None, None, 2.5, draws=D)
    users, items = np.array([0, 3]), np.array([5, 1])
    np.testing.assert_allclose(m.predict(users, items), _mean_of_draws(D, users, items, mu=2.5), rtol=1e-12)


@pytest.mark.parametrize("change, words", [
    (dict(P=np.zeros((4, 2))), "P must be the mean of the draws"),
    (dict(user_bias=np.zeros(4)), "user_bias must be the mean"),
    (dict(mu=0.0), "mu must be the mean"),
    (dict(P=np.zeros((4, 3)), Q=np.zeros((6, 3))), "draws hold P"),
    (dict(draws="draws"), "draws must be an mflab.factorization.Draws"),
])
def test_point_estimates_must_be_the_draws_means(change, words):
    D = _draws()
    parts = dict(P=D.P.mean(0), Q=D.Q.mean(0), mu=float(D.mu.mean()), user_bias=D.user_bias.mean(0),
                 item_bias=D.item_bias.mean(0), draws=D)
    Factorization(**parts)  # the means themselves are accepted
    with pytest.raises((ValueError, TypeError), match=words):
        Factorization(**(parts | change))


@pytest.mark.parametrize("args, words", [
    ((np.zeros((3, 4, 2)), np.zeros((2, 5, 2))), "same S"),
    ((np.zeros((3, 4)), np.zeros((3, 5, 2))), "draws.P must be 3-D"),
    ((np.zeros((3, 4, 2)), np.zeros((3, 5, 2)), np.zeros((3, 5))), r"draws.user_bias must have shape \(S, 4\)"),
    ((np.full((1, 1, 1), np.nan), np.zeros((1, 1, 1))), "draws.P holds NaN"),
])
def test_draws_check_their_shapes(args, words):
    from mflab.factorization import Draws

    with pytest.raises(ValueError, match=words):
        Draws(*args)


def test_k_and_params_k_always_agree():
    assert model().params["k"] == model().k == 2
    with pytest.raises(ValueError, match=r"params\['k'\] is 60 but P and Q have 2 columns"):
        model(params={"k": 60})


def test_rmse_and_mae_of_a_model():
    m = model()  # predicts 3 everywhere
    r = Ratings([0, 1, 2], [0, 1, 3], [1.0, 3.0, 6.0], 3, 4)
    assert m.rmse(r) == pytest.approx(np.sqrt((4 + 0 + 9) / 3))
    assert m.mae(r) == pytest.approx(5 / 3)
    with pytest.raises(TypeError, match="ratings must be an mflab.Ratings"):
        m.rmse(np.ones(3))
