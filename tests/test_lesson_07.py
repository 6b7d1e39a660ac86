"""The figures lesson 07 (the latent space) prints or quotes, held through the mflab API.

Each test fits exactly what the lesson fits, so a package change that moves a printed number fails
here, fast, before nbval runs the notebook. Tolerance: a number quoted to d decimals is pinned as
``round(x, d) == value``, i.e. to half a unit of its last printed digit (the lesson prints at a
precision that is the same under the OpenBLAS kernels HASWELL and NEHALEM and numba's generic CPU).
"""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import mflab
from mflab import als, plots, recommend, sgd, splits


@pytest.fixture(scope="module")
def genres():
    return mflab.datasets.synthetic_genres(seed=42)


@pytest.fixture(scope="module")
def plain(genres):
    return als.fit(genres.train, 3, reg=0.1, epochs=60, biases=False, seed=0)


def genre_blocks(S, g, n):
    return np.array([[S[np.ix_(g == a, g == b)].mean() for b in range(n)] for a in range(n)])


def test_plain_als_figures_and_its_genre_blocks(genres, plain):
    """Sections 1-3: the plain ALS's RMSEs, the all-positive genre blocks, the dominant factor."""
    d = genres
    assert (d.train.n_users, d.train.n_items, len(d.train), len(d.test)) == (80, 50, 800, 199)
    assert (round(plain.rmse(d.train, clip=True), 4), round(plain.rmse(d.test, clip=True), 4)) == (0.2480, 0.6984)
    g = d.movie_genres
    B = np.round(genre_blocks(recommend.cosine_similarity(plain.Q), g, 5), 2)
    A, C, D, S, H = (d.genres.index(x) for x in ("Action", "Comedy", "Drama", "SciFi", "Horror"))
    assert (B > 0).all()
    assert (B[S, C], B[S, S]) == (0.75, 0.70)
    assert (B[H, A], B[H, C], B[H, S], B[H, H]) == (0.64, 0.63, 0.62, 0.60)
    for a in (A, C, D):  # more alike among themselves than with any other genre
        assert B[a, a] > np.delete(B[a], a).max()
    for a in (S, H):
        assert B[a, a] < np.delete(B[a], a).max()
    assert (g == D).sum() == 2

    counts = pd.crosstab(g, np.argmax(np.abs(plain.Q), axis=1))
    level = counts.sum().idxmax()  # one factor is the largest for most movies of every genre but Drama
    for a in range(5):
        if a != D:
            assert counts.loc[a].idxmax() == level and counts.loc[a, level] > counts.loc[a].sum() / 2
    assert counts.loc[D, level] == 0


def test_the_projections_shared_direction_and_where_the_users_sit(genres, plain):
    """Sections 2 and 4: the plain ALS puts every movie and user far out on direction 1 (a shared
    direction); with biases and lambda 1.5 it is gone, and users lean towards their favourite genre."""
    d = genres
    favourite = np.argmax(d.P_true, axis=1)
    coords, directions = plots.project_2d(plain.Q)
    assert coords[:, 0].min() > 0.5 and (plain.P @ directions)[:, 0].min() > 0.5
    better = als.fit(d.train, 3, reg=1.5, epochs=30, biases=True, seed=0)
    coords, directions = plots.project_2d(better.Q)
    assert coords[:, 0].min() < 0 < coords[:, 0].max()
    users = better.P @ directions
    g = d.movie_genres
    A, H = d.genres.index("Action"), d.genres.index("Horror")
    assert coords[g == A, 0].mean() < 0 and users[favourite == A, 0].mean() < 0  # Action: left
    assert coords[g == H, 1].mean() > 0 and users[favourite == H, 1].mean() > 0  # Horror: up
    assert users[favourite == A, 0].mean() < min(users[favourite == b, 0].mean() for b in range(5) if b != A)
    assert users[favourite == H, 1].mean() > max(users[favourite == b, 1].mean() for b in range(5) if b != H)


def test_a_rotation_changes_the_dominant_factors_and_nothing_the_model_uses(plain):
    O, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    P_rot, Q_rot = plain.P @ O, plain.Q @ O
    assert np.allclose(P_rot @ Q_rot.T, plain.P @ plain.Q.T, atol=1e-12)
    assert np.allclose(recommend.cosine_similarity(Q_rot), recommend.cosine_similarity(plain.Q), atol=1e-12)
    assert np.allclose(plots.project_2d(Q_rot)[0], plots.project_2d(plain.Q)[0], atol=1e-12)
    penalty = np.sum(plain.P ** 2) + np.sum(plain.Q ** 2)
    assert round(penalty, 4) == round(np.sum(P_rot ** 2) + np.sum(Q_rot ** 2), 4) == 357.9054
    changed = np.sum(np.argmax(np.abs(Q_rot), axis=1) != np.argmax(np.abs(plain.Q), axis=1))
    assert changed == 26


def test_validated_lambda_and_the_sharper_structure(genres, plain):
    """Section 4: five validation splits (seeds 0-4), 30 sweeps, seed 0, k = 3: lambda 1.5 and test
    RMSE 0.4333; the genre blocks turn negative off the diagonal; k = 5's dominant factors."""
    d = genres
    parts = [splits.random_split(d.train, 0.2, seed=s) for s in range(5)]
    grid = [0.3, 0.5, 1, 1.5, 2, 3, 5, 10]
    val = np.array([[als.fit(f, 3, reg=reg, epochs=30, biases=True, seed=0).rmse(v, clip=True) for f, v in parts]
                    for reg in grid])
    assert grid[int(np.argmin(val.mean(axis=1)))] == 1.5
    assert round(val.mean(axis=1)[grid.index(1.5)], 4) == 0.4536
    assert [grid[j] for j in val.argmin(axis=0)] == [1.5, 1.5, 1, 1.5, 1.5]
    better = als.fit(d.train, 3, reg=1.5, epochs=30, biases=True, seed=0)
    assert (round(better.rmse(d.train, clip=True), 4), round(better.rmse(d.test, clip=True), 4)) == (0.2776, 0.4333)

    g = d.movie_genres
    B = np.round(genre_blocks(recommend.cosine_similarity(better.Q), g, 5), 2)
    C, D, S = (d.genres.index(x) for x in ("Comedy", "Drama", "SciFi"))
    assert (np.diag(B) > 0).all()
    positive_pairs = {(a, b) for a in range(5) for b in range(5) if a != b and B[a, b] > 0}
    assert positive_pairs == {(C, D), (D, C), (C, S), (S, C)}  # "except Comedy with Drama and SciFi"

    five = pd.crosstab(g, np.argmax(np.abs(als.fit(d.train, 5, reg=1.5, epochs=30, biases=True, seed=0).Q), axis=1))
    H, A = d.genres.index("Horror"), d.genres.index("Action")
    assert (five.loc[H].max(), five.loc[H].sum()) == (11, 15)
    assert (five.loc[S].max(), five.loc[S].sum()) == (7, 10)
    assert five.loc[H].idxmax() != five.loc[S].idxmax()
    assert sorted(five.loc[A])[-2:] == [5, 8]  # Action splits over two factors


# ----------------------------------------------------------------------------------- MovieLens
@pytest.fixture(scope="module")
def ml():
    return mflab.datasets.movielens_100k()


@pytest.fixture(scope="module")
def mf(ml):
    return sgd.fit(ml.to_ratings(), 50, lr=0.01, reg=0.1, epochs=30, seed=0)


@pytest.mark.needs_numba
def test_star_wars_neighbours(ml, mf):
    """Section 6 and exercise 2: the sequels first; an 'unknown' item with 9 ratings among the ten."""
    counts = ml.to_ratings().item_counts()
    assert ml.title(49) == "Star Wars (1977)"
    top = mf.similar_items(49, 10)
    assert top["item"].tolist()[:2] == [171, 180]  # The Empire Strikes Back, Return of the Jedi
    assert np.round(top["similarity"].to_numpy()[:2], 3).tolist() == [0.962, 0.866]
    assert ml.title(int(top["item"].iloc[7])) == "unknown" and counts[top["item"].iloc[7]] == 9
    solid = counts >= 20
    everything = mf.similar_items(49, len(counts) - 1)
    ten = everything[solid[everything["item"]]].head(10)["item"].to_numpy()
    flags = ml.movies[ml.genre_names].to_numpy(dtype=bool)
    wanted = [ml.genre_names.index(x) for x in ("Action", "Adventure", "Sci-Fi")]
    assert flags[ten][:, wanted].any(axis=1).sum() >= 8  # "mostly Action, Adventure and Sci-Fi"

    lengths = np.linalg.norm(mf.Q, axis=1)
    assert (round(lengths[49], 3), round(float(np.median(lengths[solid])), 3)) == (0.831, 0.790)


@pytest.mark.needs_numba
def test_the_map_directions_and_their_correlations(ml, mf):
    """Section 7 (issue 22, statement 10: what the outputs show, no critics): the correlations."""
    counts = ml.to_ratings().item_counts()
    popular = np.flatnonzero(counts >= 200)
    coords, _ = plots.project_2d(mf.Q[popular])
    flags = ml.movies[ml.genre_names].to_numpy(dtype=bool)
    mean_date = ml.ratings.groupby("item_id")["timestamp"].mean().loc[popular + 1].to_numpy()
    year = ml.movies["release_date"].dt.year.to_numpy()[popular]
    facts = [mf.item_bias[popular], year, mean_date, flags[popular, ml.genre_names.index("Action")],
             flags[popular, ml.genre_names.index("Drama")]]
    corr = [[round(float(np.corrcoef(coords[:, j], v)[0, 1]), 2) for v in facts] for j in range(2)]
    assert len(popular) == 118
    assert corr == [[0.35, -0.32, -0.09, -0.40, 0.27], [0.69, -0.36, -0.03, -0.12, 0.26]]
    low, high = popular[np.argsort(coords[:, 0])][:3], popular[np.argsort(coords[:, 0])][::-1][:3]
    assert ml.title(low.tolist()) == ["Independence Day (ID4) (1996)", "Twister (1996)", "Top Gun (1986)"]
    assert ml.title(high.tolist()) == ["Clockwork Orange, A (1971)", "Trainspotting (1996)", "Brazil (1985)"]


@pytest.mark.needs_numba
def test_one_users_taste(ml, mf):
    """Section 8 and exercise 1: user 0's affinities against their residuals."""
    R = ml.to_ratings()
    solid = R.item_counts() >= 20
    flags = ml.movies[ml.genre_names].to_numpy(dtype=bool)
    items, values = R.user_items(0)
    residual = values - mf.mu - mf.item_bias[items]
    rows = {}
    for g, genre in enumerate(ml.genre_names):
        mine = flags[items, g]
        if mine.sum() >= 5:
            rows[genre] = (residual[mine].mean(), mf.P[0] @ mf.Q[solid & flags[:, g]].mean(axis=0))
    res, aff = np.array(list(rows.values())).T
    assert len(rows) == 16 and round(float(np.corrcoef(aff, res)[0, 1]), 2) == 0.83
    assert (round(rows["Sci-Fi"][1], 3), round(rows["Romance"][1], 3)) == (-0.001, -0.048)
    assert rows["Sci-Fi"][0] > 0 and rows["Romance"][0] > 0
    assert round(mf.user_bias[0], 3) == 0.108

    candidates = np.flatnonzero(solid)
    sims = mf.Q[solid] @ mf.P[0] / (np.linalg.norm(mf.Q[solid], axis=1) * np.linalg.norm(mf.P[0]))
    along_user = candidates[np.argsort(-sims)[:8]]
    assert np.isin(along_user, items).sum() == 5  # "user 0 had rated five of the eight"


def test_original_stream_recommendations_for_user_77():
    """The source course's figures for its most active user (INSTRUCTORS notes, provenance), from
    ALS whose start continues the data generator's stream (``seed=d.rng``). The lesson seeds its own fit."""
    d = mflab.datasets.synthetic_genres()
    model = als.fit(d.train, 3, reg=0.1, epochs=60, biases=False, seed=d.rng)
    n_rated = d.train.user_counts()
    target = int(np.argmax(n_rated))
    assert (target, n_rated[target]) == (77, 18)
    recs = model.recommend(target, 8, exclude=d.train)
    ids = recs["item"].to_numpy()
    assert ids.tolist() == [23, 0, 8, 43, 16, 19, 4, 45]
    predicted = model.predict(np.full(8, target), ids, clip=True)
    assert np.round(predicted, 3).tolist() == [2.127, 2.027, 1.928, 1.917, 1.909, 1.885, 1.865, 1.856]


def test_label_points_places_the_most_rated_without_overlap():
    fig, ax = plt.subplots()
    fig.set_size_inches(6, 5)
    # eight labels for one point (at most six places around it), one far away
    xy = np.array([[2.0, 2.0]] * 8 + [[5.0, 5.0]]) + np.arange(9)[:, None] * 1e-4
    ax.set(xlim=(0, 6), ylim=(0, 6))
    names = [f"label{j}" for j in range(9)]
    n = plots.label_points(ax, xy, names, priority=[0, 1, 2, 3, 4, 5, 6, 7, 100])
    placed = {t.get_text() for t in ax.texts}
    assert 5 <= n <= 7 and n == len(placed) and "label8" in placed
    assert placed - {"label8"} == {f"label{j}" for j in range(7, 8 - n, -1)}  # the highest priorities
    boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in ax.texts]
    assert not any(a.overlaps(b) for j, a in enumerate(boxes) for b in boxes[j + 1:])
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    with pytest.raises(ValueError, match="one entry per point"):
        plots.label_points(ax, xy, ["a"])
    plt.close(fig)


def _label_points_one_annotation_per_spot(ax, X2, texts, priority, fontsize):
    """The obvious (slow) label_points: lay out an annotation at every spot tried."""
    order = np.argsort(-np.asarray(priority), kind="stable")
    ax.autoscale_view()
    ax.apply_aspect()
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed = []
    for j in order:
        for offset, ha, va in plots.LABEL_SPOTS:
            label = ax.annotate(texts[j], X2[j], fontsize=fontsize, xytext=offset, textcoords="offset points",
                                ha=ha, va=va)
            box = label.get_window_extent(renderer).expanded(1.05, 1.15)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()
    return len(placed)


def test_label_points_measures_once_and_places_as_the_obvious_version():
    """label_points lays each text out once and moves its box to the other spots by arithmetic:
    the same labels land in the same places as when every spot is laid out for real."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    texts = ["".join(rng.choice(list("abcdefgh yjpqAB"), rng.integers(3, 22))) for _ in range(60)]
    priority = rng.random(60)
    found = []
    for place in (_label_points_one_annotation_per_spot,
                  lambda ax, *a: plots.label_points(ax, a[0], a[1], priority=a[2], fontsize=a[3])):
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.scatter(X[:, 0], X[:, 1])
        ax.set_aspect("equal", adjustable="datalim")
        n = place(ax, X, texts, priority, 9)
        renderer = fig.canvas.get_renderer()
        found.append((n, [(t.get_text(), tuple(t.xyann), t.get_ha(), t.get_va(),
                           tuple(np.round(t.get_window_extent(renderer).bounds, 6))) for t in ax.texts]))
        plt.close(fig)
    assert found[0][0] > 10 and found[0] == found[1]
