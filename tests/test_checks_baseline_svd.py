"""Lesson 04's checks: checks.baseline_biases and checks.svd_predict pass a correct function written
independently of mflab (bincount means; numpy's SVD of a hand-built residual), name each slip
with its own hint, and fail a wrong answer that is no known slip."""
import numpy as np
import pytest

from mflab import checks
from mflab.checks import baseline_svd


def good_biases(user, item, value, n_users, n_items):
    mu = value.mean()
    b_u = np.zeros(n_users)
    for u in range(n_users):  # the slow, obvious version
        rated = user == u
        if rated.any():
            b_u[u] = np.mean(value[rated] - mu)
    b_i = np.zeros(n_items)
    for i in range(n_items):
        rated = item == i
        if rated.any():
            b_i[i] = np.mean(value[rated] - mu - b_u[user[rated]])
    return mu, b_u, b_i


def good_predict(R, k):
    mu = np.nanmean(R)
    b_u = np.nanmean(R - mu, axis=1)
    b_i = np.nanmean(R - mu - b_u[:, None], axis=0)
    base = mu + b_u[:, None] + b_i[None, :]
    U, s, Vt = np.linalg.svd(np.where(np.isnan(R), 0.0, R - base), full_matrices=False)
    return base + U[:, :k] @ np.diag(s[:k]) @ Vt[:k]


def run(check, fn, capsys):
    ok = check(fn)
    return ok, capsys.readouterr().out


def test_the_checks_are_exported():
    assert checks.baseline_biases is baseline_svd.baseline_biases
    assert checks.svd_predict is baseline_svd.svd_predict


@pytest.mark.parametrize("fn", [good_biases, lambda *a: list(good_biases(*a)),
                                lambda *a: tuple(np.asarray(x).tolist() for x in good_biases(*a))])
def test_a_correct_baseline_passes(fn, capsys):
    ok, out = run(checks.baseline_biases, fn, capsys)
    assert ok is True and "FAIL" not in out and "baseline_biases: all 4 cases agree" in out
    assert "some without ratings" in out  # a case where bias 0 for an empty user or item is tested


def test_a_correct_svd_prediction_passes(capsys):
    ok, out = run(checks.svd_predict, good_predict, capsys)
    assert ok is True and "svd_predict: all 4 cases agree" in out


@pytest.mark.parametrize("slip, hint", baseline_svd.BIAS_SLIPS)
def test_each_baseline_slip_gets_its_hint(slip, hint, capsys):
    ok, out = run(checks.baseline_biases, slip, capsys)
    assert ok is False and f"hint:     {hint}" in out


@pytest.mark.parametrize("slip, hint", baseline_svd.SVD_SLIPS)
def test_each_svd_slip_gets_its_hint(slip, hint, capsys):
    ok, out = run(checks.svd_predict, slip, capsys)
    assert ok is False and f"hint:     {hint}" in out


def test_the_slips_are_distinct_wrong_answers():
    """Every slip differs from the reference and from every other slip on the cases, so a hint
    can only name the slip that was made."""
    for slips, cases, reference in (
            (baseline_svd.BIAS_SLIPS, baseline_svd._rating_cases(np.random.default_rng(4)),
             baseline_svd._biases_reference),
            (baseline_svd.SVD_SLIPS, baseline_svd._matrix_cases(np.random.default_rng(5)),
             baseline_svd._predict_reference)):
        def outcome(fn):
            got = []
            for args in cases:
                try:
                    x = fn(*args)
                except ValueError:  # a slip that cannot run on this case's shapes
                    got.append(None)
                    continue
                got.append(np.concatenate([np.ravel(v) for v in x]) if isinstance(x, tuple) else np.ravel(x))
            return got

        answers = [outcome(reference)] + [outcome(slip) for slip, _ in slips]
        for a in range(len(answers)):
            for b in range(a + 1, len(answers)):
                assert any(x is None or y is None or x.shape != y.shape or not np.allclose(x, y)
                           for x, y in zip(answers[a], answers[b])), (a, b)


def test_the_nan_of_an_empty_user_is_reported(capsys):
    def nan_means(user, item, value, n_users, n_items):  # 0/0 for the user without ratings
        mu = value.mean()
        b_u = np.bincount(user, value - mu, minlength=n_users) / np.bincount(user, minlength=n_users)
        b_i = np.bincount(item, value - mu - b_u[user], minlength=n_items) / np.bincount(item, minlength=n_items)
        return mu, b_u, b_i

    with np.errstate(invalid="ignore", divide="ignore"):
        ok, out = run(checks.baseline_biases, nan_means, capsys)
    assert ok is False and "b_user holds NaN or infinity; expected finite numbers" in out


def test_a_wrong_answer_that_is_no_slip_fails_without_a_hint(capsys):
    ok, out = run(checks.svd_predict, lambda R, k: good_predict(R, k) + 0.01, capsys)
    assert ok is False and "hint:" not in out and "R_hat differs from the expected value" in out
    ok, out = run(checks.baseline_biases, lambda *a: (0.0,) + tuple(good_biases(*a)[1:]), capsys)
    assert ok is False and "mu differs from the expected value" in out


def test_a_shape_slip_is_named_with_both_shapes(capsys):
    ok, out = run(checks.svd_predict, lambda R, k: good_predict(R, k).ravel(), capsys)
    assert ok is False and "R_hat is an array of shape" in out and "expected an array of shape" in out
