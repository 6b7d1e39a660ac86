"""What the material says about biases and regularisation, checked on MovieLens 100K (u1).

- Regularisation narrows the gap between training and test error (the project spec's overfitting
  check), for SGD and for ALS alike.
- Biases improve test RMSE at the same settings.
"""
import pytest

import mflab
from mflab import als, sgd

# SGD on MovieLens-sized data: minutes as plain Python, so not part of `make unit-nonumba`
pytestmark = pytest.mark.needs_numba


@pytest.fixture(scope="module")
def u1():
    return mflab.datasets.movielens_100k_split("u1")


def gap(model, train, test):
    return model.rmse(test) - model.rmse(train)


def test_sgd_regularisation_narrows_the_gap_and_helps_test(u1):
    train, test = u1
    free = sgd.fit(train, 50, lr=0.01, reg=0.0, epochs=30, seed=0)
    shrunk = sgd.fit(train, 50, lr=0.01, reg=0.1, epochs=30, seed=0)
    assert gap(free, train, test) > 0.5  # reg=0 memorises: train 0.38, test 1.08
    assert gap(shrunk, train, test) < 0.25
    assert shrunk.rmse(test) < free.rmse(test) - 0.1
    assert free.rmse(train) < shrunk.rmse(train)  # the price: a worse fit to the training data


def test_als_regularisation_narrows_the_gap(u1):
    train, test = u1
    weak = als.fit(train, 20, reg=1.0, epochs=15, biases=True, seed=0)
    strong = als.fit(train, 20, reg=15.0, epochs=15, biases=True, seed=0)
    assert gap(weak, train, test) > 0.5
    assert gap(strong, train, test) < 0.25
    assert strong.rmse(test) < 0.935


def test_biases_improve_test_rmse(u1):
    train, test = u1
    plain = sgd.fit(train, 50, lr=0.01, reg=0.1, epochs=30, seed=0, biases=False)
    biased = sgd.fit(train, 50, lr=0.01, reg=0.1, epochs=30, seed=0, biases=True)
    assert biased.rmse(test) < plain.rmse(test) - 0.003
    assert biased.rmse(test) < mflab.baseline.fit(train).rmse(test) - 0.04
