import numpy as np
import pytest

from mflab import Ratings, sgd


def slow_sgd(train, k, lr, reg, epochs, biases, seed):
    """The obvious numpy-per-rating version, fed the same random draws as sgd.fit."""
    rng = np.random.default_rng(seed)
    P = rng.normal(0, 0.1, (train.n_users, k))
    Q = rng.normal(0, 0.1, (train.n_items, k))
    b_u, b_i = np.zeros(train.n_users), np.zeros(train.n_items)
    mu = train.value.mean() if biases else 0.0
    for _ in range(epochs):
        for t in rng.permutation(len(train)):
            u, i, r = train.user[t], train.item[t], train.value[t]
            e = r - (mu + b_u[u] + b_i[i] + P[u] @ Q[i])
            if biases:
                b_u[u] += lr * (e - reg * b_u[u])
                b_i[i] += lr * (e - reg * b_i[i])
            P[u], Q[i] = P[u] + lr * (e * Q[i] - reg * P[u]), Q[i] + lr * (e * P[u] - reg * Q[i])
    return P, Q, b_u, b_i


@pytest.fixture
def sparse():
    rng = np.random.default_rng(8)
    R = np.where(rng.random((15, 12)) < 0.5, rng.integers(1, 6, (15, 12)).astype(float), np.nan)
    return Ratings.from_dense(R)


@pytest.mark.parametrize("biases", [True, False])
def test_compiled_equals_plain_python_equals_slow_version(sparse, biases):
    kw = dict(lr=0.02, reg=0.05, epochs=5, biases=biases, seed=3)
    fast = sgd.fit(sparse, 3, **kw)
    plain = sgd.fit(sparse, 3, compiled=False, **kw)
    for name in ("P", "Q", "user_bias", "item_bias"):  # the same to rounding (a reordered dot sum)
        np.testing.assert_allclose(getattr(fast, name), getattr(plain, name), rtol=0, atol=1e-12)
    P, Q, b_u, b_i = slow_sgd(sparse, 3, 0.02, 0.05, 5, biases, 3)
    np.testing.assert_allclose(fast.P, P, atol=1e-12)
    np.testing.assert_allclose(fast.Q, Q, atol=1e-12)
    np.testing.assert_allclose(fast.user_bias, b_u, atol=1e-12)


@pytest.mark.needs_numba
def test_each_compiled_step_is_the_plain_step_within_1e_12():
    rng = np.random.default_rng(1)
    k = 100  # long enough for the compiled dot product to be vectorised
    P, Q = rng.normal(0, 0.5, (1, k)), rng.normal(0, 0.5, (1, k))
    for r in rng.uniform(1, 5, 200):
        zero = np.zeros(1, dtype=np.int64)
        state = [P.copy(), Q.copy(), np.zeros(1), np.zeros(1)]
        plain = [P.copy(), Q.copy(), np.zeros(1), np.zeros(1)]
        sgd.compiled_epoch(zero, zero, np.array([r]), *state, 3.0, 0.01, 0.02, 0.02, True)
        sgd.epoch(zero, zero, np.array([r]), *plain, 3.0, 0.01, 0.02, 0.02, True)
        for a, b in zip(state, plain):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        P, Q = state[0], state[1]


@pytest.mark.parametrize("biases", [True, False])
def test_the_compiled_kernel_is_the_readable_loop_over_a_whole_epoch(biases):
    # users and items in random order (the prefetches point ahead), k = 100, 3 epochs:
    # compiled _fast_epoch against the plain epoch, and its own source run as Python
    rng = np.random.default_rng(2)
    n_users, n_items, k = 50, 40, 100
    users, items = rng.integers(0, n_users, 300), rng.integers(0, n_items, 300)
    values = rng.uniform(1, 5, 300)
    start = [rng.normal(0, 0.1, (n_users, k)), rng.normal(0, 0.1, (n_items, k)), rng.normal(0, 0.1, n_users),
             rng.normal(0, 0.1, n_items)]
    runs = {name: [a.copy() for a in start] for name in ("compiled", "plain", "fast_as_python")}
    for _ in range(3):
        sse = {name: kernel(users, items, values, *runs[name], 3.5, 0.01, 0.05, 0.02, biases)
               for name, kernel in (("compiled", sgd.compiled_epoch), ("plain", sgd.epoch),
                                    ("fast_as_python", sgd._fast_epoch))}
        for name in ("compiled", "fast_as_python"):
            assert sse[name] == pytest.approx(sse["plain"], rel=1e-12)
            for a, b in zip(runs[name], runs["plain"]):
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert not np.array_equal(runs["plain"][0], start[0])


def test_divergence_is_caught_in_the_compiled_kernel_too(sparse):
    for compiled in (True, False):
        with pytest.raises(sgd.DivergenceError, match="lr=50"):
            sgd.fit(sparse, 3, lr=50.0, epochs=5, seed=0, compiled=compiled)


@pytest.mark.parametrize("shuffle", [True, False])
def test_the_overlapped_bookkeeping_gives_the_same_fit(sparse, monkeypatch, capsys, shuffle):
    # epoch n+1's shuffle and epoch n's history on a second thread: the same draws, the same numbers
    kw = dict(lr=0.02, reg=0.05, epochs=6, seed=5, shuffle=shuffle, test=sparse, progress=True)
    monkeypatch.setattr(sgd.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sgd, "_OVERLAP_MIN", 0)  # this small problem would run in turn
    overlapped = sgd.fit(sparse, 3, **kw)
    printed = capsys.readouterr().out
    monkeypatch.setattr(sgd, "_OVERLAP", False)
    in_turn = sgd.fit(sparse, 3, **kw)
    assert capsys.readouterr().out == printed and printed.count("SGD epoch") == 6
    for name in ("P", "Q", "user_bias", "item_bias"):
        np.testing.assert_array_equal(getattr(overlapped, name), getattr(in_turn, name))
    assert overlapped.history == in_turn.history
    assert overlapped.history["train_rmse"][-1] == pytest.approx(overlapped.rmse(sparse), rel=1e-12)


def test_an_error_in_the_bookkeeping_thread_reaches_the_caller(sparse, monkeypatch):
    def broken(*args):
        raise RuntimeError("history failed")

    monkeypatch.setattr(sgd._history, "rmse", broken)
    monkeypatch.setattr(sgd, "_OVERLAP_MIN", 0)
    for overlap in (True, False):
        monkeypatch.setattr(sgd, "_OVERLAP", overlap)
        with pytest.raises(RuntimeError, match="history failed"):
            sgd.fit(sparse, 3, epochs=3, seed=0)


@pytest.mark.needs_numba
def test_compiled_loop_is_numba():
    import numba

    assert isinstance(sgd.compiled_epoch, numba.core.registry.CPUDispatcher)


def test_slides_worked_example():
    # Alice rates Sholay 5; w = [0.4, 0.2, 0.3], h = [0.95, 0.10, 0.85], alpha = 0.01
    w, h, _, _ = sgd.step(5, [0.4, 0.2, 0.3], [0.95, 0.10, 0.85], lr=0.01)
    np.testing.assert_allclose(w, [0.4 + 0.04345 * 0.95, 0.2 + 0.04345 * 0.10, 0.3 + 0.04345 * 0.85], rtol=1e-12)
    np.testing.assert_allclose(np.round(w, 4), [0.4413, 0.2043, 0.3369])
    # exact h = [0.96738, 0.10869, 0.863035]; the slide prints 0.8631 for the last entry, which is
    # 0.8630 to four decimals: a rounding slip on the slide, within 1e-4 of the exact value
    np.testing.assert_allclose(h, [0.96738, 0.10869, 0.863035], rtol=1e-12)
    np.testing.assert_allclose(h, [0.9674, 0.1087, 0.8631], atol=1e-4)


def test_drives_training_error_near_zero(small_full):
    m = sgd.fit(small_full, 2, lr=0.05, reg=0.0, epochs=3000, biases=True, seed=0)
    assert m.history["train_rmse"][-1] < 1e-3
    assert np.all(np.diff(m.history["train_rmse"][-100:]) <= 1e-12)


def test_history_is_exact_rmse_and_tracks_test(sparse):
    from mflab.splits import random_split

    train, test = random_split(sparse, 0.25, seed=0)
    m = sgd.fit(train, 2, epochs=4, seed=0, test=test)
    assert len(m.history["train_rmse"]) == len(m.history["test_rmse"]) == 4
    assert m.history["train_rmse"][-1] == pytest.approx(m.rmse(train))
    assert m.history["test_rmse"][-1] == pytest.approx(m.rmse(test))


def test_divergence_names_the_learning_rate(sparse):
    with pytest.raises(sgd.DivergenceError, match=r"lr=50.*try lr=5"):
        sgd.fit(sparse, 3, lr=50, epochs=50, seed=0)


def test_seed_int_reproducible_and_generator_continues(sparse):
    a = sgd.fit(sparse, 2, epochs=2, seed=9)
    b = sgd.fit(sparse, 2, epochs=2, seed=9)
    np.testing.assert_array_equal(a.P, b.P)
    rng = np.random.default_rng(9)
    c = sgd.fit(sparse, 2, epochs=2, seed=rng)
    np.testing.assert_array_equal(a.P, c.P)
    d = sgd.fit(sparse, 2, epochs=2, seed=rng)  # the generator moved on
    assert not np.array_equal(c.P, d.P)


def test_init_and_no_shuffle_follow_the_given_order(sparse):
    P0 = np.full((sparse.n_users, 2), 0.5)
    Q0 = np.full((sparse.n_items, 2), 0.5)
    m = sgd.fit(sparse, 2, lr=0.01, reg=0.0, epochs=1, biases=False, shuffle=False, init=(P0, Q0))
    P, Q = P0.copy(), Q0.copy()
    for u, i, r in zip(sparse.user, sparse.item, sparse.value):
        e = r - P[u] @ Q[i]
        P[u], Q[i] = P[u] + 0.01 * e * Q[i], Q[i] + 0.01 * e * P[u]
    np.testing.assert_allclose(m.P, P)
    assert P0[0, 0] == 0.5  # init is copied, not modified
    with pytest.raises(ValueError, match="init must be"):
        sgd.fit(sparse, 3, init=(P0, Q0))


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(k=0), "k must be"), (dict(lr=0), "lr must be > 0"), (dict(reg=-1), "reg must be >= 0"),
     (dict(epochs=0), "epochs must be"), (dict(seed="x"), "seed must be")],
)
def test_bad_arguments(sparse, kwargs, message):
    args = dict(k=2) | kwargs
    with pytest.raises((ValueError, TypeError), match=message):
        sgd.fit(sparse, **args)


def test_train_must_be_ratings():
    with pytest.raises(TypeError, match="Ratings.from_dense"):
        sgd.fit(np.ones((2, 2)), 2)
