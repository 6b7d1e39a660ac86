import numpy as np
import pytest

from mflab import Ratings, baseline, svd


def slow_baseline(R, reg_user=0.0, reg_item=0.0):
    """The obvious loop version over a dense matrix with NaN."""
    mu = np.nanmean(R)
    b_u = np.array([np.nansum(row - mu) / (reg_user + np.sum(~np.isnan(row))) if np.any(~np.isnan(row)) else 0.0 for row in R])
    E = R - mu - b_u[:, None]
    b_i = np.array([np.nansum(col) / (reg_item + np.sum(~np.isnan(col))) if np.any(~np.isnan(col)) else 0.0 for col in E.T])
    return mu, b_u, b_i


@pytest.mark.parametrize("reg", [0.0, 5.0])
def test_baseline_matches_loop(reg):
    rng = np.random.default_rng(3)
    R = np.where(rng.random((12, 9)) < 0.5, rng.integers(1, 6, (12, 9)).astype(float), np.nan)
    R[:, 4] = np.nan  # an item nobody rated gets bias 0
    m = baseline.fit(Ratings.from_dense(R), reg_user=reg, reg_item=reg)
    mu, b_u, b_i = slow_baseline(R, reg, reg)
    assert m.mu == pytest.approx(mu)
    np.testing.assert_allclose(m.user_bias, b_u)
    np.testing.assert_allclose(m.item_bias, b_i)
    assert m.item_bias[4] == 0 and m.k == 0


def test_baseline_rejects_negative_reg():
    with pytest.raises(ValueError, match="reg_user must be >= 0"):
        baseline.fit(Ratings.from_dense([[1.0]]), reg_user=-1)


def test_svd_equals_numpy_truncated_svd():
    rng = np.random.default_rng(4)
    R = np.where(rng.random((10, 8)) < 0.6, rng.integers(1, 6, (10, 8)).astype(float), np.nan)
    train = Ratings.from_dense(R)
    b = baseline.fit(train)
    E = np.where(np.isnan(R), 0.0, R - (b.mu + b.user_bias[:, None] + b.item_bias[None, :]))
    U, s, Vt = np.linalg.svd(E)
    for k in (1, 3, 8):
        m = svd.fit(train, k, baseline=b)
        expected = b.mu + b.user_bias[:, None] + b.item_bias[None, :] + (U[:, :k] * s[:k]) @ Vt[:k]
        np.testing.assert_allclose(m.predict_all(), expected, atol=1e-10)
    # full rank reproduces every observed rating exactly
    full = svd.fit(train, 8, baseline=b)
    np.testing.assert_allclose(full.predict(train.user, train.item), train.value, atol=1e-10)


def test_svd_checks_k():
    train = Ratings.from_dense(np.ones((3, 4)))
    with pytest.raises(ValueError, match="k must be at most min"):
        svd.fit(train, 4)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        svd.fit(train, 0)
