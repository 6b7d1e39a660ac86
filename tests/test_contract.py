"""One contract every ``fit`` honours, held by one test over every model the package fits.

For each fit: a Factorization of the right shapes whose ``predict_all`` is its ``predict``;
``model.k == params["k"]``; the same seed gives the same model; unknown ids are ColdStartErrors;
anything but a non-empty Ratings is refused naming the argument; iterative fits fill ``history``
(one entry per epoch or sweep); every fit with a ``reg`` records ``params["reg_scaling"]`` and more
``reg`` gives smaller factors; every array reachable from the model is read-only; ``save``/``load``
round-trips it. The entries of modules written in parallel (implicit, fm) stay here and fail, not
skip, until their module lands.
"""
import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from _reference import assert_all_read_only, assert_same_model
from mflab import ColdStartError, Factorization, Ratings, als, baseline, bayes, sgd, svd


@dataclass
class Fit:
    run: Callable            # run(train, seed, reg) -> Factorization (reg None: the default)
    module: str              # the module whose fit it calls (its signature is checked)
    method: str              # model.method
    reg: tuple | None = None  # (small, large) values of the fit's reg; None: the fit has no reg
    iterative: bool = True


def _implicit(name):
    from mflab import implicit  # noqa: the module is written in parallel; an ImportError fails the entry

    return getattr(implicit, name)


def _fm():
    from mflab import fm

    return fm


def _kw(reg, **kw):
    return kw if reg is None else kw | {"reg": reg}


FITS = {
    "baseline": Fit(lambda t, seed, reg: baseline.fit(t, **({} if reg is None else dict(reg_user=reg, reg_item=reg))),
                    "mflab.baseline", "baseline", reg=(0.0, 25.0), iterative=False),
    "popularity": Fit(lambda t, seed, reg: baseline.popularity(t), "mflab.baseline", "popularity", iterative=False),
    "svd": Fit(lambda t, seed, reg: svd.fit(t, 2), "mflab.svd", "svd", iterative=False),
    "als": Fit(lambda t, seed, reg: als.fit(t, 2, epochs=5, seed=seed, **_kw(reg)), "mflab.als", "als",
               reg=(0.01, 5.0)),
    "als_count": Fit(lambda t, seed, reg: als.fit(t, 2, reg_scaling="count", epochs=5, seed=seed,
                                                  **_kw(0.02 if reg is None else reg)),
                     "mflab.als", "als", reg=(0.002, 1.0)),
    "sgd": Fit(lambda t, seed, reg: sgd.fit(t, 2, lr=0.02, epochs=5, seed=seed, **_kw(reg)), "mflab.sgd", "sgd",
               reg=(0.001, 0.5)),
    "bayes": Fit(lambda t, seed, reg: bayes.fit(t, 2, epochs=6, burn_in=2, seed=seed), "mflab.bayes", "bayes"),
    "implicit_als": Fit(lambda t, seed, reg: _implicit("als").fit(t, 2, epochs=3, seed=seed, **_kw(reg)),
                        "mflab.implicit.als", "implicit-als", reg=(0.01, 50.0)),
    "implicit_bpr": Fit(lambda t, seed, reg: _implicit("bpr").fit(t, 2, epochs=5, seed=seed, **_kw(reg)),
                        "mflab.implicit.bpr", "bpr", reg=(0.001, 1.0)),
    "fm_sgd": Fit(lambda t, seed, reg: _fm().fit(t, 2, solver="sgd", lr=0.02, epochs=5, seed=seed, **_kw(reg)),
                  "mflab.fm", "fm", reg=(0.001, 0.5)),
    "fm_gibbs": Fit(lambda t, seed, reg: _fm().fit(t, 2, solver="gibbs", epochs=6, burn_in=2, seed=seed),
                    "mflab.fm", "fm"),
}
_CACHE = {}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(12)
    R = np.where(rng.random((9, 7)) < 0.6, rng.integers(1, 6, (9, 7)).astype(float), np.nan)
    R[0, :3] = [5, 4, 3]
    return Ratings.from_dense(R)


def fitted(name, data, seed=0, reg=None):
    key = (name, seed, reg)
    if key not in _CACHE:
        _CACHE[key] = FITS[name].run(data, seed, reg)
    return _CACHE[key]


def fit_signature(name):
    import importlib

    return inspect.signature(importlib.import_module(FITS[name].module).fit).parameters


@pytest.mark.parametrize("name", FITS)
def test_shapes_k_and_predictions(name, data):
    m = fitted(name, data)
    assert isinstance(m, Factorization) and m.method.startswith(FITS[name].method)
    assert m.P.shape == (9, m.k) and m.Q.shape == (7, m.k)
    assert m.user_bias.shape == (9,) and m.item_bias.shape == (7,)
    assert m.k == m.params["k"]
    full = m.predict_all()
    assert np.isfinite(full).all()
    np.testing.assert_allclose(m.predict(data.user, data.item), full[data.user, data.item], rtol=1e-12, atol=1e-12)
    assert m.scale == data.scale


@pytest.mark.parametrize("name", FITS)
def test_same_seed_same_model(name, data):
    a, b = FITS[name].run(data, 4, None), FITS[name].run(data, 4, None)
    np.testing.assert_array_equal(a.predict_all(), b.predict_all())


@pytest.mark.parametrize("name", FITS)
def test_unknown_ids_are_cold_start_errors(name, data):
    m = fitted(name, data)
    with pytest.raises(ColdStartError, match="cold-start user"):
        m.predict([9], [0])
    with pytest.raises(ColdStartError, match="cold-start item"):
        m.predict([0], [-1])


@pytest.mark.parametrize("name", FITS)
def test_refuses_non_ratings_and_empty_naming_the_argument(name, data):
    first = next(iter(fit_signature(name)))  # "train" or "interactions"
    with pytest.raises(TypeError, match=f"{first} must be an mflab.Ratings"):
        FITS[name].run(data.to_dense(), 0, None)
    with pytest.raises(ValueError, match=f"{first} holds no"):
        FITS[name].run(data.subset(np.zeros(len(data), dtype=bool)), 0, None)


@pytest.mark.parametrize("name", [n for n, f in FITS.items() if f.iterative])
def test_iterative_fits_fill_history_per_epoch(name, data):
    m = fitted(name, data)
    assert m.history, "empty history"
    lengths = {key: len(values) for key, values in m.history.items()}
    assert m.params["epochs"] in lengths.values(), lengths
    assert all(1 <= n <= m.params["epochs"] for n in lengths.values()), lengths


@pytest.mark.parametrize("name", FITS)
def test_reg_scaling_is_recorded_wherever_there_is_a_reg(name, data):
    m = fitted(name, data)
    has_reg = FITS[name].reg is not None
    assert has_reg == ("reg" in m.params or "reg_user" in m.params), sorted(m.params)
    if has_reg:
        assert m.params["reg_scaling"] in ("none", "count", "sample")
    if "reg" in fit_signature(name) and "reg" in m.params:
        assert "reg_scaling" in m.params


@pytest.mark.parametrize("name", [n for n, f in FITS.items() if f.reg is not None])
def test_more_reg_gives_smaller_factors(name, data):
    # the penalty is reg (|P|^2 + |Q|^2 + biases^2); a factorization may move scale between P and
    # Q, so the quantity that must shrink is the sum
    def penalty(m):
        return sum(np.sum(a ** 2) for a in (m.P, m.Q, m.user_bias, m.item_bias))

    small, large = FITS[name].reg
    assert penalty(fitted(name, data, reg=large)) < penalty(fitted(name, data, reg=small))


@pytest.mark.parametrize("name", FITS)
def test_every_reachable_array_is_read_only(name, data):
    assert_all_read_only(fitted(name, data))


@pytest.mark.parametrize("name", FITS)
def test_save_and_load_round_trip(name, data, tmp_path):
    m = fitted(name, data)
    m.save(tmp_path / "model.npz")
    assert_same_model(m, Factorization.load(tmp_path / "model.npz"))


def test_iterative_fits_share_one_vocabulary():
    shared = ["k", "epochs", "seed", "init_scale", "init", "progress"]
    for name, fit in FITS.items():
        if fit.iterative:
            sig = fit_signature(name)
            assert [word for word in shared if word not in sig] == [], name
    explicit = [fit_signature(n) for n in ("als", "sgd", "bayes", "fm_sgd")]
    for word in ("test", "biases"):
        assert all(word in sig for sig in explicit[:3]), word
    for word in ("reg_bias", "epochs", "biases", "seed", "init_scale", "init", "test", "progress"):
        assert fit_signature("als")[word].default == fit_signature("sgd")[word].default, word


@pytest.mark.parametrize("fit", [lambda t, s: als.fit(t, 2, epochs=2, test=s), lambda t, s: sgd.fit(t, 2, epochs=2, test=s)])
def test_test_set_shape_checked(fit, data):
    bigger = Ratings([0], [9], [3.0], 9, 10)
    with pytest.raises(ValueError, match="test has shape 9 users x 10 items"):
        fit(data, bigger)
