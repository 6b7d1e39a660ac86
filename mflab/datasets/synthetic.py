"""Synthetic ratings with a known genre structure (lessons 03, 04, 05 and 07).

The generating process, in order of random draws from one ``numpy.random.Generator``:

1. user tastes ``P_true ~ Exponential(1)``, shape (n_users, n_genres);
2. each movie's primary genre, uniform over genres;
3. movie loadings ``Q_true ~ Exponential(0.3)``, plus ``Uniform(1.5, 3)`` on the primary genre;
4. ``R_true = P_true Q_true^T`` rescaled linearly to [1, 5];
5. ``R_noisy = clip(R_true + Normal(0, noise), 1, 5)``: ``noise`` is the standard deviation s;
6. each cell observed with probability ``density``; then every user topped up to at least 3 and
   every movie to at least 2 observed ratings;
7. the observed cells (in row-major order) shuffled, the first ``int(test_frac * n)`` held out.

The defaults and seed 42 give the data set of lessons 03, 04, 05 and 07. ``data.rng`` is the generator
in the state step 7 leaves it; the tests continue it into a fit to pin a reference stream of
draws, while the lessons give every fit its own seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..ratings import Ratings

GENRES = ("Action", "Comedy", "Drama", "SciFi", "Horror")


@dataclass(frozen=True, eq=False)
class SyntheticGenres:
    """The generated data: truth, noise, what was observed, and the split."""

    R_true: np.ndarray        # (n_users, n_movies) noiseless ratings in [1, 5]
    R_noisy: np.ndarray       # R_true + noise, clipped to [1, 5]
    mask: np.ndarray          # (n_users, n_movies) bool, observed cells
    train: Ratings
    test: Ratings
    genres: tuple             # genre names
    movie_genres: np.ndarray  # (n_movies,) primary genre index of each movie
    P_true: np.ndarray        # (n_users, n_genres) the users' tastes
    Q_true: np.ndarray        # (n_movies, n_genres) the movies' genre profiles
    rng: np.random.Generator  # the generator, in the state the generation left it

    @property
    def n_users(self) -> int:
        return self.R_true.shape[0]

    @property
    def n_movies(self) -> int:
        return self.R_true.shape[1]

    def genre_order(self) -> np.ndarray:
        """Movie indices sorted by primary genre (stable), for block-structured plots."""
        return np.argsort(self.movie_genres, kind="stable")


def synthetic_genres(n_users: int = 80, n_movies: int = 50, *, genres=GENRES, density: float = 0.25,
                     noise: float = 0.3, test_frac: float = 0.2, min_per_user: int = 3,
                     min_per_movie: int = 2, seed=42) -> SyntheticGenres:
    """Generate the genre data set: tastes P_true and genre profiles Q_true, R_true their product
    scaled to [1, 5], R_noisy with clipped Gaussian noise of standard deviation ``noise`` (s), a
    random mask topped up to ``min_per_user`` and ``min_per_movie``, and the observed cells
    shuffled into train and test."""
    n_users = _checks.positive_int("n_users", n_users)
    n_movies = _checks.positive_int("n_movies", n_movies, minimum=2)
    genres = tuple(genres)
    if not genres:
        raise ValueError("genres must name at least one genre")
    density = _checks.positive("density", density)
    if density > 1:
        raise ValueError(f"density must be in (0, 1]; got {density}")
    noise = _checks.nonnegative("noise", noise)
    if not 0 < test_frac < 1:
        raise ValueError(f"test_frac must be in (0, 1); got {test_frac}")
    if min_per_user > n_movies or min_per_movie > n_users:
        raise ValueError("min_per_user must be <= n_movies and min_per_movie <= n_users")
    rng = _checks.generator(seed)
    g = len(genres)

    P_true = rng.exponential(scale=1.0, size=(n_users, g))
    movie_genres = rng.integers(0, g, size=n_movies)
    Q_true = rng.exponential(scale=0.3, size=(n_movies, g))
    for j, genre in enumerate(movie_genres):
        Q_true[j, genre] += rng.uniform(1.5, 3.0)

    R = P_true @ Q_true.T
    R_true = 1.0 + 4.0 * (R - R.min()) / (R.max() - R.min())
    R_noisy = np.clip(R_true + rng.normal(0, noise, R_true.shape), 1.0, 5.0)

    mask = rng.uniform(0, 1, (n_users, n_movies)) < density
    for u in range(n_users):
        if mask[u].sum() < min_per_user:
            mask[u, rng.choice(n_movies, min_per_user, replace=False)] = True
    for i in range(n_movies):
        if mask[:, i].sum() < min_per_movie:
            mask[rng.choice(n_users, min_per_movie, replace=False), i] = True

    cells = list(zip(*np.nonzero(mask)))  # shuffle (user, movie) pairs as a list; shuffling index arrays draws another order
    rng.shuffle(cells)
    n_test = int(test_frac * len(cells))
    test_cells, train_cells = np.array(cells[:n_test]), np.array(cells[n_test:])

    def ratings(cells):
        return Ratings(cells[:, 0], cells[:, 1], R_noisy[cells[:, 0], cells[:, 1]], n_users, n_movies, scale=(1.0, 5.0))

    return SyntheticGenres(R_true, R_noisy, mask, ratings(train_cells), ratings(test_cells), genres,
                           movie_genres, P_true, Q_true, rng)
