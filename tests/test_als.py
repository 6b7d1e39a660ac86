import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mflab import Ratings, als


from _reference import stacked_ridge as stacked_lstsq


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), k=st.integers(1, 6), reg=st.floats(0.01, 10), seed=st.integers(0, 10**6))
def test_solve_user_is_stacked_least_squares(n, k, reg, seed):
    rng = np.random.default_rng(seed)
    Q_u, r_u = rng.normal(size=(n, k)), rng.uniform(1, 5, n)
    np.testing.assert_allclose(als.solve_user(Q_u, r_u, reg), stacked_lstsq(Q_u, r_u, reg), rtol=1e-6, atol=1e-8)


def test_batched_solve_equals_per_user_loop():
    rng = np.random.default_rng(5)
    R = np.where(rng.random((30, 20)) < 0.3, rng.uniform(1, 5, (30, 20)), np.nan)
    R[7] = np.nan  # a user with no ratings keeps its current row
    train = Ratings.from_dense(R)
    Q = rng.normal(size=(20, 4))
    current = rng.normal(size=(30, 4))
    got = als.solve_all(train.by_user, Q, train.by_user.value, 0.3, current)
    for u in range(30):
        items, values = train.user_items(u)
        expected = current[u] if len(items) == 0 else stacked_lstsq(Q[items], values, 0.3)
        np.testing.assert_allclose(got[u], expected, rtol=1e-8, atol=1e-10)


def slow_als(R, k, reg, iters, seed):
    """The material's loop: per user, then per item, np.linalg.solve; same draws for init."""
    rng = np.random.default_rng(seed)
    n, m = R.shape
    P, Q = rng.normal(0, 0.1, (n, k)), rng.normal(0, 0.1, (m, k))
    obs = ~np.isnan(R)
    for _ in range(iters):
        for u in range(n):
            j = np.flatnonzero(obs[u])
            if len(j):
                P[u] = np.linalg.solve(Q[j].T @ Q[j] + reg * np.eye(k), Q[j].T @ R[u, j])
        for i in range(m):
            j = np.flatnonzero(obs[:, i])
            if len(j):
                Q[i] = np.linalg.solve(P[j].T @ P[j] + reg * np.eye(k), P[j].T @ R[j, i])
    return P, Q


def test_fit_equals_slow_loop_and_loss_never_increases():
    rng = np.random.default_rng(6)
    R = np.where(rng.random((25, 15)) < 0.4, rng.uniform(1, 5, (25, 15)), np.nan)
    model = als.fit(Ratings.from_dense(R), 3, reg=0.5, epochs=8, biases=False, seed=11)
    P, Q = slow_als(R, 3, 0.5, 8, 11)
    np.testing.assert_allclose(model.P, P, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.Q, Q, rtol=1e-7, atol=1e-9)
    # each sweep solves its sub-problems exactly, so the regularised loss cannot go up
    train = Ratings.from_dense(R)
    losses = []
    for iters in range(1, 8):
        m = als.fit(train, 3, reg=0.5, epochs=iters, biases=False, seed=11)
        e = train.value - m.predict(train.user, train.item)
        losses.append(np.sum(e ** 2) + 0.5 * (np.sum(m.P ** 2) + np.sum(m.Q ** 2)))
    assert all(b <= a + 1e-9 for a, b in zip(losses, losses[1:]))


def test_biased_als_user_step_is_ridge_on_augmented_features():
    rng = np.random.default_rng(7)
    R = np.where(rng.random((20, 12)) < 0.5, rng.uniform(1, 5, (20, 12)), np.nan)
    train = Ratings.from_dense(R)
    m = als.fit(train, 2, reg=0.7, epochs=1, biases=True, seed=1)
    # after one sweep, item step is the last: check item i's [b_i, q_i] against lstsq with the final users
    for i in range(12):
        users, values = train.item_users(i)
        X = np.column_stack([np.ones(len(users)), m.P[users]])
        y = values - m.mu - m.user_bias[users]
        np.testing.assert_allclose(np.r_[m.item_bias[i], m.Q[i]], stacked_lstsq(X, y, 0.7), rtol=1e-6, atol=1e-9)


def test_drives_training_error_near_zero_on_full_rank_problem(small_full):
    # the matrix is 3 + (rank 2), so rank 3: three factors can fit it exactly, or two plus biases
    model = als.fit(small_full, 3, reg=1e-6, epochs=200, biases=False, seed=0)
    assert model.history["train_rmse"][-1] < 1e-3
    model = als.fit(small_full, 2, reg=1e-6, epochs=200, biases=True, seed=0)
    assert model.history["train_rmse"][-1] < 1e-3


def test_reg_zero_singular_gives_clear_error():
    train = Ratings.from_dense([[1.0, np.nan], [2.0, 3.0]])
    with pytest.raises(ValueError, match=r"reg=0 leaves user 0.s least-squares problem without a unique solution: it has 1 rating\(s\) for 3 unknowns"):
        als.fit(train, 3, reg=0, epochs=1, biases=False, seed=0)


def test_reproduces_material_genre_als(genre):
    m = als.fit(genre.train, 3, reg=0.1, epochs=60, biases=False, seed=genre.rng)
    assert round(m.rmse(genre.train, clip=True), 4) == 0.2392
    assert round(m.rmse(genre.test, clip=True), 4) == 0.5678
