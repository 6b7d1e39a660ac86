"""mflab.symbolic against what mflab.sgd and mflab.als actually compute.

SGD: the update :func:`mflab.sgd.step` applies (it runs the real epoch loop on one rating) must
equal the update derived by sympy and ``p - lr/2 * gradient`` with a central finite-difference
gradient of the lambdified loss. ALS: sympy's solution of the per-user normal equations must equal
``numpy.linalg.lstsq`` on the stacked ridge problem and :func:`mflab.als.solve_user`.
"""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from mflab import als, sgd, symbolic

from _reference import stacked_ridge

SETTINGS = settings(max_examples=60, deadline=None)
value = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


def vector(k):
    return st.lists(value, min_size=k, max_size=k).map(np.array)


@st.composite
def one_rating(draw):
    """A random rating problem: k, r, p, q and, when drawn, biases and regularisation."""
    k = draw(st.integers(1, 4))
    biases = draw(st.booleans())
    case = {
        "k": k,
        "r": draw(st.floats(1, 5)),
        "p": draw(vector(k)),
        "q": draw(vector(k)),
        "lr": draw(st.floats(1e-4, 0.1)),
        "reg": draw(st.sampled_from([0.0, 0.02]) | st.floats(0, 1)),
        "biases": biases,
        "b_u": draw(value) if biases else 0.0,
        "b_i": draw(value) if biases else 0.0,
        "mu": draw(st.floats(1, 5)) if biases else 0.0,
    }
    return case


def finite_difference_gradient(f, x, h=1e-4):
    """Central differences of ``f`` at the vector ``x`` (exact up to rounding for a quadratic)."""
    x = np.asarray(x, dtype=float)
    grad = np.empty_like(x)
    for j in range(len(x)):
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (f(up) - f(down)) / (2 * h)
    return grad


def flat_loss(case):
    """The lambdified loss as a function of one flat vector [p, q, b_u, b_i] (biases last)."""
    k, biases = case["k"], case["biases"]
    L = symbolic.numeric_loss(k, reg=True, biases=biases)

    def f(theta):
        b_u, b_i = (theta[2 * k], theta[2 * k + 1]) if biases else (0.0, 0.0)
        return L(case["r"], theta[:k], theta[k:2 * k], b_u, b_i, case["mu"], case["reg"])

    theta = np.concatenate([case["p"], case["q"]] + ([[case["b_u"], case["b_i"]]] if biases else []))
    return f, theta


def applied(case):
    """What the training loop does to one rating, flattened to [p, q, b_u, b_i]."""
    p, q, b_u, b_i = sgd.step(case["r"], case["p"], case["q"], lr=case["lr"], reg=case["reg"], b_u=case["b_u"],
                              b_i=case["b_i"], mu=case["mu"], biases=case["biases"])
    return np.concatenate([p, q] + ([[b_u, b_i]] if case["biases"] else []))


@SETTINGS
@given(one_rating())
def test_sgd_applies_the_symbolic_update(case):
    p, q, b_u, b_i = symbolic.sgd_update(case["r"], case["p"], case["q"], lr=case["lr"], reg=case["reg"],
                                         b_u=case["b_u"], b_i=case["b_i"], mu=case["mu"], biases=case["biases"])
    derived = np.concatenate([p, q] + ([[b_u, b_i]] if case["biases"] else []))
    np.testing.assert_allclose(applied(case), derived, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(one_rating())
def test_sgd_steps_against_the_finite_difference_gradient(case):
    f, theta = flat_loss(case)
    expected = theta - case["lr"] / 2 * finite_difference_gradient(f, theta)
    np.testing.assert_allclose(applied(case), expected, rtol=1e-7, atol=1e-7)


@SETTINGS
@given(one_rating())
def test_numeric_gradients_match_finite_differences(case):
    k, biases = case["k"], case["biases"]
    grads = symbolic.numeric_gradients(k, reg=True, biases=biases)(
        case["r"], case["p"], case["q"], case["b_u"], case["b_i"], case["mu"], case["reg"])
    f, theta = flat_loss(case)
    fd = finite_difference_gradient(f, theta)
    np.testing.assert_allclose(grads["p"], fd[:k], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grads["q"], fd[k:2 * k], rtol=1e-6, atol=1e-6)
    if biases:
        np.testing.assert_allclose([grads["b_u"], grads["b_i"]], fd[2 * k:], rtol=1e-6, atol=1e-6)
    else:
        assert set(grads) == {"p", "q"}


@pytest.mark.parametrize("reg", [False, True])
@pytest.mark.parametrize("biases", [False, True])
@pytest.mark.parametrize("k", [1, 3])
def test_error_form_is_the_same_gradient(k, reg, biases):
    """Writing the gradient through e (chain rule) changes nothing once e = r - r_hat."""
    L = symbolic.loss(k, reg=reg, biases=biases)
    direct = symbolic.gradients(k, reg=reg, biases=biases)
    through_e = symbolic.gradients(k, reg=reg, biases=biases, in_error=True)
    assert set(direct) == set(through_e) == ({"p", "q", "b_u", "b_i"} if biases else {"p", "q"})
    for name in direct:
        difference = sp.Matrix([direct[name]]) - sp.Matrix([through_e[name]]).subs(symbolic.e, L.error)
        assert difference.applyfunc(sp.expand).is_zero_matrix, name


def test_update_rule_reads_like_the_slides():
    """p <- p + eta (e q - lambda p), q likewise, b_u <- b_u + eta (e - lambda b_u), eta = lr."""
    a, lam, e = symbolic.eta, symbolic.lam, symbolic.e
    L = symbolic.loss(2, reg=True, biases=True)
    rule = symbolic.update_rule(2, reg=True, biases=True)
    assert sp.expand(rule["p"] - (L.p + a * (e * L.q - lam * L.p))).is_zero_matrix
    assert sp.expand(rule["q"] - (L.q + a * (e * L.p - lam * L.q))).is_zero_matrix
    assert sp.expand(rule["b_u"] - (L.b_u + a * (e - lam * L.b_u))) == 0
    assert sp.expand(rule["b_i"] - (L.b_i + a * (e - lam * L.b_i))) == 0
    without = symbolic.update_rule(2)
    assert set(without) == {"p", "q"} and lam not in without["p"].free_symbols


def test_loss_without_reg_and_biases_is_the_squared_error():
    L = symbolic.loss(3)
    assert sp.expand(L.expr - (L.r - L.p.dot(L.q)) ** 2) == 0
    assert symbolic.lam not in L.expr.free_symbols and L.mu not in L.expr.free_symbols


def test_sgd_update_with_a_stated_error():
    """The error can be given instead of computed (pop quiz 3 of the slides states e = -2.5)."""
    p, q, _, _ = symbolic.sgd_update(2, [0.8, 0.3], [0.6, 0.9], lr=0.1, e=-2.5)
    np.testing.assert_allclose(p, [0.65, 0.075])
    np.testing.assert_allclose(q, [0.4, 0.825])
    p, q, _, _ = symbolic.sgd_update(2, [0.8, 0.3], [0.6, 0.9], lr=0.1)  # its own error: 2 - 0.75
    np.testing.assert_allclose(p, [0.8 + 0.1 * 1.25 * 0.6, 0.3 + 0.1 * 1.25 * 0.9])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_normal_equations_solve_the_ridge_problem(data):
    k = data.draw(st.integers(1, 3), label="k")
    n = data.draw(st.integers(1, 4), label="n")
    Q_u = np.array(data.draw(st.lists(vector(k), min_size=n, max_size=n), label="Q_u"))
    r_u = data.draw(st.lists(st.floats(1, 5), min_size=n, max_size=n).map(np.array), label="r_u")
    reg = data.draw(st.floats(0.01, 2), label="reg")
    ridge = symbolic.normal_equations(n, k)
    assert ridge.matches
    p_u = ridge.solve(Q_u, r_u, reg)
    np.testing.assert_allclose(p_u, stacked_ridge(Q_u, r_u, reg), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(p_u, als.solve_user(Q_u, r_u, reg), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("n, k", [(1, 1), (2, 2), (3, 2), (2, 1)])
def test_sympy_solution_is_the_closed_form(n, k):
    ridge = symbolic.normal_equations(n, k)
    assert all(sp.cancel(a - b) == 0 for a, b in zip(ridge.solution, ridge.closed_form))
    Q_u, r_u, p_u = ridge.Q_u, ridge.r_u, ridge.p_u
    assert sp.expand(ridge.gradient - (2 * (Q_u.T * Q_u + symbolic.lam * sp.eye(k)) * p_u
                                       - 2 * Q_u.T * r_u)).is_zero_matrix
    # the symbols a lesson reads: q_jf (row j: the j-th rated item), r_j, p_f
    assert [str(v) for v in Q_u[0, :]] == [f"q_0{f}" for f in range(k)] and str(r_u[0]) == "r_0" \
        and str(p_u[0]) == "p_0"


def test_lesson_02_als_example():
    """User 0 of lesson 02's 3x3 example rated items 0 and 2: r_u = [5, 2], Q_u = rows 0 and 2 of Q0."""
    Q_u = np.array([[1.0, 0.3], [0.2, 0.8]])
    r_u = np.array([5.0, 2.0])
    ridge = symbolic.normal_equations(2, 2)
    np.testing.assert_allclose(ridge.solve(Q_u, r_u, 0.0), [4.5946, 1.3514], atol=1e-4)
    np.testing.assert_allclose(ridge.solve(Q_u, r_u, 0.0), np.linalg.solve(Q_u, r_u))


def test_bad_input():
    with pytest.raises(ValueError, match="k"):
        symbolic.loss(0)
    with pytest.raises(ValueError, match="length k=2"):
        symbolic.numeric_gradients(2)(5, [1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="biases=True"):
        symbolic.numeric_loss(2)(5, [1, 2], [1, 2], b_u=0.5)
    with pytest.raises(ValueError, match="reg=True"):
        symbolic.numeric_loss(2)(5, [1, 2], [1, 2], reg=0.1)
    with pytest.raises(ValueError, match="lr"):
        symbolic.sgd_update(5, [1, 2], [1, 2], lr=0)
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        symbolic.normal_equations(2, 2).solve(np.ones((3, 2)), np.ones(3), 0.1)


@pytest.mark.parametrize("call, words", [
    (lambda: symbolic.loss(10 ** 6), r"k must be an integer in \[1, 100\]; got 1000000"),
    (lambda: symbolic.sgd_update(5, np.ones(1000), np.ones(1000), lr=0.1), r"k must be an integer in \[1, 100\]"),
    (lambda: symbolic.normal_equations(5, 4), r"n must be an integer in \[1, 4\]; got 5"),
    (lambda: symbolic.normal_equations(2, 10 ** 8), r"k must be an integer in \[1, 3\]"),
])
def test_exact_algebra_refuses_sizes_that_would_hang(call, words):
    """Issue 25: a size that sympy would work on for minutes (or hours) is refused at once."""
    with pytest.raises(ValueError, match=words):
        call()
