"""The course material's printed figures for the synthetic-genre lessons (03, 04, 05), reproduced
through the mflab API.

Each number here is printed by the material itself (material 2) and, where the lesson keeps the
material's setting, by notebooks/04_baseline_and_svd.ipynb as well; a package change that moves any
of them fails here, before nbval. The lessons' own figures (validated k and lambda, their own seeds)
are pinned in tests/test_lesson_04.py and tests/test_lesson_05.py. All RMSEs are on predictions
clipped to [1, 5], as in the material.
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


# ----------------------------------------------------------------- lesson 04: the baseline
def test_baseline_biases(base):
    assert round(base.mu, 3) == 1.740
    assert (round(base.user_bias.min(), 3), round(base.user_bias.max(), 3)) == (-0.614, 1.009)
    assert (round(base.item_bias.min(), 3), round(base.item_bias.max(), 3)) == (-0.307, 0.505)


def test_baseline_rmse(data, base):
    assert round(base.rmse(data.train, clip=True), 4) == 0.4311
    assert round(base.rmse(data.test, clip=True), 4) == 0.4815


# ----------------------------------------------------------------- lesson 04: truncated SVD (k chosen on the test set)
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


# ----------------------------------------------------------------- lesson 05: the material's ALS
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


def test_the_material_als_is_one_lucky_start(data):
    """INSTRUCTORS notes, lesson 05: the material's ALS (k = 3, lambda 0.1, 60 sweeps, no biases) swings
    with its random start; its 0.5678 (the continued stream) lies below seeds 0-5."""
    plain = [mflab.als.fit(data.train, 3, reg=0.1, epochs=60, biases=False, seed=s).rmse(data.test, clip=True)
             for s in range(6)]
    assert np.ptp(plain) > 0.05
    assert round(min(plain), 4) == 0.5879 and round(max(plain), 4) == 0.6984 and min(plain) > 0.5678


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
