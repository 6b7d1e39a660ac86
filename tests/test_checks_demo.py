"""checks.top_n (lesson 13's exercise): a correct function passes, each named slip gets its hint, a
wrong answer fails; the reference agrees with a ranking written out and with mflab.demo.recommend."""
import numpy as np
import pytest

from mflab import Ratings, checks, demo
from mflab.checks import demo as demo_check


def written_out(item_bias, Q, p_u, rated, n):  # score every unrated item, sort, cut: no mflab
    scores = {i: item_bias[i] + Q[i] @ p_u for i in range(len(item_bias)) if i not in set(rated)}
    return np.array(sorted(scores, key=lambda i: -scores[i])[:n])


def run(fn, capsys):
    ok = checks.top_n(fn)
    return ok, capsys.readouterr().out


def masked(item_bias, Q, p_u, rated, n):
    scores = item_bias + Q @ p_u
    scores[rated] = -np.inf
    return np.argsort(-scores)[:n]


@pytest.mark.parametrize("fn", [written_out, masked, lambda *a: written_out(*a).tolist()])
def test_a_correct_function_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True and "top_n: all 4 cases agree" in out


@pytest.mark.parametrize("slip, hint", demo_check.SLIPS)
def test_each_slip_gets_its_hint(slip, hint, capsys):
    ok, out = run(slip, capsys)
    assert ok is False
    assert f"hint:     {hint}" in out


@pytest.mark.parametrize("fn, words", [
    (lambda *a: written_out(*a)[::-1], "differs"),
    (lambda b, Q, p, rated, n: written_out(b, Q, p, rated, n + 1), "shape"),
    (lambda *a: None, "returned None"),
])
def test_other_wrong_answers_fail(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False and words in out


def test_the_reference_is_the_demos_ranking():
    """On a small catalogue where every movie qualifies, the reference ranks as demo.recommend does
    (mu and b_u, left out of the check, do not change the order)."""
    rng = np.random.default_rng(3)
    R = np.clip(3 + rng.normal(size=(30, 2)) @ rng.normal(size=(2, 15)), 1, 5)
    cat = demo.build(Ratings.from_dense(R), [f"m{i}" for i in range(15)], k=2, reg=0.5, reg_bias=0.5,
                     epochs=10, seed=0, min_ratings=1, n_labels=3)
    rated = {1: 5, 4: 2, 9: 4}
    p_u, _ = demo.fold_in(cat, rated, reg=1.0, reg_bias=1.0)
    ours = demo_check._reference(cat.model.item_bias, cat.model.Q, p_u, list(rated), 6)
    assert ours.tolist() == demo.recommend(cat, rated, 6, reg=1.0, reg_bias=1.0)["item"].tolist()
    assert ours.tolist() == written_out(cat.model.item_bias, cat.model.Q, p_u, list(rated), 6).tolist()


def test_deleting_the_rated_scores_is_named(capsys):
    """np.delete shortens the scores, so argsort returns positions, not item indices."""
    def deleted(item_bias, Q, p_u, rated, n):
        scores = np.delete(item_bias + Q @ p_u, rated)
        return np.argsort(-scores)[:n]

    ok, out = run(deleted, capsys)
    assert ok is False and "you deleted the rated items from the scores" in out


def test_writing_into_the_model_arrays_fails_as_on_the_model(capsys):
    """item_bias and Q are read-only in the hidden cases, as a fitted model's are: a function that adds
    into item_bias in place fails here, not later on the fan of lesson 13."""
    def in_place(item_bias, Q, p_u, rated, n):
        scores = item_bias
        scores += Q @ p_u
        scores[rated] = -np.inf
        return np.argsort(-scores)[:n]

    ok, out = run(in_place, capsys)
    assert ok is False and "read-only" in out
