"""The figures lesson 03 (synthetic ratings with genres) prints, held through the mflab API:
the generator draw for draw, the counts of the data set and the numbers its prose quotes."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

import mflab
from mflab import plots


@pytest.fixture(scope="module")
def data():
    return mflab.datasets.synthetic_genres()


def test_rating_range_and_mean(data):
    assert (round(data.R_noisy.min(), 2), round(data.R_noisy.max(), 2)) == (1.00, 5.00)
    assert round(data.R_noisy.mean(), 2) == 1.74
    assert data.R_true.shape == data.R_noisy.shape == (80, 50)


def test_genre_counts(data):
    assert data.genres == ("Action", "Comedy", "Drama", "SciFi", "Horror")
    assert np.bincount(data.movie_genres, minlength=5).tolist() == [16, 7, 2, 10, 15]


def test_observed_counts(data):
    n = int(data.mask.sum())
    assert (n, data.mask.size) == (999, 4000)
    assert f"{n / data.mask.size:.1%}" == "25.0%"
    per_user, per_movie = data.mask.sum(axis=1), data.mask.sum(axis=0)
    assert (per_user.min(), round(per_user.mean(), 1), per_user.max()) == (6, 12.5, 19)
    assert (per_movie.min(), round(per_movie.mean(), 1), per_movie.max()) == (14, 20.0, 32)


def test_train_test_split(data):
    assert (len(data.train), len(data.test)) == (800, 199)
    assert not (data.train.mask() & data.test.mask()).any()
    assert ((data.train.mask() | data.test.mask()) == data.mask).all()


def test_true_matrix_has_five_genre_directions_plus_the_offset(data):
    s = np.linalg.svd(data.R_true, compute_uv=False)
    assert np.linalg.matrix_rank(data.P_true @ data.Q_true.T) == 5
    assert np.linalg.matrix_rank(data.R_true) == 6  # the rescale to [1, 5] adds a constant
    assert np.round(s[:6], 2).tolist() == [112.11, 15.59, 13.93, 11.45, 6.69, 2.16]


def test_noise_edge_of_lesson_03(data):
    """Lesson 03 shows the noise edge: pure noise of the same shape against the data's values."""
    s_noisy = np.linalg.svd(data.R_noisy, compute_uv=False)
    s_added = np.linalg.svd(data.R_noisy - data.R_true, compute_uv=False)
    s_pure = np.linalg.svd(np.random.default_rng(0).normal(0, 0.3, data.R_true.shape), compute_uv=False)
    assert (round(s_added[0], 2), round(s_pure[0], 2)) == (4.28, 4.57)
    assert round(0.3 * (np.sqrt(80) + np.sqrt(50)), 2) == 4.80
    assert int((s_noisy > s_pure[0]).sum()) == 5 and int((s_noisy > s_added[0]).sum()) == 5
    # a noise matrix has no dominant direction: its top value is within 20% of its fifth
    assert s_pure[0] < 1.2 * s_pure[4] and s_added[0] < 1.2 * s_added[4]


def test_lesson_03_check_arithmetic(data):
    assert [k * (data.n_users + data.n_movies) for k in (5, 10)] == [650, 1300]
    assert len(data.train) == 800


def test_lesson_03_prose_numbers(data):
    """What lesson 03's prose quotes: Drama's few ratings, the constant's sigma_1, the noise's sd."""
    seen = data.mask[:, data.movie_genres == 2]
    assert (seen.sum(), seen.any(axis=1).sum()) == (35, 30)  # 35 Drama ratings; 50 of 80 users rated none
    assert round(data.R_noisy.mean() * np.sqrt(data.R_noisy.size), 1) == 110.3
    assert round((data.R_noisy - data.R_true).std(), 2) == 0.28


def test_exercise_2_scale_and_offset(data):
    S = data.P_true @ data.Q_true.T
    scale = 4 / (S.max() - S.min())
    offset = 1 - scale * S.min()
    assert (round(scale, 4), round(offset, 4)) == (0.1979, 0.9892)
    np.testing.assert_allclose(data.R_true, scale * S + offset, atol=1e-12)
    assert np.linalg.matrix_rank(data.R_true - offset) == 5


def test_exercise_3_directions_above_the_noise_edge():
    """Exercise 3: six directions clear the edge at s = 0.1, five at 0.3, one at 1.0 (seed 42);
    the eigenvalues of R^T R (the squares, a named slip of checks.above_noise) would count more."""
    counts, squares = [], []
    for noise in (0.1, 0.3, 1.0):
        R = mflab.datasets.synthetic_genres(noise=noise, seed=42).R_noisy
        edge = noise * (np.sqrt(80) + np.sqrt(50))
        s = np.linalg.svd(R, compute_uv=False)
        counts.append(int((s > edge).sum()))
        squares.append(int((np.linalg.eigvalsh(R.T @ R) > edge).sum()))
        if noise == 0.1:
            assert round(s[5], 2) == 2.33 and s[6] < edge < s[5]
        if noise == 0.3:
            assert round(s[4], 2) == 7.47 and s[5] < edge
    assert counts == [6, 5, 1]
    assert all(q > c for q, c in zip(squares, counts))


def test_clipped_cells_and_user_12(data):
    """Section 2-3: 363 cells of R_noisy are exactly 1 (the noise clipped), none exactly 5; section 5:
    user 12 is dark (high true ratings) in the SciFi block and pale in Action."""
    assert int((data.R_noisy == 1).sum()) == 363 and int((data.R_noisy == 5).sum()) == 0
    by_genre = [data.R_true[12, data.movie_genres == g].mean() for g in range(len(data.genres))]
    assert data.genres[int(np.argmax(by_genre))] == "SciFi" and round(by_genre[3], 2) == 4.27
    assert round(by_genre[0], 2) == 2.23  # Action
