"""checks.posterior_draw (lesson 09's exercise 1): a correct draw passes in either of its two
written forms, each common slip gets its own hint, and a wrong answer that is no known slip fails
without one. The reference is held against the formula written out independently."""
import numpy as np
import pytest

from mflab import checks
from mflab.checks import bayes as check_bayes


def good(Z, y, m, Lam, beta, eps):  # mean + L^-T eps, written with explicit inverses
    A = Lam + beta * Z.T @ Z
    L = np.linalg.cholesky(A)
    return np.linalg.inv(A) @ (beta * Z.T @ y + Lam @ m) + np.linalg.inv(L).T @ eps


def jittered_rhs(Z, y, m, Lam, beta, eps):  # gibbs.sample_user's form: A^-1 (b + L eps)
    A = Lam + beta * Z.T @ Z
    return np.linalg.solve(A, beta * Z.T @ y + Lam @ m + np.linalg.cholesky(A) @ eps)


def run(fn, capsys):
    ok = checks.posterior_draw(fn)
    return ok, capsys.readouterr().out


def test_the_reference_is_the_posterior_draw_written_out():
    for args in check_bayes.cases():
        np.testing.assert_allclose(check_bayes._reference(*args), good(*args), rtol=1e-10, atol=1e-12)


def test_the_draw_has_the_posterior_mean_and_covariance():
    """The draw is linear in eps, x = mean + M eps: with eps = 0 it is the mean A^-1 b, and the
    columns M e_j give its covariance M M^T, which must be A^-1 (exactly, no sampling)."""
    for Z, y, m, Lam, beta, _ in check_bayes.cases():
        A = Lam + beta * Z.T @ Z
        mean = check_bayes._reference(Z, y, m, Lam, beta, np.zeros(len(m)))
        np.testing.assert_allclose(mean, np.linalg.solve(A, beta * Z.T @ y + Lam @ m), rtol=1e-10, atol=1e-12)
        M = np.column_stack([check_bayes._reference(Z, y, m, Lam, beta, e) - mean for e in np.eye(len(m))])
        np.testing.assert_allclose(M @ M.T, np.linalg.inv(A), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fn", [good, jittered_rhs, lambda *a: good(*a).tolist()])
def test_a_correct_draw_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True and "posterior_draw: all 4 cases agree" in out and "FAIL" not in out


def mean_only(Z, y, m, Lam, beta, eps):
    return np.linalg.solve(Lam + beta * Z.T @ Z, beta * Z.T @ y + Lam @ m)


def lower(Z, y, m, Lam, beta, eps):
    A = Lam + beta * Z.T @ Z
    return mean_only(Z, y, m, Lam, beta, eps) + np.linalg.solve(np.linalg.cholesky(A), eps)


def lower_in_rhs(Z, y, m, Lam, beta, eps):
    A = Lam + beta * Z.T @ Z
    return np.linalg.solve(A, beta * Z.T @ y + Lam @ m + np.linalg.cholesky(A).T @ eps)


def covariance(Z, y, m, Lam, beta, eps):
    return mean_only(Z, y, m, Lam, beta, eps) + np.linalg.cholesky(Lam + beta * Z.T @ Z) @ eps


def other_root(Z, y, m, Lam, beta, eps):
    C = np.linalg.inv(Lam + beta * Z.T @ Z)
    return mean_only(Z, y, m, Lam, beta, eps) + np.linalg.cholesky(C) @ eps


def no_prior(Z, y, m, Lam, beta, eps):
    A = beta * Z.T @ Z
    return np.linalg.solve(A, beta * Z.T @ y) + np.linalg.solve(np.linalg.cholesky(A).T, eps)


def no_prior_mean(Z, y, m, Lam, beta, eps):
    A = Lam + beta * Z.T @ Z
    return np.linalg.solve(A, beta * Z.T @ y) + np.linalg.solve(np.linalg.cholesky(A).T, eps)


def no_beta(Z, y, m, Lam, beta, eps):
    return good(Z, y, m, Lam, 1.0, eps)


def beta_on_prior_term(Z, y, m, Lam, beta, eps):  # beta factored out of both terms of b
    A = Lam + beta * Z.T @ Z
    return np.linalg.solve(A, beta * (Z.T @ y + Lam @ m)) + np.linalg.solve(np.linalg.cholesky(A).T, eps)


def no_beta_in_b(Z, y, m, Lam, beta, eps):
    A = Lam + beta * Z.T @ Z
    return np.linalg.solve(A, Z.T @ y + Lam @ m) + np.linalg.solve(np.linalg.cholesky(A).T, eps)


def no_beta_in_A(Z, y, m, Lam, beta, eps):
    A = Lam + Z.T @ Z
    return np.linalg.solve(A, beta * Z.T @ y + Lam @ m) + np.linalg.solve(np.linalg.cholesky(A).T, eps)


def als_form(Z, y, m, Lam, beta, eps):
    A = Z.T @ Z + Lam / beta
    return np.linalg.solve(A, Z.T @ y + Lam @ m / beta) + np.linalg.solve(np.linalg.cholesky(A).T, eps)


def jitter_only(Z, y, m, Lam, beta, eps):
    return np.linalg.solve(np.linalg.cholesky(Lam + beta * Z.T @ Z).T, eps)


def outer(Z, y, m, Lam, beta, eps):
    A = Lam + beta * Z @ Z.T
    return np.linalg.solve(A, beta * Z.T @ y + Lam @ m) + np.linalg.solve(np.linalg.cholesky(A).T, eps)


@pytest.mark.parametrize("fn, words", [
    (mean_only, "that is the posterior mean A^-1 b only"),
    (lower, "L in place of L^T"),
    (lower_in_rhs, "L in place of L^T"),
    (covariance, "the covariance in place of the precision"),
    (other_root, "another square root"),
    (no_prior, "the prior is missing"),
    (no_prior_mean, "the prior mean's term is missing"),
    (no_beta, "beta is missing: the ratings' terms"),
    (beta_on_prior_term, "beta multiplies the prior's term too"),
    (no_beta_in_b, "beta is missing from the right-hand side"),
    (no_beta_in_A, "beta is missing from A"),
    (als_form, "the mean is right but the jitter is sqrt(beta) times"),
    (jitter_only, "that is the jitter L^-T eps alone"),
    (outer, "Z_u Z_u^T: you formed Z_u @ Z_u.T"),
])
def test_each_slip_gets_its_hint(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False
    hints = [line for line in out.splitlines() if line.startswith("  hint:")]
    assert len(hints) == 1 and words in hints[0], out


def test_forgetting_the_prior_precision_alone_is_named(capsys):
    def no_prior_precision(Z, y, m, Lam, beta, eps):
        A = beta * Z.T @ Z
        return np.linalg.solve(A, beta * Z.T @ y + Lam @ m) + np.linalg.solve(np.linalg.cholesky(A).T, eps)

    ok, out = run(no_prior_precision, capsys)
    assert ok is False and "Lambda_P is missing from A" in out


def test_a_wrong_answer_that_is_no_known_slip_fails_without_a_hint(capsys):
    ok, out = run(lambda Z, y, m, Lam, beta, eps: good(Z, y, m, Lam, beta, eps) + 0.01, capsys)
    assert ok is False and "hint:" not in out and "x_u differs from the expected value" in out


def test_a_row_is_not_a_vector(capsys):
    ok, out = run(lambda *a: good(*a)[None, :], capsys)
    assert ok is False and "x_u is an array of shape (1, 2); expected an array of shape (2,)" in out
