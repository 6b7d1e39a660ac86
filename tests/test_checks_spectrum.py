"""checks.above_noise (lesson 03's exercise): a correct function passes, each named slip gets its
hint, a wrong answer fails; the reference counts what a plain loop over the SVD counts."""
import numpy as np
import pytest

from mflab import checks
from mflab.checks import spectrum


def by_eigenvalues(R, s):  # the singular values as square roots of R^T R's eigenvalues
    m, n = R.shape
    values = np.sqrt(np.clip(np.linalg.eigvalsh(R.T @ R), 0, None))
    return int(sum(v > s * (m ** 0.5 + n ** 0.5) for v in values))


def run(fn, capsys):
    ok = checks.above_noise(fn)
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("fn", [
    by_eigenvalues,
    lambda R, s: (np.linalg.svd(R, compute_uv=False) > s * (np.sqrt(R.shape[0]) + np.sqrt(R.shape[1]))).sum(),
    lambda R, s: float(by_eigenvalues(R, s)),
])
def test_a_correct_function_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True and "above_noise: all 4 cases agree" in out


@pytest.mark.parametrize("slip, hint", spectrum.SLIPS)
def test_each_slip_gets_its_hint(slip, hint, capsys):
    ok, out = run(slip, capsys)
    assert ok is False
    assert f"hint:     {hint}" in out


@pytest.mark.parametrize("fn, words", [
    (lambda R, s: by_eigenvalues(R, s) + 1, "differs"),
    (lambda R, s: [by_eigenvalues(R, s)], "shape (1,)"),
    (lambda R, s: "3", "is a str"),
])
def test_other_wrong_answers_fail(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False and words in out


def test_the_reference_counts_the_signal_of_a_clear_case():
    """Three strong directions in weak noise: three values above the edge, none of the noise's."""
    rng = np.random.default_rng(0)
    U, V = np.linalg.qr(rng.normal(size=(50, 3)))[0], np.linalg.qr(rng.normal(size=(30, 3)))[0]
    noise = rng.normal(0, 0.1, (50, 30))
    assert spectrum._reference((U * [40, 20, 10]) @ V.T + noise, 0.1) == 3
    assert spectrum._reference(noise, 0.1) == 0 and by_eigenvalues(noise, 0.1) == 0


@pytest.mark.parametrize("fn", [
    lambda R, s: np.linalg.matrix_rank(R),
    lambda R, s: len(np.linalg.svd(R, compute_uv=False) > s * (np.sqrt(R.shape[0]) + np.sqrt(R.shape[1]))),
])
def test_counting_every_value_is_named(fn, capsys):
    """The rank of a noisy matrix, or len() of the comparison, counts every singular value."""
    ok, out = run(fn, capsys)
    assert ok is False and "you counted every singular value" in out
