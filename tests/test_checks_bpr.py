"""checks.bpr_step (lesson 11's exercise): a correct BPR step passes in any reasonable spelling,
each common slip gets its own hint, and a wrong answer that is no known slip still fails."""
import math

import numpy as np
import pytest

from mflab import checks, implicit
from mflab.checks import bpr as bpr_check


def run(fn, capsys):
    ok = checks.bpr_step(fn)
    return ok, capsys.readouterr().out


def step_loop(p, qi, qj, lr, reg):  # written from the update rules, independent of mflab's code
    delta = sum(p[f] * (qi[f] - qj[f]) for f in range(len(p)))
    z = 1.0 / (1.0 + math.exp(delta))  # sigmoid(-delta)
    p_new = [p[f] + lr * (z * (qi[f] - qj[f]) - reg * p[f]) for f in range(len(p))]
    qi_new = [qi[f] + lr * (z * p[f] - reg * qi[f]) for f in range(len(p))]
    qj_new = [qj[f] + lr * (-z * p[f] - reg * qj[f]) for f in range(len(p))]
    return np.array(p_new), np.array(qi_new), np.array(qj_new)


def step_numpy(p, qi, qj, lr, reg):
    z = implicit.bpr.sigmoid(-(p @ qi - p @ qj))
    return p + lr * (z * (qi - qj) - reg * p), qi + lr * (z * p - reg * qi), qj - lr * (z * p + reg * qj)


@pytest.mark.parametrize("fn", [step_loop, step_numpy, lambda *a: list(step_numpy(*a))])
def test_a_correct_step_passes(fn, capsys):
    ok, out = run(fn, capsys)
    assert ok is True, out
    assert "FAIL" not in out and "bpr_step: all 4 cases agree" in out


def test_the_reference_is_the_update_rule_and_mflabs_epoch():
    rng = np.random.default_rng(0)
    for k in (1, 3, 6):
        p, qi, qj = (rng.normal(size=k) for _ in range(3))
        for got, want in zip(bpr_check._reference(p, qi, qj, 0.1, 0.03), step_loop(p, qi, qj, 0.1, 0.03)):
            assert np.allclose(got, want, rtol=0, atol=1e-14)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def spelled(z=lambda d: sig(-d), sign_j=-1.0, reg_on=1.0, new_p=False, p_grad=lambda z, qi, qj: z * (qi - qj)):
    """A student's spelling of a step with one mistake (written here, not taken from bpr_check.SLIPS)."""
    def step(p, qi, qj, lr, reg):
        zz = z(p @ (qi - qj))
        p_new = p + lr * (p_grad(zz, qi, qj) - reg_on * reg * p)
        pp = p_new if new_p else p
        return p_new, qi + lr * (zz * pp - reg_on * reg * qi), qj + lr * (sign_j * zz * pp - reg_on * reg * qj)
    return step


SLIPPED = [
    (spelled(sign_j=1.0), "opposite sign"),
    (spelled(z=sig), "z = sigmoid(Delta)"),
    (spelled(z=lambda d: sig(d) * (1 - sig(d))), "derivative of sigmoid itself"),
    (spelled(reg_on=0.0), "reg = 0"),
    (spelled(new_p=True), "new p_u"),
    (spelled(p_grad=lambda z, qi, qj: z * qi), "q_i alone"),
    (lambda p, qi, qj, lr, reg: step_loop(p, qi, qj, -lr, reg), "wrong way"),
    (spelled(reg_on=0.5), "halved"),
    (spelled(reg_on=2.0), "doubled"),
    (spelled(reg_on=-1.0), "wrong sign"),
]


@pytest.mark.parametrize("fn, words", SLIPPED, ids=[w for _, w in SLIPPED])
def test_each_slip_gets_its_hint(fn, words, capsys):
    ok, out = run(fn, capsys)
    assert ok is False
    assert "hint:" in out and words in out, out


def test_a_wrong_answer_that_is_no_known_slip_fails_without_a_false_hint(capsys):
    ok, out = run(lambda p, qi, qj, lr, reg: tuple(a * 1.01 for a in step_loop(p, qi, qj, lr, reg)), capsys)
    assert ok is False and "FAIL" in out
    assert not any(hint in out for _, hint in bpr_check.SLIPS)


def test_every_case_tells_the_slips_apart(monkeypatch):
    """Each case is far from Delta = 0, and no two slips (nor a slip and the answer) agree on it."""
    captured = []
    monkeypatch.setattr(bpr_check, "compare", lambda name, cases, *a, **kw: captured.extend(cases) or True)
    checks.bpr_step(step_numpy)
    assert len(captured) == 4
    for case in captured:
        p, qi, qj = case[:3]
        assert abs(p @ (qi - qj)) > 0.3
        answers = [bpr_check._reference(*case)] + [slip(*case) for slip, _ in bpr_check.SLIPS]
        for a in range(len(answers)):
            for b in range(a):
                assert max(np.abs(x - y).max() for x, y in zip(answers[a], answers[b])) > 1e-6, (a, b)
