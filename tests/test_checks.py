"""mflab.checks is what a student meets when they are wrong: it must pass a correct function, and
fail each kind of wrong one with a message that says exactly what is wrong (the runaways of issue
25 are in test_hostile_checks.py)."""
import signal
import threading
import time

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


def good_rmse(a, b):
    return np.sqrt(np.mean((a - b) ** 2))


def run(check, fn, capsys, **kw):
    ok = check(fn, **kw)
    return ok, capsys.readouterr().out


# --- a correct function passes, in any reasonable container -----------------------------------

@pytest.mark.parametrize("fn", [
    good_step,
    lambda *a: list(good_step(*a)),                              # a list instead of a tuple
    lambda *a: tuple(x.tolist() for x in good_step(*a)),         # plain lists of numbers
])
def test_a_correct_sgd_step_passes_as_tuple_or_list(fn, capsys):
    ok, out = run(checks.sgd_step, fn, capsys)
    assert ok is True
    assert "FAIL" not in out and "sgd_step: all 4 cases agree" in out


@pytest.mark.parametrize("fn", [good_rmse, lambda a, b: float(good_rmse(a, b)),
                                lambda a, b: np.asarray(good_rmse(a, b))])  # numpy float, float, 0-d array
def test_a_correct_rmse_passes_as_any_scalar(fn, capsys):
    assert run(checks.rmse, fn, capsys)[0] is True


def test_solve_user_against_the_stacked_least_squares_form(capsys):
    assert run(checks.solve_user, stacked_ridge, capsys)[0] is True  # independent of als.solve_user


# --- shapes are compared strictly, and both shapes are named -----------------------------------

def test_a_row_is_not_a_vector(capsys):
    ok, out = run(checks.sgd_step, lambda *a: tuple(x.reshape(1, -1) for x in good_step(*a)), capsys)
    assert ok is False
    assert "p_new is an array of shape (1, 2); expected an array of shape (2,)" in out
    assert ".ravel()" in out  # the fix is named


def test_a_column_answer_to_solve_user_is_refused(capsys):
    ok, out = run(checks.solve_user, lambda Q, r, reg: stacked_ridge(Q, r, reg)[:, None], capsys)
    assert ok is False and "p_u is an array of shape (2, 1); expected an array of shape (2,)" in out


def test_a_length_one_array_is_not_a_number(capsys):
    ok, out = run(checks.rmse, lambda a, b: np.array([good_rmse(a, b)]), capsys)
    assert ok is False
    assert "the RMSE is an array of shape (1,); expected a single number (shape ())" in out
    assert "float(...)" in out


# --- the type wanted is said precisely ----------------------------------------------------------

def test_a_stacked_array_where_a_pair_is_wanted(capsys):
    ok, out = run(checks.sgd_step, lambda *a: np.array(good_step(*a)), capsys)
    assert ok is False
    assert ("returned a numpy array of shape (2, 1); expected the 2 results (p_new, q_new) as a tuple "
            "or list") in out
    assert "`return p_new, q_new`" in out


def test_the_wrong_number_of_results(capsys):
    ok, out = run(checks.sgd_step, lambda *a: (*good_step(*a), 0.0), capsys)
    assert ok is False and "returned 3 values; expected the 2 results (p_new, q_new)" in out
    ok, out = run(checks.solve_user, lambda Q, r, reg: np.linalg.lstsq(Q, r, rcond=None), capsys)
    assert ok is False and "returned a tuple of 4 values; expected one result, p_u" in out


def test_a_string_is_not_a_number(capsys):
    ok, out = run(checks.rmse, lambda a, b: f"{good_rmse(a, b):.3f}", capsys)
    assert ok is False and "the RMSE is a str, not a number" in out


# --- None is reported as None, never as nan ------------------------------------------------------

def test_returning_nothing_says_returned_none(capsys):
    def forgot_return(r, p, q, lr, reg):
        good_step(r, p, q, lr, reg)

    ok, out = run(checks.sgd_step, forgot_return, capsys)
    assert ok is False
    assert "returned None" in out and "`return`" in out and "nan" not in out.lower()
    ok, out = run(checks.rmse, lambda a, b: None, capsys)
    assert ok is False and "returned None" in out and "nan" not in out.lower()


def test_one_result_none(capsys):
    ok, out = run(checks.sgd_step, lambda *a: (good_step(*a)[0], None), capsys)
    assert ok is False and "q_new is None" in out and "nan" not in out.lower()


def test_a_nan_result_is_called_nan(capsys):
    ok, out = run(checks.rmse, lambda a, b: np.nan, capsys)
    assert ok is False and "the RMSE holds NaN or infinity" in out


# --- a function that never returns is stopped ----------------------------------------------------

def endless(*args):
    while True:
        try:
            pass
        except Exception:  # a student's catch-all must not swallow the time-out
            pass


def test_an_endless_loop_is_stopped_with_a_message(capsys):
    handler = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    ok, out = run(checks.sgd_step, endless, capsys, timeout=0.3)
    assert ok is False and time.monotonic() - start < 3  # one case, then it gives up
    assert "case 1 (k=1): FAIL: still running after 0.3 s, so it was stopped" in out
    assert "the other 3 cases were not run" in out and "endless loop" in out
    assert signal.getsignal(signal.SIGALRM) is handler  # the kernel's state is left as it was
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert run(checks.sgd_step, good_step, capsys)[0] is True  # and the next check works


def test_the_time_out_works_outside_the_main_thread(capsys):
    result = {}
    worker = threading.Thread(target=lambda: result.update(ok=checks.rmse(endless, timeout=0.3)))
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and result["ok"] is False
    assert "still running after 0.3 s" in capsys.readouterr().out
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "mflab-check"]  # the loop was stopped


def test_a_slow_but_finishing_function_is_not_stopped(capsys):
    def slow(a, b):
        time.sleep(0.05)
        return good_rmse(a, b)

    assert run(checks.rmse, slow, capsys, timeout=2)[0] is True
    with pytest.raises(ValueError, match="timeout"):
        checks.rmse(good_rmse, timeout=0)


# --- expected beside got for the first failing case, and a one-line summary ---------------------

def test_the_first_failure_is_shown_in_full_then_summarised(capsys):
    ok, out = run(checks.rmse, lambda a, b: np.mean(np.abs(a - b)), capsys)  # MAE: right on cases 1, 4
    lines = out.splitlines()
    assert ok is False
    assert [line.split(":")[1].strip() for line in lines if line.startswith("case ")] == ["ok", "FAIL", "FAIL", "ok"]
    assert "first failing case, case 2: <lambda>(y_true, y_pred) with" in out
    expected = next(line for line in lines if line.startswith("  expected"))
    got = next(line for line in lines if line.startswith("  got"))
    assert expected == "  expected  2.1669" and got == "  got       1.8885"
    assert out.count("  expected") == 1 and out.count("  got ") == 1  # only the first failure in full
    assert lines[-1] == ("rmse: 2 of 4 cases agree; case 2 is the first to fail: the RMSE differs from the "
                         "expected value (largest difference 0.278)")


def test_a_function_that_raises_is_a_failed_case_with_its_line(capsys):
    def broken(a, b):
        return good_rmse(a, b) / 0 if False else 1 / 0

    ok, out = run(checks.rmse, broken, capsys)
    assert ok is False
    assert "raised ZeroDivisionError: division by zero (in broken, line" in out
    assert "got       nothing: it raised ZeroDivisionError" in out


# --- the common slips are named -----------------------------------------------------------------

@pytest.mark.parametrize("fn, words", [
    (lambda r, p, q, lr, reg: good_step(r, p, q, 2 * lr, reg), "your step is exactly twice mflab's"),
    (lambda r, p, q, lr, reg: good_step(r, p, q, lr / 2, reg), "your step is exactly half of mflab's"),
    (lambda r, p, q, lr, reg: (p + lr * (2 * (r - p @ q) * q - reg * p), q + lr * (2 * (r - p @ q) * p - reg * q)),
     "the factor 2 on the error term only"),
    (lambda r, p, q, lr, reg: (p + lr * ((r - p @ q) * q - 2 * reg * p), q + lr * ((r - p @ q) * p - 2 * reg * q)),
     "the factor 2 on the penalty only"),
])
def test_sgd_step_names_each_factor_2_slip_exactly(fn, words, capsys):
    ok, out = run(checks.sgd_step, fn, capsys)
    assert ok is False and words in out
    assert out.count("factor 2") == 1  # one hint, the one that fits every case


def test_sgd_step_names_the_new_p_slip(capsys):
    ok, out = run(checks.sgd_step, new_p_step, capsys)
    assert ok is False and "q_new differs from the expected value" in out
    assert "uses the new p" in out


@pytest.mark.parametrize("fn, words", [
    (lambda r, p, q, lr, reg: good_step(r, p, q, lr, 0.0), "reg = 0"),
    (lambda r, p, q, lr, reg: good_step(r, p, q, -lr, reg), "wrong way"),
])
def test_sgd_step_names_other_slips(fn, words, capsys):
    ok, out = run(checks.sgd_step, fn, capsys)
    assert ok is False and words in out


def test_solve_user_names_a_forgotten_reg(capsys):
    ok, out = run(checks.solve_user, lambda Q, r, reg: np.linalg.lstsq(Q, r, rcond=None)[0], capsys)
    assert ok is False and "plain least squares: add reg * I" in out


@pytest.mark.parametrize("fn", [
    lambda Q, r, reg: np.linalg.solve(Q @ Q.T + reg * np.eye(Q.shape[1]), Q.T @ r),   # raises unless n == k
    lambda Q, r, reg: np.linalg.solve(Q @ Q.T + reg * np.eye(len(r)), r),             # a vector of length n
    lambda Q, r, reg: np.linalg.inv(Q @ Q.T + reg * np.eye(Q.shape[1])) @ Q.T @ r,
])
def test_solve_user_names_q_q_transposed(fn, capsys):
    ok, out = run(checks.solve_user, fn, capsys)
    assert ok is False and "hint:     Q_u Q_u^T: you formed Q_u @ Q_u.T (n x n" in out


def test_the_push_through_form_is_not_taken_for_the_q_q_transposed_slip(capsys):
    """Q_u^T (Q_u Q_u^T + reg I_n)^{-1} r_u equals the ridge solution whenever reg > 0."""
    fn = lambda Q, r, reg: Q.T @ np.linalg.solve(Q @ Q.T + reg * np.eye(len(r)), r)  # noqa: E731
    ok, out = run(checks.solve_user, fn, capsys)
    assert [line.split(": ")[1] for line in out.splitlines() if line.startswith("case ")][:3] == ["ok"] * 3
    assert "Q_u Q_u^T" not in out


def test_solve_user_names_the_stacked_lambda_slip(capsys):
    """Ridge as stacked least squares with reg * I under Q_u (instead of sqrt(reg) * I)."""
    def stacked_wrong(Q, r, reg):
        k = Q.shape[1]
        return np.linalg.lstsq(np.vstack([Q, reg * np.eye(k)]), np.r_[r, np.zeros(k)], rcond=None)[0]

    ok, out = run(checks.solve_user, stacked_wrong, capsys)
    assert ok is False and "sqrt(reg) * I" in out


@pytest.mark.parametrize("fn, words", [
    (lambda a, b: np.mean(np.abs(a - b)), "mean absolute error"),
    (lambda a, b: np.mean((a - b) ** 2), "mean squared error: take its square root"),
    (lambda a, b: np.sqrt(np.sum((a - b) ** 2)), "divide by the number of ratings"),
])
def test_rmse_names_the_metric_computed_instead(fn, words, capsys):
    ok, out = run(checks.rmse, fn, capsys)
    assert ok is False and words in out


# --- the checks cannot be fooled or broken ------------------------------------------------------

def test_the_student_arrays_cannot_corrupt_the_reference():
    def mutating(r, p, q, lr, reg):
        out = good_step(r, p, q, lr, reg)
        p[:] = 99.0
        return out

    assert checks.sgd_step(mutating) is True


def test_scalar_inputs_stay_python_numbers():
    def spy(r, p, q, lr, reg):  # runs in the child: it reports by passing or failing
        if (type(r), type(lr), type(reg)) != (float, float, float):
            raise TypeError(f"got {type(r)}, {type(lr)}, {type(reg)}")
        return good_step(r, p, q, lr, reg)

    assert checks.sgd_step(spy) is True


def test_passing_a_result_instead_of_a_function():
    with pytest.raises(TypeError, match="pass your function itself"):
        checks.rmse(0.5)


def _count_above(x, edge):
    return int(np.sum(np.asarray(x) > edge))


def _count_cases():
    return [(np.array([1.0, 3.0, 5.0, 7.0]), 2.0), (np.array([1.0, 3.0, 5.0, 7.0]), 4.0),
            (np.array([1.0, 3.0, 5.0, 7.0]), 6.0)]


def _compare_count(yours, slips):
    from mflab.checks._compare import compare
    return compare("count_above", _count_cases(), yours, _count_above, params=("x", "edge"),
                   results=("count",), label=lambda x, e: f"edge {e:g}", slips=slips)


def test_a_slip_that_agrees_on_one_case_by_chance_names_nothing(capsys):
    """A small count is easily equal by chance: a slip must match at least half the failing cases."""
    chance = (lambda x, e: 3 if e == 2.0 else 0, "CHANCE SLIP")   # right value on case 1 only
    assert not _compare_count(lambda x, e: 3 if e == 2.0 else 9, [chance])
    assert "CHANCE SLIP" not in capsys.readouterr().out
    below = (lambda x, e: int(np.sum(np.asarray(x) < e)), "COUNTED BELOW SLIP")
    assert not _compare_count(lambda x, e: int(np.sum(np.asarray(x) < e)), [below])
    assert "COUNTED BELOW SLIP" in capsys.readouterr().out


def test_whole_numbers_print_as_whole_numbers():
    from mflab.checks._compare import fmt
    assert fmt(np.array([6, 0, 7])) == "[6, 0, 7] (shape (3,))"
    assert fmt(3) == "3" and fmt(np.int64(2)) == "2" and fmt(2.5) == "2.5"
    assert fmt(np.array([0.5, 1.0])) == "[0.5, 1. ] (shape (2,))"


def test_a_read_only_case_stays_read_only_for_the_student(capsys):
    """A check may hand over arrays as read-only as a fitted model's: writing into one fails there."""
    from mflab.checks._compare import compare
    x = np.arange(4.0)
    x.flags.writeable = False

    def writes(v):
        v += 1
        return v

    assert not compare("plus_one", [(x,)], writes, lambda v: v + 1, params=("v",), results=("w",),
                       label=lambda v: "read-only", slips=())
    assert "read-only" in capsys.readouterr().out
    assert compare("plus_one", [(x,)], lambda v: v + 1, lambda v: v + 1, params=("v",),
                   results=("w",), label=lambda v: "read-only")


def test_indices_that_differ_are_named_by_position_not_by_a_difference():
    from mflab.checks._compare import judge
    what, _ = judge(np.array([3, 1, 7]), np.array([3, 5, 7]), ("top",))
    assert what == "top differs from the expected value (first at position 1: expected 5, got 1)"
    what, _ = judge(np.array([0.5, 1.0]), np.array([0.5, 2.0]), ("x",))
    assert "largest difference 1" in what
