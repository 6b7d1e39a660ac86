"""One objective for ALS and SGD: ``als.fit(..., reg_scaling="count")`` minimises the loss that
``sgd.fit`` descends one rating at a time::

    L = sum_(u,i) [ e_ui^2 + reg (|p_u|^2 + |q_i|^2) + reg_bias (b_u^2 + b_i^2) ]

Held to: the scaled ridge solve against numpy.linalg.lstsq; ALS never increasing L; at ALS's fixed
point the summed SGD step (the gradient of L) vanishing and SGD staying at the same value of L.
"""
import numpy as np
import pytest

from _reference import stacked_ridge
from mflab import Ratings, als, sgd


def objective(model, train, reg, reg_bias=None):
    """L above, written out rating by rating (an obvious, slow reference)."""
    reg_bias = reg if reg_bias is None else reg_bias
    total = 0.0
    for u, i, r in zip(train.user, train.item, train.value):
        e = r - model.predict(u, i)
        total += e * e + reg * (model.P[u] @ model.P[u] + model.Q[i] @ model.Q[i])
        total += reg_bias * (model.user_bias[u] ** 2 + model.item_bias[i] ** 2)
    return total


@pytest.fixture
def train():
    rng = np.random.default_rng(3)
    R = np.where(rng.random((25, 18)) < 0.4, rng.integers(1, 6, (25, 18)).astype(float), np.nan)
    return Ratings.from_dense(R)


def test_count_scaled_solve_is_the_scaled_stacked_ridge(train):
    rng = np.random.default_rng(0)
    Q = rng.normal(size=(train.n_items, 4))
    got = als.solve_all(train.by_user, Q, train.by_user.value, 0.3, np.zeros((train.n_users, 4)),
                        reg_scaling="count")
    for u in range(train.n_users):
        items, values = train.user_items(u)
        np.testing.assert_allclose(got[u], stacked_ridge(Q[items], values, 0.3 * len(items)), atol=1e-10)


@pytest.mark.parametrize("biases", [False, True])
def test_als_with_count_scaling_never_increases_the_sgd_objective(train, biases):
    values = [objective(als.fit(train, 3, reg=0.05, reg_bias=0.02, reg_scaling="count", epochs=n,
                                biases=biases, seed=1), train, 0.05, 0.02) for n in range(1, 9)]
    assert all(b <= a + 1e-9 for a, b in zip(values, values[1:])), values
    plain = objective(als.fit(train, 3, reg=0.05, reg_bias=0.02, epochs=8, biases=biases, seed=1),
                      train, 0.05, 0.02)
    assert values[-1] < plain  # plain lambda minimises another objective


@pytest.mark.parametrize("biases", [False, True])
def test_at_als_fixed_point_sgd_has_nothing_to_descend(train, biases):
    reg = 0.1
    fixed = als.fit(train, 3, reg=reg, reg_scaling="count", epochs=300, biases=biases, seed=2)
    # sum over a user's ratings of SGD's step (lr = 1) is minus half the gradient of L in p_u
    grad_P = np.zeros_like(fixed.P)
    grad_Q = np.zeros_like(fixed.Q)
    for u, i, r in zip(train.user, train.item, train.value):
        p, q, _, _ = sgd.step(r, fixed.P[u], fixed.Q[i], lr=1.0, reg=reg, b_u=fixed.user_bias[u],
                              b_i=fixed.item_bias[i], mu=fixed.mu, biases=biases)
        grad_P[u] += p - fixed.P[u]
        grad_Q[i] += q - fixed.Q[i]
    assert np.abs(grad_P).max() < 1e-6 and np.abs(grad_Q).max() < 1e-6
    # SGD started there, with a small step, stays at the same value of the same objective
    start = objective(fixed, train, reg)
    if not biases:
        moved = sgd.fit(train, 3, lr=1e-4, reg=reg, epochs=20, biases=False, shuffle=False,
                        init=(fixed.P, fixed.Q))
        assert objective(moved, train, reg) == pytest.approx(start, rel=1e-4)


def test_plain_lambda_is_not_at_the_sgd_fixed_point(train):
    """The check above can fail: ALS on plain lambda stops where SGD's gradient is not zero."""
    plain = als.fit(train, 3, reg=0.1 * 7, epochs=300, biases=False, seed=2)
    step_sum = np.zeros_like(plain.P)
    for u, i, r in zip(train.user, train.item, train.value):
        p, _, _, _ = sgd.step(r, plain.P[u], plain.Q[i], lr=1.0, reg=0.1)
        step_sum[u] += p - plain.P[u]
    assert np.abs(step_sum).max() > 1e-3


@pytest.mark.parametrize("biases", [False, True])
def test_sgd_objective_is_the_rating_by_rating_sum(train, biases):
    m = sgd.fit(train, 3, epochs=4, reg=0.07, reg_bias=0.03, biases=biases, seed=5)
    assert sgd.objective(m, train, reg=0.07, reg_bias=0.03) == pytest.approx(objective(m, train, 0.07, 0.03), rel=1e-12)
