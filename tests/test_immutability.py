"""Read-only all the way down: no array reachable from a Ratings or a fitted model accepts a write,
no container on the way can be appended to, and the caller's arrays are copied, not shared."""
import numpy as np
import pandas as pd
import pytest

from _reference import assert_all_read_only
from mflab import Factorization, Ratings, als, baseline, sgd, svd
from mflab.factorization import Draws


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    R = np.where(rng.random((8, 6)) < 0.6, rng.integers(1, 6, (8, 6)).astype(float), np.nan)
    R[0, :2] = [5, 1]
    return Ratings.from_dense(R)


def test_every_array_of_a_ratings_refuses_writes_grouped_views_included(data):
    found = dict(assert_all_read_only(data, "ratings"))
    for name in ("user", "item", "value", "by_user.order", "by_user.other", "by_user.value",
                 "by_user.indptr", "by_item.other", "by_item.indptr"):
        assert f"ratings.{name}" in found, name
    with pytest.raises(AttributeError, match="read-only"):
        data.by_user.value = np.zeros(len(data))


def test_a_grouped_view_cannot_change_the_next_fit(data):
    before = als.fit(data, 2, epochs=2, seed=0).P
    with pytest.raises(ValueError, match="read-only"):
        data.by_user.value[:] = 0.0
    np.testing.assert_array_equal(als.fit(data, 2, epochs=2, seed=0).P, before)


def test_raw_ids_are_private_copies():
    frame = pd.DataFrame({"user_id": [10, 20, 20], "item_id": ["a", "b", "c"], "rating": [1.0, 2.0, 3.0]})
    users = np.array([10, 20])
    r = Ratings.from_frame(frame, users=users)
    users[0] = 99  # the caller's array: still theirs to change
    assert r.user_ids[0] == 10
    model = als.fit(r, 1, epochs=1, seed=0)
    ids = np.array(["a", "b", "c"])
    direct = Factorization(model.P, model.Q, item_ids=ids)
    ids[0] = "z"
    assert direct.item_ids[0] == "a"
    assert_all_read_only(r, "ratings")
    for ids in (model.user_ids, model.item_ids, direct.item_ids):
        with pytest.raises(ValueError, match="read-only"):
            ids[0] = ids[0]


def _draws_model():
    rng = np.random.default_rng(0)
    draws = Draws(rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 4)),
                  rng.normal(size=(3, 5)), mu=rng.normal(size=3))
    return Factorization(None, None, None, draws=draws, history={"trace": [np.ones(2), np.zeros(2)]},
                         info={"noise_precision": [1.0, 2.0, 3.0], "nested": {"a": [np.ones(3)], "b": {4}}})


FITTED = {
    "baseline": lambda d: baseline.fit(d, reg_user=1.0),
    "popularity": lambda d: baseline.popularity(d),
    "svd": lambda d: svd.fit(d, 2),
    "als": lambda d: als.fit(d, 2, epochs=2, seed=0, test=d),
    "als_count": lambda d: als.fit(d, 2, reg=0.05, reg_scaling="count", epochs=2, seed=0),
    "sgd": lambda d: sgd.fit(d, 2, epochs=2, seed=0, test=d),
    "draws": lambda d: _draws_model(),
}


@pytest.mark.parametrize("name", FITTED)
def test_every_array_of_a_fitted_model_refuses_writes(name, data):
    model = FITTED[name](data)
    found = dict(assert_all_read_only(model))
    assert {"model.P", "model.Q", "model.user_bias", "model.item_bias"} <= set(found)
    with pytest.raises(TypeError):
        model.info["new"] = 1
    with pytest.raises(TypeError):
        model.params["k"] = 99
    with pytest.raises((TypeError, AttributeError)):
        model.history["train_rmse"] = ()
    with pytest.raises(AttributeError):
        model.P = np.zeros_like(model.P)


def test_info_and_draws_are_frozen_deep_and_copied():
    m = _draws_model()
    assert {"model.draws.P", "model.draws.Q", "model.draws.mu", "model.info['nested']['a'][0]",
            "model.history['trace']"} <= set(dict(assert_all_read_only(m)))
    assert isinstance(m.info["noise_precision"], tuple) and m.info["nested"]["b"] == frozenset({4})
    with pytest.raises(AttributeError):
        m.info["noise_precision"].append(4.0)
    with pytest.raises(AttributeError):
        m.draws.P = np.zeros((3, 4, 2))
    caller = {"trace": np.ones(3)}
    model = Factorization(np.ones((2, 1)), np.ones((3, 1)), info=caller)
    caller["trace"][0] = 5.0
    assert model.info["trace"][0] == 1.0


def test_info_refuses_objects_it_cannot_freeze():
    with pytest.raises(TypeError, match=r"info\['rng'\] holds a Generator"):
        Factorization(np.ones((2, 1)), np.ones((3, 1)), info={"rng": np.random.default_rng()})
