"""The figures lesson 06 (MovieLens with SGD) prints, held through the mflab API.

Each test fits exactly what the lesson fits, so a package change that moves a printed number fails
here, fast, before nbval runs the notebooks.
"""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import mflab
from mflab import als, baseline, metrics, plots, sgd, splits

# SGD on MovieLens-sized data: minutes as plain Python, so not part of `make unit-nonumba`
pytestmark = pytest.mark.needs_numba

# Lesson 05's settings for the biased model, chosen there on a validation carve-out of train.
BIASED = dict(k=50, lr=0.01, reg=0.1, epochs=30, seed=0)


@pytest.fixture(scope="module")
def ml():
    return mflab.datasets.movielens_100k()


@pytest.fixture(scope="module")
def split(ml):
    return splits.per_user_split(ml.to_ratings(), 0.2, seed=42)


@pytest.fixture(scope="module")
def plain(split):
    """Lesson 05's plain model: uniform init from the legacy generator seeded 42, P then Q; lr 0.001
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


# ----------------------------------------------------------------------------- lesson 05
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


# ----------------------------------------------------------------------------- lesson 06
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


