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


# ----------------------------------------------------------------------------- batched top-n
def _loop(model, users, n, exclude):
    rows = []
    for u in users:
        items = model.recommend(int(u), n, exclude=exclude)["item"].to_numpy()
        rows.append(np.r_[items, np.full(n - len(items), -1)])
    return np.array(rows, dtype=np.int64)


@pytest.fixture
def dense_rater():
    rng = np.random.default_rng(5)
    R = np.where(rng.random((25, 12)) < 0.5, rng.integers(1, 6, (25, 12)).astype(float), np.nan)
    R[3] = 4.0  # user 3 rated everything: nothing left to recommend
    R[4, :10] = 3.0  # user 4 has 2 items left
    return Ratings.from_dense(R)


@pytest.mark.parametrize("kind", ["als", "draws", "ties"])
def test_top_n_batch_is_top_n_in_a_loop(dense_rater, kind, monkeypatch):
    from mflab.factorization import Draws

    train = dense_rater
    model = als.fit(train, 3, reg=0.5, epochs=4, seed=0)
    if kind == "draws":
        rng = np.random.default_rng(1)
        model = Factorization(None, None, None, draws=Draws(rng.normal(size=(4, 25, 3)), rng.normal(size=(4, 12, 3)),
                                                            rng.normal(size=(4, 25)), rng.normal(size=(4, 12))))
    elif kind == "ties":  # items 0, 5 and 7 identical: ties go to the lower index
        Q = model.Q.copy()
        Q[[5, 7]] = Q[0]
        b = model.item_bias.copy()
        b[[5, 7]] = b[0]
        model = Factorization(model.P, Q, model.mu, model.user_bias, b)
    monkeypatch.setattr(recommend, "_BLOCK_CELLS", 40)  # blocks of 3 users: several blocks
    users = np.r_[np.arange(25)[::-1], 3, 4, 0]
    for exclude in (train, None):
        got = recommend.top_n_batch(model, users, 5, exclude=exclude)
        assert got.shape == (len(users), 5) and got.dtype == np.int64
        np.testing.assert_array_equal(got, _loop(model, users, 5, exclude))
    excluded = recommend.top_n_batch(model, [3, 4], 5, exclude=train)
    np.testing.assert_array_equal(excluded[0], -1)
    assert (excluded[1, 2:] == -1).all() and set(excluded[1, :2]) == {10, 11}
    assert recommend.top_n_batch(model, [], 5).shape == (0, 5)


def test_top_n_scores_are_the_model_s_predictions(dense_rater):
    model = sgd.fit(dense_rater, 3, epochs=3, seed=0)
    top = model.recommend(2, 4, exclude=dense_rater)
    np.testing.assert_allclose(top["score"], model.predict(2, top["item"].to_numpy()), rtol=1e-12)
    assert not set(top["item"]) & set(dense_rater.user_items(2)[0].tolist())
