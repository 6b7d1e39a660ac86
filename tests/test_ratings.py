import numpy as np
import pandas as pd
import pytest

from mflab import Ratings


def test_from_dense_roundtrip_and_counts():
    R = np.array([[5, np.nan, 1], [np.nan, 2, np.nan]])
    r = Ratings.from_dense(R)
    assert len(r) == 3 and r.shape == (2, 3)
    np.testing.assert_array_equal(r.to_dense(), R)
    np.testing.assert_array_equal(r.user_counts(), [2, 1])
    np.testing.assert_array_equal(r.item_counts(), [1, 1, 1])
    assert r.scale == (1.0, 5.0)
    assert r.mean() == pytest.approx(8 / 3)
    np.testing.assert_array_equal(r.mask(), ~np.isnan(R))


def test_grouped_access_matches_dense():
    rng = np.random.default_rng(1)
    R = np.where(rng.random((7, 9)) < 0.4, rng.integers(1, 6, (7, 9)), np.nan)
    r = Ratings.from_dense(R)
    for u in range(7):
        items, values = r.user_items(u)
        np.testing.assert_array_equal(np.sort(items), np.flatnonzero(~np.isnan(R[u])))
        np.testing.assert_array_equal(values[np.argsort(items)], R[u][~np.isnan(R[u])])
    for i in range(9):
        users, values = r.item_users(i)
        np.testing.assert_array_equal(np.sort(users), np.flatnonzero(~np.isnan(R[:, i])))


def test_from_frame_keeps_id_maps_and_shared_index():
    df = pd.DataFrame({"user_id": [10, 20, 10], "item_id": ["b", "a", "c"], "rating": [4, 3, 5]})
    r = Ratings.from_frame(df)
    assert list(r.user_ids) == [10, 20] and list(r.item_ids) == ["a", "b", "c"]
    assert r.to_dense()[0, 1] == 4 and r.to_dense()[1, 0] == 3
    test = Ratings.from_frame(df.iloc[:1], users=r.user_ids, items=r.item_ids)
    assert test.shape == r.shape and test.item[0] == 1


def test_from_frame_errors_name_the_problem():
    df = pd.DataFrame({"u": [1], "i": [2], "r": [3.0]})
    with pytest.raises(ValueError, match="user='user_id' is not a column"):
        Ratings.from_frame(df)
    with pytest.raises(ValueError, match="item id 2 is not in the items index"):
        Ratings.from_frame(df, user="u", item="i", rating="r", items=[1, 3])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(user=[0, 3], item=[0, 1], value=[1, 2]), "row 1: user index 3 is outside"),
        (dict(user=[0, 1], item=[0, -1], value=[1, 2]), "row 1: item index -1"),
        (dict(user=[0, 1], item=[0, 1], value=[1, np.nan]), "row 1: value is nan"),
        (dict(user=[0, 1], item=[0, 1], value=[np.inf, 1]), "row 0: value is inf"),
        (dict(user=[0, 1, 0], item=[1, 1, 1], value=[1, 2, 3]), "rows 0 and 2 both rate user 0, item 1"),
        (dict(user=[0, 1], item=[0], value=[1, 2]), "same length"),
        (dict(user=[0.5], item=[0], value=[1]), "integer indices"),
    ],
)
def test_constructor_validates(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Ratings(**kwargs, n_users=3, n_items=2)


def test_from_dense_rejects_non_2d_and_inf():
    with pytest.raises(ValueError, match="2-D"):
        Ratings.from_dense([1, 2, 3])
    with pytest.raises(ValueError, match=r"R\[0, 1\] is inf"):
        Ratings.from_dense([[1, np.inf]])


def test_arrays_are_read_only_and_subset_keeps_index():
    r = Ratings.from_dense([[1, 2], [3, np.nan]])
    with pytest.raises(ValueError):
        r.value[0] = 9
    s = r.subset(r.value > 1)
    assert s.shape == r.shape and len(s) == 2 and s.scale == r.scale
