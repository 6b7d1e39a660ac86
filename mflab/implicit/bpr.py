"""Bayesian personalised ranking (Rendle et al., UAI 2009): learn to rank a user's items above the
items they did not touch.

Scores are ``x_ui = b_i + p_u . q_i`` (``p_u`` row u of ``P``, ``q_i`` row i of ``Q``, ``b_i`` an
item bias). For a triple (u, i, j), with i an item u interacted with and j one they did not,

    x_uij = x_ui - x_uj = p_u . (q_i - q_j) + b_i - b_j

and ``sigmoid(x_uij)`` (:func:`sigmoid`) models the probability that u prefers i to j. SGD climbs,
one sampled triple at a time,

    ln sigmoid(x_uij) - reg/2 (|p_u|^2 + |q_i|^2 + |q_j|^2 + b_i^2 + b_j^2)

so the penalty is charged once per sampled triple (``params["reg_scaling"] == "sample"``). The
gradient of ``ln sigmoid(x)`` is ``1 - sigmoid(x) = sigmoid(-x)``; :func:`epoch` is the loop, plain
Python that numba compiles. The negative j is drawn uniformly from the catalogue (Rendle's choice)
or, as the ``implicit`` library does, in proportion to popularity (``negatives="popularity"``): a
different model, not a detail.
"""
from __future__ import annotations

import numpy as np

from .. import _checks
from .._numba import njit
from .._progress import Progress
from ..factorization import Factorization
from ..sgd import DivergenceError
from . import _input

# Beyond this |x_uij| the step sizes have run away: sigmoid(1e6) is 1 to every digit a float has.
X_LIMIT = 1e6


def sigmoid(x):
    """The logistic function ``sigmoid(x) = 1 / (1 + e^-x)``: a score difference as a probability in
    (0, 1); ``sigmoid(0) = 1/2``, ``sigmoid(-x) = 1 - sigmoid(x)``."""
    with np.errstate(over="ignore"):  # e^-x is inf below x = -709: sigmoid is then 0, as it should be
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def epoch(users, positives, negatives, indptr, items_sorted, P, Q, b, lr, reg):
    """One SGD pass over the sampled triples ``(users[t], positives[t], negatives[t])``.

    A triple whose j the user did touch is skipped (``items_sorted[indptr[u]:indptr[u + 1]]``: u's
    items, ascending). Per triple: ``x = p_u . (q_i - q_j) + b_i - b_j``, ``z = sigmoid(-x)`` (the
    gradient of ``ln sigmoid(x)``), then every parameter steps up its gradient (old values on the
    right). Updates ``P``, ``Q``, ``b`` in place. Returns ``(used, loss, stopped)``: the triples
    used, the sum of ``-ln sigmoid(x)`` over them (before each step), and ``-1``, or the position
    of a triple whose ``|x|`` passed :data:`X_LIMIT` (diverging: the pass stops there).
    """
    k = P.shape[1]
    used, loss = 0, 0.0
    for t in range(len(users)):
        u, i, j = users[t], positives[t], negatives[t]
        lo, hi = indptr[u], indptr[u + 1]  # is j among u's items? (sorted: binary search)
        at = lo + np.searchsorted(items_sorted[lo:hi], j)
        if at < hi and items_sorted[at] == j:
            continue
        x = b[i] - b[j]
        for f in range(k):
            x += P[u, f] * (Q[i, f] - Q[j, f])
        if not abs(x) < X_LIMIT:  # (also true for NaN)
            return used, loss, t
        e = np.exp(-abs(x))  # in (0, 1]: the two lines below never overflow
        loss += max(-x, 0.0) + np.log1p(e)  # -ln sigmoid(x)
        z = e / (1.0 + e) if x >= 0 else 1.0 / (1.0 + e)  # sigmoid(-x)
        b[i] += lr * (z - reg * b[i])
        b[j] += lr * (-z - reg * b[j])
        for f in range(k):
            p_uf, q_if, q_jf = P[u, f], Q[i, f], Q[j, f]
            P[u, f] += lr * (z * (q_if - q_jf) - reg * p_uf)
            Q[i, f] += lr * (z * p_uf - reg * q_if)
            Q[j, f] += lr * (-z * p_uf - reg * q_jf)
        used += 1
    return used, loss, -1


def _plain_epoch(*args):
    """:func:`epoch` uncompiled; an overflow gives inf (reported as divergence), not a warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        return epoch(*args)


# "reassoc" lets the compiler reorder the sum in x and vectorise it: the compiled pass differs from
# the plain one by rounding only (tests/test_bpr.py), and the |x| check still sees NaN.
compiled_epoch = njit(fastmath={"reassoc"}, fallback=_plain_epoch)(epoch)


def _require_triples(data, negatives: str) -> None:
    """Refuse data from which no triple (u, i touched, j not) can be drawn."""
    pool = data.n_items if negatives == "uniform" else len(np.unique(data.item))
    counts = data.user_counts()
    if not np.any((counts > 0) & (counts < pool)):
        where = "of the catalogue" if negatives == "uniform" else "that has interactions (negatives='popularity')"
        raise ValueError(
            f"interactions: every user with interactions touched every item {where} ({pool:,}), so BPR "
            f"cannot draw a triple (u, i touched, j not touched); it needs at least one user with an "
            f"interaction and an item they did not touch")


def fit(interactions, k: int, *, lr: float = 0.05, reg: float = 0.01, epochs: int = 30, seed=None,
        negatives: str = "uniform", init=None, init_scale: float = 0.1, progress: bool = False,
        compiled: bool = True, force: bool = False) -> Factorization:
    """BPR by SGD over sampled triples (objective in the module docstring).

    ``interactions``: a Ratings whose stored positive values are the interactions (their size is
    not used: BPR only asks whether u touched i). Stored zeros are dropped with a warning (a zero
    count is no interaction), negative values are refused, and so is data from which no triple can
    be drawn. Each epoch samples as many triples as there are interactions: an observed (u, i)
    uniformly, and a negative j (skipped when u touched it), drawn by ``negatives``:

    - ``"uniform"``: j uniform over the catalogue, as in Rendle et al.'s LearnBPR;
    - ``"popularity"``: j is the item of another uniformly drawn interaction, so an item is drawn
      in proportion to its number of interactions. This is what the ``implicit`` library's CPU BPR
      does (its negative is the column of a random non-zero). Popular items then serve as
      negatives far more often, which pushes the model away from popularity; on data where the
      next pick is usually a popular item (MovieLens) it ranks worse.

    ``init=(P0, Q0)`` starts from given factors (b starts at 0), else ``normal(0, init_scale)``
    from ``seed`` (which also draws the triples). ``compiled=False`` runs the plain-Python loop
    (slow; for teaching and tests). A step size that makes the scores run away (``|x_uij|`` above
    :data:`X_LIMIT`, or an infinite factor) raises ``mflab.sgd.DivergenceError`` naming ``lr``.
    ``force=True`` allows factors larger than the memory guard.

    Returns scores ``b_i + p_u . q_i`` as a Factorization (``item_bias`` = b). ``history["loss"]``:
    the mean ``-ln sigmoid(x_uij)`` over each epoch's used triples (before each step; NaN for an
    epoch that drew no usable triple, possible only on tiny data); ``history["used"]``: the triples
    used per epoch.
    """
    k = _checks.count("k", k)
    lr = _checks.positive("lr", lr)
    reg = _checks.nonnegative("reg", reg)
    epochs = _checks.count("epochs", epochs)
    init_scale = _checks.positive("init_scale", init_scale)
    progress = _checks.boolean("progress", progress)
    compiled = _checks.boolean("compiled", compiled)
    if negatives not in ("uniform", "popularity"):
        raise ValueError(f"negatives must be 'uniform' (over the catalogue) or 'popularity' (in "
                         f"proportion to the interactions, as the implicit library); got {negatives!r}")
    data = _input.interactions("interactions", interactions, model="BPR")
    _require_triples(data, negatives)
    _input.factor_size("implicit.bpr.fit", data, k, 0, np.float64, force)
    rng = _checks.generator(seed)
    P, Q = _checks.initial_factors(data, k, init, init_scale, rng)
    b = np.zeros(data.n_items)
    g = data.by_user
    order = np.lexsort((g.other, np.repeat(np.arange(data.n_users), g.counts())))
    items_sorted = g.other[order]  # each user's items, ascending, for the binary search
    run = compiled_epoch if compiled else _plain_epoch
    history = {"loss": [], "used": []}
    report = Progress("BPR epoch", epochs, enabled=progress)
    n = len(data)
    for number in range(1, epochs + 1):
        pick = rng.integers(0, n, n)
        if negatives == "uniform":
            drawn = rng.integers(0, data.n_items, n)
        else:
            drawn = data.item[rng.integers(0, n, n)]
        used, loss, stopped = run(data.user[pick], data.item[pick], drawn, g.indptr, items_sorted,
                                  P, Q, b, lr, reg)
        if stopped >= 0 or not all(np.isfinite(a).all() and np.abs(a).max(initial=0) < X_LIMIT
                                   for a in (P, Q, b)):
            raise DivergenceError(
                f"BPR diverged in epoch {number}: the scores ran away (|x_uij| or a factor passed "
                f"{X_LIMIT:g}) with lr={lr:g} and reg={reg:g}. The learning rate is too large for this "
                f"data (with lr * reg above 2 every penalty step overshoots); try lr={lr / 10:g}.")
        history["loss"].append(loss / used if used else float("nan"))
        history["used"].append(used)
        report.step(history)
    params = {"k": k, "lr": lr, "reg": reg, "reg_scaling": "sample", "epochs": epochs,
              "negatives": negatives, "init_scale": init_scale}
    return Factorization.from_training(interactions, P, Q, 0.0, None, b, history=history, method="bpr",
                                       params=params)
