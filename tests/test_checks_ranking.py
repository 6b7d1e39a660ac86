"""checks.ndcg_at_k (lesson 06's exercise): a correct NDCG passes in any reasonable spelling, each
common slip gets its own hint, and a wrong answer that is no known slip still fails."""
import math

import numpy as np
import pytest

from mflab import checks, metrics
from mflab.checks import ranking


def run(fn, capsys):
    ok = checks.ndcg_at_k(fn)
    return ok, capsys.readouterr().out


def ndcg_loop(ranked, relevant, k):  # the way the lesson writes it: positions from 1
    dcg = sum(1 / math.log2(p + 1) for p, item in enumerate(ranked[:k], start=1) if item in relevant)
    ideal = sum(1 / math.log2(p + 1) for p in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal


def ndcg_numpy(ranked, relevant, k):  # vectorised, natural log (the base cancels), positions from 0
    top = np.asarray(ranked)[:k]
    gains = np.isin(top, list(relevant)).astype(float)
    discounts = 1 / np.log(np.arange(len(top)) + 2)
    ideal = (1 / np.log(np.arange(min(k, len(relevant))) + 2)).sum()
    return (gains * discounts).sum() / ideal


@pytest.mark.parametrize("fn", [ndcg_loop, ndcg_numpy, lambda *a: np.float64(ndcg_loop(*a)),
                                lambda *a: np.asarray(ndcg_loop(*a))])
def test_a_correct_ndcg_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True, out
    assert "FAIL" not in out and f"ndcg_at_k: all {len(ranking.CASES)} cases agree" in out


def test_the_cases_are_independent_of_mflab_metrics():
    for ranked, relevant, k in ranking.CASES:
        assert ndcg_loop(ranked, relevant, k) == pytest.approx(metrics.ndcg_at_k(ranked, relevant, k), abs=1e-12)
    assert ndcg_loop(*ranking.CASES[0]) == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(6)) / (1 + 1 / math.log2(3) + 1 / math.log2(4)))


def dcg(ranked, relevant, k, shift=1, start=1):
    return sum(1 / math.log2(p + shift) for p, item in enumerate(ranked[:k], start=start) if item in relevant)


# a student's spelling of each slip (written here, not taken from ranking.SLIPS) -> words of the hint
SLIPPED = [
    (lambda r, rel, k: dcg(r, rel, k), "that is the DCG"),
    (lambda r, rel, k: dcg(r, rel, k) / k, "divided the DCG by k"),
    (lambda r, rel, k: dcg(r, rel, k) / len(rel), "divided the DCG by the number of relevant items"),
    (lambda r, rel, k: dcg(r, rel, k) / sum(1 / math.log2(p + 2) for p in range(len(rel))),
     "counts every relevant item"),
    (lambda r, rel, k: dcg(r, rel, k) / sum(1 / math.log2(p + 2) for p in range(k)),
     "counts k relevant items"),
    (lambda r, rel, k: dcg(r, rel, len(r)) / sum(1 / math.log2(p + 2) for p in range(min(k, len(rel)))),
     "scored the whole list"),
    (lambda r, rel, k: dcg(r, rel, k, shift=2) / sum(1 / math.log2(p + 2) for p in range(1, min(k, len(rel)) + 1)),
     "positions off by one"),
]


@pytest.mark.parametrize("fn, words", SLIPPED, ids=[w for _, w in SLIPPED])
def test_each_slip_gets_its_hint(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False
    hints = [line for line in out.splitlines() if "hint:" in line]
    assert len(hints) == 1 and words in hints[0], out


def test_zero_based_positions_in_python_floats_are_named(capsys):
    def zero_based(ranked, relevant, k):
        dcg_ = sum(1 / math.log2(p + 1) for p, item in enumerate(ranked[:k]) if item in relevant)
        return dcg_ / sum(1 / math.log2(p + 1) for p in range(min(k, len(relevant))))

    ok, out = run(zero_based, capsys)
    assert ok is False and "ZeroDivisionError" in out and "1/log2(1) = 1/0" in out


def test_zero_based_positions_in_numpy_floats_are_named(capsys):
    def zero_based(ranked, relevant, k):
        top = np.asarray(ranked)[:k]
        with np.errstate(divide="ignore", invalid="ignore"):
            discounts = 1 / np.log2(np.arange(len(top)) + 1.0)
            ideal = (1 / np.log2(np.arange(min(k, len(relevant))) + 1.0)).sum()
            return float(np.sum(np.where(np.isin(top, list(relevant)), discounts, 0.0)) / ideal)

    ok, out = run(zero_based, capsys)
    assert ok is False
    assert "hint:" in out and "1/log2(1) = 1/0" in out.split("hint:")[1]


def test_a_nan_from_elsewhere_is_reported_not_passed(capsys):
    ok, out = run(lambda r, rel, k: float("nan"), capsys)
    assert ok is False and "FloatingPointError" in out and "nan" in out


def test_a_wrong_answer_with_no_known_slip_fails_without_a_hint(capsys):
    ok, out = run(lambda r, rel, k: 0.5, capsys)
    assert ok is False and "hint:" not in out and "case 1 is the first to fail" in out


def test_returning_nothing_and_passing_a_result_are_told_apart(capsys):
    ok, out = run(lambda r, rel, k: None, capsys)
    assert ok is False and "returned None" in out
    with pytest.raises(TypeError, match="pass your function itself"):
        checks.ndcg_at_k(0.5)


def test_the_students_inputs_cannot_change_the_cases(capsys):
    def vandal(ranked, relevant, k):
        ranked[:] = 0
        relevant.clear()
        return ndcg_loop(ranked, {0}, k)

    run(vandal, capsys)
    assert run(ndcg_loop, capsys)[0] is True
    assert ranking.CASES[0][1] == {3, 4, 8} and list(ranking.CASES[0][0]) == [7, 3, 9, 1, 4]
