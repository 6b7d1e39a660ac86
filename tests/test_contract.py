"""One contract every ``fit`` honours: shapes, seeding, unknown ids, input checks, regularisation."""
import numpy as np
import pytest

from mflab import ColdStartError, Factorization, Ratings, als, baseline, bayes, sgd, svd

# The iterative fits take the same keywords for the same ideas (k, reg, reg_bias, epochs, biases,
# seed, init_scale, init, test, progress); only what belongs to one optimiser differs (lr, shuffle,
# compiled for SGD; reg_scaling for ALS).
SHARED = dict(epochs=5, init_scale=0.1, init=None, test=None, progress=False)
FITS = {
    "baseline": lambda t, **kw: baseline.fit(t, reg_user=kw.get("reg", 0), reg_item=kw.get("reg", 0)),
    "svd": lambda t, **kw: svd.fit(t, 2),
    "als": lambda t, **kw: als.fit(t, 2, reg=kw.get("reg", 0.1), reg_bias=kw.get("reg", 0.1), biases=False,
                                   seed=kw.get("seed", 0), **SHARED),
    "als_biased": lambda t, **kw: als.fit(t, 2, reg=kw.get("reg", 0.1), reg_bias=kw.get("reg", 0.1), biases=True,
                                          seed=kw.get("seed", 0), **SHARED),
    "als_count": lambda t, **kw: als.fit(t, 2, reg=kw.get("reg", 0.02), reg_bias=kw.get("reg", 0.02), biases=True,
                                         seed=kw.get("seed", 0), reg_scaling="count", **SHARED),
    "bayes": lambda t, **kw: bayes.fit(t, 2, samples=6, burn_in=2, biases=True, seed=kw.get("seed", 0),
                                       init_scale=0.1, test=None, progress=False),
    "sgd": lambda t, **kw: sgd.fit(t, 2, reg=kw.get("reg", 0.02), reg_bias=kw.get("reg", 0.02), biases=True,
                                   seed=kw.get("seed", 0), lr=0.02, **SHARED),
}


def test_iterative_fits_share_one_vocabulary_and_defaults():
    import inspect

    shared = ["k", "reg", "reg_bias", "epochs", "biases", "seed", "init_scale", "init", "test", "progress"]
    sigs = [inspect.signature(f.fit).parameters for f in (als, sgd)]
    for name in shared:
        assert all(name in sig for sig in sigs), name
    for name in ("reg_bias", "epochs", "biases", "seed", "init_scale", "init", "test", "progress"):
        assert sigs[0][name].default == sigs[1][name].default, name


@pytest.fixture
def data():
    rng = np.random.default_rng(12)
    R = np.where(rng.random((9, 7)) < 0.6, rng.integers(1, 6, (9, 7)).astype(float), np.nan)
    R[0, :3] = [5, 4, 3]
    return Ratings.from_dense(R)


@pytest.mark.parametrize("name", FITS)
def test_shapes_and_predictions(name, data):
    m = FITS[name](data)
    assert isinstance(m, Factorization) and m.method == name.split("_")[0]
    assert m.P.shape[0] == 9 and m.Q.shape[0] == 7 and m.P.shape[1] == m.Q.shape[1]
    assert m.user_bias.shape == (9,) and m.item_bias.shape == (7,)
    full = m.predict_all()
    np.testing.assert_allclose(m.predict(data.user, data.item), full[data.user, data.item])
    assert np.isfinite(full).all()
    clipped = m.predict_all(clip=True)
    assert clipped.min() >= 1 and clipped.max() <= 5
    assert m.scale == data.scale


@pytest.mark.parametrize("name", FITS)
def test_same_seed_same_model(name, data):
    a, b = FITS[name](data, seed=4), FITS[name](data, seed=4)
    np.testing.assert_array_equal(a.predict_all(), b.predict_all())


@pytest.mark.parametrize("name", FITS)
def test_unknown_ids_are_cold_start_errors(name, data):
    m = FITS[name](data)
    with pytest.raises(ColdStartError, match="cold-start user"):
        m.predict([9], [0])
    with pytest.raises(ColdStartError, match="cold-start item"):
        m.predict([0], [-1])


@pytest.mark.parametrize("name", FITS)
def test_rejects_non_ratings_and_empty(name, data):
    with pytest.raises(TypeError, match="must be an mflab.Ratings"):
        FITS[name](data.to_dense())
    with pytest.raises(ValueError, match="holds no ratings"):
        FITS[name](data.subset(np.zeros(len(data), dtype=bool)))


@pytest.mark.parametrize("name", ["als", "als_biased", "als_count", "sgd"])
def test_more_reg_gives_smaller_factors(name, data):
    # the penalty is reg (|P|^2 + |Q|^2); a factorization may move scale between P and Q, so
    # the quantity that must shrink is that sum
    def penalty(m):
        return np.sum(m.P ** 2) + np.sum(m.Q ** 2)

    small, large = FITS[name](data, reg=0.01), FITS[name](data, reg=5.0)
    assert penalty(large) < penalty(small)


def test_more_reg_gives_smaller_baseline_biases(data):
    small, large = FITS["baseline"](data, reg=0), FITS["baseline"](data, reg=25)
    assert np.abs(large.user_bias).sum() < np.abs(small.user_bias).sum()


@pytest.mark.parametrize("fit", [lambda t, s: als.fit(t, 2, epochs=2, test=s), lambda t, s: sgd.fit(t, 2, epochs=2, test=s)])
def test_test_set_shape_checked(fit, data):
    bigger = Ratings([0], [9], [3.0], 9, 10)
    with pytest.raises(ValueError, match="test has shape 9 users x 10 items"):
        fit(data, bigger)
