"""The course material's printed figures of lessons 03 and 04, reproduced through the mflab API.

Each number here is printed by notebooks/03_synthetic_genre_data.ipynb or
notebooks/04_baseline_svd_als.ipynb and by the material itself (material 2); a package change that
moves any of them fails here, before nbval. All RMSEs are on predictions clipped to [1, 5], as in
the material.
"""
import matplotlib.pyplot as plt
import numpy as np
import pytest

import mflab
from mflab import plots

SVD_TABLE = {  # k: (train RMSE, test RMSE), material 2 stage 2
    1: (0.3931, 0.4765),
    2: (0.3661, 0.4687),
    3: (0.3418, 0.4641),
    5: (0.3050, 0.4737),
    8: (0.2608, 0.4874),
    10: (0.2344, 0.4827),
    15: (0.1782, 0.4867),
    20: (0.1339, 0.4833),
    30: (0.0687, 0.4865),
}


@pytest.fixture(scope="module")
def data():
    return mflab.datasets.synthetic_genres()


@pytest.fixture(scope="module")
def base(data):
    return mflab.baseline.fit(data.train)


# ----------------------------------------------------------------- lesson 03: the data set
def test_baseline_biases(base):
    assert round(base.mu, 3) == 1.740
    assert (round(base.user_bias.min(), 3), round(base.user_bias.max(), 3)) == (-0.614, 1.009)
    assert (round(base.item_bias.min(), 3), round(base.item_bias.max(), 3)) == (-0.307, 0.505)


def test_baseline_rmse(data, base):
    assert round(base.rmse(data.train, clip=True), 4) == 0.4311
    assert round(base.rmse(data.test, clip=True), 4) == 0.4815


# ----------------------------------------------------------------- lesson 04: truncated SVD
def test_svd_table(data, base):
    got = {}
    for k in SVD_TABLE:
        model = mflab.svd.fit(data.train, k, baseline=base)
        got[k] = (round(model.rmse(data.train, clip=True), 4), round(model.rmse(data.test, clip=True), 4))
    assert got == SVD_TABLE


def test_svd_best_k_and_improvement(data, base):
    tests = {k: mflab.svd.fit(data.train, k, baseline=base).rmse(data.test, clip=True) for k in SVD_TABLE}
    best_k = min(tests, key=tests.get)
    base_test = base.rmse(data.test, clip=True)
    assert best_k == 3 and round(tests[best_k], 4) == 0.4641
    assert round((base_test - tests[best_k]) / base_test * 100, 1) == 3.6


# ----------------------------------------------------------------- lesson 04: ALS
def test_material_als_continues_the_generator():
    data = mflab.datasets.synthetic_genres()  # a fresh generator: ALS must be its next consumer
    model = mflab.als.fit(data.train, 3, reg=0.1, epochs=60, biases=False, seed=data.rng, test=data.test)
    assert round(model.rmse(data.train, clip=True), 4) == 0.2392
    assert round(model.rmse(data.test, clip=True), 4) == 0.5678
    assert len(model.history["train_rmse"]) == len(model.history["test_rmse"]) == 60


def test_als_needs_the_material_stream():
    # with a fresh seed instead of the continued stream the figures differ: the test above
    # really checks that the generator is carried over
    data = mflab.datasets.synthetic_genres()
    model = mflab.als.fit(data.train, 3, reg=0.1, epochs=60, biases=False, seed=42)
    assert round(model.rmse(data.test, clip=True), 4) != 0.5678


def test_validation_choice_of_lesson_04(data):
    """Lesson 04 picks (k, lambda) by the mean validation RMSE over five random splits of train."""
    splits = [mflab.splits.random_split(data.train, 0.2, seed=s) for s in range(5)]
    grid = [(k, reg) for k in (1, 2, 3, 4, 5, 8) for reg in (0.3, 0.5, 1, 1.5, 2, 3, 5, 10)]
    score = {
        (k, reg): np.mean([mflab.als.fit(f, k, reg=reg, epochs=30, biases=True, seed=0).rmse(v, clip=True)
                           for f, v in splits])
        for k, reg in grid
    }
    best = min(score, key=score.get)
    assert best == (3, 1.5)
    assert round(score[best], 4) == 0.4536


def test_als_with_biases_beats_svd_and_baseline(data, base):
    model = mflab.als.fit(data.train, 3, reg=1.5, epochs=30, biases=True, seed=0, test=data.test)
    test_rmse = model.rmse(data.test, clip=True)
    svd_test = mflab.svd.fit(data.train, 3, baseline=base).rmse(data.test, clip=True)
    assert test_rmse < svd_test < base.rmse(data.test, clip=True)
    assert round(test_rmse, 4) == 0.4333
    assert round(model.rmse(data.train, clip=True), 4) == 0.2776


def test_als_settles_in_far_fewer_passes_than_sgd(data):
    """Lesson 04's ALS-vs-SGD comparison: same model and k, SGD reg = lambda / ratings per user."""
    def passes(model):
        h = np.array(model.history["train_rmse"])
        return int(np.argmax(np.abs(h - h[-1]) < 0.001)) + 1

    als = mflab.als.fit(data.train, 3, reg=1.5, epochs=30, biases=True, seed=0)
    sgd = mflab.sgd.fit(data.train, 3, reg=0.15, lr=0.02, epochs=1000, biases=True, seed=0, test=data.test)
    assert passes(als) == 11 and passes(sgd) == 564
    assert round(sgd.rmse(data.test, clip=True), 4) == 0.4472


# ----------------------------------------------------------------- plots added for these lessons
def test_singular_values_plot():
    fig, ax = plt.subplots()
    s = np.array([10.0, 5.0, 1.0, 0.1])
    assert plots.singular_values(s, ax=ax, n=3, mark=2, label="s") is ax
    line = ax.lines[0]
    assert line.get_xdata().tolist() == [1, 2, 3] and line.get_ydata().tolist() == [10.0, 5.0, 1.0]
    assert ax.get_yscale() == "log"
    assert ax.lines[1].get_xdata()[0] == 2.5  # the mark sits between index 2 and 3
    plt.close(fig)


def test_rating_heatmap_hatches_many_gaps_with_one_patch(data):
    R = data.train.to_dense()
    ax = plots.rating_heatmap(R)
    assert np.isnan(R).sum() > 100
    assert len(ax.patches) == 1 and ax.patches[0].get_hatch() == "//"
    assert ax.patches[0].get_zorder() < ax.images[0].get_zorder()  # behind the observed cells
    assert ax.images[0].get_interpolation() == "nearest"
    plt.close(ax.figure)


def test_regularised_als_does_not_depend_on_the_start(data):
    """Lesson 04: the material's ALS swings with its random start, ALS + biases (lambda 1.5) does not."""
    plain = [mflab.als.fit(data.train, 3, reg=0.1, epochs=60, biases=False, seed=s).rmse(data.test, clip=True) for s in range(6)]
    biased = [mflab.als.fit(data.train, 3, reg=1.5, epochs=30, biases=True, seed=s).rmse(data.test, clip=True)
              for s in range(6)]
    assert np.ptp(plain) > 0.05 and min(plain) > 0.55
    assert np.ptp(biased) < 0.001 and max(biased) < 0.4341
    # INSTRUCTORS.md: the material's 0.5678 (the continued stream) lies below these six starts
    assert round(min(plain), 4) == 0.5879 and round(max(plain), 4) == 0.6984 and min(plain) > 0.5678


# ----------------------------------------------------------------- lesson 04 as it runs today
# The lesson gives every draw its own seed and chooses SVD's k on validation, not on the test set,
# so its plain ALS (the material's setting at the validated k, seed 0) prints other figures than
# the material's; the material's stay pinned above.
def _svd_validation(train):
    splits = [mflab.splits.random_split(train, 0.2, seed=s) for s in range(5)]
    ks = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30]
    val = {k: [] for k in ks}
    for fit_part, val_part in splits:
        base_part = mflab.baseline.fit(fit_part)
        for k in ks:
            val[k].append(mflab.svd.fit(fit_part, k, baseline=base_part).rmse(val_part, clip=True))
    return {k: float(np.mean(v)) for k, v in val.items()}


def test_lesson_04_chooses_svd_k_on_validation(data, base):
    mean_val = _svd_validation(data.train)
    k_svd = min(mean_val, key=mean_val.get)
    assert k_svd == 5 and round(mean_val[5], 4) == 0.4809
    assert [k for k, v in mean_val.items() if v < mean_val[k_svd] + 0.001] == [4, 5, 6]
    svd_test = mflab.svd.fit(data.train, k_svd, baseline=base).rmse(data.test, clip=True)
    base_test = base.rmse(data.test, clip=True)
    assert round(svd_test, 4) == 0.4737 and round((base_test - svd_test) / base_test * 100, 1) == 1.6


def test_lesson_04_plain_als_at_the_validated_k(data):
    plain = mflab.als.fit(data.train, 5, reg=0.1, epochs=60, biases=False, seed=0, test=data.test)
    assert (round(plain.rmse(data.train, clip=True), 4), round(plain.rmse(data.test, clip=True), 4)) == (0.1145, 0.7225)
    runs = [mflab.als.fit(data.train, 5, reg=0.1, epochs=60, biases=False, seed=s).rmse(data.test, clip=True)
            for s in range(6)]
    assert (round(min(runs), 4), round(max(runs), 4)) == (0.6097, 0.7302)


def test_lesson_04_svd_primer_and_check_arithmetic():
    A = np.array([[5, 5, 4, 1, 1], [4, 5, 5, 2, 1], [5, 4, 4, 1, 2],
                  [1, 2, 1, 5, 4], [2, 1, 1, 4, 5], [3, 4, 3, 3, 3]], dtype=float)
    U, sigma, Vt = np.linalg.svd(A, full_matrices=False)
    A_2 = U[:, :2] @ np.diag(sigma[:2]) @ Vt[:2]
    assert np.isclose(np.linalg.norm(A - A_2), np.sqrt(np.sum(sigma[2:] ** 2)))  # Eckart-Young's error
    assert round(np.linalg.norm(A - A_2), 4) == 2.2843
    # the lesson's checks: singular values 6, 3, 2, 1; parameter counts for 80 users and 50 movies
    s = np.array([6.0, 3, 2, 1])
    assert [round(float(np.sqrt(np.sum(s[k:] ** 2))), 2) for k in (1, 2, 0)] == [3.74, 2.24, 7.07]
    assert [k * (80 + 50) for k in (5, 3)] == [650, 390] and [k * 130 + 131 for k in (5, 3)] == [781, 521]


def test_lesson_04_strong_ridge_leaves_only_the_biases(data):
    """Section 6: from lambda = 5 on the factors are shrunk to zero; at lambda = 3 they are not."""
    fit_part = mflab.splits.random_split(data.train, 0.2, seed=0)[0]
    largest = {reg: max(np.abs(m.P).max(), np.abs(m.Q).max())
               for reg in (3, 5) for m in [mflab.als.fit(fit_part, 8, reg=reg, epochs=30, biases=True, seed=0)]}
    assert round(largest[3], 2) == 0.43 and largest[5] < 1e-8


def test_lesson_04_plain_als_goes_off_scale_where_nobody_rated(data):
    R_hat = mflab.als.fit(data.train, 5, reg=0.1, epochs=60, biases=False, seed=0).predict_all()
    rated = data.train.mask()
    assert [round(float(f(R_hat[rated])), 2) for f in (np.min, np.max)] == [0.83, 4.54]
    assert [round(float(f(R_hat[~rated])), 2) for f in (np.min, np.max)] == [-0.84, 6.24]


def test_lesson_04_one_objective_two_optimisers(data):
    """Section 7: count-scaled ALS and SGD (lambda 0.15 per rating, k = 3, seed 0) meet on one L."""
    train = data.train

    def L_als(n):
        return mflab.sgd.objective(mflab.als.fit(train, 3, reg=0.15, reg_scaling="count", epochs=n,
                                                 biases=True, seed=0), train, reg=0.15)

    def L_sgd(n):
        return mflab.sgd.objective(mflab.sgd.fit(train, 3, reg=0.15, lr=0.02, epochs=n, biases=True, seed=0),
                                   train, reg=0.15)

    als_L, sgd_L = {n: L_als(n) for n in (1, 12, 16, 32)}, {n: L_sgd(n) for n in (1, 400, 700, 1000)}
    assert [round(als_L[n], 2) for n in (1, 32)] == [165.19, 144.76]
    assert [round(sgd_L[n], 2) for n in (1, 1000)] == [238.63, 144.80]
    lowest = min(min(als_L.values()), min(sgd_L.values()))
    assert als_L[12] > 1.001 * lowest >= als_L[16] and sgd_L[400] > 1.001 * lowest >= sgd_L[700]
    assert abs(als_L[32] - sgd_L[1000]) / als_L[32] < 0.0003  # "to within 0.03%"

    def passes(model):
        h = np.array(model.history["train_rmse"])
        return int(np.argmax(np.abs(h - h[-1]) < 0.001)) + 1

    als = mflab.als.fit(train, 3, reg=0.15, reg_scaling="count", epochs=30, biases=True, seed=0)
    sgd = {lr: mflab.sgd.fit(train, 3, reg=0.15, lr=lr, epochs=1000, biases=True, seed=0) for lr in (0.005, 0.02, 0.05)}
    assert passes(als) == 19 and [passes(m) for m in sgd.values()] == [927, 564, 226]
    early = mflab.sgd.fit(train, 3, reg=0.15, lr=0.02, epochs=30, biases=True, seed=0)
    assert round(early.rmse(train, clip=True), 4) == 0.4255 and round(sgd[0.02].rmse(train, clip=True), 4) == 0.3109
    assert [round(float(np.linalg.norm(m.P, axis=1).mean()), 2) for m in (early, sgd[0.02])] == [0.11, 0.40]
