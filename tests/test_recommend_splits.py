import numpy as np
import pytest

from mflab import ColdStartError, Factorization, Ratings, als, recommend, sgd, splits


def checkerboard(n=8):
    """Users and items in two groups; a user rates every item of their own group 5 and the other 1,
    except their 'own' diagonal item, which is held out."""
    R = np.where((np.arange(n)[:, None] % 2) == (np.arange(n)[None, :] % 2), 5.0, 1.0)
    held = R.copy()
    np.fill_diagonal(held, np.nan)
    return R, Ratings.from_dense(held)


@pytest.mark.parametrize("fit", [
    lambda t: als.fit(t, 2, reg=0.01, epochs=30, biases=False, seed=0),
    lambda t: sgd.fit(t, 2, lr=0.02, reg=0.001, epochs=400, biases=False, seed=0),
])
def test_held_out_diagonal_comes_back_first(fit):
    R, train = checkerboard()
    model = fit(train)
    for u in range(8):
        top = model.recommend(u, 1, exclude=train)
        assert top["item"].iloc[0] == u  # the only unrated item, and a 5
        assert model.predict([u], [u])[0] == pytest.approx(5.0, abs=0.2)


def test_recommend_excludes_rated_and_ranks_by_score():
    model = Factorization(np.ones((2, 1)), np.array([[1.0], [3.0], [2.0], [0.0]]))
    train = Ratings([0], [1], [4.0], 2, 4)
    out = model.recommend(0, 3, exclude=train)
    assert list(out["item"]) == [2, 0, 3]
    assert list(model.recommend(1, 2)["item"]) == [1, 2]


def test_similar_items_is_cosine():
    Q = np.array([[1.0, 0.0], [2.0, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    model = Factorization(np.ones((1, 2)), Q)
    out = model.similar_items(0, 3)
    assert list(out["item"]) == [1, 2, 3]
    np.testing.assert_allclose(out["similarity"], [2 / np.hypot(2, 0.1), 0.0, -1.0])
    S = recommend.cosine_similarity(Q)
    np.testing.assert_allclose(np.diag(S), 1.0)


def test_cold_start_user_error_and_popular_fallback():
    train = Ratings([0, 0, 1, 1, 1], [0, 1, 0, 1, 2], [5.0, 1.0, 5.0, 2.0, 4.0], 3, 3)
    model = Factorization(np.zeros((3, 1)), np.zeros((3, 1)))
    with pytest.raises(ColdStartError, match="cold-start user.*popular"):
        model.predict([5], [0])
    out = model.recommend(2, 2, exclude=train, fallback="popular", min_ratings=1)
    assert list(out["source"]) == ["popular", "popular"]
    # damped means with damping 10: item 0 (10 + 10 mu) / 12 beats item 2 and item 1
    mu = train.mean()
    scores = [(10 + 10 * mu) / 12, (3 + 10 * mu) / 12, (4 + 10 * mu) / 11]
    assert list(out["item"]) == list(np.argsort(scores)[::-1][:2])
    out = model.recommend(7, 1, exclude=train, fallback="popular")  # unknown to the model entirely
    assert out["source"].iloc[0] == "popular"


def test_per_user_split_keeps_everyone_and_partitions():
    rng = np.random.default_rng(0)
    R = np.where(rng.random((20, 30)) < 0.5, 3.0, np.nan)
    r = Ratings.from_dense(R)
    train, test = splits.per_user_split(r, 0.2, seed=0)
    assert len(train) + len(test) == len(r)
    np.testing.assert_array_equal(test.user_counts(), np.round(0.2 * r.user_counts()).astype(int))
    both = set(zip(train.user, train.item)) | set(zip(test.user, test.item))
    assert both == set(zip(r.user, r.item)) and not set(zip(train.user, train.item)) & set(zip(test.user, test.item))


def test_random_temporal_and_leave_one_out():
    r = Ratings.from_dense(np.arange(1.0, 13.0).reshape(3, 4))
    train, test = splits.random_split(r, 0.25, seed=1)
    assert (len(train), len(test)) == (9, 3)
    ts = np.arange(12)[::-1]  # rating t happened at time 11 - t
    train, test = splits.temporal_split(r, ts, 0.25)
    assert sorted(test.value) == [1.0, 2.0, 3.0]
    train, test = splits.leave_one_out(r, timestamps=ts)
    assert sorted(test.value) == [1.0, 5.0, 9.0] and len(train) == 9
    with pytest.raises(ValueError, match="test_frac must be in"):
        splits.random_split(r, 1.5)
