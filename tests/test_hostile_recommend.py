"""Recommendations: fold-in against numpy.linalg.lstsq, the popularity model, and users or items
without training ratings said to be so instead of ranked by noise."""
import numpy as np
import pytest

from _reference import stacked_ridge
from mflab import Factorization, Ratings, als, recommend


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
    ([0, 99], [5, 4], r"item indices in \[0, 20\)"),
    ([0, 1], [5], "same, non-zero length"),
    ([], [], "same, non-zero length"),
])
def test_fold_in_refuses_bad_input(data, items, ratings, words):
    model = als.fit(data, 2, reg=0.5, epochs=2, biases=True, seed=0)
    with pytest.raises(ValueError, match=words):
        recommend.fold_in(model, items, ratings, reg=0.5)


def test_popularity_model_ranks_by_count_through_the_usual_calls(data):
    pop = recommend.popularity_model(data, by="count")
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
