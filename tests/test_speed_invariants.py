"""What the fast paths of ALS and SGD must keep: the same answers as the plain versions, and no
users x items array anywhere. (Timings live in bench/, not here.)"""
import tracemalloc

import numpy as np
import pytest

from mflab import Ratings, als, bayes, ridge, sgd


from _reference import stacked_ridge


@pytest.fixture
def uneven():
    """Users with 1 to ~300 ratings, so every path of the batched solver is taken."""
    rng = np.random.default_rng(21)
    n_users, n_items = 60, 400
    counts = np.r_[np.ones(10, int), rng.integers(2, 40, 40), rng.integers(150, 320, 10)]
    user = np.repeat(np.arange(n_users), counts)
    item = np.concatenate([rng.choice(n_items, c, replace=False) for c in counts])
    return Ratings(user, item, rng.uniform(1, 5, len(user)), n_users + 3, n_items)  # 3 users unrated


def test_batched_solver_equals_per_row_ridge(uneven, monkeypatch):
    # small batches force several batches per width class; k = 40 makes wide rows go in column
    # chunks and rows with fewer than 40 ratings take the w x w (dual) route
    monkeypatch.setattr(ridge, "_BATCH_FLOATS", 20_000)
    rng = np.random.default_rng(3)
    k = 40
    Q = rng.normal(size=(uneven.n_items, k))
    current = rng.normal(size=(uneven.n_users, k))
    got = als.solve_all(uneven.by_user, Q, uneven.by_user.value, 0.7, current)
    for u in range(uneven.n_users):
        items, values = uneven.user_items(u)
        if len(items) == 0:
            np.testing.assert_array_equal(got[u], current[u])
        else:
            np.testing.assert_allclose(got[u], als.solve_user(Q[items], values, 0.7), rtol=1e-8, atol=1e-10)


def test_reg_bias_is_the_ridge_on_the_bias_column(uneven):
    m = als.fit(uneven, 3, reg=2.0, reg_bias=0.3, epochs=1, biases=True, seed=1)
    assert m.params["reg_bias"] == 0.3
    ridge = np.r_[0.3, 2.0, 2.0, 2.0]
    for i in np.flatnonzero(uneven.item_counts())[:40]:  # the item step came last
        users, values = uneven.item_users(i)
        X = np.column_stack([np.ones(len(users)), m.P[users]])
        expected = stacked_ridge(X, values - m.mu - m.user_bias[users], ridge)
        np.testing.assert_allclose(np.r_[m.item_bias[i], m.Q[i]], expected, rtol=1e-7, atol=1e-9)


def test_reg_bias_default_is_reg(uneven):
    a = als.fit(uneven, 3, reg=1.5, epochs=3, biases=True, seed=2)
    b = als.fit(uneven, 3, reg=1.5, reg_bias=1.5, epochs=3, biases=True, seed=2)
    np.testing.assert_array_equal(a.P, b.P)
    np.testing.assert_array_equal(a.item_bias, b.item_bias)
    assert a.params["reg_bias"] == b.params["reg_bias"] == 1.5
    with pytest.raises(ValueError, match="reg_bias"):
        als.fit(uneven, 3, reg_bias=-1, biases=True)


@pytest.mark.parametrize("fit", [
    lambda r: als.fit(r, 3, reg=0.5, epochs=4, biases=False, seed=0, test=r),
    lambda r: als.fit(r, 3, reg=0.5, epochs=4, biases=True, seed=0, test=r),
    lambda r: sgd.fit(r, 3, lr=0.01, epochs=4, seed=0, test=r),
])
def test_history_is_the_models_rmse(uneven, fit):
    m = fit(uneven)
    assert m.history["train_rmse"][-1] == pytest.approx(m.rmse(uneven), rel=1e-10)
    assert m.history["test_rmse"][-1] == pytest.approx(m.rmse(uneven), rel=1e-10)


def test_history_rmse_without_numba_is_the_same_number(uneven, monkeypatch):
    from mflab import _history

    m = als.fit(uneven, 3, reg=0.5, epochs=2, biases=True, seed=0)
    compiled = _history.rmse(uneven, m.P, m.Q, m.mu, m.user_bias, m.item_bias)
    monkeypatch.setattr(_history, "_compiled_sse", _history._sse_numpy)  # what runs without numba
    assert _history.rmse(uneven, m.P, m.Q, m.mu, m.user_bias, m.item_bias) == pytest.approx(compiled, rel=1e-12)


def test_sgd_shuffled_copy_gives_the_updates_of_the_permuted_order(uneven):
    kw = dict(lr=0.01, reg=0.05, epochs=3, biases=True)
    fast = sgd.fit(uneven, 4, seed=9, **kw)
    rng = np.random.default_rng(9)
    P, Q = rng.normal(0, 0.1, (uneven.n_users, 4)), rng.normal(0, 0.1, (uneven.n_items, 4))
    P[uneven.user_counts() == 0] = 0  # rows without ratings start (and stay) at zero
    Q[uneven.item_counts() == 0] = 0
    b_u, b_i = np.zeros(uneven.n_users), np.zeros(uneven.n_items)
    for _ in range(3):
        order = rng.permutation(len(uneven))
        sgd.compiled_epoch(uneven.user[order], uneven.item[order], uneven.value[order],
                           P, Q, b_u, b_i, uneven.mean(), 0.01, 0.05, 0.05, True)
    np.testing.assert_array_equal(fast.P, P)
    np.testing.assert_array_equal(fast.Q, Q)
    np.testing.assert_array_equal(fast.item_bias, b_i)


def test_no_fit_allocates_a_users_by_items_array():
    # 10^6 x 10^6: a dense float matrix would be 8 TB. tracemalloc sees every numpy allocation
    # (even one the OS would only commit lazily), so the peak bounds what a fit ever asked for.
    n = 10**6
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, n * n, 3000))
    train = Ratings(keys // n, keys % n, rng.uniform(1, 5, len(keys)), n, n)
    fits = [
        lambda: als.fit(train, 2, reg=0.5, epochs=2, biases=False, seed=0),
        lambda: als.fit(train, 2, reg=0.5, epochs=2, biases=True, seed=0),
        lambda: sgd.fit(train, 2, epochs=2, seed=0),
        lambda: bayes.fit(train, 2, samples=3, burn_in=1, keep=1, seed=0),  # one kept draw: width k
    ]
    sgd.fit(Ratings([0], [0], [1.0], 1, 1), 2, epochs=1, seed=0)  # numba compiles outside the trace
    for fit in fits:
        tracemalloc.start()
        model = fit()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert model.P.shape == (n, 2) and model.Q.shape == (n, 2)
        assert np.isfinite(model.history["train_rmse"][-1])
        assert peak < 400 * 2**20, f"peak {peak / 2**20:.0f} MB"  # P, Q and copies: tens of MB
