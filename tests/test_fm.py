"""Factorization machines held to the explicit double sum, finite differences, mflab.sgd, a direct
solve of each Gibbs conditional, and known noise on synthetic data."""
import numpy as np
import pytest

from mflab import Ratings, datasets, fm, fm_gibbs, fm_sgd, sgd
from mflab.fm_design import initial_theta, vectors


@pytest.fixture
def small():
    """12 users x 9 items, about half rated, with a real-valued user group and a multi-hot item group."""
    rng = np.random.default_rng(0)
    R = np.where(rng.random((12, 9)) < 0.5, rng.integers(1, 6, (12, 9)).astype(float), np.nan)
    R[11, :] = np.nan  # a user without ratings: attributes only
    train = Ratings.from_dense(R)
    users = {"a": rng.normal(size=(12, 3)), "b": (rng.random((12, 2)) < 0.5).astype(float)}
    items = {"g": (rng.random((9, 2)) < 0.5).astype(float)}
    return train, users, items


def dense_rows(side):
    """Each row's features as a dense vector (the FM's x restricted to the side)."""
    x = np.zeros((side.n_rows, side.n_features))
    for r in range(side.n_rows):
        lo, hi = side.indptr[r], side.indptr[r + 1]
        x[r, side.col[lo:hi]] = side.val[lo:hi]
    return x


def explicit(x, w0, w, V):
    """The FM equation with the pairwise sum over every pair j < l: x^T triu(V V^T, 1) x."""
    return w0 + w @ x + x @ np.triu(V @ V.T, 1) @ x


def test_the_o_kn_identity_is_the_double_sum():
    rng = np.random.default_rng(1)
    x = rng.normal(size=7) * (rng.random(7) < 0.6)
    V = rng.normal(size=(7, 3))
    pairs = sum(V[j] @ V[l] * x[j] * x[l] for j in range(7) for l in range(j + 1, 7))
    assert fm.pairwise(V, x) == pytest.approx(pairs, abs=1e-12)


def test_the_gradient_is_the_finite_difference():
    rng = np.random.default_rng(2)
    x, w, V = rng.normal(size=5), rng.normal(size=5), rng.normal(size=(5, 3))
    dw, dV = fm.gradient(x, V)
    h = 1e-6
    for j in range(5):
        e = np.zeros(5)
        e[j] = h
        assert dw[j] == pytest.approx((fm.predict_one(x, 0.3, w + e, V) - fm.predict_one(x, 0.3, w - e, V)) / (2 * h), abs=1e-7)
        for f in range(3):
            E = np.zeros((5, 3))
            E[j, f] = h
            fd = (fm.predict_one(x, 0.3, w, V + E) - fm.predict_one(x, 0.3, w, V - E)) / (2 * h)
            assert dV[j, f] == pytest.approx(fd, abs=1e-7)


def test_an_sgd_step_is_the_docstring_update(small):
    train, users, items = small
    sides = fm.design(train, user_features=users, item_features=items, implicit=True)
    thetas, _ = initial_theta(sides, train, 3, 0.5, np.random.default_rng(3))
    w = np.concatenate([t[:, 0] for t in thetas]) + 0.1
    V = np.concatenate([t[:, 1:] for t in thetas])
    x = np.concatenate([dense_rows(sides[0])[2], dense_rows(sides[1])[4]])
    y, lr, reg, reg_bias, w0 = 4.0, 0.05, 0.1, 0.2, 3.0
    e = y - explicit(x, w0, w, V)
    dw, dV = fm.gradient(x, V)
    active = x != 0
    expect_w = w + lr * (e * dw - reg_bias * w * active)
    expect_V = V + lr * (e * dV - reg * V * active[:, None])
    one = np.array([0])
    sse = fm_sgd.epoch(one + 2, one + 4, np.array([y]), sides[0].indptr, sides[0].col, sides[0].val,
                       sides[1].indptr, sides[1].col, sides[1].val, sides[0].n_features, w, V, w0, lr, reg,
                       reg_bias, np.zeros(3))
    assert sse == pytest.approx(e ** 2)
    np.testing.assert_allclose(w, expect_w, atol=1e-12)
    np.testing.assert_allclose(V, expect_V, atol=1e-12)


def test_with_ids_only_sgd_makes_mflab_sgds_updates(small):
    train = small[0]
    rng = np.random.default_rng(4)
    init = (rng.normal(0, 0.1, (12, 3)), rng.normal(0, 0.1, (9, 3)))
    kw = dict(lr=0.02, reg=0.05, reg_bias=0.01, epochs=5, shuffle=False, init=init, seed=0)
    a = fm.fit(train, 3, solver="sgd", **kw)
    b = sgd.fit(train, 3, biases=True, **kw)
    np.testing.assert_allclose(a.P, b.P, atol=1e-12)
    np.testing.assert_allclose(a.Q, b.Q, atol=1e-12)
    np.testing.assert_allclose(a.user_bias, b.user_bias, atol=1e-12)
    np.testing.assert_allclose(a.item_bias, b.item_bias, atol=1e-12)
    assert a.mu == b.mu and a.params["reg_scaling"] == "count"
    sides = fm.design(train)
    theta = [np.column_stack([a.info[f"{s}_groups"]["id"]["w"], a.info[f"{s}_groups"]["id"]["V"]])
             for s in ("user", "item")]
    w, V = np.concatenate([t[:, 0] for t in theta]), np.concatenate([t[:, 1:] for t in theta])
    assert fm_sgd.objective(sides, train, w, V, a.mu, 0.05, 0.01) == pytest.approx(
        sgd.objective(b, train, reg=0.05, reg_bias=0.01), rel=1e-12)


def test_the_fitted_fm_is_the_biased_mf_it_returns(small):
    train, users, items = small
    m = fm.fit(train, 2, user_features=users, item_features=items, implicit=True, solver="sgd",
               epochs=3, lr=0.02, seed=5)
    sides = fm.design(train, user_features=users, item_features=items, implicit=True)
    w = np.concatenate([g["w"] for s in ("user", "item") for g in m.info[f"{s}_groups"].values()])
    V = np.concatenate([g["V"] for s in ("user", "item") for g in m.info[f"{s}_groups"].values()])
    xu, xi = dense_rows(sides[0]), dense_rows(sides[1])
    for u, i in [(0, 0), (3, 5), (11, 2), (7, 8)]:
        x = np.concatenate([xu[u], xi[i]])
        assert m.predict(u, i) == pytest.approx(explicit(x, m.mu, w, V), abs=1e-10)
        assert m.predict(u, i) == pytest.approx(fm.predict_one(x, m.mu, w, V), abs=1e-10)


def conditional_by_direct_solve(train, sides, thetas, w0, side, j, m, Lam, alpha):
    """Mean and covariance of theta_j given the rest, from the dense FM: the prediction is affine in
    theta_j, so evaluate it at 0 and the unit vectors and solve the Gaussian regression directly."""
    xu, xi = dense_rows(sides[0]), dense_rows(sides[1])
    x = np.hstack([xu[train.user], xi[train.item]])
    offset = sides[0].n_features if side == 1 else 0
    full = np.concatenate(thetas)

    def predictions(theta_j):
        th = full.copy()
        th[offset + j] = theta_j
        return np.array([explicit(row, w0, th[:, 0], th[:, 1:]) for row in x])

    d = full.shape[1]
    base = predictions(np.zeros(d))
    H = np.column_stack([predictions(np.eye(d)[c]) - base for c in range(d)])
    probe = np.random.default_rng(9).normal(size=d)
    np.testing.assert_allclose(predictions(probe), base + H @ probe, atol=1e-10)  # affine indeed
    A = Lam + alpha * H.T @ H
    return np.linalg.solve(A, Lam @ m + alpha * H.T @ (train.value - base)), np.linalg.inv(A)


@pytest.mark.parametrize("side, group", [(0, "id"), (0, "a"), (0, "implicit"), (1, "id"), (1, "g"),
                                         (1, "implicit")])
def test_each_gibbs_conditional_is_the_direct_solve(small, side, group):
    train, users, items = small
    k, w0, alpha = 2, 3.2, 1.7
    sides = fm.design(train, user_features=users, item_features=items, implicit=True)
    thetas, present = initial_theta(sides, train, k, 0.5, np.random.default_rng(6))
    for t in thetas:
        t[:, 0] = np.random.default_rng(7).normal(size=len(t)) * 0.3
    first, end, _ = sides[side].group(group)
    j = first + int(np.flatnonzero(present[side][first:end])[0])
    rng = np.random.default_rng(8)
    m, Lam = rng.normal(size=k + 1), np.eye(k + 1) * 2 + 0.3
    expect_mean, expect_cov = conditional_by_direct_solve(train, sides, thetas, w0, side, j, m, Lam, alpha)

    grouped = (train.by_user, train.by_item)[side]
    X = [vectors(s, t) for s, t in zip(sides, thetas)]
    G, r = np.empty((sides[side].n_rows, k + 1, k + 1)), np.empty((sides[side].n_rows, k + 1))
    fm_gibbs.plain["rating_stats"](grouped.indptr, grouped.other, grouped.value, X[1 - side], w0, G, r)
    draws = []
    for eps in [np.zeros(k + 1)] + list(np.eye(k + 1)):
        theta, Xs = thetas[side].copy(), X[side].copy()
        rho = r - np.einsum("uac,uc->ua", G, Xs)
        assert fm_gibbs.plain["sample_group"](j, j + 1, sides[side].t_indptr, sides[side].t_row,
                                              sides[side].t_val, present[side], theta, Xs, G, rho, m,
                                              Lam, alpha, eps[None])
        draws.append(theta[j].copy())
        # the bookkeeping: every row's [B, a] and residual follow the new theta
        np.testing.assert_allclose(Xs, vectors(sides[side], theta), atol=1e-10)
        np.testing.assert_allclose(rho, r - np.einsum("uac,uc->ua", G, Xs), atol=1e-10)
    np.testing.assert_allclose(draws[0], expect_mean, atol=1e-10)
    K = np.array(draws[1:]).T - draws[0][:, None]  # L^-T: theta = mean + L^-T eps
    np.testing.assert_allclose(K @ K.T, expect_cov, atol=1e-10)


def test_compiled_and_plain_sweeps_agree(small):
    train, users, items = small
    kw = dict(user_features=users, item_features=items, implicit=True, samples=4, burn_in=1, seed=10)
    a = fm.fit(train, 2, compiled=True, **kw)
    b = fm.fit(train, 2, compiled=False, **kw)
    np.testing.assert_allclose(a.predict(train.user, train.item), b.predict(train.user, train.item), atol=1e-9)


def test_the_numpy_loops_are_the_plain_ones(small):
    """What runs without numba (mflab.fm_numpy) against the plain loops, one half-sweep."""
    from mflab import fm_numpy

    train, users, items = small
    sides = fm.design(train, user_features=users, item_features=items, implicit=True)
    thetas, present = initial_theta(sides, train, 2, 0.5, np.random.default_rng(13))
    out = []
    for loops in (fm_gibbs.plain, vars(fm_numpy)):
        theta, X = thetas[0].copy(), np.zeros((12, 3))
        X_item = vectors(sides[1], thetas[1])
        G, r = np.empty((12, 3, 3)), np.empty((12, 3))
        loops["side_vectors"](sides[0].indptr, sides[0].col, sides[0].val, theta, X)
        loops["rating_stats"](train.by_user.indptr, train.by_user.other, train.by_user.value, X_item, 3.0, G, r)
        rho = r - np.einsum("uac,uc->ua", G, X)
        eps = np.random.default_rng(14).normal(size=(sides[0].n_features, 3))
        assert loops["sample_group"](0, sides[0].n_features, sides[0].t_indptr, sides[0].t_row, sides[0].t_val,
                                     present[0], theta, X, G, rho, np.zeros(3), np.eye(3), 1.5, eps)
        out.append((theta, X, rho, loops["residual_sums"](train.user, train.item, train.value, X, X_item, 3.0)))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_a_sampled_noise_precision_recovers_the_true_noise():
    rng = np.random.default_rng(11)
    U, V = rng.normal(size=(80, 2)), rng.normal(size=(60, 2))
    R = 3 + U @ V.T + rng.normal(0, 0.5, (80, 60))  # noise precision 1 / 0.25 = 4
    R[rng.random(R.shape) < 0.4] = np.nan
    m = fm.fit(Ratings.from_dense(R), 2, samples=40, burn_in=20, seed=0)
    assert np.mean(m.history["noise_precision"][20:]) == pytest.approx(4.0, rel=0.15)


def test_intervals_cover_held_out_genre_ratings_at_about_their_level():
    d = datasets.synthetic_genres()
    m = fm.fit(d.train, 3, samples=80, burn_in=30, seed=0)
    _, low, high = fm.predict_interval(m, d.test.user, d.test.item, 0.9)
    coverage = np.mean((d.test.value >= low) & (d.test.value <= high))
    assert 0.8 <= coverage <= 0.97, coverage


def test_a_new_user_is_scored_from_attributes_alone(small):
    train, users, items = small
    m = fm.fit(train, 2, user_features=users, item_features=items, solver="sgd", epochs=3, lr=0.02, seed=12)
    groups = m.info["user_groups"]
    row = {"a": users["a"][4], "b": users["b"][4]}
    p, b = fm.user_vector(m, row)
    # the unknown id vector is replaced by the mean learned one, the attributes are user 4's own
    id_mean = m.info["id_prior_mean"]["user"][0]
    np.testing.assert_allclose(p, m.P[4] - groups["id"]["V"][4] + id_mean[1:], atol=1e-12)
    x = np.concatenate([users["a"][4], users["b"][4], [1.0]])
    w = np.concatenate([groups["a"]["w"], groups["b"]["w"], id_mean[:1]])
    V = np.vstack([groups["a"]["V"], groups["b"]["V"], id_mean[None, 1:]])
    assert b == pytest.approx(explicit(x, 0.0, w, V), abs=1e-12)
    pred = fm.predict_new_users(m, row, np.arange(9))
    np.testing.assert_allclose(pred, m.mu + b + m.item_bias + m.Q @ p, atol=1e-12)
    both = {name: np.vstack([users[name][4], users[name][7]]) for name in ("a", "b")}
    np.testing.assert_allclose(fm.predict_new_users(m, both, np.array([3, 3]))[0], pred[3], atol=1e-12)


def test_gibbs_fit_of_the_issue_call_shape(small):
    train, users, items = small
    m = fm.fit(train, 2, user_features=users, item_features=items, implicit=True, solver="gibbs",
               samples=30, burn_in=10, noise_precision=None, seed=0)
    assert m.method == "fm" and m.predict(train.user, train.item).shape == (len(train),)
    assert len(m.info["noise_precision"]) == 20 and m.info["attribute_draws"]["user"].shape == (20, 5, 3)
    mean, low, high = fm.predict_interval(m, train.user, train.item)
    assert np.all(low < mean) and np.all(mean < high)
    assert np.isfinite(fm.user_vector(m, {"b": [1.0, 0.0]})[0]).all()


@pytest.mark.parametrize("kw, match", [
    (dict(user_features={"id": np.ones((12, 1))}), "group name"),
    (dict(user_features={"a": np.ones((11, 1))}), r"user_features\['a'\] must have one row per user"),
    (dict(item_features=np.ones((9, 2))), "item_features must be a dict"),
    (dict(user_features={"a": np.full((12, 1), np.nan)}), "must be finite"),
    (dict(samples=10, epochs=12), "name the same number"),
    (dict(lr=0.1), "lr applies to the other solver"),
    (dict(samples=10, burn_in=10), "burn_in=10 must be smaller"),
    (dict(solver="als"), "solver must be one of"),
    (dict(implicit="both"), "implicit must be True"),
])
def test_bad_arguments_are_named(small, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fm.fit(small[0], 2, **kw)


def test_movielens_features_are_one_hot_and_aligned():
    train, _ = datasets.movielens_100k_split("u1")
    users, items = datasets.movielens_features(train)
    assert {k: v.shape for k, v in users.items()} == {"age": (943, 6), "gender": (943, 2),
                                                      "occupation": (943, 21), "zip": (943, 11)}
    assert items["year"].shape == (1682, 15) and items["genre"].shape == (1682, 19)
    for table in users.values():
        assert np.all(table.to_numpy().sum(axis=1) == 1)
    assert items["year"].to_numpy().sum() == 1681  # one movie has no release date
    first = {name: table.columns[table.to_numpy()[0].argmax()] for name, table in users.items()}
    assert first == {"age": "20-29", "gender": "M", "occupation": "technician", "zip": "8"}  # 24|M|technician|85711
    assert list(items["genre"].columns[items["genre"].to_numpy()[0] == 1]) == ["Animation", "Children's", "Comedy"]


def test_a_new_users_row_is_coded_as_the_tables_are():
    train, _ = datasets.movielens_100k_split("u1")
    users, _ = datasets.movielens_features(train)
    row = datasets.movielens_user_row(age=24, gender="M", occupation="technician", zip_code="85711")
    assert {name: list(values) for name, values in row.items()} == {
        name: list(users[name].to_numpy()[0]) for name in ("age", "gender", "occupation", "zip")}
    with pytest.raises(ValueError, match="occupation must be one of"):
        datasets.movielens_user_row(occupation="astronaut")


def test_new_user_rows_are_checked(small):
    train, users, items = small
    m = fm.fit(train, 2, user_features=users, solver="sgd", epochs=1, seed=0)
    with pytest.raises(ValueError, match="no user attribute group of that name"):
        fm.user_vector(m, {"c": [1.0]})
    with pytest.raises(ValueError, match="must have the 3 columns"):
        fm.user_vector(m, {"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match="same rows"):
        fm.user_vector(m, {"a": np.ones((2, 3)), "b": np.ones((3, 2))})
    with pytest.raises(TypeError, match="from mflab.fm.fit"):
        fm.user_vector(sgd.fit(train, 2, epochs=1), {"a": [1.0, 2.0, 3.0]})
