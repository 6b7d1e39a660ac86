"""mflab.coldstart against the classes of hostile input of issue 25: a threshold the sibling
ranking_metrics would refuse (class 3), a missing or mismatched fallback (class 4), loose counts and
shapes (classes 2 and 3). The threshold is checked by the one function ranking_metrics uses, so both
refuse the same values with the same words."""
import numpy as np
import pytest

from mflab import Factorization, Ratings, baseline, coldstart, metrics


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(0)
    n_users, n_items, per_user = 12, 15, 8
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    R = Ratings(users, items, rng.integers(1, 6, len(users)).astype(float), n_users, n_items, scale=(1, 5))
    train, held = coldstart.hold_out_users(R, 4, seed=0)
    model = Factorization(rng.normal(0, 0.5, (n_users, 2)), rng.normal(0, 0.5, (n_items, 2)), 3.0,
                          np.zeros(n_users), rng.normal(0, 0.3, n_items))
    return model, held, baseline.popularity(train, by="rating")


def run(study, **kwargs):
    model, held, fallback = study
    args = dict(reveal=(1, 2), pool=3, k=3, reg=1.0, fallback=fallback, seed=0) | kwargs
    return coldstart.fold_in_study(model, args.pop("held", held), **args)


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), 100, 0.5, "4", True, None])
def test_a_threshold_ranking_metrics_refuses_is_refused_here_too(study, threshold):
    model, held, _ = study
    with pytest.raises((TypeError, ValueError), match="threshold") as here:
        run(study, threshold=threshold)
    if threshold is None:  # None is "every rating relevant" in ranking_metrics; a study needs a rating
        assert "got None" in str(here.value)
        return
    with pytest.raises(type(here.value)) as there:
        metrics.relevance_threshold(threshold, held, of="held")
    assert str(there.value) == str(here.value)


def test_a_threshold_on_the_scale_works(study):
    assert run(study, threshold=5).attrs["users"] == 4


@pytest.mark.parametrize("fallback, error, words", [
    (None, TypeError, r"fallback must be a fitted model .* got NoneType"),
    ("popular", TypeError, "got str"),
    (np.zeros(15), TypeError, "got ndarray"),
])
def test_the_fallback_must_be_a_model(study, fallback, error, words):
    with pytest.raises(error, match=words):
        run(study, fallback=fallback)


def test_a_fallback_or_held_set_of_another_shape_is_refused(study):
    model, held, _ = study
    other = Factorization(np.zeros((12, 0)), np.zeros((9, 0)), 3.0, np.zeros(12), np.zeros(9))
    with pytest.raises(ValueError, match="fallback scores 9 items but the model 15"):
        run(study, fallback=other)
    wider = Ratings(held.user, held.item, held.value, 12, 16)
    with pytest.raises(ValueError, match=r"held has shape 12 users x 16 items but the model was fitted on 12 x 15"):
        run(study, held=wider)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(pool=0), ValueError, "pool must be an integer >= 1"),
    (dict(pool=2.5), TypeError, "pool must be an integer"),
    (dict(k=-1), ValueError, "k must be an integer >= 1"),
    (dict(k=True), TypeError, "k must be an integer"),
    (dict(reveal=(1.5,)), TypeError, "reveal must be an integer"),
    (dict(reveal=(0, 1)), ValueError, "reveal must be an integer >= 1"),
])
def test_counts_are_whole_positive_numbers(study, kwargs, error, words):
    with pytest.raises(error, match=words):
        run(study, **kwargs)


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_hold_out_users_counts(n):
    R = Ratings([0, 1, 2], [0, 0, 0], [3.0, 4.0, 5.0], 3, 1)
    with pytest.raises((TypeError, ValueError), match="n_users must be an integer"):
        coldstart.hold_out_users(R, n, seed=0)
