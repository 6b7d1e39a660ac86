"""Implicit ALS: the Q^T Q trick, the exact solve against numpy.linalg.lstsq, conjugate gradients
against numpy.linalg.solve and against the compiled rows, the recorded loss against the dense
definition, and known answers on planted data."""
import numpy as np
import pytest

from _reference import stacked_ridge
from mflab import Factorization, Ratings
from mflab.implicit import als


@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    M = rng.random((12, 9)) < 0.35
    u, i = np.nonzero(M)
    return Ratings(u, i, rng.integers(1, 6, len(u)).astype(float), 12, 9)


def spd(k, seed, condition=100.0):
    """A k x k symmetric positive definite matrix with eigenvalues from 1 to ``condition``."""
    rng = np.random.default_rng(seed)
    V, _ = np.linalg.qr(rng.normal(size=(k, k)))
    return V @ np.diag(np.geomspace(1, condition, k)) @ V.T


def test_the_gram_trick_equals_the_dense_weighted_product(small):
    rng = np.random.default_rng(1)
    Q, alpha = rng.normal(size=(9, 3)), 2.0
    C = 1 + alpha * small.to_dense(fill=0.0)
    for u in range(small.n_users):
        items, r = small.user_items(u)
        dense = Q.T @ np.diag(C[u]) @ Q
        trick = Q.T @ Q + Q[items].T @ np.diag(alpha * r) @ Q[items]
        np.testing.assert_allclose(trick, dense, atol=1e-12)


def test_the_exact_solve_is_the_confidence_weighted_least_squares(small):
    rng = np.random.default_rng(2)
    Q, alpha, reg = rng.normal(size=(9, 3)), 3.0, 0.4
    C, pref = 1 + alpha * small.to_dense(fill=0.0), small.mask().astype(float)
    for u in range(small.n_users):
        items, r = small.user_items(u)
        got = als.solve_user(Q, Q.T @ Q, items, 1 + alpha * r, reg)
        w = np.sqrt(C[u])  # every item, weighted: the definition, with no trick
        np.testing.assert_allclose(got, stacked_ridge(w[:, None] * Q, w * pref[u], reg), atol=1e-10)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_conjugate_gradient_solves_a_k_by_k_system_in_k_steps(k):
    A, b = spd(k, seed=k), np.random.default_rng(10 + k).normal(size=k)
    exact = np.linalg.solve(A, b)
    errors = [np.abs(als.conjugate_gradient(lambda v: A @ v, b, np.zeros(k), s) - exact).max()
              for s in range(k + 1)]
    assert errors[k] < 1e-8 * np.abs(exact).max()
    assert k == 1 or errors[k - 1] > 1e-6  # not solved one step early: the test could catch a slip
    start = np.ones(k)  # it reads x0 and leaves it alone
    als.conjugate_gradient(lambda v: A @ v, b, start, k)
    assert (start == 1).all()


def test_conjugate_gradient_reduces_the_quadratic_at_every_step():
    A, b = spd(8, seed=3, condition=1e4), np.random.default_rng(4).normal(size=8)
    f = [x @ A @ x / 2 - b @ x for x in (als.conjugate_gradient(lambda v: A @ v, b, np.zeros(8), s)
                                       for s in range(9))]
    assert all(later < earlier for earlier, later in zip(f, f[1:]))


@pytest.mark.parametrize("compiled", [False, True])
def test_cg_rows_is_the_textbook_conjugate_gradient_on_each_row(small, compiled):
    rng = np.random.default_rng(7)
    g, k, steps = small.by_user, 4, 2
    Q, P0, w = rng.normal(size=(9, k)), rng.normal(size=(12, k)), 4.0 * g.value
    gram = Q.T @ Q + 0.1 * np.eye(k)
    P, objective = P0.copy(), np.full(12, 7.0)
    run = als.compiled_cg_rows if compiled else als.cg_rows
    run(rng.permutation(12), g.indptr, g.other, w + 1, w, Q, gram, P, steps, objective)
    for u in range(12):
        lo, hi = g.indptr[u], g.indptr[u + 1]
        if lo == hi:  # a row without interactions is left alone
            assert (P[u] == P0[u]).all() and objective[u] == 7.0
            continue
        Q_u, c_u = Q[g.other[lo:hi]], w[lo:hi] + 1
        A, b = gram + Q_u.T @ ((c_u - 1)[:, None] * Q_u), Q_u.T @ c_u
        expected = als.conjugate_gradient(lambda v: A @ v, b, P0[u], steps)
        np.testing.assert_allclose(P[u], expected, atol=1e-12)
        assert objective[u] == pytest.approx(P[u] @ A @ P[u] / 2 - b @ P[u], rel=1e-12)
    assert np.abs(P - P0).max() > 0.01  # the rows did move


def test_cg_in_the_fit_converges_to_the_exact_solve(small):
    exact = als.fit(small, 4, alpha=5.0, reg=0.1, epochs=1, solver="exact", seed=3)
    errors = [np.abs(als.fit(small, 4, alpha=5.0, reg=0.1, epochs=1, solver="cg", cg_steps=s,
                             seed=3).P - exact.P).max() for s in (1, 2, 3, 4)]
    assert errors[0] > errors[1] > errors[2] and errors[3] < 1e-6  # CG is exact after k steps


@pytest.mark.parametrize("solver", ["exact", "cg"])
def test_the_recorded_loss_is_the_dense_loss_after_every_sweep(small, solver):
    kw = dict(alpha=5.0, reg=0.1, solver=solver, cg_steps=2, seed=4)
    whole = als.fit(small, 3, epochs=4, **kw)
    for n in range(1, 5):
        dense = als.loss(als.fit(small, 3, epochs=n, **kw), small, alpha=5.0, reg=0.1)
        assert whole.history["loss"][n - 1] == pytest.approx(dense, rel=1e-12)


def test_the_trace_loss_and_its_kernels_equal_the_definition(small):
    rng = np.random.default_rng(5)
    P, Q = rng.normal(size=(12, 3)), rng.normal(size=(9, 3))
    dense = als.loss(Factorization(P, Q), small, alpha=3.0, reg=0.2)
    assert als.trace_loss(P, Q, small, alpha=3.0, reg=0.2) == pytest.approx(dense, rel=1e-12)
    g = small.by_user
    c = 1 + 3.0 * g.value
    plain = als.observed_terms(g.indptr, g.other, c, P, Q)
    for version in (als.compiled_observed_terms, als._observed_terms_numpy):
        assert version(g.indptr, g.other, c, P, Q) == pytest.approx(plain, rel=1e-12)


@pytest.mark.parametrize("solver", ["exact", "cg"])
def test_the_loss_never_increases_over_sweeps(small, solver):
    # exact: each half-sweep minimises the loss over one side; CG from the current vector only
    # lowers each row's quadratic, so both descend
    loss = als.fit(small, 3, alpha=5.0, reg=0.1, epochs=8, solver=solver, cg_steps=1, seed=4).history["loss"]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(loss, loss[1:])), loss
    assert loss[-1] < 0.9 * loss[0]


def test_float32_is_float64_to_single_precision(small):
    kw = dict(alpha=5.0, reg=0.1, epochs=5, seed=8)
    single, double = als.fit(small, 3, dtype="float32", **kw), als.fit(small, 3, **kw)
    assert single.params["dtype"] == "float32" and not np.array_equal(single.P, double.P)
    for a, b in ((single.P, double.P), (single.Q, double.Q)):  # CG carries rounding from sweep to sweep
        assert np.abs(a - b).max() < 1e-3 * np.abs(b).max()
    np.testing.assert_allclose(single.history["loss"], double.history["loss"], rtol=1e-4)


def test_given_starting_factors_replace_the_seed(small):
    rng = np.random.default_rng(9)
    init = (rng.normal(0, 0.1, (12, 3)), rng.normal(0, 0.1, (9, 3)))
    fits = [als.fit(small, 3, alpha=5.0, epochs=2, init=init, seed=s) for s in (1, 2)]
    np.testing.assert_array_equal(fits[0].P, fits[1].P)


def test_the_parameters_say_how_reg_is_charged(small):
    m = als.fit(small, 2, epochs=1, seed=0)
    assert m.params["reg_scaling"] == "none" and m.params["k"] == m.k == 2
    assert m.method == "implicit-als" and len(m.history["loss"]) == 1


def test_checkerboard_held_out_diagonal_comes_back_first():
    n = 20
    uu, ii = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = ((uu + ii) % 2 == 0) & (uu != ii)  # each user's own diagonal item is held out
    train = Ratings(uu[keep], ii[keep], np.ones(keep.sum()), n, n)
    m = als.fit(train, 2, alpha=10.0, reg=0.1, epochs=15, seed=0)
    for u in range(n):
        assert m.recommend(u, 1, exclude=train)["item"].iloc[0] == u


@pytest.mark.parametrize("call, words", [
    (lambda t: als.fit(t, 2, solver="newton"), "solver must be 'cg'"),
    (lambda t: als.fit(t, 2, reg=0), "reg must be > 0"),
    (lambda t: als.fit(t, 2, dtype="int8"), "dtype must be 'float64' or 'float32'"),
    (lambda t: als.fit(t, 2, cg_steps=0), "cg_steps must be an integer >= 1"),
    (lambda t: als.fit(t, 2, cg_steps=10**9), r"cg_steps must be an integer in \[1, 1000\]"),
    (lambda t: als.fit(t.to_dense(), 2), "must be an mflab.Ratings"),
])
def test_bad_settings_are_refused(small, call, words):
    with pytest.raises((ValueError, TypeError), match=words):
        call(small)
