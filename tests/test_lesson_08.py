"""The figures lesson 08 (new users: cold start and fold-in) prints or quotes, held through the API.

Each test fits exactly what the lesson fits. Tolerance: a number quoted to d decimals is pinned as
``round(x, d) == value`` (half a unit of its last printed digit; the lesson prints at a precision
that is the same under the OpenBLAS kernels HASWELL and NEHALEM and numba's generic CPU).
"""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import mflab
from mflab import als, baseline, coldstart, metrics, plots, recommend, sgd


@pytest.fixture(scope="module")
def R():
    return mflab.datasets.movielens_100k().to_ratings()


# ----------------------------------------------------------------------------------- sections 1-2
@pytest.fixture(scope="module")
def cold(R):
    rng = np.random.default_rng(0)
    cold_users = rng.choice(np.flatnonzero(R.user_counts() >= 50), 60, replace=False)
    kept = np.repeat([0, 1, 2], 20)
    in_train = np.ones(len(R), dtype=bool)
    for user, n_keep in zip(cold_users, kept):
        rows = rng.permutation(np.flatnonzero(R.user == user))
        in_train[rows[n_keep:]] = False
    start = np.random.default_rng(1)
    P0, Q0 = start.normal(0, 0.1, (R.n_users, 50)), start.normal(0, 0.1, (R.n_items, 50))
    train = R.subset(in_train)
    model = sgd.fit(train, 50, lr=0.01, reg=0.1, epochs=30, seed=0, init=(P0, Q0))
    return dict(users=cold_users, kept=kept, train=train, test=R.subset(~in_train), P0=P0, model=model)


@pytest.mark.needs_numba
def test_cold_users_keep_their_random_start(R, cold):
    """Section 1: the vectors of users with 1-2 ratings are still their start; the lists are the
    biases-only list (10 of 10 with no rating, about 8 with one or two)."""
    m, train = cold["model"], cold["train"]
    assert (len(train), len(cold["test"])) == (91657, 8343)
    biases_only = mflab.Factorization(np.zeros((R.n_users, 0)), np.zeros((R.n_items, 0)),
                                      m.mu, m.user_bias, m.item_bias)
    regular = np.setdiff1d(np.arange(R.n_users), cold["users"])[:60]

    def cos(u):
        p, p0 = m.P[u], cold["P0"][u]
        return p @ p0 / (np.linalg.norm(p) * np.linalg.norm(p0))

    def shared(u):
        return len(set(m.recommend(int(u), 10, exclude=train)["item"])
                   & set(biases_only.recommend(int(u), 10, exclude=train)["item"]))

    groups = [cold["users"][cold["kept"] == n] for n in (0, 1, 2)] + [regular]
    assert not m.P[groups[0]].any() and not m.user_bias[groups[0]].any()
    assert [round(np.mean([cos(u) for u in users]), 3) for users in groups[1:]] == [0.975, 0.984, 0.407]
    assert [round(np.mean([shared(u) for u in users]), 2) for users in groups] == [10.0, 8.0, 8.15, 6.65]
    assert [round(np.linalg.norm(m.P[users], axis=1).mean(), 3) for users in groups[1:3]] == [0.704, 0.672]


@pytest.mark.needs_numba
def test_the_popularity_fallback_finds_more_for_cold_users(cold):
    """Section 2: precision@10 of the model and of the popular fallback, per group of 20."""
    m, train, test = cold["model"], cold["train"], cold["test"]

    def precision(user, **fallback):
        ranked = m.recommend(int(user), 10, exclude=train, **fallback)["item"]
        liked = test.subset((test.user == user) & (test.value >= 4)).item
        return metrics.precision_at_k(ranked, liked, 10)

    table = [(round(np.mean([precision(u) for u in users]), 3),
              round(np.mean([precision(u, fallback="popular", min_ratings=3) for u in users]), 3))
             for users in (cold["users"][cold["kept"] == n] for n in (0, 1, 2))]
    assert table == [(0.305, 0.320), (0.220, 0.240), (0.245, 0.295)]
    assert all(model < fallback for model, fallback in table)

    # why: the model's list for a user with no rating starts with a movie of 6 training ratings
    nobody = int(cold["users"][cold["kept"] == 0][0])
    n_i = train.item_counts()
    ours = m.recommend(nobody, 8, exclude=train)["item"].to_numpy()
    theirs = m.recommend(nobody, 8, exclude=train, fallback="popular", min_ratings=3)["item"].to_numpy()
    assert len(set(ours) & set(theirs)) == 6
    assert mflab.datasets.movielens_100k().title(int(ours[0])) == "Pather Panchali (1955)" and n_i[ours[0]] == 6
    assert n_i[theirs].min() == 61


# ----------------------------------------------------------------------------------- sections 3-4
@pytest.fixture(scope="module")
def held_out(R):
    train, val_users, test_users = coldstart.hold_out_users(R, 150, 250, seed=0)
    model = als.fit(train, 10, reg=15, reg_bias=5, epochs=15, seed=0)
    return dict(train=train, val=val_users, test=test_users, model=model,
                popularity=baseline.popularity(train))


@pytest.mark.needs_numba
def test_the_held_out_split_and_the_fold_in_with_the_models_own_reg(R, held_out, cold):
    """Section 3: the split, zero rows for new users, the fan folded in with the model's own reg
    (ALS: 15 once per user) and with the SGD model's (0.1 per rating)."""
    train, model = held_out["train"], held_out["model"]
    new = np.unique(np.r_[held_out["val"].user, held_out["test"].user])
    n_u = train.user_counts()
    assert (len(train), len(held_out["val"]), len(held_out["test"]), len(new)) == (58668, 15105, 26227, 400)
    assert (n_u[n_u > 0].min(), np.median(n_u[n_u > 0])) == (20, 66)
    assert not model.P[new].any() and not model.user_bias[new].any()
    assert not model.Q[train.item_counts() == 0].any() and (train.item_counts() == 0).sum() == 44
    assert (model.params["reg"], model.params["reg_bias"], model.params["reg_scaling"]) == (15.0, 5.0, "none")

    fan = recommend.recommend_new_user(model, [49, 171], [5, 5], 8)
    crowd = recommend.popular(train, 10).query("item not in [49, 171]").head(8)
    assert set(fan["item"]) == set(crowd["item"]) and fan["item"].tolist() != crowd["item"].tolist()

    fitted = {}
    for name, m in (("als", model), ("sgd", cold["model"])):
        p_u, b_u = m.fold_in([49, 171], [5, 5])
        fitted[name] = np.round(m.mu + b_u + m.item_bias[[49, 171]] + m.Q[[49, 171]] @ p_u, 2).tolist()
    assert fitted == {"als": [4.68, 4.50], "sgd": [5.04, 4.88]}
    # the SGD model's own rule is a ridge of reg * n: the same as reg=0.2 given plainly
    p_own, b_own = cold["model"].fold_in([49, 171], [5, 5])
    p_plain, b_plain = cold["model"].fold_in([49, 171], [5, 5], reg=0.2, reg_bias=0.2, reg_scaling="none")
    assert np.allclose(p_own, p_plain) and np.isclose(b_own, b_plain)


def test_the_fold_in_study(held_out):
    """Section 4: fold-in's reg chosen per metric on the validation users (the model's own 15 in the
    grid), then the crossovers on the evaluation users; the fan with the ranking's reg."""
    model, popularity = held_out["model"], held_out["popularity"]

    def study(held, reg):
        return coldstart.fold_in_study(model, held, reg=reg, reg_bias=5, fallback=popularity,
                                       fallback_name="popularity", seed=0)

    grid = [0.1, 0.3, 1, 3, 10, 15, 30]
    tables = [study(held_out["val"], reg) for reg in grid]
    val_rmse = [round(t["rmse"]["fold-in"].mean(), 4) for t in tables]
    val_prec = [round(t["precision@10"]["fold-in"].mean(), 4) for t in tables]
    assert val_rmse == [1.0977, 1.0220, 0.9913, 0.9869, 0.9884, 0.9889, 0.9896]
    assert val_prec == [0.2167, 0.2193, 0.2112, 0.2047, 0.2012, 0.2020, 0.2075]
    assert (grid[int(np.argmin(val_rmse))], grid[int(np.argmax(val_prec))]) == (3, 0.3)

    by_rmse, by_rank = study(held_out["test"], 3), study(held_out["test"], 0.3)
    assert by_rmse.attrs == {"users": 250, "ratings": 23727, "users with a relevant item": 249}
    assert np.round(by_rmse["rmse"]["fold-in"], 4).tolist() == [1.0200, 1.0117, 0.9980, 0.9806]
    assert round(by_rmse["rmse"]["popularity"].iloc[0], 4) == 1.0325
    assert np.round(by_rank["rmse"]["fold-in"], 4).tolist() == [1.0301, 1.0271, 1.0346, 1.0344]
    assert np.round(by_rmse["precision@10"]["fold-in"], 4).tolist() == [0.1843, 0.1847, 0.2000, 0.2080]
    for table in (by_rmse, by_rank):  # popularity's curves are flat: it never sees the revealed ratings
        assert table["rmse"]["popularity"].nunique() == 1 and table["precision@10"]["popularity"].nunique() == 1
    assert np.round(by_rank["precision@10"]["fold-in"], 4).tolist() == [0.1940, 0.2104, 0.2233, 0.2502]
    assert np.round(by_rank["precision@10 se"]["fold-in"], 4).tolist() == [0.0138, 0.0141, 0.0149, 0.0154]
    assert round(by_rank["precision@10"]["popularity"].iloc[0], 4) == 0.2024
    assert round(by_rank["precision@10 se"]["popularity"].iloc[0], 4) == 0.0138
    assert (coldstart.crossover(by_rmse, "rmse"), coldstart.crossover(by_rank, "precision@10")) == (1, 2)
    assert coldstart.crossover(by_rmse, "precision@10") == 10  # strong shrinkage keeps the crowd's list

    fan = recommend.recommend_new_user(model, [49, 171], [5, 5], 8, reg=0.3, reg_bias=5)
    crowd = recommend.popular(held_out["train"], 10).query("item not in [49, 171]").head(8)
    assert fan["item"].tolist()[:2] == [173, 180]  # Raiders of the Lost Ark, Return of the Jedi
    assert len(set(fan["item"]) & set(crowd["item"])) == 6


def test_exercise_2_cold_start_on_the_genre_data():
    d = mflab.datasets.synthetic_genres(seed=42)
    rng = np.random.default_rng(1)
    few = np.argsort(d.train.user_counts())[::-1][:15]
    keep = np.ones(len(d.train), dtype=bool)
    for user in few:
        keep[rng.permutation(np.flatnonzero(d.train.user == user))[1:]] = False
    reduced, moved = d.train.subset(keep), d.train.subset(~keep)
    held = mflab.Ratings(np.r_[moved.user, d.test.user], np.r_[moved.item, d.test.item],
                         np.r_[moved.value, d.test.value], d.train.n_users, d.train.n_items)
    held = held.subset(np.isin(held.user, few))
    plain = als.fit(reduced, 3, reg=0.1, epochs=60, biases=False, seed=0)
    validated = als.fit(reduced, 3, reg=1.5, epochs=30, biases=True, seed=0)
    n_i = reduced.item_counts()
    item_mean = np.where(n_i > 0, np.bincount(reduced.item, weights=reduced.value, minlength=reduced.n_items)
                         / np.maximum(n_i, 1), reduced.mean())
    assert (len(reduced), len(held)) == (606, 231)
    rmse = [round(metrics.rmse(held.value, x), 4) for x in (plain.predict_ratings(held, clip=True),
                                                          validated.predict_ratings(held, clip=True), item_mean[held.item])]
    assert rmse == [0.8928, 0.5581, 0.6205]
    lengths = [round(float(np.linalg.norm(m.P[few], axis=1).mean()), 2) for m in (plain, validated)]
    assert lengths == [1.30, 0.10]


def test_fold_in_curves_draws_bands_and_marks_the_crossover():
    fig, ax = plt.subplots()
    curves = {"fold-in": pd.Series([1.0, 0.9], index=[1, 5]), "popularity": pd.Series([0.95, 0.95], index=[1, 5])}
    out = plots.fold_in_curves(curves, errors={"fold-in": pd.Series([0.1, 0.1], index=[1, 5])}, ax=ax, mark=5)
    assert out is ax and len(ax.lines) == 3 and len(ax.collections) == 1
    assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()  # line style as well as colour
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "5"]
    plt.close(fig)
