"""Hostile input for the implicit models, by class (issue 25):

- class 1, what counts as an interaction: a stored positive value. Stored zeros are dropped with a
  warning that says how many and by which rule, and the fit is then the fit of the positive cells;
  a negative value, data with no interaction, data BPR cannot draw a triple from, and a
  non-finite alpha are refused by every function that takes them;
- class 5, sizes: a k whose factors would not fit in memory is refused before anything is
  allocated, naming k, and force=True lifts the guard.
"""
import re
import time
import warnings

import numpy as np
import pytest

from mflab import Factorization, Ratings, _checks
from mflab.implicit import als, bpr

FITS = {"als.fit": lambda data, **kw: als.fit(data, 2, epochs=2, seed=0, **kw),
        "bpr.fit": lambda data, **kw: bpr.fit(data, 2, epochs=2, seed=0, **kw)}
LOSSES = {"als.loss": lambda data, alpha=2.0: als.loss(Factorization(np.ones((6, 2)), np.ones((5, 2))), data,
                                                          alpha=alpha, reg=0.1),
          "als.trace_loss": lambda data, alpha=2.0: als.trace_loss(np.ones((6, 2)), np.ones((5, 2)), data,
                                                                    alpha=alpha, reg=0.1)}
EVERY = FITS | LOSSES


def counts_matrix():
    """A 6 x 5 count matrix as a student builds it: Ratings.from_dense stores its zeros too."""
    counts = np.array([[0, 3, 0, 1, 0], [2, 0, 0, 0, 0], [0, 0, 5, 0, 1],
                       [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 4, 0, 0, 2]], dtype=float)
    return counts, Ratings.from_dense(counts)


@pytest.mark.parametrize("name", EVERY)
def test_stored_zeros_are_not_interactions(name):
    counts, stored = counts_matrix()
    positives = stored.subset(stored.value > 0)
    assert len(stored) == 30 and len(positives) == 9
    with pytest.warns(UserWarning, match=re.escape("21 of 30 stored values are 0 and were dropped")) as caught:
        from_stored = EVERY[name](stored)
    assert "positive value as an interaction" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the positive cells alone: no warning, the same answer
        from_positives = EVERY[name](positives)
    if isinstance(from_stored, Factorization):
        np.testing.assert_array_equal(from_stored.P, from_positives.P)
        np.testing.assert_array_equal(from_stored.Q, from_positives.Q)
    else:
        assert from_stored == from_positives


@pytest.mark.parametrize("name", EVERY)
def test_a_negative_interaction_is_refused(name):
    _, stored = counts_matrix()
    value = stored.value.copy()
    value[7] = -1.0
    data = Ratings(stored.user, stored.item, value, 6, 5)
    with pytest.raises(ValueError, match=r"interactions holds 1 negative value\(s\) \(first: row 7.*a negative "
                                         r"one has no meaning"):
        EVERY[name](data)


@pytest.mark.parametrize("name", EVERY)
def test_data_without_an_interaction_is_refused(name):
    with pytest.raises(ValueError, match="interactions holds no interaction"), pytest.warns(UserWarning):
        EVERY[name](Ratings.from_dense(np.zeros((6, 5))))


@pytest.mark.parametrize("negatives, data", [
    ("uniform", Ratings.from_dense(np.ones((3, 4)))),  # every user touched every item
    # popularity negatives come from the interacted items, 0 and 2, and both users touched both
    ("popularity", Ratings([0, 0, 1, 1], [0, 2, 0, 2], np.ones(4), 2, 4)),
])
def test_bpr_refuses_data_it_cannot_draw_a_triple_from(negatives, data):
    with pytest.raises(ValueError, match="BPR cannot draw a triple"):
        bpr.fit(data, 2, negatives=negatives, seed=0)
    als.fit(data, 2, epochs=1, seed=0)  # implicit ALS learns from the empty cells: no triple needed


@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), -1.0])
@pytest.mark.parametrize("name", ["als.fit", *LOSSES])
def test_alpha_must_be_finite_and_nonnegative(name, alpha):
    _, stored = counts_matrix()
    data = stored.subset(stored.value > 0)
    with pytest.raises(ValueError, match="alpha must be"):
        EVERY[name](data, alpha=alpha)


@pytest.mark.parametrize("solver", ["cg", "exact"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_confidence_too_large_for_floating_point_is_an_error_not_a_nan_loss(solver, dtype):
    _, stored = counts_matrix()
    for alpha in (1e306, 1e308) if dtype == "float64" else (1e37, 1e39):  # overflows later / at once
        with pytest.raises(ValueError, match="use a smaller alpha"):
            als.fit(stored.subset(stored.value > 0), 2, alpha=alpha, epochs=1, seed=0, solver=solver, dtype=dtype)


@pytest.mark.parametrize("fit", [als.fit, bpr.fit])
def test_a_k_beyond_memory_is_refused_before_allocating(fit, monkeypatch):
    data = Ratings(np.arange(10), np.arange(10), np.ones(10), 1000, 1000)  # 2,000 factor rows
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"with k=1,000,000 would build.*force=True"):
        fit(data, 10**6, seed=0)
    assert time.perf_counter() - start < 1.0  # refused, not swapped for minutes
    _, stored = counts_matrix()
    data = stored.subset(stored.value > 0)
    monkeypatch.setattr(_checks, "DENSE_CELL_LIMIT", 2)  # 16 bytes: any real fit is "too large"
    with pytest.raises(ValueError, match="k=2"):
        fit(data, 2, epochs=1, seed=0)
    assert fit(data, 2, epochs=1, seed=0, force=True).k == 2
