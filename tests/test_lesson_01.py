"""The figures lesson 01 (a toy matrix, factorized with SGD) prints, held through the mflab API.

Each test fits exactly what the lesson fits, so a package change that moves a printed number fails
here, fast, before nbval runs the notebook.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import mflab
from mflab import als, sgd
from mflab.course import answers

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "01_toy_sgd.ipynb"
SETTINGS = dict(lr=0.01, reg=0.02, epochs=500, shuffle=False)


@pytest.fixture(scope="module")
def R():
    return mflab.datasets.toy_matrix()


@pytest.fixture(scope="module")
def train(R):
    return mflab.Ratings.from_dense(R)


@pytest.fixture(scope="module")
def init():
    """The lesson's start: 0.1 x standard normal from RandomState(42), P then Q (the original course's
    np.random.seed(42) stream, see INSTRUCTORS.md)."""
    legacy = np.random.RandomState(42)
    return 0.1 * legacy.randn(5, 2), 0.1 * legacy.randn(4, 2)


@pytest.fixture(scope="module")
def model(train, init):
    return sgd.fit(train, k=2, biases=False, init=init, **SETTINGS)


@pytest.fixture(scope="module")
def missing(R):
    return np.argwhere(np.isnan(R))


def fit_plain(ratings, k, seed=0):
    return sgd.fit(ratings, k=k, biases=False, seed=seed, **SETTINGS)


def fit_biased(ratings, k, seed=0):
    return sgd.fit(ratings, k=k, biases=True, seed=seed, **SETTINGS)


def left_out_predictions(train, fit):
    """Exercise 2's leave-one-out: every rating except item 2's only one, predicted (unclipped) by
    a model fitted on the other 12 with seed 0, as the task asks."""
    rows = np.arange(len(train))
    held = [t for t in rows if train.item_counts()[train.item[t]] > 1]
    return held, np.array([fit(train.subset(rows != t)).predict_ratings(train.subset([t]))[0] for t in held])


# ----------------------------------------------------------------------------- the data
def test_toy_matrix_has_13_observed_cells(R, train):
    assert R.shape == (5, 4)
    assert int((~np.isnan(R)).sum()) == 13 == len(train)
    assert train.user_counts().tolist() == [3, 2, 3, 2, 3]
    assert train.item_counts().tolist() == [4, 3, 1, 5]
    # item 2's single rating is user 4's 5
    assert train.user[train.item == 2].tolist() == [4] and train.value[train.item == 2].tolist() == [5.0]
    # the lesson's listing: cells row by row
    assert train.user.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4]
    assert train.item.tolist() == [0, 1, 3, 0, 3, 0, 1, 3, 0, 3, 1, 2, 3]


# ----------------------------------------------------------------------------- the k = 2 fit
def test_update_uses_the_old_p_u(model):
    """The lesson says mflab's q_i update uses p_u from before this rating's update."""
    p, q, r, lr, reg = np.array([0.3, -0.2]), np.array([0.5, 0.4]), 4.0, 0.1, 0.05
    e = r - p @ q
    p_new, q_new, _, _ = sgd.step(r, p, q, lr=lr, reg=reg)
    np.testing.assert_allclose(p_new, p + lr * (e * q - reg * p))
    np.testing.assert_allclose(q_new, q + lr * (e * p - reg * q))  # old p, not p_new
    assert not np.allclose(q_new, q + lr * (e * p_new - reg * q))
    assert "p_uf, q_if = P[u, f], Q[i, f]" in mflab.show(sgd.epoch)


def test_training_mse_curve(train, init, model):
    mse = np.square(model.history["train_rmse"])
    assert len(mse) == 500
    assert round(mflab.Factorization(*init).rmse(train) ** 2, 4) == 10.6240
    assert round(float(np.mean(train.value ** 2)), 4) == 10.6154
    printed = {1: 10.6176, 10: 10.5666, 25: 10.2732, 50: 5.4356, 100: 0.8667, 200: 0.0252, 300: 0.0072, 500: 0.0015}
    assert {n: round(float(mse[n - 1]), 4) for n in printed} == printed
    assert round(model.history["train_rmse"][-1], 4) == 0.0387
    # the shoulder near the best single-factor error (exercise 1's k = 1) around epoch 80
    assert 2.1 < mse[79] < 2.3



def test_phases_of_the_curve_as_the_lesson_quotes_them(model, missing):
    """Section 4's phases quote the printed epochs 25, 80 and 150; section 5 counts the filled-in
    cells off the 1-5 scale; section 6 quotes the penalty's shrink of q_2 over 500 epochs."""
    mse = np.square(model.history["train_rmse"])
    assert round(float(mse[24]), 2) == 10.27  # still on the plateau at epoch 25
    assert {n: round(float(mse[n - 1]), 4) for n in (80, 150)} == {80: 2.1938, 150: 0.0532}
    assert round(float(mse[79]), 2) == 2.19 and round(float(mse[149]), 2) == 0.05
    filled = model.predict(missing[:, 0], missing[:, 1])
    off = filled[(filled < 1) | (filled > 5)]
    assert np.round(sorted(off), 2).tolist() == [0.86, 5.62]
    shrink = 1 - SETTINGS["lr"] * SETTINGS["reg"]
    assert round(shrink, 4) == 0.9998 and round(1 - shrink ** SETTINGS["epochs"], 2) == 0.10

def test_the_shoulder_has_one_direction_and_the_second_fall_adds_another(train, init):
    """Section 4: at the shoulder (epoch 80) P Q^T is nearly rank 1 (the overall level, not yet the
    camps); by epoch 150 its second direction has grown to most of its final size."""
    def singular_values(epochs):
        m = sgd.fit(train, k=2, biases=False, init=init, **(SETTINGS | {"epochs": epochs}))
        return np.linalg.svd(m.predict_all(), compute_uv=False)

    at_80, at_150, at_500 = singular_values(80), singular_values(150), singular_values(500)
    assert at_80[1] < 0.1 * at_80[0]
    assert at_150[1] > 0.9 * at_500[1] > 5 * at_80[1]


def test_check_splitting_a_prediction_into_the_two_factors(model):
    """Section 6's check: user 3's prediction of item 1 from the printed (rounded) factor table."""
    table_p, table_q = np.round(model.P[3], 2), np.round(model.Q[1], 2)
    assert table_p.tolist() == [-1.47, 1.01] and table_q.tolist() == [-1.06, -0.69]
    terms = table_p * table_q
    assert np.round(terms, 2).tolist() == [1.56, -0.70]
    assert round(float(terms.sum()), 2) == round(float(model.predict(3, 1)), 2) == 0.86
    exact = model.P[3] * model.Q[1]
    assert exact[0] > 0 > exact[1]  # factor 1 the level, factor 2 pulls down (opposite sides)


def test_history_is_the_mse_over_observed_cells(train, model):
    residual = train.value - model.predict_ratings(train)
    assert np.isclose(np.mean(residual ** 2), model.history["train_rmse"][-1] ** 2)
    assert round(float(np.abs(residual).max()), 4) == 0.0653
    np.testing.assert_allclose(model.predict_all()[~np.isnan(mflab.datasets.toy_matrix())], train.value, atol=0.07)


def test_filled_in_cells(model, missing):
    assert missing.tolist() == [[0, 2], [1, 1], [1, 2], [2, 2], [3, 1], [3, 2], [4, 0]]
    pred = model.predict(missing[:, 0], missing[:, 1])
    assert np.round(pred, 2).tolist() == [4.96, 2.38, 4.16, 5.62, 0.86, 4.65, 1.35]


def test_factor_structure(model):
    P, Q = model.P, model.Q
    np.testing.assert_array_equal(np.round(P, 2), [[-1.95, -1.31], [-1.61, -0.98], [-1.76, 1.33],
                                                   [-1.47, 1.01], [-1.60, 0.90]])
    np.testing.assert_array_equal(np.round(Q, 2), [[-1.62, -1.37], [-1.06, -0.69], [-2.85, 0.46], [-1.60, 1.60]])
    # factor 1: one sign for every user and item, so its products are all positive (the level)
    assert (np.sign(P[:, 0]) == np.sign(P[0, 0])).all() and (np.sign(Q[:, 0]) == np.sign(P[0, 0])).all()
    # factor 2: users 0-1 and items 0-1 on one side, users 2-4 and item 3 on the other
    camp = np.sign(P[0, 1])
    assert (np.sign(P[:2, 1]) == camp).all() and (np.sign(P[2:, 1]) == -camp).all()
    assert (np.sign(Q[:2, 1]) == camp).all() and np.sign(Q[3, 1]) == -camp


def test_item_2_depends_on_the_start(train, missing):
    rows = []
    for seed in range(5):
        m = fit_plain(train, 2, seed)
        rows.append(list(m.predict(missing[:, 0], missing[:, 1])) + [m.history["train_rmse"][-1] ** 2])
    runs = np.array(rows)
    spread = runs.max(axis=0) - runs.min(axis=0)
    assert np.round(runs[:, :7], 2).tolist() == [
        [2.91, 2.39, 2.55, 6.00, 0.90, 4.88, 1.18],
        [3.75, 2.39, 3.22, 5.87, 0.89, 4.81, 1.24],
        [4.08, 2.39, 3.47, 5.83, 0.88, 4.79, 1.25],
        [-4.62, 2.38, -3.44, 5.33, 1.12, 3.96, 0.40],
        [3.31, 2.39, 2.87, 5.95, 0.90, 4.86, 1.20],
    ]
    assert np.round(runs[:, 7], 4).tolist() == [0.0008, 0.0009, 0.0010, 0.0097, 0.0008]
    assert np.round(spread, 2)[:7].tolist() == [8.70, 0.01, 6.92, 0.67, 0.24, 0.92, 0.85]
    assert round(spread[7], 4) == 0.0089
    # item 2's cells for users 0 and 1 swing far more than any cell of items 0 and 1
    assert min(spread[0], spread[2]) > 5 * max(spread[1], spread[4], spread[6])


def test_material_variant_differs_only_slightly(R, train, init, model):
    """The material's loop (q_i updated with the new p_u), from the same start and order."""
    P, Q = (a.copy() for a in init)
    for _ in range(500):
        for u, i, r in zip(train.user, train.item, train.value):
            e = r - P[u] @ Q[i]
            P[u] += 0.01 * (e * Q[i] - 0.02 * P[u])
            Q[i] += 0.01 * (e * P[u] - 0.02 * Q[i])
    variant = mflab.Factorization(P, Q)
    gap = np.abs(variant.predict_all() - model.predict_all())
    assert round(variant.rmse(train) ** 2, 4) == 0.0015
    assert round(float(gap[~np.isnan(R)].max()), 4) == 0.0016
    assert round(float(gap[np.isnan(R)].max()), 4) == 0.0587
    assert np.unravel_index(gap.argmax(), gap.shape) == (0, 2)  # on item 2, the unconstrained item
    assert gap.max() > 0  # the two loops really differ


# ----------------------------------------------------------------------------- exercises
def test_exercise_1_observed_rmse_is_the_fits_training_rmse(R, model):
    seen = ~np.isnan(R)
    mine = float(np.sqrt(np.mean((R[seen] - (model.P @ model.Q.T)[seen]) ** 2)))
    assert round(mine, 4) == round(model.history["train_rmse"][-1], 4) == 0.0387


def test_exercise_2_training_error_against_k(train):
    mse = [round(fit_plain(train, k).history["train_rmse"][-1] ** 2, 4) for k in (1, 2, 3, 4)]
    assert mse == [2.1572, 0.0008, 0.0010, 0.0008]


def test_exercise_2_and_3_held_out_error(train):
    """Issue 22 #16: the solution answers the task as asked: one seed (0), predictions unclipped."""
    rows = np.arange(len(train))
    held, _ = left_out_predictions(train, lambda r: fit_plain(r, 1))
    assert len(held) == 12
    mean_only = np.mean([(train.subset(rows != t).mean() - train.value[t]) ** 2 for t in held])
    assert round(float(mean_only), 4) == 3.2598
    plain = {k: left_out_predictions(train, lambda r: fit_plain(r, k))[1] for k in (1, 2, 3, 4)}
    biased = {k: left_out_predictions(train, lambda r: fit_biased(r, k))[1] for k in (1, 2, 3, 4)}
    mse_plain = [float(np.mean((plain[k] - train.value[held]) ** 2)) for k in (1, 2, 3, 4)]
    mse_biased = [float(np.mean((biased[k] - train.value[held]) ** 2)) for k in (1, 2, 3, 4)]
    assert np.round(mse_plain, 4).tolist() == [22.0246, 11.6411, 12.8587, 8.7992]
    assert np.round(mse_biased, 4).tolist() == [4.2316, 6.4250, 3.9201, 3.2037]
    # user 1's rating of item 0 (a 4), left out: k = 2 predicts far too low
    assert train.value[3] == 4 and round(float(plain[2][held.index(3)]), 2) == 0.45
    # the solutions' reading: memorising, not generalising; biases help at every k; the best
    # biased model only matches the mean (3.20 against 3.26), the plain ones are far worse
    assert all(p > 1000 * fit_plain(train, k).history["train_rmse"][-1] ** 2 for k, p in zip((2, 3, 4), mse_plain[1:]))
    assert all(b < p for b, p in zip(mse_biased, mse_plain))
    assert min(mse_plain) > 2 * mean_only and abs(min(mse_biased) - mean_only) < 0.1


def test_optional_als_exercise(train, model, missing):
    """INSTRUCTORS.md's optional exercise for lesson 01 (ALS on the toy matrix), cut from the lesson."""
    m = als.fit(train, k=2, reg=0.02, epochs=30, biases=False, seed=0)
    als_mse = np.square(m.history["train_rmse"])
    assert {n: round(float(als_mse[n - 1]), 4) for n in (1, 2, 5, 10, 30)} == \
        {1: 0.7837, 2: 0.0731, 5: 0.0095, 10: 0.0036, 30: 0.0006}
    sgd_mse = np.square(model.history["train_rmse"])
    assert int(np.argmax(sgd_mse <= als_mse[4])) + 1 == 277
    assert np.round(m.predict(missing[:, 0], missing[:, 1]), 2).tolist() == [2.49, 2.40, 2.21, 5.98, 0.90, 4.84, 1.18]
    # the solution's reading: (1,1), (3,1) and (4,0) within 0.2 of SGD's; item 2 far apart
    gap = np.abs(m.predict(missing[:, 0], missing[:, 1]) - model.predict(missing[:, 0], missing[:, 1]))
    assert gap[[1, 4, 6]].max() < 0.2 and gap[[0, 2]].min() > 1.5


def test_exercise_3_biases(train, init, model, missing):
    m = sgd.fit(train, k=2, biases=True, init=init, **SETTINGS)
    assert round(m.mu, 4) == 2.7692 == round(train.mean(), 4)
    assert np.round(m.user_bias, 2).tolist() == [0.32, -0.17, 0.24, -0.24, -0.04]
    assert np.round(m.item_bias, 2).tolist() == [-0.08, -1.06, 1.53, -0.02]
    assert int(np.argmax(m.item_bias)) == 2 and int(np.argmin(m.item_bias)) == 1
    assert round(m.history["train_rmse"][-1] ** 2, 4) == 0.0007
    assert np.round(m.predict(missing[:, 0], missing[:, 1]), 2).tolist() == [3.54, 2.27, 3.28, 5.59, 0.75, 4.81, 1.42]
    # the solution's reading: item 2's cells for users 0 and 1 move *away* from mu + b_2, because the
    # factor term (q_2 fitted to user 4 alone) is negative for the other camp
    assert round(m.mu + m.item_bias[2], 2) == 4.30
    level = m.mu + m.user_bias[:2] + m.item_bias[2]
    assert np.round(level, 2).tolist() == [4.62, 4.13]
    assert np.round(m.P[:2] @ m.Q[2], 2).tolist() == [-1.08, -0.85]
    assert round(float(m.P[4] @ m.Q[2]), 2) == 0.71
    plain, biased = model.predict([0, 1], [2, 2]), m.predict([0, 1], [2, 2])
    target = m.mu + m.item_bias[2]
    assert np.all(np.abs(biased - target) > np.abs(plain - target))


def test_concept_check_arithmetic():
    """The answers of lesson 01's two checks: cells, fill fraction, parameter counts."""
    n_users, n_items, n_ratings, k = 3e6, 1e6, 2e10, 100
    assert n_users * n_items == 3e12
    assert f"{n_ratings / (n_users * n_items):.2%}" == "0.67%"
    assert k * (n_users + n_items) == 4e8 and n_ratings / 4e8 == 50
    assert round(n_users * n_items / 4e8) == 7500  # "7500 times fewer than the cells"
    assert 2 * (5 + 4) == 18


# ----------------------------------------------------------------------------- the notebook's frame
SERIES = Path(__file__).parents[1] / "notebooks"
FORBIDDEN = ("material", "slide", "course notebook", "specification", "original")


@pytest.mark.parametrize("name", ["01_toy_sgd", "02_gradients_with_sympy", "03_synthetic_genre_data"])
def test_lesson_conventions(name):
    """Lessons 01-03: slide metadata on every cell, hidden solutions, two or more concept checks,
    the notation link, the style call, and no word pointing at a document outside the repository."""
    cells = json.loads((SERIES / f"{name}.ipynb").read_text())["cells"]
    kinds = {"slide", "subslide", "fragment", "skip", "notes", "-"}
    assert all(c["metadata"]["slideshow"]["slide_type"] in kinds for c in cells)
    text = ["".join(c["source"]) for c in cells]
    assert "../README.md#notation" in text[0] and cells[0]["metadata"]["slideshow"]["slide_type"] == "slide"
    first_code = next(t for c, t in zip(cells, text) if c["cell_type"] == "code")
    assert "plots.style()" in first_code and "rcParams" not in first_code
    for c, t in zip(cells, text):
        if t.startswith("## "):
            assert c["metadata"]["slideshow"]["slide_type"] == "slide", t[:40]
        if t.startswith("Speaker notes:"):
            assert c["metadata"]["slideshow"]["slide_type"] == "notes" and "minute" in t
        if "solution" in c["metadata"].get("tags", []):
            assert c["metadata"]["slideshow"]["slide_type"] == "skip"
        if t.startswith("**Solution") or t.startswith("**Answer"):
            assert "solution" in c["metadata"].get("tags", []), t[:40]
        lowered = t.lower()
        assert not any(word in lowered for word in FORBIDDEN), (t[:60], [w for w in FORBIDDEN if w in lowered])
        assert "tight_layout" not in t
    checks = [j for j, t in enumerate(text) if t.startswith("**Check:**")]
    assert len(checks) >= 2
    for j in checks:
        assert "solution" in cells[j + 1]["metadata"].get("tags", []) and answers.is_details(text[j + 1])
    assert any(t.startswith("Speaker notes:") for t in text)
    # the exercises section holds every solution, and each exercise is followed by its solution
    start = next(j for j, t in enumerate(text) if t.startswith("## Exercises"))
    assert all(j > start or j - 1 in checks for j, c in enumerate(cells) if "solution" in c["metadata"].get("tags", []))


def test_notebook_navigation_and_solutions():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    first, last = "".join(cells[0]["source"]), "".join(cells[-1]["source"])
    assert first.startswith("# Lesson 01 · ")
    nav = "[Contents](../README.md) · [Lesson 02 →](02_gradients_with_sympy.ipynb)"
    assert nav in first and nav in last
    solutions = [c for c in cells if "solution" in c["metadata"].get("tags", [])]
    assert len(solutions) >= 3
    assert "mflab.show(sgd.epoch)" in "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
