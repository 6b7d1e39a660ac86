"""checks.fold_in (lesson 08's exercise): a correct function passes, each named slip gets its hint,
a wrong answer fails; the reference (recommend.fold_in) agrees with the stacked least squares."""
import numpy as np
import pytest

from mflab import checks
from mflab.checks import coldstart


def normal_equations(Q_u, y_u, reg, reg_bias):
    Z = np.column_stack([np.ones(len(y_u)), Q_u])
    x = np.linalg.solve(Z.T @ Z + np.diag([reg_bias] + [reg] * Q_u.shape[1]), Z.T @ y_u)
    return x[1:], x[0]


def stacked(Q_u, y_u, reg, reg_bias):  # ridge as least squares on rows [Z; sqrt(D)]: independent of any solve
    k = Q_u.shape[1]
    Z = np.vstack([np.column_stack([np.ones(len(y_u)), Q_u]), np.diag(np.sqrt([reg_bias] + [reg] * k))])
    x = np.linalg.lstsq(Z, np.r_[y_u, np.zeros(k + 1)], rcond=None)[0]
    return x[1:], float(x[0])


def run(fn, capsys):
    ok = checks.fold_in(fn)
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("fn", [normal_equations, stacked, lambda *a: list(normal_equations(*a))])
def test_a_correct_function_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True and "fold_in: all 4 cases agree" in out


@pytest.mark.parametrize("slip, hint", coldstart.SLIPS)
def test_each_slip_gets_its_hint(slip, hint, capsys):
    ok, out = run(slip, capsys)
    assert ok is False
    assert f"hint:     {hint}" in out


@pytest.mark.parametrize("fn, words", [
    (lambda Q_u, y_u, reg, reg_bias: (normal_equations(Q_u, y_u, reg, reg_bias)[0], np.array([0.0])), "plain number"),
    (lambda Q_u, y_u, reg, reg_bias: normal_equations(Q_u, y_u + 1, reg, reg_bias), "differs"),
    (lambda Q_u, y_u, reg, reg_bias: normal_equations(Q_u, y_u, reg, reg_bias)[0], "expected the 2 results"),
])
def test_other_wrong_answers_fail(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False and words in out


def test_the_reference_is_the_stacked_ridge():
    rng = np.random.default_rng(5)
    for n, k in ((1, 3), (5, 2), (12, 4)):
        Q_u, y_u = rng.normal(size=(n, k)), rng.normal(size=n)
        p, b = coldstart._reference(Q_u, y_u, 0.7, 3.0)
        p2, b2 = stacked(Q_u, y_u, 0.7, 3.0)
        assert np.allclose(p, p2, atol=1e-10) and abs(b - b2) < 1e-10
