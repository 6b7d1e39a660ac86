"""Ratings refuses what would otherwise turn into a silent wrong number or a bare numpy error."""
import numpy as np
import pandas as pd
import pytest

from mflab import Ratings, _checks


def test_values_outside_the_declared_scale_are_refused():
    with pytest.raises(ValueError, match=r"row 1: value 6 \(user 1, item 0\) is outside the declared scale \(1.0, 5.0\)"):
        Ratings([0, 1], [0, 0], [5.0, 6.0], 2, 1, scale=(1, 5))


def test_multi_dimensional_ids_and_values_are_refused_not_flattened():
    with pytest.raises(ValueError, match=r"user must be a 1-D array of indices; got shape \(2, 1\)"):
        Ratings([[0], [1]], [0, 1], [3.0, 4.0], 2, 2)
    with pytest.raises(ValueError, match=r"value must be a 1-D array of ratings; got shape \(1, 2\)"):
        Ratings([0, 1], [0, 1], [[3.0, 4.0]], 2, 2)


def test_the_offending_id_is_reported_as_given_not_overflowed():
    with pytest.raises(ValueError, match=r"row 0: user index 1e\+20 is outside"):
        Ratings([1e20], [0], [3.0], 2, 2)
    with pytest.raises(ValueError, match=r"row 0: item index 18446744073709551615 is outside"):
        Ratings([0], np.array([2**64 - 1], dtype=np.uint64), [3.0], 2, 2)


def test_non_numeric_values_and_ids_are_named():
    with pytest.raises(TypeError, match="value must hold numbers; found 'five'"):
        Ratings([0, 1], [0, 1], [3.0, "five"], 2, 2)
    with pytest.raises(TypeError, match="item must hold integer indices; got dtype <U1 .*from_frame"):
        Ratings([0], ["a"], [3.0], 2, 2)


def test_duplicate_ids_in_the_index_are_refused():
    df = pd.DataFrame({"user_id": [1, 2], "item_id": [10, 20], "rating": [3.0, 4.0]})
    with pytest.raises(ValueError, match="users lists the id 1 more than once"):
        Ratings.from_frame(df, users=[1, 1, 2])
    with pytest.raises(ValueError, match="items lists the id 20 more than once"):
        Ratings.from_frame(df, items=[10, 20, 20])


def test_mixed_type_ids_are_named():
    df = pd.DataFrame({"user_id": [1, "b"], "item_id": [10, 20], "rating": [3.0, 4.0]})
    with pytest.raises(TypeError, match="must each hold ids of one kind"):
        Ratings.from_frame(df)


def test_to_dense_and_mask_are_guarded_above_the_cell_limit(monkeypatch):
    r = Ratings([0, 1], [0, 1], [3.0, 4.0], 3, 4)
    monkeypatch.setattr(_checks, "DENSE_CELL_LIMIT", 11)
    for call in (r.to_dense, r.mask):
        with pytest.raises(ValueError, match=r"dense 3 x 4 array .*by_user.*force=True"):
            call()
    assert r.to_dense(force=True).shape == (3, 4)


@pytest.fixture
def four():
    return Ratings([0, 0, 1, 2], [0, 1, 1, 2], [3.0, 4.0, 5.0, 1.0], 3, 3)


@pytest.mark.parametrize("rows, error, words", [
    ([4], ValueError, r"rows holds 4, outside the 4 rows"),
    ([-1], ValueError, r"rows holds -1: row indices are 0-based"),
    ([0.0, 1.0], TypeError, "rows must hold integer row indices"),
    (["0"], TypeError, "rows must hold integer row indices"),
    (np.ones(3, dtype=bool), ValueError, r"boolean mask must have one entry per rating \(4\); got shape \(3,\)"),
    ([True, False], ValueError, r"boolean mask must have one entry per rating \(4\)"),
    (np.ones((2, 2), dtype=int), ValueError, "flat list"),
])
def test_subset_refuses_rows_out_of_range_and_masks_of_the_wrong_length(four, rows, error, words):
    with pytest.raises(error, match=words):
        four.subset(rows)


def test_subset_takes_a_mask_or_indices(four):
    np.testing.assert_array_equal(four.subset([False, True, True, False]).value, [4.0, 5.0])
    np.testing.assert_array_equal(four.subset(np.array([3, 0])).value, [1.0, 3.0])
    assert len(four.subset([])) == 0 and len(four.subset(np.zeros(4, dtype=bool))) == 0


def test_the_mean_of_no_ratings_is_an_error_not_nan(recwarn):
    with pytest.raises(ValueError, match="holds no ratings"):
        Ratings([], [], [], 3, 3).mean()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
