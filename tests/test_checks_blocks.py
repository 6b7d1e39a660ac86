"""checks.items_shipped (lesson 12's exercise): a correct count of the item factors blocked ALS
ships passes in any reasonable spelling, each common slip gets its own hint, and a wrong answer
that is no known slip still fails."""
import numpy as np
import pytest

from mflab import Ratings, checks
from mflab import spark as mspark
from mflab.checks import blocks


def run(fn, capsys):
    ok = checks.items_shipped(fn)
    return ok, capsys.readouterr().out


def shipped_loop(user, item, n_user_blocks, n_item_blocks):  # the lesson's solution
    shipped = np.zeros((n_user_blocks, n_item_blocks), dtype=int)
    for b, i in set(zip(user % n_user_blocks, item)):
        shipped[b, i % n_item_blocks] += 1
    return shipped


def shipped_brute(user, item, B, C):  # one cell at a time
    return np.array([[len({i for u, i in zip(user, item) if u % B == b and i % C == c}) for c in range(C)]
                     for b in range(B)])


@pytest.mark.parametrize("fn", [shipped_loop, shipped_brute,
                                lambda *a: shipped_loop(*a).astype(float)])
def test_a_correct_count_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True, out
    assert "FAIL" not in out and f"items_shipped: all {len(blocks.CASES)} cases agree" in out


def test_the_cases_agree_with_spark_block_traffic():
    for user, item, B, C in blocks.CASES:
        r = Ratings(user, item, np.ones(len(user)), int(user.max()) + 1, int(item.max()) + 1)
        np.testing.assert_array_equal(mspark.block_traffic(r, B, C)["items_shipped"], shipped_brute(user, item, B, C))
        assert len(set(zip(user.tolist(), item.tolist()))) == len(user)  # no repeated rating


# a student's spelling of each slip (written here, not taken from blocks.SLIPS) -> words of its hint
def per_rating(user, item, B, C):
    out = np.zeros((B, C))
    for u, i in zip(user, item):
        out[u % B, i % C] += 1
    return out


def once_in_all(user, item, B, C):
    out = np.zeros((B, C))
    for i in set(item.tolist()):
        out[:, i % C] += 1
    return out


def user_factors(user, item, B, C):
    out = np.zeros((B, C))
    for u, c in set(zip(user.tolist(), (item % C).tolist())):
        out[u % B, c] += 1
    return out


def transposed(user, item, B, C):
    out = np.zeros((C, B))
    for b, i in set(zip(user % B, item)):
        out[i % C, b] += 1
    return out


def ranges(user, item, B, C):
    out = np.zeros((B, C))
    for b, i in set(zip(user // B, item)):
        out[b, i // C] += 1  # raises IndexError where an id // n_blocks is past the last block
    return out


@pytest.mark.parametrize("fn, words", [
    (per_rating, "you counted ratings"),
    (once_in_all, "each item once in all"),
    (user_factors, "you counted user factors"),
    (transposed, "the table is transposed"),
    (ranges, "ranges of ids"),
])
def test_each_slip_gets_its_own_hint(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False
    hints = [line for line in out.splitlines() if line.strip().startswith("hint:")]
    assert len(hints) == 1 and words in hints[0], out


def test_each_slip_differs_from_the_answer_on_some_case():
    for slip, _ in blocks.SLIPS:
        differs = []
        for args in blocks.CASES:
            try:
                got = np.asarray(slip(*args))
            except IndexError:
                differs.append(True)
                continue
            want = blocks._reference(*args)
            differs.append(got.shape != want.shape or not np.array_equal(got, want))
        assert any(differs), slip.__name__


def test_a_wrong_answer_that_is_no_known_slip_fails_without_a_hint(capsys):
    ok, out = run(lambda user, item, B, C: shipped_loop(user, item, B, C) + 1, capsys)
    assert ok is False and "hint:" not in out and "differs from the expected value" in out
