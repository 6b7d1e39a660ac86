"""checks.observed_rmse (lesson 01's exercise): a correct function passes, each named slip gets its
hint, a wrong answer fails; the reference agrees with the RMSE written out over the observed cells."""
import numpy as np
import pytest

from mflab import checks
from mflab.checks import observed


def written_out(R, P, Q):  # a loop over the cells, independent of mflab
    total, count = 0.0, 0
    for u in range(R.shape[0]):
        for i in range(R.shape[1]):
            if not np.isnan(R[u, i]):
                total += (R[u, i] - P[u] @ Q[i]) ** 2
                count += 1
    return (total / count) ** 0.5


def run(fn, capsys):
    ok = checks.observed_rmse(fn)
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("fn", [
    written_out,
    lambda R, P, Q: float(np.sqrt(np.nanmean((R - P @ Q.T) ** 2))),
    lambda R, P, Q: np.sqrt(np.mean((R - P @ Q.T)[~np.isnan(R)] ** 2)),  # a numpy float is a number too
])
def test_a_correct_function_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True and "observed_rmse: all 4 cases agree" in out


@pytest.mark.parametrize("slip, hint", observed.SLIPS)
def test_each_slip_gets_its_hint(slip, hint, capsys):
    ok, out = run(slip, capsys)
    assert ok is False
    assert f"hint:     {hint}" in out


@pytest.mark.parametrize("fn, words", [
    (lambda R, P, Q: float(np.sqrt(np.nansum((R - P @ Q.T) ** 2))), "differs"),  # root of the sum, spelled otherwise
    (lambda R, P, Q: written_out(R, P, Q) + 0.01, "differs"),
    (lambda R, P, Q: np.array([written_out(R, P, Q)]), "shape (1,)"),
    (lambda R, P, Q: None, "returned None"),
])
def test_other_wrong_answers_fail(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False and words in out


def test_the_nan_mean_is_named_not_just_refused(capsys):
    """The commonest first try returns nan; the check names it (a slip with nan at the same place)."""
    ok, out = run(lambda R, P, Q: np.sqrt(np.mean((R - P @ Q.T) ** 2)), capsys)
    assert ok is False and "holds NaN" in out and "hint:     the mean ran over the empty (nan) cells" in out
    ok, out = run(lambda R, P, Q: float("nan"), capsys)  # a nan from elsewhere: same hint, still a fail
    assert ok is False


def test_the_reference_is_the_rmse_over_observed_cells():
    rng = np.random.default_rng(4)
    R = rng.integers(1, 6, (6, 5)).astype(float)
    R[rng.random(R.shape) < 0.4] = np.nan
    P, Q = rng.normal(size=(6, 2)), rng.normal(size=(5, 2))
    assert observed._reference(R, P, Q) == pytest.approx(written_out(R, P, Q), abs=1e-12)
    # the toy matrix of lesson 01 with its untrained start: the MSE printed there is 10.6240
    import mflab
    start = np.random.RandomState(42)
    P0, Q0 = 0.1 * start.randn(5, 2), 0.1 * start.randn(4, 2)
    assert round(observed._reference(mflab.datasets.toy_matrix(), P0, Q0) ** 2, 4) == 10.6240
