"""Small hand-made matrices: lesson 01's 5 x 4 toy and lesson 02's Alice/Bob/Carol example."""
from __future__ import annotations

import numpy as np
import pandas as pd

_ = np.nan


def toy_matrix() -> np.ndarray:
    """Lesson 01's 5 users x 4 items rating matrix, NaN where a user has not rated.

    Users 0-1 like items 0-1 and dislike item 3; users 2-4 the reverse; item 2 has a single rating.
    """
    return np.array([
        [5, 3, _, 1],
        [4, _, _, 1],
        [1, 1, _, 5],
        [1, _, _, 4],
        [_, 1, 5, 4],
    ], dtype=float)


def lecture_example() -> pd.DataFrame:
    """Lesson 02's 3 users x 5 movies example (NaN = not rated), users and movies as labels."""
    return pd.DataFrame(
        [[5, 4, 2, 3, 2],
         [_, 5, 1, 4, _],
         [4, _, 1, 5, _]],
        index=pd.Index(["Alice", "Bob", "Carol"], name="user"),
        columns=pd.Index(["Sholay", "Swades", "Batman", "Interstellar", "Shawshank"], name="movie"),
        dtype=float,
    )


def lecture_movie_features() -> pd.DataFrame:
    """Hand-made features (Bollywood, Sci-Fi, Drama) of :func:`lecture_example`'s five movies (lesson 02)."""
    return pd.DataFrame(
        [[0.95, 0.10, 0.85], [1.00, 0.20, 0.90], [0.05, 0.80, 0.30], [0.05, 0.95, 0.70], [0.05, 0.15, 0.95]],
        index=pd.Index(["Sholay", "Swades", "Batman", "Interstellar", "Shawshank"], name="movie"),
        columns=["Bollywood", "Sci-Fi", "Drama"],
    )
