"""Implicit feedback: the Y^T Y trick, the exact and CG solves against numpy.linalg.lstsq, the full
loss never rising, BPR's gradient against finite differences, and known answers on planted data."""
import numpy as np
import pytest

from _reference import stacked_ridge
from mflab import Ratings, implicit, metrics


@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    M = rng.random((12, 9)) < 0.35
    u, i = np.nonzero(M)
    return Ratings(u, i, rng.integers(1, 6, len(u)).astype(float), 12, 9)


def test_the_yty_trick_equals_the_dense_weighted_product(small):
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(9, 3))
    alpha = 2.0
    C = 1 + alpha * small.to_dense(fill=0.0)
    for u in range(small.n_users):
        items, r = small.user_items(u)
        dense = Y.T @ np.diag(C[u]) @ Y
        trick = Y.T @ Y + Y[items].T @ np.diag(alpha * r) @ Y[items]
        np.testing.assert_allclose(trick, dense, atol=1e-12)


def test_the_exact_solve_is_the_confidence_weighted_least_squares(small):
    rng = np.random.default_rng(2)
    Y, alpha, reg = rng.normal(size=(9, 3)), 3.0, 0.4
    C, pref = 1 + alpha * small.to_dense(fill=0.0), small.mask().astype(float)
    for u in range(small.n_users):
        items, r = small.user_items(u)
        got = implicit.solve_user(Y, Y.T @ Y, items, 1 + alpha * r, reg)
        w = np.sqrt(C[u])  # every item, weighted: the definition, with no trick
        np.testing.assert_allclose(got, stacked_ridge(w[:, None] * Y, w * pref[u], reg), atol=1e-10)


def test_cg_converges_to_the_exact_solve(small):
    exact = implicit.als(small, 4, alpha=5.0, reg=0.1, epochs=1, solver="exact", seed=3)
    errors = [np.abs(implicit.als(small, 4, alpha=5.0, reg=0.1, epochs=1, solver="cg", cg_steps=s,
                                  seed=3).P - exact.P).max() for s in (1, 2, 3, 4)]
    assert errors[0] > errors[1] > errors[2] and errors[3] < 1e-6  # CG is exact after k steps


def test_compiled_parallel_cg_equals_the_plain_loop(small):
    rng = np.random.default_rng(7)
    g = small.by_user
    Y, X0, w = rng.normal(size=(9, 3)), rng.normal(size=(12, 3)), 4.0 * g.value
    YtY = Y.T @ Y + 0.1 * np.eye(3)
    plain, compiled = X0.copy(), X0.copy()
    implicit.cg_rows(np.arange(12), g.indptr, g.other, w + 1, w, Y, YtY, plain, 2)
    implicit.compiled_cg_rows(rng.permutation(12), g.indptr, g.other, w + 1, w, Y, YtY, compiled, 2)
    np.testing.assert_allclose(compiled, plain, atol=1e-12)
    assert np.abs(plain - X0).max() > 0.01  # the rows did move


def test_float32_als_is_float64_als_to_single_precision(small):
    kw = dict(alpha=5.0, reg=0.1, epochs=5, seed=8)
    single, double = implicit.als(small, 3, dtype="float32", **kw), implicit.als(small, 3, **kw)
    assert single.params["dtype"] == "float32" and not np.array_equal(single.P, double.P)
    for a, b in ((single.P, double.P), (single.Q, double.Q)):  # CG carries rounding from sweep to sweep
        assert np.abs(a - b).max() < 1e-3 * np.abs(b).max()


def test_given_starting_factors_replace_the_seed(small):
    rng = np.random.default_rng(9)
    init = (rng.normal(0, 0.1, (12, 3)), rng.normal(0, 0.1, (9, 3)))
    als = [implicit.als(small, 3, alpha=5.0, epochs=2, init=init, seed=s) for s in (1, 2)]
    np.testing.assert_array_equal(als[0].P, als[1].P)
    barely_moved = implicit.bpr(small, 3, lr=1e-9, epochs=1, init=init, seed=1)  # BPR's seed samples
    rated = small.user_counts() > 0
    np.testing.assert_allclose(barely_moved.P[rated], init[0][rated], atol=1e-6)


def test_the_full_loss_never_increases_over_exact_sweeps(small):
    kw = dict(alpha=5.0, reg=0.1, solver="exact", seed=4)
    values = [implicit.loss(implicit.als(small, 3, epochs=n, **kw), small, alpha=5.0, reg=0.1) for n in range(1, 8)]
    assert all(b <= a + 1e-9 for a, b in zip(values, values[1:])), values


def bpr_objective(P, Q, b, u, i, j, reg):
    x = P[u] @ (Q[i] - Q[j]) + b[i] - b[j]
    return np.log(1 / (1 + np.exp(-x))) - reg / 2 * (P[u] @ P[u] + Q[i] @ Q[i] + Q[j] @ Q[j] + b[i] ** 2 + b[j] ** 2)


def test_a_bpr_step_climbs_the_finite_difference_gradient():
    rng = np.random.default_rng(5)
    P, Q, b = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    u, i, j, lr, reg = 1, 0, 3, 1e-3, 0.1
    indptr, items_sorted = np.array([0, 0, 1]), np.array([0])  # user 1 touched item 0 only
    P1, Q1, b1 = P.copy(), Q.copy(), b.copy()
    implicit.bpr_epoch(np.array([u]), np.array([i]), np.array([j]), indptr, items_sorted, P1, Q1, b1, lr, reg)
    h = 1e-6
    for name, old, new in (("P", P, P1), ("Q", Q, Q1), ("b", b, b1)):
        grad = np.zeros_like(old)
        for idx in np.ndindex(old.shape):
            plus, minus = old.copy(), old.copy()
            plus[idx] += h
            minus[idx] -= h
            args = {"P": P, "Q": Q, "b": b}
            f = lambda a: bpr_objective(**(args | {name: a}), u=u, i=i, j=j, reg=reg)  # noqa: E731
            grad[idx] = (f(plus) - f(minus)) / (2 * h)
        np.testing.assert_allclose((new - old) / lr, grad, atol=1e-6)


def test_bpr_skips_a_negative_the_user_touched():
    P, Q, b = np.ones((1, 2)), np.ones((2, 2)), np.zeros(2)
    used = implicit.bpr_epoch(np.array([0]), np.array([0]), np.array([1]), np.array([0, 2]),
                              np.array([0, 1]), P, Q, b, 0.1, 0.0)
    assert used == 0 and (P == 1).all()


def planted(seed=6):
    """Three groups: each user touched every item of their own group, none of the others; a random
    20% of the touches are held out, so a perfect ranker puts them above every other group's item."""
    rng = np.random.default_rng(seed)
    group_u, group_i = np.arange(60) % 3, np.arange(42) % 3
    M = group_u[:, None] == group_i[None, :]
    u, i = np.nonzero(M)
    held = rng.random(len(u)) < 0.2
    whole = Ratings(u, i, np.ones(len(u)), 60, 42)
    return whole.subset(~held), whole.subset(held)


@pytest.mark.parametrize("fit", [lambda t: implicit.als(t, 4, alpha=10.0, reg=0.1, epochs=10, seed=0),
                                 lambda t: implicit.bpr(t, 4, lr=0.05, epochs=40, seed=0),
                                 lambda t: implicit.bpr(t, 4, lr=0.05, epochs=40, seed=0, negatives="popularity")])
def test_both_models_rank_held_out_positives_far_above_random(fit):
    train, test = planted()
    m = fit(train)
    aucs = [metrics.auc(m.predict(np.full(42, u), np.arange(42)), test.user_items(u)[0],
                        exclude=train.user_items(u)[0])
            for u in np.unique(test.user)]
    assert np.mean(aucs) > 0.9


def test_checkerboard_held_out_diagonal_comes_back_first():
    n = 20
    uu, ii = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = ((uu + ii) % 2 == 0) & (uu != ii)  # each user's own diagonal item is held out
    train = Ratings(uu[keep], ii[keep], np.ones(keep.sum()), n, n)
    m = implicit.als(train, 2, alpha=10.0, reg=0.1, epochs=15, seed=0)
    for u in range(n):
        assert m.recommend(u, 1, exclude=train)["item"].iloc[0] == u


def test_compiled_bpr_equals_the_plain_loop():
    train, _ = planted()
    a = implicit.bpr(train, 3, epochs=3, seed=1)
    b = implicit.bpr(train, 3, epochs=3, seed=1, compiled=False)
    np.testing.assert_allclose(a.P, b.P, atol=1e-12)
    np.testing.assert_allclose(a.item_bias, b.item_bias, atol=1e-12)


@pytest.mark.parametrize("call, words", [
    (lambda t: implicit.als(t, 2, solver="newton"), "solver must be 'cg'"),
    (lambda t: implicit.als(t, 2, reg=0), "reg must be > 0"),
    (lambda t: implicit.als(Ratings([0], [0], [-1.0], 1, 1), 2), "interactions must be >= 0"),
    (lambda t: implicit.bpr(t, 2, lr=-1), "lr must be > 0"),
    (lambda t: implicit.bpr(t.to_dense(), 2), "must be an mflab.Ratings"),
    (lambda t: implicit.bpr(t, 2, negatives="zipf"), "negatives must be 'uniform'"),
    (lambda t: implicit.als(t, 2, dtype="int8"), "dtype must be 'float64' or 'float32'"),
])
def test_bad_input_is_refused(small, call, words):
    with pytest.raises((ValueError, TypeError), match=words):
        call(small)
