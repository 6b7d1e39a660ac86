import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import mflab


@pytest.fixture
def small_full():
    """A 6 x 5 fully observed rank-2 matrix with ratings near 3."""
    rng = np.random.default_rng(0)
    R = 3 + rng.normal(size=(6, 2)) @ rng.normal(size=(2, 5)) * 0.5
    return mflab.Ratings.from_dense(R)


@pytest.fixture
def genre():
    return mflab.datasets.synthetic_genres()
