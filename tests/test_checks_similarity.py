"""checks.most_similar (lesson 07's exercise): a correct function passes, each named slip gets its
hint, a wrong answer fails; the reference agrees with recommend.similar_items."""
import numpy as np
import pytest

from mflab import checks, recommend
from mflab.checks import similarity
from mflab.factorization import Factorization


def cosine_top(Q, v, n):  # written out, independent of mflab
    sims = (Q @ v) / (np.sqrt((Q ** 2).sum(axis=1)) * np.sqrt(v @ v))
    return np.argsort(-sims)[:n]


def run(fn, capsys):
    ok = checks.most_similar(fn)
    return ok, capsys.readouterr().out


@pytest.mark.parametrize("fn", [cosine_top, lambda Q, v, n: cosine_top(Q, v, n).tolist(),
                                lambda Q, v, n: np.argsort(-recommend.cosine_similarity(np.vstack([v, Q]))[0, 1:])[:n]])
def test_a_correct_function_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True and "most_similar: all 4 cases agree" in out


@pytest.mark.parametrize("slip, hint", similarity.SLIPS)
def test_each_slip_gets_its_hint(slip, hint, capsys):
    ok, out = run(slip, capsys)
    assert ok is False
    assert f"hint:     {hint}" in out


@pytest.mark.parametrize("fn, words", [
    (lambda Q, v, n: np.argsort(-(Q / np.linalg.norm(v)) @ v)[:n], "the dot product"),  # |v| alone
    (lambda Q, v, n: np.argsort(-(Q @ v) / np.linalg.norm(Q, axis=1))[:n][::-1], "the right n rows in the wrong order"),  # reversed top
    (lambda Q, v, n: cosine_top(Q, v, n + 1), "shape (6,)"),
    (lambda Q, v, n: None, "returned None"),
])
def test_other_wrong_answers_fail(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False and words in out


def test_the_reference_is_similar_items_with_the_item_itself_first():
    rng = np.random.default_rng(3)
    Q = rng.normal(size=(15, 3))
    model = Factorization(np.zeros((1, 3)), Q, 0.0, np.zeros(1), np.zeros(15))
    for item in (0, 6, 14):
        ours = similarity._reference(Q, Q[item], 5)
        assert ours[0] == item
        assert ours[1:].tolist() == recommend.similar_items(model, item, 4)["item"].tolist()
        assert ours.tolist() == cosine_top(Q, Q[item], 5).tolist()
