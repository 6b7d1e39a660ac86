"""checks.fm_pairwise (lesson 10's exercise 1): a correct O(k n) pairwise term passes, the double
sum over pairs passes too (it is the reference, written another way), each common slip gets its own
hint, and a wrong answer that is no known slip fails without one."""
import numpy as np
import pytest

from mflab import checks, fm
from mflab.checks import fm as check_fm


def good(V, x):
    s = V.T @ x
    return 0.5 * float(s @ s - np.sum((V ** 2).T @ (x ** 2)))


def by_pairs(V, x):  # x^T triu(V V^T, 1) x: every pair j < l, with numpy
    return float(x @ np.triu(V @ V.T, 1) @ x)


def run(fn, capsys):
    ok = checks.fm_pairwise(fn)
    return ok, capsys.readouterr().out


def test_the_reference_is_the_double_sum_and_mflabs_identity():
    for V, x in check_fm.cases():
        assert check_fm._double_sum(V, x) == pytest.approx(by_pairs(V, x), abs=1e-12)
        assert check_fm._double_sum(V, x) == pytest.approx(fm.pairwise(V, x), abs=1e-12)


def test_the_cases_tell_the_slips_apart():
    """Every slip differs from the right answer on some case, and x_j^2 != x_j on some case."""
    cases = check_fm.cases()
    for slip, hint in check_fm.SLIPS:
        assert any(abs(slip(V, x) - check_fm._double_sum(V, x)) > 1e-6 for V, x in cases), hint
    assert check_fm._double_sum(*cases[3]) == 0.0  # one feature: no pair at all


@pytest.mark.parametrize("fn", [good, by_pairs, lambda V, x: np.float64(good(V, x)), lambda V, x: np.array(good(V, x))])
def test_a_correct_answer_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True and "fm_pairwise: all 5 cases agree" in out and "FAIL" not in out


def no_half(V, x):
    s = V.T @ x
    return float(s @ s - np.sum((V ** 2).T @ (x ** 2)))


def no_squares(V, x):
    s = V.T @ x
    return 0.5 * float(s @ s)


def neither(V, x):
    return float(np.sum((x @ V) ** 2))


def x_not_squared(V, x):
    s = V.T @ x
    return 0.5 * float(s @ s - np.sum((V ** 2).T @ x))


def f_not_squared(V, x):
    return 0.5 * float(np.sum((V.T @ x) ** 2) - np.sum(V.T @ x ** 2))


def wrong_axis(V, x):
    s = (V * x[:, None]).sum(axis=1)
    return 0.5 * float(s @ s - np.sum((V * x[:, None]) ** 2))


def squared_once(V, x):
    return 0.5 * float(np.sum(V.T @ x) ** 2 - np.sum((V * x[:, None]) ** 2))


@pytest.mark.parametrize("fn, words", [
    (no_half, "the 1/2 is missing"),
    (no_squares, "the squares are not subtracted"),
    (neither, "neither the 1/2 nor the subtraction"),
    (x_not_squared, "x_j is not squared"),
    (f_not_squared, "f_jf is not squared"),
    (wrong_axis, "the sum runs over the wrong axis"),
    (squared_once, "the square is taken once, of everything"),
])
def test_each_slip_gets_its_hint(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False
    hints = [line for line in out.splitlines() if line.startswith("  hint:")]
    assert len(hints) == 1 and words in hints[0], out


def test_a_wrong_answer_that_is_no_known_slip_fails_without_a_hint(capsys):
    ok, out = run(lambda V, x: good(V, x) + 0.01, capsys)
    assert ok is False and "hint:" not in out and "pairwise differs from the expected value" in out


def test_a_vector_is_not_a_number(capsys):
    ok, out = run(lambda V, x: np.array([good(V, x)]), capsys)
    assert ok is False and "pairwise is an array of shape (1,); expected a single number" in out
