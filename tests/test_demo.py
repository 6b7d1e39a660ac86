"""mflab.demo, the logic of lesson 13's rate-and-recommend app, held against independent answers."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mflab import Ratings, als, demo, recommend

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "13_rate_and_recommend.ipynb"


@pytest.fixture(scope="module")
def small():
    """A 40 x 30 low-rank problem with titles; every movie has at least min_ratings ratings."""
    rng = np.random.default_rng(3)
    P, Q = rng.normal(size=(40, 3)), rng.normal(size=(30, 3))
    R = np.clip(3 + P @ Q.T, 1, 5)
    R[rng.random(R.shape) < 0.3] = np.nan
    titles = [f"Movie {chr(65 + i % 26)}{i} ({1980 + i})" for i in range(30)]
    return demo.build(Ratings.from_dense(R), titles, k=3, reg=0.5, reg_bias=0.5, epochs=20, seed=0,
                      min_ratings=5, n_labels=6)


@pytest.fixture(scope="module")
def movielens():
    return demo.build()


def lstsq_fold_in(model, items, values, reg, reg_bias):
    """The same ridge problem solved as an augmented least-squares system by numpy.linalg.lstsq."""
    items = np.asarray(items)
    X = np.column_stack([np.ones(len(items)), model.Q[items]])
    y = np.asarray(values, float) - model.mu - model.item_bias[items]
    ridge = np.diag(np.sqrt(np.r_[reg_bias, np.full(model.k, reg)]))
    sol = np.linalg.lstsq(np.vstack([X, ridge]), np.r_[y, np.zeros(model.k + 1)], rcond=None)[0]
    return sol[1:], sol[0]


@pytest.mark.parametrize("reg, reg_bias", [(5.0, 5.0), (0.3, 2.0)])
def test_fold_in_matches_lstsq(movielens, reg, reg_bias):
    rated = {0: 5, 49: 4, 180: 1, 120: 3}
    p_u, b_u = demo.fold_in(movielens, rated, reg=reg, reg_bias=reg_bias)
    p_ref, b_ref = lstsq_fold_in(movielens.model, list(rated), list(rated.values()), reg, reg_bias)
    np.testing.assert_allclose(p_u, p_ref, atol=1e-9)
    assert b_u == pytest.approx(b_ref, abs=1e-9)


def test_scores_are_the_folded_in_predictions_and_exclude_rated(small):
    rated = {0: 5, 3: 1, 7: 4}
    recs = demo.recommend(small, rated, 10, reg=1.0, reg_bias=1.0)
    assert len(recs) == 10 and not set(recs["item"]) & set(rated)
    assert recs["predicted"].is_monotonic_decreasing
    p_ref, b_ref = lstsq_fold_in(small.model, list(rated), list(rated.values()), 1.0, 1.0)
    m = small.model
    expected = m.mu + b_ref + m.item_bias + m.Q @ p_ref
    np.testing.assert_allclose(recs["predicted"], expected[recs["item"]], atol=1e-9)
    # the best unrated movie by a brute-force ranking of every movie
    unrated = [i for i in range(30) if i not in rated and small.counts[i] >= small.min_ratings]
    assert recs["item"].iloc[0] == max(unrated, key=lambda i: expected[i])


def test_agrees_with_recommend_new_user_when_every_movie_qualifies(small):
    rated = {2: 2, 5: 5, 11: 3}
    assert (small.counts >= small.min_ratings).all()
    ours = demo.recommend(small, rated, 8, reg=1.0, reg_bias=0.5)
    theirs = recommend.recommend_new_user(small.model, list(rated), list(rated.values()), 8,
                                          reg=1.0, reg_bias=0.5)
    assert ours["item"].tolist() == theirs["item"].tolist()


def test_rated_movies_never_come_back_on_movielens(movielens):
    star_wars = demo.search(movielens, "star wars")["item"].iloc[0]
    rated = {int(star_wars): 5}
    for i in demo.recommend(movielens, {}, 5)["item"][:3]:
        rated[int(i)] = 5  # rate the current top movies: the list must move past them
    recs = demo.recommend(movielens, rated, 10)
    assert not set(recs["item"]) & set(rated)
    assert (movielens.counts[recs["item"]] >= movielens.min_ratings).all()
    assert not set(demo.popularity(movielens, rated)["item"]) & set(rated)


def test_ratings_move_the_list_and_the_user(movielens):
    before = demo.recommend(movielens, {}, 10)
    kids = {int(demo.search(movielens, q)["item"].iloc[0]): 5 for q in ("toy story", "aladdin", "lion king")}
    crime = {int(demo.search(movielens, q)["item"].iloc[0]): 5 for q in ("godfather", "pulp fiction", "fargo")}
    a, b = demo.recommend(movielens, kids, 10), demo.recommend(movielens, crime, 10)
    assert a["item"].tolist() != before["item"].tolist()
    assert len(set(a["item"]) & set(b["item"])) < 8  # two tastes, two lists
    assert np.allclose(demo.position(movielens, {}), 0)
    pa, pb = demo.position(movielens, kids), demo.position(movielens, crime)
    assert np.linalg.norm(pa - pb) > 0.1
    np.testing.assert_allclose(pa, demo.fold_in(movielens, kids)[0] @ movielens.directions)


def test_before_any_rating_the_ranking_is_mu_plus_item_bias(small):
    recs = demo.recommend(small, {}, 30)
    expected = small.model.mu + small.model.item_bias
    assert recs["item"].tolist() == sorted(range(30), key=lambda i: (-expected[i], i))


def test_search_matches_every_word_any_case_most_rated_first(movielens):
    found = demo.search(movielens, "TREK star", n=20)
    assert len(found) >= 3 and all("star trek" in t.lower() for t in found["title"])
    assert found["ratings"].is_monotonic_decreasing
    assert demo.search(movielens, "star wars")["title"].tolist() == ["Star Wars (1977)"]
    assert demo.search(movielens, "").empty and demo.search(movielens, "zzzqqq").empty
    assert len(demo.search(movielens, "the", n=5)) == 5


def test_popularity_is_by_count(small):
    pop = demo.popularity(small, {}, 30)
    assert pop["ratings"].tolist() == sorted(small.counts.tolist(), reverse=True)


def test_map_labels_the_most_rated_and_draws(small):
    import matplotlib
    matplotlib.use("Agg")
    assert set(small.labelled) == set(np.argsort(-small.counts, kind="stable")[:6])
    np.testing.assert_allclose(small.coords, small.model.Q @ small.directions)
    ax = demo.draw_map(small, {0: 5, 1: 2})
    assert ax.get_title() == "You on the latent map"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["movies with >= 5 ratings", "the 6 most rated", "origin (no ratings yet)",
                      "movies you rated", "you"]


def test_bad_inputs_are_refused(small):
    with pytest.raises(ValueError, match="titles"):
        demo.build(Ratings.from_dense(np.ones((3, 3))), ["a", "b"], k=2)
    with pytest.raises(ValueError, match=r"rated \(its keys, the movies\) holds 99.*\[0, 30\)"):
        demo.recommend(small, {99: 5})
    with pytest.raises(ValueError, match="n"):
        demo.recommend(small, {}, 0)


def test_app_builds_with_findable_widgets(small):
    pytest.importorskip("ipywidgets")
    import matplotlib
    matplotlib.use("Agg")
    ui = demo.app(small)

    def walk(w):
        yield w
        for child in getattr(w, "children", ()):
            yield from walk(child)

    found = {cls: w for w in walk(ui) for cls in w._dom_classes}
    assert set(demo.CSS.values()) <= set(found)
    search, results = found[demo.CSS["search"]], found[demo.CSS["results"]]
    search.value = "movie a0"
    assert results.value == 0
    found[demo.CSS["add"]].click()
    assert "Movie A0" in found[demo.CSS["rated"]].value
    [image] = found[demo.CSS["map"]].children  # the map, redrawn as a PNG after every rating
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Movie A0" not in found[demo.CSS["recs"]].value
    found[demo.CSS["clear"]].click()
    assert "none yet" in found[demo.CSS["rated"]].value
    assert isinstance(demo.recommend(small, {}), pd.DataFrame)


def planted(n_users=80, n_items=40, seed=5):
    """Every user rates every item; ratings follow a rank-2 taste plus noise (so taste is learnable)."""
    rng = np.random.default_rng(seed)
    R = 3 + rng.normal(size=(n_users, 2)) @ rng.normal(size=(2, n_items)) + rng.normal(0, 0.3, (n_users, n_items))
    return Ratings.from_dense(np.clip(R, 1, 5))


def test_fold_in_study_holds_users_out_of_the_fit(monkeypatch):
    fits = []
    real_fit = als.fit
    monkeypatch.setattr(als, "fit", lambda train, *a, **kw: fits.append(train) or real_fit(train, *a, **kw))
    data = planted()
    study = demo.fold_in_study(data, regs=(0.5, 5.0), n_given=(3, 10), val_frac=0.25, min_user_ratings=20,
                               k=2, model_reg=1.0, reg_bias=1.0, epochs=10, seed=0)
    [train] = fits
    assert (train.user_counts() == 0).sum() == 20  # a quarter of the 80 users, all eligible
    held = np.flatnonzero(train.user_counts() == 0)
    assert len(train) == len(data) - (data.user_counts()[held]).sum()  # nobody else lost a rating
    assert list(study.columns) == ["n_given", "reg", "rmse", "users", "scored"]
    assert (study["users"] == 20).all()  # every user rated all 40 items: 37 unseen at 3 given, 30 at 10
    assert study.groupby("n_given")["scored"].unique().map(list).to_dict() == {3: [20 * 37], 10: [20 * 30]}
    assert study[["n_given", "reg"]].values.tolist() == [[3, 0.5], [3, 5.0], [3, np.inf],
                                                         [10, 0.5], [10, 5.0], [10, np.inf]]
    assert np.isfinite(study["rmse"]).all()
    t = study.pivot(index="reg", columns="n_given", values="rmse")
    assert t.loc[0.5, 10] < t.loc[np.inf, 10] - 0.1  # with planted taste, ten ratings place a user
    assert t[10].min() < t[3].min()  # more ratings, better predictions
    again = demo.fold_in_study(data, regs=(0.5, 5.0), n_given=(3, 10), val_frac=0.25, min_user_ratings=20,
                               k=2, model_reg=1.0, reg_bias=1.0, epochs=10, seed=0)
    pd.testing.assert_frame_equal(study, again)


def test_the_apps_fold_in_reg_is_the_one_validation_chose():
    """demo.FOLD_IN_REG (lesson 13's app) has the lowest mean validation RMSE on MovieLens, on the
    grid lesson 13 prints; the model's own reg (15, recommend.fold_in's default) is worse for new
    users with 3, 5 and 10 ratings alike."""
    study = demo.fold_in_study(regs=(1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 50.0), seed=0)
    table = study.pivot(index="reg", columns="n_given", values="rmse")
    sizes = study.groupby("n_given")[["users", "scored"]].first()  # lesson 13: 149 users, some 16,000 ratings
    assert sizes["users"].tolist() == [149] * 3 and sizes["scored"].tolist() == [16676, 16378, 15633]
    assert table.mean(axis=1).idxmin() == demo.FOLD_IN_REG
    assert (table.loc[demo.FOLD_IN_REG] - table.min()).max() < 5e-4  # near the best for 3, 5 and 10
    assert (table.loc[15.0] > table.loc[demo.FOLD_IN_REG]).all()
    assert np.round(table.loc[15.0], 4).tolist() == [0.9788, 0.9648, 0.9436]


def test_lesson_13_stores_no_widget_state():
    """Widget state (random model ids, every widget's value) must not be stored: it would change on
    every run. The live cell's output is ignored by nbval; `make notebooks` does not store state."""
    nb = json.loads(LESSON.read_text(encoding="utf-8"))
    assert "widgets" not in nb["metadata"]
    [app_cell] = [c for c in nb["cells"] if c["cell_type"] == "code" and "demo.app(" in "".join(c["source"])]
    assert "".join(app_cell["source"]).startswith("# NBVAL_IGNORE_OUTPUT")
    assert "--ExecutePreprocessor.store_widget_state=False" in (ROOT / "Makefile").read_text()


def test_the_demo_page_holds_the_app_and_no_answers(tmp_path):
    """`make demo` serves mflab.demo.app_page's copy of lesson 13: Voila shows every cell, hidden
    or not, so the page holds only the cells tagged demo-app: imports, the model and the app."""
    page = json.loads(demo.app_page(LESSON, tmp_path).read_text(encoding="utf-8"))
    lesson = json.loads(LESSON.read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in page["cells"] if c["cell_type"] == "code"]
    assert len(code) == 3 and "import" in code[0] and "demo.build(" in code[1] and "demo.app(" in code[2]
    assert page["cells"][0]["source"] == demo.APP_TITLE
    assert not [c for c in page["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert all(c["outputs"] == [] for c in page["cells"] if c["cell_type"] == "code")
    assert "widgets" not in page["metadata"] and page["metadata"]["kernelspec"] == lesson["metadata"]["kernelspec"]
    tagged = [c for c in lesson["cells"] if demo.APP_TAG in c["metadata"].get("tags", [])]
    assert all(c["cell_type"] == "code" for c in tagged)  # no lesson prose on the projector page
    with pytest.raises(ValueError, match="demo-app"):
        demo.app_page(ROOT / "notebooks" / "01_toy_sgd.ipynb", tmp_path)


def test_lesson_13_exercise_2_by_hand_is_the_apps_list(movielens):
    """Lesson 13's exercise 2: ranking by b_i + p_u . q_i with the rated movies and those with
    fewer than min_ratings ratings left out is demo.recommend's list; for the fan the rule changes
    nothing in the top 10, and the first movie it leaves out would come 15th."""
    fan = {int(demo.search(movielens, q)["item"].iloc[0]): 5 for q in ("toy story", "aladdin", "lion king")}
    m = movielens.model
    p_u, _ = demo.fold_in(movielens, fan)
    scores = m.item_bias + m.Q @ p_u
    scores[list(fan)] = -np.inf
    order = np.argsort(-scores, kind="stable")[:-len(fan)]
    few = movielens.counts < movielens.min_ratings
    assert order[~few[order]][:10].tolist() == demo.recommend(movielens, fan, 10)["item"].tolist()
    assert not few[order[:10]].any()
    first = int(np.flatnonzero(few[order])[0])
    assert first + 1 == 15 and movielens.counts[order[first]] == 8 and round(m.item_bias[order[first]], 2) == 0.85


def test_lesson_13_list_overlaps_and_the_map(movielens):
    """Lesson 13's prose: the lambda sweep's lists (lambda 2 and 5 share 8 of 10), the most-rated list
    against the fan's (Star Wars and Raiders only), the map's first direction (the fan's films right
    of centre with Liar Liar and Return of the Jedi, the crime films far left) and both stars."""
    def ids(*titles):
        return [int(demo.search(movielens, q)["item"].iloc[0]) for q in titles]

    fan = {i: 5 for i in ids("toy story", "aladdin", "lion king")}
    crime = {i: 5 for i in ids("godfather", "pulp fiction", "fargo")}
    regs = (1.0, 2.0, 5.0, 20.0)
    lists = {reg: set(demo.recommend(movielens, fan, 10, reg=reg)["item"]) for reg in regs}
    blank = set(demo.recommend(movielens, {}, 10)["item"])
    assert [len(lists[r] & blank) for r in regs] == [4, 5, 7, 10]
    assert [len(lists[r] & lists[5.0]) for r in regs] == [7, 8, 10, 7]
    popular = demo.popularity(movielens, fan, 10)
    assert popular["title"][popular["item"].isin(lists[5.0])].tolist() == [
        "Star Wars (1977)", "Raiders of the Lost Ark (1981)"]
    x = movielens.coords[:, 0]
    assert np.round(x[list(fan)], 2).tolist() == [0.27, 0.5, 0.47]
    assert np.round(x[ids("liar liar", "return of the jedi", "star wars")], 2).tolist() == [0.8, 0.45, 0.07]
    assert np.round(x[list(crime)], 2).tolist() == [-0.72, -0.92, -0.75]
    assert np.round(demo.position(movielens, fan), 2).tolist() == [0.14, 0.04]
    assert np.round(demo.position(movielens, crime), 2).tolist() == [-0.15, -0.05]
