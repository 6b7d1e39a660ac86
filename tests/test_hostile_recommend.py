"""Recommendations: fold-in against numpy.linalg.lstsq, the popularity model, users or items
without training ratings said to be so instead of ranked by noise, and hostile arguments (loose
index types, shapes against the model, sizes, text for numbers) refused with the argument named."""
import numpy as np
import pytest

from _reference import stacked_ridge
from mflab import ColdStartError, Factorization, Ratings, _checks, als, baseline, recommend, sgd, svd


@pytest.fixture
def data():
    rng = np.random.default_rng(4)
    R = np.where(rng.random((30, 20)) < 0.4, rng.integers(1, 6, (30, 20)).astype(float), np.nan)
    R[:, 19] = np.nan  # item 19 has no rating
    R[29] = np.nan  # user 29 has none
    return Ratings.from_dense(R)


@pytest.mark.parametrize("biases", [False, True])
def test_fold_in_is_the_stacked_ridge_problem(data, biases):
    model = als.fit(data, 3, reg=0.5, epochs=10, biases=biases, seed=0)
    items, ratings = np.array([2, 5, 7]), np.array([5.0, 1.0, 4.0])
    p, b = recommend.fold_in(model, items, ratings, reg=0.5, reg_bias=0.2)
    target = ratings - model.mu - model.item_bias[items]
    if biases:
        X = np.column_stack([np.ones(3), model.Q[items]])
        expected = stacked_ridge(X, target, np.r_[0.2, np.full(3, 0.5)])
        np.testing.assert_allclose(np.r_[b, p], expected, atol=1e-10)
    else:
        np.testing.assert_allclose(p, stacked_ridge(model.Q[items], target, 0.5), atol=1e-10)
        assert b == 0.0
    assert model.fold_in(items, ratings, reg=0.5, reg_bias=0.2)[1] == b


def test_folding_in_a_training_user_is_als_s_next_user_step(data):
    model = als.fit(data, 3, reg=0.5, epochs=5, biases=True, seed=0)
    g = data.by_user
    X = np.column_stack([np.ones(data.n_items), model.Q])
    step = als.solve_all(g, X, g.value - model.mu - model.item_bias[g.other], 0.5,
                         np.zeros((data.n_users, 4)))  # every user's [b_u, p_u], Q fixed
    items, ratings = data.user_items(4)
    p, b = recommend.fold_in(model, items, ratings, reg=0.5)
    np.testing.assert_allclose(np.r_[b, p], step[4], atol=1e-10)


def test_recommend_new_user_excludes_what_they_rated(data):
    model = als.fit(data, 3, reg=0.5, epochs=10, biases=True, seed=0)
    top = recommend.recommend_new_user(model, [0, 1, 2], [5.0, 5.0, 1.0], 5, reg=0.5)
    assert len(top) == 5 and not {0, 1, 2} & set(top["item"])


@pytest.mark.parametrize("items, ratings, words", [
    ([0, 0], [5, 4], "more than once"),
    ([0, 99], [5, 4], r"items holds 99.*item indices must be in \[0, 20\)"),
    ([0, 1], [5], "same, non-zero length"),
    ([], [], "same, non-zero length"),
])
def test_fold_in_refuses_bad_input(data, items, ratings, words):
    model = als.fit(data, 2, reg=0.5, epochs=2, biases=True, seed=0)
    with pytest.raises(ValueError, match=words):
        recommend.fold_in(model, items, ratings, reg=0.5)


def test_popularity_model_ranks_by_count_through_the_usual_calls(data):
    pop = baseline.popularity(data, by="count")
    assert pop.k == 0 and pop.method == "popularity"
    counts = data.item_counts()
    top = pop.recommend(0, 3)["item"].tolist()
    assert [counts[i] for i in top] == sorted(counts, reverse=True)[:3]
    np.testing.assert_array_equal(recommend.popular(data, 3, by="count")["ratings"], sorted(counts, reverse=True)[:3])
    with pytest.raises(ValueError, match="by must be 'rating'"):
        recommend.popular(data, 3, by="clicks")


def test_an_item_without_ratings_has_no_similar_items(data):
    model = als.fit(data, 3, reg=0.5, epochs=5, biases=True, seed=0)
    with pytest.raises(ValueError, match="item 19 has a zero factor vector"):
        model.similar_items(19)


def test_a_user_without_ratings_is_told_the_list_is_item_biases_only(data):
    model = als.fit(data, 3, reg=0.5, epochs=5, biases=True, seed=0)
    cold = model.recommend(29, 5, exclude=data)
    assert set(cold["source"]) == {"item biases only (this user has no factors)"}
    np.testing.assert_array_equal(cold["item"], np.argsort(-model.item_bias, kind="stable")[:5])
    assert "source" not in model.recommend(3, 5, exclude=data)


# ----------------------------------------------------------------------------- hostile arguments
@pytest.fixture
def model(data):
    return als.fit(data, 3, reg=0.5, epochs=3, biases=True, seed=0)


@pytest.mark.parametrize("call, error, words", [
    # class 2: loose index types are refused, never read as another index
    (lambda m, d: recommend.popular(d, 3, exclude_user=1.5), TypeError, "exclude_user must be an integer"),
    (lambda m, d: recommend.popular(d, 3, exclude_user=True), TypeError, "exclude_user must be an integer"),
    (lambda m, d: recommend.popular(d, 3, exclude_user=-1), ValueError, "exclude_user = -1"),
    (lambda m, d: recommend.similar_items(m, "3"), TypeError, "item must be an integer item index"),
    (lambda m, d: m.similar_items(2.0), TypeError, "item must be an integer item index"),
    (lambda m, d: m.recommend(True, 3), TypeError, "user must be an integer"),
    (lambda m, d: recommend.top_n_batch(m, [0, 1.5], 3), TypeError, "users must hold integer"),
    (lambda m, d: recommend.top_n_batch(m, np.array([True, False]), 3), TypeError, "users holds booleans"),
    (lambda m, d: recommend.fold_in(m, [0, -1], [4, 5]), ValueError, "items holds -1"),
    (lambda m, d: recommend.fold_in(m, [0.0, 1.0], [4, 5]), TypeError, "items must hold integer"),
    # counts and thresholds
    (lambda m, d: recommend.top_n(m, 0, 3, min_ratings="a"), TypeError, "min_ratings must be an integer"),
    (lambda m, d: recommend.top_n(m, 0, 3, min_ratings=-1), ValueError, "min_ratings must be an integer >= 0"),
    (lambda m, d: recommend.top_n(m, 0, 2.5), TypeError, "n must be an integer"),
    (lambda m, d: recommend.top_n_batch(m, [0], 0), ValueError, "n must be an integer >= 1"),
    # text where numbers belong
    (lambda m, d: recommend.fold_in(m, [0, 1], ["4", "x"]), TypeError, "ratings must be an array of numbers"),
    (lambda m, d: recommend.fold_in(m, [0, 1], [4, np.nan]), ValueError, "ratings holds NaN"),
])
def test_loose_arguments_are_refused_naming_the_argument(model, data, call, error, words):
    with pytest.raises(error, match=words):
        call(model, data)


def _other_shape(data, extra_users=0, extra_items=0):
    return Ratings(data.user, data.item, data.value, data.n_users + extra_users, data.n_items + extra_items)


@pytest.mark.parametrize("call", [
    lambda m, other: m.recommend(0, 3, exclude=other),
    lambda m, other: recommend.top_n(m, 0, 3, exclude=other, fallback="popular"),
    lambda m, other: recommend.top_n_batch(m, [0, 1], 3, exclude=other),
])
@pytest.mark.parametrize("extra", [(0, 1), (1, 0), (0, -1)])
def test_an_exclude_of_another_shape_is_refused(model, data, call, extra):
    # class 3: a wider exclude would skip another data set's items; a narrower one none of the last
    other = _other_shape(data, *extra)
    with pytest.raises(ValueError, match=r"exclude has shape .* but the model was fitted on 30 x 20"):
        call(model, other)


def test_unknown_users_in_a_batch_are_cold_start_errors(model):
    with pytest.raises(ColdStartError, match="user 30 is not in the model"):
        recommend.top_n_batch(model, [0, 30], 3)
    with pytest.raises(ColdStartError, match="user 30"):
        model.recommend(30, 3)


def test_a_popularity_model_over_too_many_items_is_refused_before_allocating(monkeypatch):
    # class 5: 2**40 items would be 8 TiB of scores; the guard fires first, naming the size
    huge = Ratings([0, 1], [0, 2**40 - 1], [4.0, 5.0], 2, 2**40)
    for call in (lambda: baseline.popularity(huge), lambda: recommend.popular(huge, 3),
                 lambda: recommend.popularity_scores(huge, by="count")):
        with pytest.raises(ValueError, match=r"train.n_items=1,099,511,627,776.*force=True"):
            call()
    monkeypatch.setattr(_checks, "DENSE_CELL_LIMIT", 10)
    small = Ratings([0, 1], [0, 39], [4.0, 5.0], 2, 40)
    with pytest.raises(ValueError, match="force=True"):
        baseline.popularity(small)
    assert baseline.popularity(small, force=True).n_items == 40


# ----------------------------------------------------------------------------- fold-in, the model's own reg
def test_fold_in_uses_the_model_s_own_reg_by_default(data):
    plain = als.fit(data, 3, reg=0.7, reg_bias=0.3, epochs=3, biases=True, seed=0)
    items, ratings = np.array([1, 4, 6]), np.array([4.0, 2.0, 5.0])
    own = plain.fold_in(items, ratings)
    given = plain.fold_in(items, ratings, reg=0.7, reg_bias=0.3)
    np.testing.assert_array_equal(own[0], given[0])
    target = ratings - plain.mu - plain.item_bias[items]
    X = np.column_stack([np.ones(3), plain.Q[items]])
    np.testing.assert_allclose(np.r_[own[1], own[0]], stacked_ridge(X, target, np.r_[0.3, 0.7, 0.7, 0.7]), atol=1e-10)


@pytest.mark.parametrize("fit", [
    lambda d: sgd.fit(d, 3, reg=0.05, reg_bias=0.02, epochs=3, seed=0),
    lambda d: als.fit(d, 3, reg=0.05, reg_bias=0.02, reg_scaling="count", epochs=3, seed=0),
], ids=["sgd", "als-count"])
def test_count_scaled_models_fold_in_with_reg_times_the_number_of_ratings(data, fit):
    model = fit(data)
    assert model.params["reg_scaling"] == "count"
    items, ratings = np.array([0, 2, 3, 5]), np.array([5.0, 3.0, 1.0, 4.0])
    target = ratings - model.mu - model.item_bias[items]
    X = np.column_stack([np.ones(4), model.Q[items]])
    expected = stacked_ridge(X, target, 4 * np.r_[0.02, 0.05, 0.05, 0.05])  # n = 4 ratings
    p, b = recommend.fold_in(model, items, ratings)
    np.testing.assert_allclose(np.r_[b, p], expected, atol=1e-10)
    p_plain, b_plain = recommend.fold_in(model, items, ratings, reg=0.05, reg_bias=0.02, reg_scaling="none")
    np.testing.assert_allclose(np.r_[b_plain, p_plain], stacked_ridge(X, target, np.r_[0.02, 0.05, 0.05, 0.05]),
                               atol=1e-10)


def test_models_without_a_reg_of_their_own_need_it_given(data):
    for model in (svd.fit(data, 2), baseline.popularity(data)):
        with pytest.raises(ValueError, match=r"fold_in needs reg: (svd|popularity) was fitted without a reg"):
            model.fold_in([0, 1], [4.0, 5.0])
    p, b = svd.fit(data, 2).fold_in([0, 1], [4.0, 5.0], reg=1.0)
    assert p.shape == (2,)
    base = baseline.fit(data, reg_user=2.0)
    p, b = base.fold_in([0, 1, 3], [4.0, 5.0, 1.0])  # k = 0: only b_u, with the baseline's reg_user
    residual = np.array([4.0, 5.0, 1.0]) - base.mu - base.item_bias[[0, 1, 3]]
    assert p.shape == (0,) and b == pytest.approx(residual.sum() / (2.0 + 3))


def test_bayesian_mf_folds_in_with_its_own_learned_prior(data):
    from mflab import bayes

    model = bayes.fit(data, 3, epochs=8, burn_in=3, seed=0)
    items, ratings = np.array([1, 2, 5, 8]), np.array([5.0, 4.0, 1.0, 3.0])
    p, b = model.fold_in(items, ratings)
    # posterior mean = argmin beta |y - Z x|^2 + (x - m)^T Lambda (x - m): least squares on the
    # stacked system [sqrt(beta) Z; L^T] x = [sqrt(beta) y; L^T m], Lambda = L L^T
    m, Lam = np.asarray(model.info["user_prior_mean"]), np.asarray(model.info["user_prior_precision"])
    beta = np.mean(model.info["noise_precision"])
    Z = np.column_stack([np.ones(4), model.Q[items]])
    y = ratings - model.mu - model.item_bias[items]
    L = np.linalg.cholesky(Lam)
    x = np.linalg.lstsq(np.vstack([np.sqrt(beta) * Z, L.T]), np.r_[np.sqrt(beta) * y, L.T @ m], rcond=None)[0]
    np.testing.assert_allclose(np.r_[b, p], x, atol=1e-10)
    p_ridge, _ = model.fold_in(items, ratings, reg=1.0)  # a given reg: the ridge solve instead
    assert not np.allclose(p_ridge, p)


def test_implicit_models_refuse_the_explicit_fold_in(data):
    from mflab import implicit

    model = implicit.als.fit(data, 2, epochs=2, seed=0)
    with pytest.raises(ValueError, match="implicit.als.solve_user"):
        model.fold_in([0, 1], [1.0, 1.0])
