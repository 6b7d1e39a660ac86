"""mflab.checks must pass a correct student function and fail a wrong one, saying where."""
import numpy as np
import pytest

from mflab import checks

from _reference import stacked_ridge


def good_step(r, p, q, lr, reg):
    e = r - p @ q
    return p + lr * (e * q - reg * p), q + lr * (e * p - reg * q)


def new_p_step(r, p, q, lr, reg):  # the common slip: q's update uses the already-updated p
    e = r - p @ q
    p = p + lr * (e * q - reg * p)
    return p, q + lr * (e * p - reg * q)


def test_sgd_step_passes_the_right_update_and_fails_a_slip(capsys):
    assert checks.sgd_step(good_step) is True
    assert "FAIL" not in capsys.readouterr().out
    assert checks.sgd_step(new_p_step) is False
    out = capsys.readouterr().out
    assert "FAIL" in out and "some cases differ" in out


def test_solve_user_against_lstsq_form(capsys):
    assert checks.solve_user(stacked_ridge) is True  # independent: least squares on the stacked problem
    assert checks.solve_user(lambda Q, r, reg: np.linalg.lstsq(Q, r, rcond=None)[0]) is False  # forgot reg


def test_rmse_and_a_function_that_raises(capsys):
    assert checks.rmse(lambda a, b: np.sqrt(np.mean((a - b) ** 2))) is True
    assert checks.rmse(lambda a, b: np.mean(np.abs(a - b))) is False  # that is MAE
    assert checks.rmse(lambda a, b: 1 / 0) is False
    assert "raised ZeroDivisionError" in capsys.readouterr().out


def test_the_student_arrays_cannot_corrupt_the_reference():
    def mutating(r, p, q, lr, reg):
        out = good_step(r, p, q, lr, reg)
        p[:] = 99.0
        return out

    assert checks.sgd_step(mutating) is True


def test_passing_a_result_instead_of_a_function():
    with pytest.raises(TypeError, match="pass your function itself"):
        checks.rmse(0.5)
