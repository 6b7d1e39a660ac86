"""mflab.demo (the rate-and-recommend app's logic) against issue 25's hostile input: a rating keyed
by a float, a boolean or an index outside the catalogue is never read as another movie; a rating off
the model's scale is refused; counts are whole positive numbers (``n=-1`` used to drop a movie
silently); and the study's arguments are checked before any fit."""
import numpy as np
import pytest

from mflab import Ratings, demo


@pytest.fixture(scope="module")
def cat():
    rng = np.random.default_rng(3)
    P, Q = rng.normal(size=(40, 3)), rng.normal(size=(30, 3))
    R = np.clip(3 + P @ Q.T, 1, 5)
    R[rng.random(R.shape) < 0.3] = np.nan
    titles = [f"Movie {chr(65 + i % 26)}{i} ({1980 + i})" for i in range(30)]
    return demo.build(Ratings.from_dense(R, scale=(1, 5)), titles, k=3, reg=0.5, reg_bias=0.5, epochs=5,
                      seed=0, min_ratings=5, n_labels=6)


RATED_CALLS = {
    "fold_in": lambda cat, rated: demo.fold_in(cat, rated),
    "recommend": lambda cat, rated: demo.recommend(cat, rated),
    "popularity": lambda cat, rated: demo.popularity(cat, rated),
    "position": lambda cat, rated: demo.position(cat, rated),
}


@pytest.mark.parametrize("call", RATED_CALLS.values(), ids=RATED_CALLS.keys())
@pytest.mark.parametrize("rated, error, words", [
    ({1.7: 5}, TypeError, r"rated \(its keys, the movies\) must hold integer movie indices .*1.7"),
    ({True: 5}, TypeError, "holds booleans"),
    ({-1: 5}, ValueError, r"holds -1: movie indices are 0-based .*not read as the last movie"),
    ({30: 5}, ValueError, r"holds 30, outside the 30 movies"),
    ({"3": 5}, TypeError, "integer movie indices"),
    ({3: 50}, ValueError, r"rated \(its values, the ratings\) holds the rating 50, outside the scale \[1, 5\]"),
    ({3: 0}, ValueError, "outside the scale"),
    ({3: float("nan")}, ValueError, "NaN"),
    ({3: "5"}, TypeError, r"rated \(its values, the ratings\) must be an array of numbers; got text such as '5'"),
    ([(3, 5)], TypeError, r"rated must be a dict \{movie index: rating\}"),
])
def test_no_rating_is_read_as_another_movie_or_off_the_scale(cat, call, rated, error, words):
    with pytest.raises(error, match=words):
        call(cat, rated)


def test_integer_keys_of_any_kind_and_ratings_on_the_scale_work(cat):
    a = demo.recommend(cat, {np.int64(3): np.float32(4.5), 7: 1})
    b = demo.recommend(cat, {3: 4.5, 7: 1.0})
    assert a.equals(b) and not {3, 7} & set(a["item"])


@pytest.mark.parametrize("call", [lambda cat, n: demo.search(cat, "movie", n),
                                  lambda cat, n: demo.popularity(cat, {}, n),
                                  lambda cat, n: demo.recommend(cat, {}, n)], ids=["search", "popularity", "recommend"])
@pytest.mark.parametrize("n, error", [(-1, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError),
                                      ("3", TypeError)])
def test_n_is_a_whole_positive_number(cat, call, n, error):
    with pytest.raises(error, match="n must be an integer >= 1"):
        call(cat, n)


def test_n_larger_than_the_catalogue_gives_the_catalogue(cat):
    assert len(demo.popularity(cat, {}, 10 ** 8)) == 30 and len(demo.search(cat, "movie", 10 ** 8)) == 30


@pytest.mark.parametrize("query", [None, 3, ["star"]])
def test_a_query_is_text(cat, query):
    with pytest.raises(TypeError, match="query must be a string"):
        demo.search(cat, query)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(regs=(1.0, float("nan"))), ValueError, "regs must be finite"),
    (dict(regs=(-1.0,)), ValueError, "regs must be > 0"),
    (dict(n_given=(3, 2.5)), TypeError, "n_given must be an integer"),
    (dict(n_given=(0,)), ValueError, "n_given must be an integer >= 1"),
    (dict(val_frac=1.5), ValueError, r"val_frac must be in \(0, 1\)"),
    (dict(min_user_ratings=-3), ValueError, "min_user_ratings must be an integer >= 1"),
    (dict(n_given=(100,)), ValueError, "no user has more than max"),
])
def test_the_fold_in_study_checks_its_arguments_before_fitting(kwargs, error, words):
    R = Ratings.from_dense(np.ones((4, 5)))
    with pytest.raises(error, match=words):
        demo.fold_in_study(R, **kwargs)
