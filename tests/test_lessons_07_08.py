"""The figures lessons 07 (the latent space) and 08 (new users) print, held through the mflab API.

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


def test_lesson_06_original_stream_recommendations_for_user_77():
    """The original course's figures for its most active user, from ALS whose start continues the
    data generator's stream (``seed=d.rng``; see INSTRUCTORS.md). The lesson seeds its own fit."""
    d = mflab.datasets.synthetic_genres()
    model = als.fit(d.train, 3, reg=0.1, epochs=60, biases=False, seed=d.rng)
    n_rated = d.train.user_counts()
    target = int(np.argmax(n_rated))
    assert (target, n_rated[target]) == (77, 18)

    items, values = d.train.user_items(target)
    genres = np.array(d.genres)[d.movie_genres[items]]
    profile = {g: (int((genres == g).sum()), round(float(values[genres == g].mean()), 2))
               for g in d.genres if (genres == g).any()}
    assert profile == {"Action": (6, 1.75), "Comedy": (2, 1.79), "SciFi": (5, 1.55), "Horror": (5, 1.92)}

    recs = model.recommend(target, 8, exclude=d.train)
    ids = recs["item"].to_numpy()
    assert ids.tolist() == [23, 0, 8, 43, 16, 19, 4, 45]
    predicted = model.predict(np.full(8, target), ids, clip=True)
    assert np.round(predicted, 3).tolist() == [2.127, 2.027, 1.928, 1.917, 1.909, 1.885, 1.865, 1.856]
    assert np.array(d.genres)[d.movie_genres[ids]].tolist() == [
        "Action", "Drama", "SciFi", "SciFi", "Action", "Action", "Action", "Horror"]


def test_lesson_06_plain_als_figures():
    """Section 1 and 4 of the lesson: the plain ALS from seed 0 and user 77's list."""
    d = mflab.datasets.synthetic_genres(seed=42)
    model = als.fit(d.train, 3, reg=0.1, epochs=60, biases=False, seed=0)
    assert (round(model.rmse(d.train, clip=True), 4), round(model.rmse(d.test, clip=True), 4)) == (0.2480, 0.6984)
    recs = model.recommend(77, 8, exclude=d.train)
    ids = recs["item"].to_numpy()
    assert ids.tolist() == [0, 25, 19, 5, 40, 35, 49, 45]
    predicted = model.predict(np.full(8, 77), ids, clip=True)
    assert (round(predicted[0], 2), round(predicted[1], 2), round(predicted[-1], 2)) == (2.02, 1.79, 1.68)
    assert sorted(set(np.array(d.genres)[d.movie_genres[ids]])) == sorted(d.genres)  # all five genres
    assert d.genres[d.movie_genres[ids[0]]] == "Drama"
    assert not (d.movie_genres[d.train.user_items(77)[0]] == d.genres.index("Drama")).any()


def test_lesson_06_validates_lambda_as_lesson_04_and_gets_its_model():
    """Five validation splits (seeds 0-4), 30 sweeps, seed 0, k = 3: lambda 1.5 and test RMSE
    0.4333, lesson 04's repaired ALS; one split alone can pick another lambda."""
    d = mflab.datasets.synthetic_genres(seed=42)
    parts = [splits.random_split(d.train, 0.2, seed=s) for s in range(5)]
    grid = [0.3, 0.5, 1, 1.5, 2, 3, 5, 10]
    val = np.array([[als.fit(f, 3, reg=reg, epochs=30, biases=True, seed=0).rmse(v, clip=True) for f, v in parts]
                    for reg in grid])
    assert grid[int(np.argmin(val.mean(axis=1)))] == 1.5
    assert [grid[j] for j in val.argmin(axis=0)] == [1.5, 1.5, 1, 1.5, 1.5]
    better = als.fit(d.train, 3, reg=1.5, epochs=30, biases=True, seed=0)
    assert round(better.rmse(d.test, clip=True), 4) == 0.4333

    plain_als = als.fit(d.train, 3, reg=0.1, epochs=60, biases=False, seed=0)
    g = d.movie_genres
    same = (g[:, None] == g[None, :]) & ~np.eye(len(g), dtype=bool)
    different = g[:, None] != g[None, :]

    def contrast(model):
        S = mflab.recommend.cosine_similarity(model.Q)
        return S[same].mean() - S[different].mean()

    assert contrast(better) > contrast(plain_als) + 0.5
    S = mflab.recommend.cosine_similarity(plain_als.Q)
    assert S[different].mean() > 0.5  # the plain model's shared level: everything alike

    # sections 3 and 5 read these counts off the dominant-factor figures
    def dominant_counts(model):
        return pd.crosstab(g, np.argmax(np.abs(model.Q), axis=1))

    plain_counts = dominant_counts(plain_als)
    level = plain_counts.sum().idxmax()  # one factor dominates every genre but Drama
    drama = d.genres.index("Drama")
    assert all(plain_counts.loc[a].idxmax() == level and plain_counts.loc[a, level] > plain_counts.loc[a].sum() / 2
               for a in range(len(d.genres)) if a != drama)
    assert plain_counts.loc[drama, level] == 0 and plain_counts.loc[drama].sum() == 2
    five = dominant_counts(als.fit(d.train, 5, reg=1.5, epochs=30, biases=True, seed=0))
    horror, scifi = d.genres.index("Horror"), d.genres.index("SciFi")
    assert (five.loc[horror].max(), five.loc[horror].sum()) == (11, 15)
    assert (five.loc[scifi].max(), five.loc[scifi].sum()) == (7, 10)
    assert five.loc[horror].idxmax() != five.loc[scifi].idxmax()


def test_star_wars_neighbours_include_its_sequels(ml):
    R = ml.to_ratings()
    params = dict(BIASED)
    model = sgd.fit(R, params.pop("k"), **params)
    assert ml.title(49) == "Star Wars (1977)"
    top = model.similar_items(49, 10)["item"].tolist()
    # The Empire Strikes Back (id 172) and Return of the Jedi (id 181), 0-based 171 and 180
    assert {171, 180} <= set(top)
    assert top[:2] == [171, 180]

    # section 9: direction 2 of the popular movies follows the item bias, not the date of rating
    counts = R.item_counts()
    popular = np.flatnonzero(counts >= 200)
    coords, _ = plots.project_2d(model.Q[popular])
    mean_date = ml.ratings.groupby("item_id")["timestamp"].mean().loc[popular + 1].to_numpy()
    year = ml.movies["release_date"].dt.year.to_numpy()[popular]
    corr = [round(float(np.corrcoef(coords[:, 1], v)[0, 1]), 2) for v in (model.item_bias[popular], year, mean_date)]
    assert (len(popular), corr) == (118, [0.69, -0.36, -0.03])


def test_lesson_06_fold_in_study(ml):
    """Section 12: 150 validation and 250 evaluation users held out (seed 0), ALS on the rest;
    fold-in's reg chosen per metric on the validation users; the crossovers on the evaluation users."""
    from mflab import baseline, coldstart

    R = ml.to_ratings()
    train, val_users, test_users = coldstart.hold_out_users(R, 150, 250, seed=0)
    model = als.fit(train, 10, reg=15, reg_bias=5, epochs=15, seed=0)
    new = np.unique(np.r_[val_users.user, test_users.user])
    assert not model.P[new].any() and not model.user_bias[new].any()
    assert not model.Q[train.item_counts() == 0].any()
    popularity = baseline.popularity(train, by="rating")

    def study(held, reg):
        return coldstart.fold_in_study(model, held, reg=reg, reg_bias=5, fallback=popularity,
                                       fallback_name="popularity", seed=0)

    grid = [0.1, 0.3, 1, 3, 10, 30]
    tables = [study(val_users, reg) for reg in grid]
    assert grid[int(np.argmin([t["rmse"]["fold-in"].mean() for t in tables]))] == 3
    assert grid[int(np.argmax([t["precision@10"]["fold-in"].mean() for t in tables]))] == 0.3

    by_rmse, by_rank = study(test_users, 3), study(test_users, 0.3)
    assert by_rmse.attrs == {"users": 250, "ratings": 23727, "users with a relevant item": 249}
    assert np.round(by_rmse["rmse"]["fold-in"], 4).tolist() == [1.0200, 1.0117, 0.9980, 0.9806]
    assert round(by_rmse["rmse"]["popularity"].iloc[0], 4) == 1.0325
    assert np.round(by_rank["precision@10"]["fold-in"], 4).tolist() == [0.1940, 0.2104, 0.2233, 0.2502]
    assert round(by_rank["precision@10"]["popularity"].iloc[0], 4) == 0.2024
    assert (coldstart.crossover(by_rmse, "rmse"), coldstart.crossover(by_rank, "precision@10")) == (1, 2)
    assert coldstart.crossover(by_rmse, "precision@10") == 10  # little shrinkage suits ranking


# ----------------------------------------------------------------------------- plots added for these lessons
def test_lesson_06_label_points_and_fold_in_curves():
    fig, axes = plt.subplots(1, 2)
    # eight labels for one point (at most six places around it), one far away
    fig.set_size_inches(12, 5)
    xy = np.array([[2.0, 2.0]] * 8 + [[5.0, 5.0]]) + np.arange(9)[:, None] * 1e-4
    axes[0].set(xlim=(0, 6), ylim=(0, 6))
    names = [f"label{j}" for j in range(9)]
    n = plots.label_points(axes[0], xy, names, priority=[0, 1, 2, 3, 4, 5, 6, 7, 100])
    placed = {t.get_text() for t in axes[0].texts}
    assert 5 <= n <= 7 and n == len(placed) and "label8" in placed
    assert placed - {"label8"} == {f"label{j}" for j in range(7, 8 - n, -1)}  # the highest priorities
    boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in axes[0].texts]
    assert not any(a.overlaps(b) for j, a in enumerate(boxes) for b in boxes[j + 1:])
    frame = axes[0].get_window_extent(fig.canvas.get_renderer())
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    with pytest.raises(ValueError, match="one entry per point"):
        plots.label_points(axes[0], xy, ["a"])
    curves = {"fold-in": pd.Series([1.0, 0.9], index=[1, 5]), "popularity": pd.Series([0.95, 0.95], index=[1, 5])}
    ax = plots.fold_in_curves(curves, errors={"fold-in": pd.Series([0.1, 0.1], index=[1, 5])}, ax=axes[1], mark=5)
    assert ax is axes[1] and len(ax.lines) == 3 and len(ax.collections) == 1
    assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()  # line style as well as colour
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "5"]
    plt.close(fig)
