"""Splits keep their promises: every user keeps a training rating, no half is empty, times are
finite; leave_last_out holds out exactly each user's latest rating."""
import numpy as np
import pytest

from mflab import Ratings, splits


@pytest.fixture
def ratings():
    # user 0: 1 rating; user 1: 2; user 2: 5
    user = [0, 1, 1, 2, 2, 2, 2, 2]
    item = [0, 0, 1, 0, 1, 2, 3, 4]
    return Ratings(user, item, [3.0, 4, 5, 1, 2, 3, 4, 5], 3, 5)


def test_per_user_split_keeps_a_training_rating_for_every_user(ratings):
    train, test = splits.per_user_split(ratings, 0.9, seed=0)  # round(0.9 * 1) = 1 would empty user 0
    assert (train.user_counts() >= 1).all()
    assert test.user_counts().tolist() == [0, 1, 4]


def test_a_split_that_leaves_a_half_empty_is_refused():
    one_each = Ratings([0, 1], [0, 1], [3.0, 4.0], 2, 2)
    with pytest.raises(ValueError, match="leaves the test half empty"):
        splits.per_user_split(one_each, 0.5, seed=0)
    with pytest.raises(ValueError, match="leaves the test half empty"):
        splits.random_split(one_each, 0.1, seed=0)


@pytest.mark.parametrize("split", [
    lambda r, t: splits.temporal_split(r, t, 0.25),
    lambda r, t: splits.leave_one_out(r, timestamps=t),
    lambda r, t: splits.leave_last_out(r, t),
])
def test_nan_timestamps_are_refused(ratings, split):
    t = np.arange(8.0)
    t[5] = np.nan
    with pytest.raises(ValueError, match=r"timestamps\[5\] is nan"):
        split(ratings, t)


def test_leave_last_out_holds_out_each_user_s_latest(ratings):
    t = np.array([5, 9, 1, 3, 8, 2, 8, 0])  # user 1's latest is row 1; user 2's tie at 8: row 6
    train, test = splits.leave_last_out(ratings, t)
    assert sorted(zip(test.user.tolist(), test.item.tolist())) == [(1, 0), (2, 3)]
    assert len(train) == 6 and train.user_counts().tolist() == [1, 1, 4]


# --------------------------------------------------------------------------- issue 25, class 2: times read as text
TWO = Ratings([0, 0, 0], [0, 1, 2], [3.0, 4, 5], 1, 3)


@pytest.mark.parametrize("split", [
    lambda r, t: splits.leave_last_out(r, t),
    lambda r, t: splits.leave_one_out(r, timestamps=t),
    lambda r, t: splits.temporal_split(r, t, 0.34),
])
def test_numeric_strings_are_compared_as_numbers_never_as_text(split):
    """As text '9' comes after '10'; as numbers the latest is row 1, 10."""
    train, test = split(TWO, ["9", "10", "2"])
    assert test.item.tolist() == [1]
    assert split(TWO, np.array([b"9", b"10", b"2"]))[1].item.tolist() == [1]


@pytest.mark.parametrize("times, words", [
    (["2020-01-02", "2020-01-10", "2019-12-31"], "is not a number; strings are not compared as text"),
    (["9", "ten", "2"], r"timestamps\[1\] = 'ten' is not a number"),
])
def test_other_strings_are_refused_with_the_conversion_to_use(times, words):
    with pytest.raises(TypeError, match=words + r".*pd.to_datetime"):
        splits.leave_last_out(TWO, times)


def test_datetimes_of_every_kind_order_by_time():
    import pandas as pd

    stamps = pd.to_datetime(["2020-01-02", "2020-01-10", "2019-12-31"])
    for times in (stamps.to_numpy(), pd.Series(stamps.tz_localize("UTC")), list(stamps)):
        assert splits.leave_last_out(TWO, times)[1].item.tolist() == [1]


@pytest.mark.parametrize("times, error", [([True, False, True], TypeError), ([1, None, 3], ValueError),
                                          ([1, object(), 3], TypeError), ([[1], [2], [3]], ValueError)])
def test_booleans_missing_times_and_tables_are_not_times(times, error):
    with pytest.raises(error, match="timestamps"):
        splits.leave_last_out(TWO, times)
