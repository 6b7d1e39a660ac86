"""The figures lesson 06 (MovieLens with SGD) prints, held through the mflab API.

Each test fits exactly what the lesson fits, so a package change that moves a printed number fails
here, fast, before nbval runs the notebooks.
"""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import mflab
from mflab import baseline, metrics, plots, recommend, sgd, splits

# SGD on MovieLens-sized data: minutes as plain Python, so not part of `make unit-nonumba`
pytestmark = pytest.mark.needs_numba

# The lesson's settings for the biased model, chosen there on a validation carve-out of train.
BIASED = dict(k=50, lr=0.01, reg=0.1, epochs=30, seed=0)
# Below this many training ratings a movie is "rarely rated" in the lesson's section 6.
RARE = 20


@pytest.fixture(scope="module")
def ml():
    return mflab.datasets.movielens_100k()


@pytest.fixture(scope="module")
def split(ml):
    return splits.per_user_split(ml.to_ratings(), 0.2, seed=42)


@pytest.fixture(scope="module")
def plain(split):
    """The lesson's plain model: uniform init from the legacy generator seeded 42, P then Q; lr 0.001
    with the gradient's factor 2 is mflab's lr 0.002; no biases, no regularisation, fixed order."""
    train, _ = split
    legacy = np.random.RandomState(42)  # the same stream as np.random.seed(42) + np.random.rand
    P0 = legacy.rand(train.n_users, 5)
    Q0 = legacy.rand(train.n_items, 5)
    return sgd.fit(train, 5, lr=0.002, reg=0.0, epochs=100, biases=False, shuffle=False, init=(P0, Q0))


@pytest.fixture(scope="module")
def biased(split):
    train, _ = split
    params = dict(BIASED)
    return sgd.fit(train, params.pop("k"), **params)


@pytest.fixture(scope="module")
def damped(split):
    train, _ = split
    return baseline.fit(train, reg_user=25, reg_item=25)


# ----------------------------------------------------------------------------- lesson 06
def test_movielens_sparsity_and_split(ml, split):
    R = ml.to_ratings()
    assert round(1 - R.density, 3) == 0.937
    train, test = split
    assert (len(train), len(test)) == (80_000, 20_000)
    assert (train.user_counts() > 0).all() and (test.user_counts() > 0).all()


def test_plain_sgd_test_mse_is_about_0_91(split, plain):
    """Material 3 reports a test MSE of about 0.91. Its split (pandas per-user sample) and its
    unseeded final shuffle of the training rows cannot be reproduced draw for draw; over three
    per-user splits x three visiting orders this model gives 0.905-0.913. So we require the band
    0.91 +- 0.02, and the lesson's own printed figure exactly. (Test items with no training rating
    keep zero factors, so plain MF predicts 0 for them; a random uniform start predicted about 1.5
    and gave 0.9075.)"""
    train, test = split
    mse = plain.rmse(test) ** 2
    assert 0.89 <= mse <= 0.93
    assert round(mse, 4) == 0.9160
    assert round(plain.rmse(train) ** 2, 4) == 0.6985


def test_accuracy_table_and_biased_beats_baseline_and_plain(split, plain, biased):
    train, test = split
    base = baseline.fit(train)
    table = {name: (round(m.rmse(test), 4), round(m.mae(test), 4))
             for name, m in (("baseline", base), ("plain", plain), ("biased", biased))}
    assert table == {"baseline": (0.9642, 0.7584), "plain": (0.9571, 0.7453), "biased": (0.9151, 0.7215)}
    assert biased.rmse(test) < plain.rmse(test) - 0.02
    assert biased.rmse(test) < base.rmse(test) - 0.03


def test_ranking_metrics_order(split, plain, biased):
    train, test = split
    ndcg = {name: metrics.ranking_metrics(m, test, k=10, exclude=train)["ndcg@10"]
            for name, m in (("baseline", baseline.fit(train)), ("plain", plain), ("biased", biased))}
    assert round(ndcg["biased"], 4) == 0.0825
    # an undamped baseline ranks movies with one five-star rating first: almost nothing relevant
    assert ndcg["baseline"] < 0.01 < ndcg["plain"] < ndcg["biased"]


def test_recommendations_exclude_what_the_user_rated(split, biased):
    train, _ = split
    recs = biased.recommend(41, 10, exclude=train)
    assert len(recs) == 10 and not set(recs["item"]) & set(train.user_items(41)[0])
    assert list(recs["item"][:2]) == [312, 317]  # Titanic, Schindler's List


def test_u1_benchmark_figure():
    train, test = mflab.datasets.movielens_100k_split("u1")
    params = dict(BIASED)
    model = sgd.fit(train, params.pop("k"), **params)
    assert round(model.rmse(test), 4) == 0.9266
    # the lesson sets this next to Surprise SVD's published 0.934 (5-fold mean); u1 alone is harder
    assert model.rmse(test) < 0.934


def test_validation_grid_best_run_and_the_30_epoch_budget(split):
    """Section 4: the best run of the grid (lr 0.01, reg 0.1) bottoms out at epoch 44 on validation;
    stopping at 30 epochs costs about 0.002."""
    train, _ = split
    fit_part, val = splits.per_user_split(train, 0.2, seed=1)
    curve = np.array(sgd.fit(fit_part, 50, lr=0.01, reg=0.1, epochs=60, seed=0, test=val).history["test_rmse"])
    assert (int(curve.argmin()) + 1, round(curve.min(), 4), round(curve[29], 4)) == (44, 0.9207, 0.9226)


def test_sgd_ranks_worse_than_the_damped_baseline_because_of_rarely_rated_movies(split, biased, damped):
    """Issue 22, statement 13, as section 6 shows it: SGD's item biases for movies with few ratings
    stay large (the damped baseline shrinks them), those movies take a sixth of SGD's top-10 slots
    and almost never hold a relevant movie; left out, SGD's NDCG@10 comes most of the way to the
    damped baseline's."""
    train, test = split
    counts = train.item_counts()
    few = (counts >= 6) & (counts < RARE)
    assert (round(biased.item_bias[few].max(), 2), round(damped.item_bias[few].max(), 2)) == (0.99, 0.32)
    rare = counts < RARE
    good = test.subset(test.value >= 4).mask()
    users = np.flatnonzero(np.bincount(test.user[test.value >= 4], minlength=test.n_users))
    lists = recommend.top_n_batch(biased, users, 10, exclude=train)
    on_rare, hit = rare[lists], good[users[:, None], lists]
    assert round(on_rare.mean(), 4) == 0.1769
    assert round(biased.item_bias[lists][on_rare].mean(), 4) == 0.8154
    assert round(hit[on_rare].mean(), 4) == 0.0012 and round(hit[~on_rare].mean(), 4) == 0.0890
    assert not rare[recommend.top_n_batch(damped, users, 10, exclude=train)].any()
    hide = train.to_dense()
    hide[:, rare] = 1.0
    no_rare = mflab.Ratings.from_dense(hide)
    ndcg = {name: metrics.ranking_metrics(m, test, k=10, exclude=ex)["ndcg@10"]
            for name, m, ex in (("sgd", biased, train), ("damped", damped, train), ("sgd, no rare", biased, no_rare))}
    assert {k: round(v, 4) for k, v in ndcg.items()} == {"sgd": 0.0825, "damped": 0.1067, "sgd, no rare": 0.1022}
    assert ndcg["sgd"] < ndcg["sgd, no rare"] < ndcg["damped"]


def test_the_biases_of_movies_with_five_ratings_or_fewer_have_not_finished_growing(split, biased):
    """Section 6's parenthesis on the bias table: with at most 5 ratings (at most 150 steps in 30
    epochs) a movie's SGD bias is still short of where its ratings pull it, the stationary point
    b_i = mean(r - mu - b_u - p_u.q_i) / (1 + reg) of its updates; from 6 ratings on it is nearly there."""
    train, _ = split
    m, counts = biased, train.item_counts()
    rest = m.mu + m.user_bias[train.user] + np.einsum("tk,tk->t", m.P[train.user], m.Q[train.item])
    pull = np.bincount(train.item, train.value - rest, minlength=train.n_items) / np.maximum(counts, 1)
    reached = m.item_bias / np.where(np.abs(pull) > 1e-9, pull / (1 + BIASED["reg"]), np.nan)
    share = {band: float(np.nanmedian(reached[(counts >= lo) & (counts <= hi)]))
             for band, lo, hi in (("1", 1, 1), ("2-5", 2, 5), ("6-19", 6, 19), ("20+", 20, 10**6))}
    assert round(share["1"], 2) == 0.31  # the median movie rated once: a third of the way
    assert share["1"] < share["2-5"] < 0.8 < 0.9 < share["6-19"] and share["20+"] > 0.9


def test_the_best_ranker_is_the_worst_rating_predictor(split, plain, biased, damped):
    """Section 6's table: the damped baseline ranks best of the four and predicts ratings worst
    (its test RMSE column); the plain baseline's favourite movies have one or two training ratings."""
    train, test = split
    base = baseline.fit(train)
    assert round(damped.rmse(test), 4) == 0.9719
    assert damped.rmse(test) > max(m.rmse(test) for m in (base, plain, biased))
    counts = train.item_counts()
    assert counts[np.argsort(-base.item_bias)[:5]].tolist() == [1, 1, 1, 2, 1]


def test_surprise_recipe_lands_near_its_published_five_fold_figure():
    """Section 7: Surprise's SVD settings in mflab, over GroupLens' u1-u5, against Surprise's
    published 5-fold mean of 0.934."""
    scores = []
    for fold in ("u1", "u2", "u3", "u4", "u5"):
        train, test = mflab.datasets.movielens_100k_split(fold)
        scores.append(sgd.fit(train, 100, lr=0.005, reg=0.02, epochs=20, seed=0).rmse(test))
    assert round(scores[0], 4) == 0.9494 and round(float(np.mean(scores)), 4) == 0.9368
    assert abs(np.mean(scores) - 0.934) < 0.005


# ------------------------------------------------ plots that lessons 07 and 08 draw (kept from the old file)
def test_count_matrix_and_predicted_vs_true_draw():
    fig, axes = plt.subplots(1, 2)
    table = pd.DataFrame([[2, 0], [1, 3]], index=["a", "b"], columns=[0, 1])
    assert plots.count_matrix(table, ax=axes[0]) is axes[0]
    assert sorted(t.get_text() for t in axes[0].texts) == ["1", "2", "3"]  # zero cells left blank
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="2-D"):
        plots.count_matrix([1, 2, 3])
    assert plots.predicted_vs_true([1, 2, 5], [1.5, 2.5, 4.0], ax=axes[1]) is axes[1]
    assert len(axes[1].collections) == 1 and len(axes[1].lines) == 1
    with pytest.raises(ValueError, match="same shape"):
        plots.predicted_vs_true([1, 2], [1.0])
    plt.close(fig)


