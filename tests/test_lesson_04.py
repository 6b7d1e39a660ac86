"""The figures lesson 04 (the baseline and truncated SVD) prints, held through the mflab API.

Each test fits exactly what the lesson fits, so a package change that moves a printed number fails
here, fast, before nbval runs the notebook. Tolerance: a printed figure is held to half a unit of
its last printed decimal (``printed(x, "0.4737")``), so the test passes wherever the lesson's
printout would; the figures the lesson copies from the original course are in
tests/test_material_figures.py.
"""
import numpy as np
import pytest

import mflab
from _reference import printed

K_VAL = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30]


@pytest.fixture(scope="module")
def data():
    return mflab.datasets.synthetic_genres(seed=42)


@pytest.fixture(scope="module")
def base(data):
    return mflab.baseline.fit(data.train)


@pytest.fixture(scope="module")
def splits(data):
    return [mflab.splits.random_split(data.train, 0.2, seed=s) for s in range(5)]


@pytest.fixture(scope="module")
def svd_val(splits):
    """Section 4: mean validation RMSE and sd across the five splits, per k."""
    val = {k: [] for k in K_VAL}
    for fit_part, val_part in splits:
        base_part = mflab.baseline.fit(fit_part)
        for k in K_VAL:
            val[k].append(mflab.svd.fit(fit_part, k, baseline=base_part).rmse(val_part, clip=True))
    return {k: (float(np.mean(v)), float(np.std(v))) for k, v in val.items()}


def test_section_1_the_data(data):
    assert (len(data.train), len(data.test)) == (800, 199)
    assert len(data.train) / data.train.n_users == 10 and len(data.train) / data.train.n_items == 16
    # "5 at least" per user, "10 at least" per movie; section 4: "800 of its 4,000 cells"
    assert (data.train.user_counts().min(), data.train.item_counts().min()) == (5, 10)
    assert data.train.n_users * data.train.n_items == 4000


def test_section_2_the_baseline_and_what_it_learned(data, base):
    assert printed(base.mu, "1.740")
    assert printed(base.rmse(data.train, clip=True), "0.4311") and printed(base.rmse(data.test, clip=True), "0.4815")
    # the first check's answer: one rating of 5 gives b_u = 5 - mu
    assert printed(5 - base.mu, "3.260") and 5 - base.mu > base.user_bias.max()
    # user 10, the most generous: bias = mean rating - mu, from 7 ratings
    assert int(np.argmax(base.user_bias)) == 10 and data.train.user_counts()[10] == 7
    mean_10 = data.train.value[data.train.user == 10].mean()
    assert printed(mean_10, "2.749") and printed(base.user_bias[10], "1.009")
    assert printed(np.corrcoef(base.item_bias, data.R_true.mean(axis=0))[0, 1], "0.85")
    assert printed(np.corrcoef(base.user_bias, data.R_true.mean(axis=1))[0, 1], "0.92")
    tastes = dict(zip(data.genres, data.P_true[12]))
    assert printed(tastes["SciFi"], "5.3") and printed(tastes["Comedy"], "1.4")


def test_section_3_the_svd_primer_and_its_check():
    A = np.array([[5, 5, 4, 1, 1], [4, 5, 5, 2, 1], [5, 4, 4, 1, 2],
                  [1, 2, 1, 5, 4], [2, 1, 1, 4, 5], [3, 4, 3, 3, 3]], dtype=float)
    U, sigma, Vt = np.linalg.svd(A, full_matrices=False)

    def truncate(k):
        return U[:, :k] @ np.diag(sigma[:k]) @ Vt[:k]

    for k, text in ((1, "7.7644"), (2, "2.2843"), (3, "0.9138")):
        assert np.isclose(np.linalg.norm(A - truncate(k)), np.sqrt(np.sum(sigma[k:] ** 2)))  # Eckart-Young
        assert printed(np.linalg.norm(A - truncate(k)), text)
    assert printed(np.abs(A - truncate(1)).max(), "3.24") and printed(np.abs(A - truncate(2)).max(), "0.69")
    rows = A[[0, 3]]
    assert printed(np.linalg.norm(A - A @ np.linalg.pinv(rows) @ rows), "2.8100")
    P = U[:, :2] * np.sqrt(sigma[:2])
    assert printed(abs(P[5, 1]), "0.33")  # user 5's small second factor (its sign is LAPACK's choice)
    assert np.all(np.sign(P[:, 0]) == np.sign(P[0, 0]))  # one sign for the level factor
    # the check: singular values 6, 3, 2, 1
    s = np.array([6.0, 3, 2, 1])
    assert [round(float(np.sqrt(np.sum(s[k:] ** 2))), 2) for k in (1, 2, 0)] == [3.74, 2.24, 7.07]


def test_section_4_the_full_rank_svd_gives_the_baseline_back(data, base):
    """The second check: at k = 50 the training RMSE is 0 and every unrated cell is the baseline's."""
    full = mflab.svd.fit(data.train, 50, baseline=base)
    assert full.rmse(data.train, clip=True) < 1e-10
    assert np.allclose(full.predict(data.test.user, data.test.item), base.predict(data.test.user, data.test.item))
    assert printed(full.rmse(data.test, clip=True), "0.4815")


def test_section_4_k_chosen_on_validation(data, base, splits, svd_val):
    means = {k: m for k, (m, _) in svd_val.items()}
    k_svd = min(means, key=means.get)
    assert k_svd == 5 and printed(means[5], "0.4809")
    assert [k for k, v in means.items() if v < means[k_svd] + 0.001] == [4, 5, 6]
    assert all(0.0115 <= svd_val[k][1] < 0.0135 for k in (4, 5, 6))  # "sd 0.012 to 0.013"
    assert all(0.48 <= m <= 0.50 for m in means.values())
    # the baseline (k = 0) on the same splits, printed beside the chosen k: a small gain
    base_val = np.mean([mflab.baseline.fit(f).rmse(v, clip=True) for f, v in splits])
    assert printed(base_val, "0.4897") and means[5] < base_val
    svd_test = mflab.svd.fit(data.train, k_svd, baseline=base).rmse(data.test, clip=True)
    base_test = base.rmse(data.test, clip=True)
    assert printed(svd_test, "0.4737") and printed(100 * (base_test - svd_test) / base_test, "1.6")


def test_exercise_3_damped_biases(data, base, splits):
    damping = [0, 1, 2, 3, 5, 10, 20]
    val = [np.mean([mflab.baseline.fit(f, reg_user=r, reg_item=r).rmse(v, clip=True) for f, v in splits])
           for r in damping]
    assert damping[int(np.argmin(val))] == 3 and printed(val[0], "0.4897") and printed(val[3], "0.4774")
    damped = mflab.baseline.fit(data.train, reg_user=3, reg_item=3)
    assert printed(damped.rmse(data.test, clip=True), "0.4713")
    assert printed(damped.user_bias[10], "0.707")
    # "on validation (0.4774 against 0.4809) as on the test set (0.4713 against 0.4737)"
    svd_val5 = np.mean([mflab.svd.fit(f, 5, baseline=mflab.baseline.fit(f)).rmse(v, clip=True) for f, v in splits])
    svd_test5 = mflab.svd.fit(data.train, 5, baseline=base).rmse(data.test, clip=True)
    assert val[3] < svd_val5 and damped.rmse(data.test, clip=True) < svd_test5
    assert data.train.user_counts().min() == 5
