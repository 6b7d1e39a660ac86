"""mflab.coldstart: the user-level split, the fold-in study's bookkeeping and its numbers.

The fold-in vector is held against numpy.linalg.lstsq on the stacked ridge problem; the study's
scoring against a tiny case worked out by hand; and no revealed rating is ever ranked or scored.
"""
import numpy as np
import pandas as pd
import pytest

import mflab
from mflab import Factorization, Ratings, als, baseline, coldstart, metrics, recommend, sgd


def _random_ratings(n_users=30, n_items=25, per_user=12, seed=0):
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        chosen = rng.choice(n_items, per_user, replace=False)
        users += [u] * per_user
        items += chosen.tolist()
    values = rng.integers(1, 6, len(users)).astype(float)
    return Ratings(np.array(users), np.array(items), values, n_users, n_items)


def _biased_model(n_users, n_items, k=3, seed=1):
    rng = np.random.default_rng(seed)
    return Factorization(rng.normal(0, 0.5, (n_users, k)), rng.normal(0, 0.5, (n_items, k)), 3.5,
                         np.zeros(n_users), rng.normal(0, 0.3, n_items))


def _lstsq_fold_in(model, items, ratings, reg, reg_bias):
    """[b_u, p_u] from the stacked problem  [X; sqrt(ridge)] w = [y; 0], X = [1, q_i]."""
    X = np.column_stack([np.ones(len(items)), model.Q[items]])
    y = np.asarray(ratings, float) - model.mu - model.item_bias[items]
    ridge = np.sqrt(np.r_[reg_bias, np.full(model.k, reg)])
    A = np.vstack([X, np.diag(ridge)])
    b = np.r_[y, np.zeros(model.k + 1)]
    w = np.linalg.lstsq(A, b, rcond=None)[0]
    return w[1:], w[0]


# ----------------------------------------------------------------------------- hold_out_users
def test_hold_out_users_is_a_seeded_user_level_partition():
    R = _random_ratings()
    train, val, test = coldstart.hold_out_users(R, 5, 8, seed=3)
    assert train.shape == val.shape == test.shape == R.shape
    assert len(train) + len(val) + len(test) == len(R)
    val_users, test_users = set(np.unique(val.user)), set(np.unique(test.user))
    assert (len(val_users), len(test_users)) == (5, 8) and not val_users & test_users
    assert not (val_users | test_users) & set(np.unique(train.user))  # whole users, not ratings
    for held in (val, test):  # every rating of a held-out user left with them
        for u in np.unique(held.user):
            assert (held.user == u).sum() == (R.user == u).sum()
    again = coldstart.hold_out_users(R, 5, 8, seed=3)
    assert all(np.array_equal(a.user, b.user) and np.array_equal(a.item, b.item)
               for a, b in zip((train, val, test), again))
    other = coldstart.hold_out_users(R, 5, 8, seed=4)[1]
    assert set(np.unique(other.user)) != val_users


def test_hold_out_users_refuses_impossible_requests():
    R = _random_ratings(n_users=6)
    with pytest.raises(ValueError, match="only 6 users"):
        coldstart.hold_out_users(R, 6, seed=0)
    with pytest.raises(ValueError, match="at least one"):
        coldstart.hold_out_users(R, seed=0)
    with pytest.raises(ValueError, match="n_users"):
        coldstart.hold_out_users(R, 0, seed=0)


@pytest.mark.parametrize("fit", [
    lambda train: als.fit(train, 4, reg=1.0, epochs=5, seed=0),
    lambda train: sgd.fit(train, 4, lr=0.01, reg=0.05, epochs=5, seed=0, compiled=False),
], ids=["als", "sgd"])
def test_held_out_users_and_unrated_items_get_zero_factors(fit):
    R = _random_ratings()
    train, held = coldstart.hold_out_users(R, 6, seed=0)
    model = fit(train)
    new = np.unique(held.user)
    assert not model.P[new].any() and not model.user_bias[new].any()
    unrated = np.flatnonzero(train.item_counts() == 0)
    assert not model.Q[unrated].any() and not model.item_bias[unrated].any()
    assert model.P[np.setdiff1d(np.arange(R.n_users), new)].any(axis=1).all()


# ----------------------------------------------------------------------------- fold-in against lstsq
@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_fold_in_solves_the_stacked_ridge_problem(n):
    model = _biased_model(5, 40)
    rng = np.random.default_rng(n)
    items = rng.choice(40, n, replace=False)
    ratings = rng.integers(1, 6, n).astype(float)
    p_u, b_u = recommend.fold_in(model, items, ratings, reg=0.7, reg_bias=2.0)
    p_ref, b_ref = _lstsq_fold_in(model, items, ratings, 0.7, 2.0)
    np.testing.assert_allclose(p_u, p_ref, atol=1e-10)
    assert b_u == pytest.approx(b_ref, abs=1e-10)


def test_study_scores_with_the_lstsq_vector_and_never_scores_a_revealed_rating():
    R = _random_ratings(per_user=14)
    train, held = coldstart.hold_out_users(R, 4, seed=0)
    model = _biased_model(R.n_users, R.n_items)
    fallback = baseline.popularity(train, by="rating")
    detail = coldstart.fold_in_study(model, held, reveal=(1, 3, 6), pool=6, k=5, reg=0.5, reg_bias=1.5,
                                     fallback=fallback, seed=7, per_user=True)
    assert len(detail) == 4 * 3 * 2
    for u, rows in detail.groupby("user"):
        items, values = held.user_items(u)
        rating = dict(zip(items.tolist(), values.tolist()))
        pool = rows[rows.revealed == 6].iloc[0]["shown"]
        for _, row in rows.iterrows():
            assert row["shown"] == pool[:row["revealed"]]      # nested: the first n of one order
            assert not set(row["top"]) & set(pool)             # the whole pool is never ranked
            assert row["n"] == len(items) - 6                  # ... nor scored
            scored = [i for i in items.tolist() if i not in pool]
            if row["method"] == "fold-in":
                p_u, b_u = _lstsq_fold_in(model, np.array(row["shown"]),
                                          [rating[i] for i in row["shown"]], 0.5, 1.5)
                predicted = model.mu + b_u + model.item_bias + model.Q @ p_u
            else:
                predicted = fallback.mu + fallback.item_bias
            expected = sum((rating[i] - predicted[i]) ** 2 for i in scored)
            assert row["sse"] == pytest.approx(expected, rel=1e-10)
            candidates = [i for i in range(R.n_items) if i not in pool]
            best = sorted(candidates, key=lambda i: (-predicted[i], i))[:5]
            assert row["top"] == best


# ----------------------------------------------------------------------------- a case worked by hand
def _tiny():
    """One held-out user (user 0) who rated items 0-5; seed 0 orders their rows [3, 2, 5, 4, 0, 1],
    so with pool=2 the user may reveal item 3 (n=1), then items 3 and 2 (n=2), and items 5, 4, 0,
    1 are scored. Relevant (>= 4) among those: items 5, 0, 1."""
    held = Ratings(np.zeros(6, int), np.arange(6), np.array([5.0, 4, 1, 5, 2, 4]), 2, 6)
    assert np.random.default_rng(0).permutation(6).tolist() == [3, 2, 5, 4, 0, 1]
    model = Factorization(np.zeros((2, 1)), np.array([[1.0], [0], [2], [1], [2.5], [-1]]))  # plain MF
    fallback = Factorization(np.zeros((2, 0)), np.zeros((6, 0)), 0.0, None,
                             np.array([4.5, 4.0, 3.5, 3.0, 2.5, 2.0]))
    return held, model, fallback


def test_a_tiny_study_worked_by_hand():
    held, model, fallback = _tiny()
    detail = coldstart.fold_in_study(model, held, reveal=(1, 2), pool=2, k=2, reg=1.0, fallback=fallback,
                                     fallback_name="popularity", seed=0, per_user=True)
    got = {(r.revealed, r.method): r for r in detail.itertuples()}
    assert got[1, "fold-in"].shown == [3] and got[2, "fold-in"].shown == [3, 2]
    # n=1: p = q_3 r_3 / (q_3^2 + 1) = 5/2; scores of the candidates 0, 1, 4, 5: 2.5, 0, 6.25, -2.5
    assert got[1, "fold-in"].top == [4, 0] and got[1, "fold-in"].precision == 0.5
    assert got[1, "fold-in"].sse == pytest.approx(6.5 ** 2 + 4.25 ** 2 + 2.5 ** 2 + 4 ** 2)  # 82.5625
    # n=2: p = (1*5 + 2*1) / (1 + 4 + 1) = 7/6; scores 7/6, 0, 35/12, -7/6
    assert got[2, "fold-in"].top == [4, 0] and got[2, "fold-in"].precision == 0.5
    assert got[2, "fold-in"].sse == pytest.approx(8385 / 144)
    # popularity: the same list for every n, items 0 and 1 (both liked); errors 2, -0.5, 0.5, 0
    for n in (1, 2):
        assert got[n, "popularity"].top == [0, 1] and got[n, "popularity"].precision == 1.0
        assert got[n, "popularity"].sse == pytest.approx(4.5) and got[n, "popularity"].n == 4

    table = coldstart.fold_in_study(model, held, reveal=(1, 2), pool=2, k=2, reg=1.0, fallback=fallback,
                                    fallback_name="popularity", seed=0)
    assert list(table.index) == [1, 2]
    assert table.loc[1, ("rmse", "popularity")] == pytest.approx(np.sqrt(4.5 / 4))
    assert table.loc[2, ("rmse", "fold-in")] == pytest.approx(np.sqrt(8385 / 144 / 4))
    assert table.loc[1, ("precision@2", "fold-in")] == 0.5
    assert table.attrs == {"users": 1, "ratings": 4, "users with a relevant item": 1}
    assert coldstart.crossover(table, "rmse") is None and coldstart.crossover(table, "precision@2") is None


def test_pooled_rmse_and_users_without_a_relevant_item():
    """RMSE pools every scored rating of every user (not a mean of per-user RMSEs); a user with no
    relevant scored item is left out of precision (NaN), never counted as 0."""
    held = Ratings(np.r_[np.zeros(4, int), np.ones(6, int)], np.r_[np.arange(4), np.arange(6)],
                   np.array([5.0, 5, 5, 5, 1, 2, 1, 2, 1, 2]), 2, 6)
    model = Factorization(np.zeros((2, 1)), np.ones((6, 1)), 3.0, np.zeros(2), np.zeros(6))
    fallback = Factorization(np.zeros((2, 0)), np.zeros((6, 0)), 0.0, None, np.full(6, 3.0))
    detail = coldstart.fold_in_study(model, held, reveal=(1,), pool=1, k=2, reg=1.0, fallback=fallback,
                                     seed=0, per_user=True)
    table = coldstart.summarize(detail, k=2)
    pop = detail[detail.method == "fallback"]
    assert table.loc[1, ("rmse", "fallback")] == pytest.approx(np.sqrt(pop.sse.sum() / pop.n.sum()))
    shown = {row.user: row.shown[0] for row in pop.itertuples()}
    scored = held.subset(np.array([item != shown[user] for user, item in zip(held.user, held.item)]))
    assert len(scored) == 8
    assert table.loc[1, ("rmse", "fallback")] == pytest.approx(metrics.rmse(scored.value, np.full(8, 3.0)))
    assert pop.set_index("user").loc[0, "precision"] == 1.0  # user 0: every item is a 5
    assert np.isnan(pop.set_index("user").loc[1, "precision"])  # user 1 liked nothing
    assert table.loc[1, ("precision@2", "fallback")] == 1.0      # the mean over user 0 alone
    assert table.attrs == {"users": 2, "ratings": 8, "users with a relevant item": 1}


def test_crossover_is_where_fold_in_stays_ahead():
    columns = pd.MultiIndex.from_product([["rmse", "precision@10"], ["fold-in", "popularity"]])
    table = pd.DataFrame([[1.05, 1.03, 0.15, 0.20], [1.01, 1.03, 0.19, 0.20], [0.99, 1.03, 0.22, 0.20]],
                         index=pd.Index([1, 2, 5], name="revealed"), columns=columns)
    assert coldstart.crossover(table, "rmse") == 2
    assert coldstart.crossover(table, "precision@10") == 5
    with pytest.raises(ValueError, match="metric must be one of"):
        coldstart.crossover(table, "ndcg@10")
    # ahead at 1, behind at 2, ahead from 5 on: the crossover is 5, not 1
    table.loc[1, ("rmse", "fold-in")] = 1.00
    table.loc[2, ("rmse", "fold-in")] = 1.05
    assert coldstart.crossover(table, "rmse") == 5
    table.loc[5, ("rmse", "fold-in")] = 1.10  # behind at the largest n: no crossover
    assert coldstart.crossover(table, "rmse") is None


# ----------------------------------------------------------------------------- input checks
def test_study_refuses_what_would_make_it_silently_wrong():
    held, model, fallback = _tiny()
    kwargs = dict(reg=1.0, fallback=fallback, seed=0)
    with pytest.raises(ValueError, match="at most pool=2"):
        coldstart.fold_in_study(model, held, reveal=(1, 5), pool=2, **kwargs)
    with pytest.raises(ValueError, match="increasing"):
        coldstart.fold_in_study(model, held, reveal=(2, 1), pool=2, **kwargs)
    with pytest.raises(ValueError, match="more than pool=6"):
        coldstart.fold_in_study(model, held, reveal=(1,), pool=6, **kwargs)
    with pytest.raises(ValueError, match="shape"):
        coldstart.fold_in_study(model, Ratings(np.zeros(3, int), np.arange(3), np.ones(3), 2, 3),
                                reveal=(1,), pool=1, **kwargs)
    with pytest.raises(ValueError, match="fallback_name"):
        coldstart.fold_in_study(model, held, reveal=(1,), pool=2, fallback_name="fold-in", **kwargs)


def test_the_study_is_seeded():
    R = _random_ratings(per_user=14)
    train, held = coldstart.hold_out_users(R, 4, seed=0)
    model = _biased_model(R.n_users, R.n_items)
    fallback = baseline.popularity(train, by="rating")
    run = [coldstart.fold_in_study(model, held, reveal=(1, 2), pool=4, reg=0.5, fallback=fallback, seed=s)
           for s in (1, 1, 2)]
    pd.testing.assert_frame_equal(run[0], run[1])
    assert not run[0].equals(run[2])


def test_the_studys_partial_sort_ranks_exactly_as_top_n():
    """fold_in_study's fast top-k (a partial sort, then ties by index) gives recommend's own order,
    ties included, for every k (fewer candidates than k too)."""
    from mflab.coldstart import _top_k
    from mflab.recommend import _top

    rng = np.random.default_rng(4)
    for trial in range(200):
        n = int(rng.integers(1, 40))
        scores = rng.integers(0, 6, n).astype(float)  # many ties
        mask = rng.random(n) < 0.8
        for k in (1, 3, 10, 50):
            assert _top_k(scores, np.flatnonzero(mask), k).tolist() == _top(scores, mask, k).tolist()
