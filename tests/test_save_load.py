"""``Factorization.save`` / ``load``: one .npz that round-trips every field, and refuses a file of
another format version or one mflab did not write; raw-id prediction against its index loop."""
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from mflab import ColdStartError, Factorization, Ratings, als, sgd
from mflab.factorization import FORMAT_VERSION, Draws

from _reference import assert_same_model


def rich_model():
    rng = np.random.default_rng(0)
    draws = Draws(rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 4)),
                  rng.normal(size=(3, 5)), mu=3 + rng.normal(size=3))
    info = {"noise_precision": np.array([1.5, 2.0, 2.5], dtype=np.float32), "n": np.int64(7),
            "nested": {1: ("a", None, True, float("nan")), "set": frozenset({2, 3}), "z": 1 + 2j},
            "blob": b"\x00\x01", "steps": [np.arange(3), {"deep": np.eye(2)}]}
    return Factorization(None, None, None, draws=draws, history={"train_rmse": [1.0, 0.5],
                                                                 "trace": [np.ones(2), np.zeros(2)]},
                         scale=(1, 5), method="bayes", params={"k": 2, "epochs": 6, "seed_was": None},
                         info=info, user_ids=np.array(["u1", "u2", "u3", "u4"], dtype=object),
                         item_ids=np.arange(10, 15))


@pytest.mark.parametrize("make", [
    rich_model,
    lambda: als.fit(Ratings.from_dense([[5, np.nan, 3], [1, 2, np.nan]]), 1, epochs=2, seed=0,
                    test=Ratings([0], [1], [4.0], 2, 3)),
    lambda: Factorization(np.zeros((2, 0)), np.zeros((3, 0)), 3.5),
], ids=["draws-and-nested-info", "als", "k0"])
def test_every_field_round_trips(make, tmp_path):
    model = make()
    path = tmp_path / "model.npz"
    model.save(path)
    assert_same_model(model, Factorization.load(path))
    named = tmp_path / "no_suffix"
    model.save(str(named))  # written where asked, no ".npz" appended
    assert named.exists() and not (tmp_path / "no_suffix.npz").exists()


def test_the_file_is_plain_npz_without_pickle(tmp_path):
    rich_model().save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        meta = json.loads(str(archive["__mflab__"]))
    assert meta["format"] == "mflab.Factorization" and meta["version"] == FORMAT_VERSION


def _rewrite_meta(path, change):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["__mflab__"]))
    change(meta)
    arrays["__mflab__"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_another_version_or_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    rich_model().save(path)
    _rewrite_meta(path, lambda meta: meta.update(version=FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match=f"format version {FORMAT_VERSION + 1}.*reads version {FORMAT_VERSION}"):
        Factorization.load(path)
    _rewrite_meta(path, lambda meta: meta.update(format="something else"))
    with pytest.raises(ValueError, match="not a model file written by mflab"):
        Factorization.load(path)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, P=np.ones((2, 2)))
    with pytest.raises(ValueError, match="not a model file written by mflab.*no '__mflab__'"):
        Factorization.load(foreign)
    for name, content in (("text.npz", b"hello"), ("array.npy", None), ("broken.npz", b"PK\x03\x04junk")):
        target = tmp_path / name
        np.save(target, np.ones(3)) if content is None else target.write_bytes(content)
        with pytest.raises(ValueError, match="not a model file written by mflab"):
            Factorization.load(target)
    with pytest.raises(FileNotFoundError, match="no such file"):
        Factorization.load(tmp_path / "missing.npz")
    with pytest.raises(TypeError, match="path must be a file name"):
        rich_model().save(123)
    assert zipfile.is_zipfile(path)


@pytest.fixture
def frame_model():
    frame = pd.DataFrame({"user_id": ["ann", "bob", "bob", "cy", "cy", "ann"],
                          "item_id": [101, 101, 205, 205, 307, 307], "rating": [5.0, 3.0, 4.0, 2.0, 5.0, 1.0]})
    train = Ratings.from_frame(frame)
    return train, sgd.fit(train, 2, epochs=3, seed=0)


def test_predict_ids_is_predict_on_the_looked_up_indices(frame_model):
    train, model = frame_model
    raw_u, raw_i = ["cy", "ann", "bob"], [101, 307, np.int64(205)]
    expected = [model.predict(list(train.user_ids).index(u), list(train.item_ids).index(i))
                for u, i in zip(raw_u, raw_i)]
    np.testing.assert_array_equal(model.predict_ids(raw_u, raw_i), expected)
    assert model.predict_ids("bob", 101.0) == model.predict(1, 0)  # 101.0 is the id 101


def test_recommend_ids_is_recommend_of_the_index(frame_model):
    train, model = frame_model
    got = model.recommend_ids("bob", 2, exclude=train)
    pd.testing.assert_frame_equal(got, model.recommend(1, 2, exclude=train))
    assert list(got["item_id"]) == [307]


@pytest.mark.parametrize("call, words", [
    (lambda m: m.predict_ids(["ann", "zed"], [101, 101]), "raw user id 'zed' is not in the model"),
    (lambda m: m.predict_ids("ann", [999]), "raw item id 999 is not in the model"),
    (lambda m: m.predict_ids("ann", ["101"]), "raw item id '101' is not in the model"),
    (lambda m: m.predict_ids("ann", [True]), "raw item id True is not in the model"),
    (lambda m: m.recommend_ids("nobody", 2), "raw user id 'nobody'"),
])
def test_unknown_raw_ids_are_cold_start_errors_naming_the_id(frame_model, call, words):
    with pytest.raises(ColdStartError, match=words):
        call(frame_model[1])


def test_raw_ids_need_a_model_that_carries_them():
    with pytest.raises(ValueError, match="carries no raw user ids"):
        Factorization(np.ones((2, 1)), np.ones((2, 1))).predict_ids([0], [0])
    with pytest.raises(TypeError, match="one raw user id"):
        Factorization(np.ones((2, 1)), np.ones((2, 1)), user_ids=np.array([5, 6])).recommend_ids([5, 6])
