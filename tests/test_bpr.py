"""BPR: the step against finite differences of the triple's objective, the recorded loss against
-ln sigmoid recomputed, compiled against plain, divergence stopped on both paths, and known answers
on planted data (for implicit ALS too)."""
import numpy as np
import pytest

from mflab import Ratings, metrics
from mflab.implicit import als, bpr
from mflab.sgd import DivergenceError


def bpr_objective(P, Q, b, u, i, j, reg):
    x = P[u] @ (Q[i] - Q[j]) + b[i] - b[j]
    return np.log(1 / (1 + np.exp(-x))) - reg / 2 * (P[u] @ P[u] + Q[i] @ Q[i] + Q[j] @ Q[j] + b[i] ** 2 + b[j] ** 2)


def test_the_sigmoid():
    x = np.array([-3.0, 0.0, 2.0])
    np.testing.assert_allclose(bpr.sigmoid(x), np.exp(x) / (np.exp(x) + 1))
    np.testing.assert_allclose(bpr.sigmoid(-x), 1 - bpr.sigmoid(x))
    assert bpr.sigmoid(0.0) == 0.5 and bpr.sigmoid(-1e4) == 0.0 and bpr.sigmoid(1e4) == 1.0  # no overflow warning


@pytest.mark.parametrize("epoch", [bpr.epoch, bpr.compiled_epoch])
@pytest.mark.parametrize("sign", [1, -1])  # x_uij > 0 and < 0 take different branches
def test_a_bpr_step_climbs_the_finite_difference_gradient(epoch, sign):
    rng = np.random.default_rng(5)
    P, Q, b = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    u, i, j, lr, reg = 1, 0, 3, 1e-3, 0.1
    b[i] = sign * 5.0  # the bias gap sets the sign of x_uij
    indptr, items_sorted = np.array([0, 0, 1]), np.array([0])  # user 1 touched item 0 only
    P1, Q1, b1 = P.copy(), Q.copy(), b.copy()
    used, loss, stopped = epoch(np.array([u]), np.array([i]), np.array([j]), indptr, items_sorted,
                                P1, Q1, b1, lr, reg)
    x = P[u] @ (Q[i] - Q[j]) + b[i] - b[j]
    assert (used, stopped) == (1, -1) and np.sign(x) == sign
    assert loss == pytest.approx(-np.log(bpr.sigmoid(x)), rel=1e-12)
    h = 1e-6
    for name, old, new in (("P", P, P1), ("Q", Q, Q1), ("b", b, b1)):
        grad = np.zeros_like(old)
        for idx in np.ndindex(old.shape):
            plus, minus = old.copy(), old.copy()
            plus[idx] += h
            minus[idx] -= h
            args = {"P": P, "Q": Q, "b": b}
            f = lambda a: bpr_objective(**(args | {name: a}), u=u, i=i, j=j, reg=reg)  # noqa: E731
            grad[idx] = (f(plus) - f(minus)) / (2 * h)
        np.testing.assert_allclose((new - old) / lr, grad, atol=1e-6)


def test_bpr_skips_a_negative_the_user_touched():
    P, Q, b = np.ones((1, 2)), np.ones((2, 2)), np.zeros(2)
    used, loss, stopped = bpr.epoch(np.array([0]), np.array([0]), np.array([1]), np.array([0, 2]),
                                    np.array([0, 1]), P, Q, b, 0.1, 0.0)
    assert (used, loss, stopped) == (0, 0.0, -1) and (P == 1).all()


def planted(seed=6):
    """Three groups: each user touched every item of their own group, none of the others; a random
    20% of the touches are held out, so a perfect ranker puts them above every other group's item."""
    rng = np.random.default_rng(seed)
    group_u, group_i = np.arange(60) % 3, np.arange(42) % 3
    u, i = np.nonzero(group_u[:, None] == group_i[None, :])
    held = rng.random(len(u)) < 0.2
    whole = Ratings(u, i, np.ones(len(u)), 60, 42)
    return whole.subset(~held), whole.subset(held)


@pytest.mark.parametrize("fit", [lambda t: als.fit(t, 4, alpha=10.0, reg=0.1, epochs=10, seed=0),
                                 lambda t: bpr.fit(t, 4, lr=0.05, epochs=40, seed=0),
                                 lambda t: bpr.fit(t, 4, lr=0.05, epochs=40, seed=0, negatives="popularity")])
def test_both_models_rank_held_out_positives_far_above_random(fit):
    train, test = planted()
    m = fit(train)
    aucs = [metrics.auc(m.predict(np.full(42, u), np.arange(42)), test.user_items(u)[0],
                        exclude=train.user_items(u)[0])
            for u in np.unique(test.user)]
    assert np.mean(aucs) > 0.9


def test_the_recorded_loss_is_the_mean_over_the_used_triples():
    """With a vanishing step the factors stay put, so the epoch's loss is computable afterwards."""
    train, _ = planted()
    rng = np.random.default_rng(3)
    init = (rng.normal(0, 1, (60, 3)), rng.normal(0, 1, (42, 3)))
    m = bpr.fit(train, 3, lr=1e-12, epochs=1, init=init, seed=11)
    draw = np.random.default_rng(11)  # the fit's draws, repeated: (u, i) then j
    pick = draw.integers(0, len(train), len(train))
    u, i, j = train.user[pick], train.item[pick], draw.integers(0, 42, len(train))
    negative = ~(train.to_dense(fill=0.0)[u, j] > 0)
    x = np.einsum("tk,tk->t", init[0][u], init[1][i] - init[1][j])[negative]
    assert m.history["used"] == (negative.sum(),)
    assert m.history["loss"][0] == pytest.approx(np.mean(-np.log(bpr.sigmoid(x))), rel=1e-9)
    longer = bpr.fit(train, 3, epochs=30, seed=0).history["loss"]
    assert longer[-1] < 0.5 * longer[0] < 0.5 * np.log(2) + 0.01  # it learns: from about ln 2 down


def test_compiled_bpr_equals_the_plain_loop():
    train, _ = planted()
    a = bpr.fit(train, 3, epochs=3, seed=1)
    b = bpr.fit(train, 3, epochs=3, seed=1, compiled=False)
    np.testing.assert_allclose(a.P, b.P, atol=1e-12)
    np.testing.assert_allclose(a.item_bias, b.item_bias, atol=1e-12)
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=1e-12)
    assert a.history["used"] == b.history["used"]


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("lr, reg", [(1e3, 0.0), (2.5, 1.0)])  # scores run away / penalty overshoots
def test_a_diverging_step_size_stops_with_an_error_naming_lr(compiled, lr, reg):
    """One epoch of either used to return finite factors near 1e59 and 1e11 without a word."""
    train, _ = planted()
    with pytest.raises(DivergenceError, match=f"lr={lr:g}"):
        bpr.fit(train, 4, lr=lr, reg=reg, epochs=1, seed=0, compiled=compiled)


def test_given_starting_factors_replace_the_seed():
    train, _ = planted()
    rng = np.random.default_rng(9)
    init = (rng.normal(0, 0.1, (60, 3)), rng.normal(0, 0.1, (42, 3)))
    barely_moved = bpr.fit(train, 3, lr=1e-9, epochs=1, init=init, seed=1)  # BPR's seed samples
    np.testing.assert_allclose(barely_moved.P, init[0], atol=1e-6)


def test_the_parameters_say_how_reg_is_charged():
    train, _ = planted()
    m = bpr.fit(train, 2, epochs=2, seed=0)
    assert m.params["reg_scaling"] == "sample" and m.params["k"] == m.k == 2
    assert m.method == "bpr" and len(m.history["loss"]) == len(m.history["used"]) == 2


@pytest.mark.parametrize("call, words", [
    (lambda t: bpr.fit(t, 2, lr=-1), "lr must be > 0"),
    (lambda t: bpr.fit(t, 2, reg=float("nan")), "reg must be finite"),
    (lambda t: bpr.fit(t.to_dense(), 2), "must be an mflab.Ratings"),
    (lambda t: bpr.fit(t, 2, negatives="zipf"), "negatives must be 'uniform'"),
    (lambda t: bpr.fit(t, 2, compiled=1), "compiled must be True or False"),
])
def test_bad_settings_are_refused(call, words):
    train, _ = planted()
    with pytest.raises((ValueError, TypeError), match=words):
        call(train)
