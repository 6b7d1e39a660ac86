"""The shared validators of mflab._checks, one per kind of argument, against each class of bad input
(issue 25): every refusal names the argument and says what is accepted; what is accepted comes back
in one normal form. Every public function that takes that kind of argument calls these, so a new
function gets the same answers for free."""
import os

import numpy as np
import pandas as pd
import pytest

from mflab import _checks

# --------------------------------------------------------------------------- index arrays
GOOD_INDICES = [([2, 0], [2, 0]), (np.array([1, 3], dtype=np.uint8), [1, 3]), ({3, 1}, [1, 3]),
                (range(2), [0, 1]), (pd.Series([4, 2]), [4, 2]), (3, [3]), ([], []),
                (np.array([1, 2], dtype=object), [1, 2])]


@pytest.mark.parametrize("value, expected", GOOD_INDICES)
def test_integer_indices_of_any_container_are_accepted(value, expected):
    out = _checks.indices("exclude", value, 5)
    assert out.dtype == np.int64 and out.tolist() == expected


@pytest.mark.parametrize("value, error, words", [
    ([1.5], TypeError, r"exclude must hold integer item indices .*\(a float such as 1.5 is never read as index 1\)"),
    ([1.0, 2.0], TypeError, "integer item indices"),       # integral floats too: the dtype is the contract
    ([True], TypeError, "holds booleans .* True is not read as item 1"),
    (np.array([True, False, True, False, False]), TypeError, r"boolean mask.*np.flatnonzero\(mask\)"),
    ([-1], ValueError, r"holds -1: item indices are 0-based and >= 0 \(-1 is not read as the last item\)"),
    ([5], ValueError, r"holds 5, outside the 5 items: item indices must be in \[0, 5\)"),
    (["3"], TypeError, "integer item indices"),
    ("3", TypeError, "got the string '3'"),
    (None, TypeError, r"must be item indices in \[0, 5\); got None"),
    ([[1, 2]], ValueError, "flat list"),
    (pd.DataFrame({"item": [1]}), TypeError, "got a DataFrame"),
    (np.array([1, "a"], dtype=object), TypeError, "integer item indices"),
])
def test_every_loose_index_type_is_refused_by_name(value, error, words):
    with pytest.raises(error, match=words):
        _checks.indices("exclude", value, 5)


def test_without_an_upper_bound_only_negatives_are_out_of_range():
    assert _checks.indices("ranked", [10 ** 6], None).tolist() == [10 ** 6]
    with pytest.raises(ValueError, match="0-based"):
        _checks.indices("ranked", [-2], None)


@pytest.mark.parametrize("value, error", [(True, TypeError), (1.0, TypeError), (1.5, TypeError), ("1", TypeError),
                                          (None, TypeError), (-1, ValueError), (4, ValueError)])
def test_a_single_index_is_an_int_in_range(value, error):
    assert _checks.index("user", np.int32(3), 4) == 3 and _checks.index("user", np.array(2), 4) == 2
    with pytest.raises(error, match=r"user"):
        _checks.index("user", value, 4)


# --------------------------------------------------------------------------- counts
@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError),
                                          (np.bool_(True), TypeError), ("3", TypeError), (None, TypeError),
                                          (float("nan"), TypeError)])
def test_a_count_is_a_whole_number_at_least_its_minimum(value, error):
    with pytest.raises(error, match=r"max_lines must be an integer >= 1"):
        _checks.count("max_lines", value)


def test_a_count_accepts_integral_numbers_and_honours_its_bounds():
    assert _checks.count("n", np.int64(3)) == 3 and _checks.count("n", 3.0) == 3
    assert _checks.count("n", 0, minimum=0) == 0
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 10\]; got 11"):
        _checks.count("n", 11, maximum=10)
    assert _checks.positive_int is not None and _checks.positive_int("k", 2) == 2  # the old name


# --------------------------------------------------------------------------- numbers and arrays of them
@pytest.mark.parametrize("value, error, words", [
    (["a", "b"], TypeError, "y_true must be an array of numbers; got text such as 'a'"),
    ([True, False], TypeError, "got booleans"),
    ([1.0, float("nan")], ValueError, "holds NaN or infinite values"),
    ([1.0, None], TypeError, "must hold numbers only; got None"),
    (pd.DataFrame({"a": [1.0]}), TypeError, "DataFrame"),
])
def test_an_array_of_numbers_refuses_text_booleans_and_nan(value, error, words):
    with pytest.raises(error, match=words):
        _checks.real_array("y_true", value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 100.0, 0.5, True, "4", None])
def test_a_threshold_is_a_finite_number_on_the_scale(value):
    with pytest.raises((TypeError, ValueError), match="threshold"):
        _checks.on_scale("threshold", value, (1, 5))
    assert _checks.on_scale("threshold", 4, (1, 5)) == 4.0 and _checks.on_scale("threshold", 100, None) == 100.0


def test_ratings_on_a_scale():
    assert _checks.values_on_scale("rated", [1, 5], (1, 5)).tolist() == [1.0, 5.0]
    with pytest.raises(ValueError, match="rated holds the rating 50, outside the scale"):
        _checks.values_on_scale("rated", [4, 50], (1, 5))


# --------------------------------------------------------------------------- shapes, means, paths
class _Shaped:
    def __init__(self, n_users, n_items):
        self.n_users, self.n_items, self.shape = n_users, n_items, (n_users, n_items)


def test_a_data_set_must_have_the_model_s_shape():
    model = _Shaped(3, 4)
    _checks.fits_model("test", _Shaped(3, 4), model)
    _checks.fits_model("exclude", None, model)
    for other in (_Shaped(3, 5), _Shaped(2, 4), _Shaped(4, 4)):  # wider or narrower: both refused
        with pytest.raises(ValueError, match=r"test has shape .* but the model was fitted on 3 x 4"):
            _checks.fits_model("test", other, model)


def test_the_mean_of_nothing_is_refused():
    assert _checks.nonempty_mean("ratings", [1, 2]) == 1.5
    with pytest.raises(ValueError, match="ratings holds no ratings"):
        _checks.nonempty_mean("ratings", [])


@pytest.mark.parametrize("value", [123, 4.5, None, ["a"], b"bytes"])
def test_a_path_is_a_string_or_a_path(value):
    with pytest.raises(TypeError, match=r"path must be a path \(a str or pathlib.Path\)"):
        _checks.path("path", value)
    assert _checks.path("path", "~/x").is_absolute()


# --------------------------------------------------------------------------- environment variables
@pytest.mark.parametrize("raw", ["abc", "0", "-1", "inf", "nan", "1e999", "3 s"])
def test_an_environment_variable_is_named_when_it_is_not_a_positive_number(monkeypatch, raw):
    monkeypatch.setenv("MFLAB_SOMETHING", raw)
    with pytest.raises(ValueError, match=rf"environment variable MFLAB_SOMETHING='{raw}' .*default 30"):
        _checks.env_number("MFLAB_SOMETHING", 30, unit="seconds")


def test_an_unset_or_empty_variable_gives_the_default(monkeypatch):
    monkeypatch.delenv("MFLAB_SOMETHING", raising=False)
    assert _checks.env_number("MFLAB_SOMETHING", 30) == 30.0
    monkeypatch.setenv("MFLAB_SOMETHING", " ")
    assert _checks.env_number("MFLAB_SOMETHING", 30) == 30.0
    monkeypatch.setenv("MFLAB_SOMETHING", "0.25")
    assert _checks.env_number("MFLAB_SOMETHING", 30) == 0.25


# --------------------------------------------------------------------------- sizes against memory
@pytest.mark.parametrize("shape, itemsize", [((10 ** 6, 10 ** 6), 8), ((2 ** 40,), 8), ((943, 10 ** 6), 8),
                                             ((10 ** 8, 10), np.int64), ((10 ** 9,), "float32")])
def test_an_array_above_the_limit_is_refused_before_it_exists(shape, itemsize):
    with pytest.raises(ValueError, match=r"implicit.als.fit: k would build .* above the limit of 0.4 GB "
                                         r".*Lower k\. Pass force=True"):
        _checks.array_size("implicit.als.fit: k", shape, itemsize, force=False, alternative="Lower k.")


def test_force_allows_it_and_small_arrays_pass():
    _checks.array_size("x", (10 ** 6, 10 ** 6), 8, force=True)
    _checks.array_size("x", (1000, 1000), 8, force=False)
    with pytest.raises(TypeError, match="force must be True or False"):
        _checks.array_size("x", (2, 2), 8, force="yes")


def test_the_limit_is_read_when_checked(monkeypatch):
    monkeypatch.setattr(_checks, "DENSE_CELL_LIMIT", 11)
    with pytest.raises(ValueError, match=r"dense 3 x 4 array \(12 cells"):
        _checks.dense_size("Ratings.to_dense()", 3, 4, force=False, alternative="")
    _checks.array_size("x", (3, 4), 4, force=False)  # 48 bytes <= 88
