"""Factorization machines (Rendle 2010): matrix factorization that also reads features.

A rating is described by a feature vector ``x`` (n entries, mostly zero) and predicted as::

    y_hat(x) = w0 + sum_j w_j x_j + sum_{j<l} <v_j, v_l> x_j x_l

every feature j with a weight ``w_j`` and a k-vector ``v_j``. The pairwise sum costs O(k n), not
O(k n^2), because (:func:`pairwise`)::

    sum_{j<l} <v_j, v_l> x_j x_l = 1/2 sum_f [ (sum_j v_jf x_j)^2 - sum_j v_jf^2 x_j^2 ]

Here ``x`` is the concatenation of feature *groups*: the user's id (one-hot), the movie's id,
each user attribute (age, gender, ...), each movie attribute (year, genres), and, with
``implicit``, which movies the user rated (each ``1/sqrt(n_u)``, as in SVD++) and which users
rated the movie (``1/sqrt(n_i)``). With only the two ids, ``y_hat = w0 + w_u + w_i + <v_u, v_i>``:
biased matrix factorization. And since every feature describes the user or the movie, the
fitted FM *is* a biased MF whatever the features (:mod:`mflab.fm_design`)::

    p_u = sum_{j user-side} x_j v_j        q_i = the same over the item side        mu = w0
    b_u = sum_{j user-side} x_j w_j + the pairwise terms among the user's own features; b_i alike

So :func:`fit` returns a :class:`~mflab.Factorization` (``predict``, ``recommend``, plots work as
for every model), with each group's learned ``w`` and ``V`` in ``info["user_groups"]`` and
``info["item_groups"]``. Two solvers: ``"sgd"`` (:mod:`mflab.fm_sgd`: the gradient, one rating at
a time) and ``"gibbs"`` (:mod:`mflab.fm_gibbs`: Bayesian FM, libFM's and myFM's MCMC).
"""
from __future__ import annotations

import time

import numpy as np

from . import _checks, fm_gibbs, fm_sgd
from ._progress import Progress
from .factorization import Draws, Factorization
from .fm_design import RESERVED, attribute_layout, build_side, initial_theta, row_features, vectors
from .ratings import require_ratings, require_same_index

SOLVERS = ("gibbs", "sgd")


def pairwise(V, x) -> float:
    """``sum_{j<l} <v_j, v_l> x_j x_l`` for one feature vector ``x`` (n,) and ``V`` (n, k), in
    O(k n): ``1/2 sum_f [(sum_j v_jf x_j)^2 - sum_j v_jf^2 x_j^2]``."""
    V, x = np.asarray(V, dtype=float), np.asarray(x, dtype=float)
    s = V.T @ x
    return 0.5 * float(s @ s - np.sum((V ** 2).T @ (x ** 2)))


def predict_one(x, w0, w, V) -> float:
    """The FM equation for one feature vector: ``w0 + w . x + pairwise(V, x)``."""
    return float(w0 + np.dot(w, x) + pairwise(V, x))


def gradient(x, V):
    """``(d y_hat / d w, d y_hat / d V)`` at ``x``: ``x`` and ``x_j (s - v_j x_j)``, ``s = V^T x``."""
    V, x = np.asarray(V, dtype=float), np.asarray(x, dtype=float)
    return x.copy(), x[:, None] * (V.T @ x - V * x[:, None])


def design(train, *, user_features=None, item_features=None, implicit=False):
    """The (user side, item side) feature tables of ``train`` (:class:`mflab.fm_design.Side`)."""
    require_ratings("train", train)
    if implicit not in (True, False, "user", "item"):
        raise ValueError(f"implicit must be True (both blocks), False, 'user' (the movies each user "
                         f"rated) or 'item' (the users who rated each movie); got {implicit!r}")
    users = build_side("user", train.n_users, user_features,
                       train.by_user if implicit in (True, "user") else None, train.n_items)
    items = build_side("item", train.n_items, item_features,
                       train.by_item if implicit in (True, "item") else None, train.n_users)
    return users, items


def feature_vector(sides, user, item):
    """One rating's ``x`` as ``(values, labels)``: the nonzero entries and what each one is."""
    values, labels = [], []
    for side, row in zip(sides, (user, item)):
        for p in range(side.indptr[row], side.indptr[row + 1]):
            j = side.col[p]
            group, first, _, names = next(g for g in side.groups if g[1] <= j < g[2])
            column = names[j - first] if names else str(j - first)
            values.append(float(side.val[p]))
            labels.append(f"{side.name} {group}={column}")
    return np.array(values), labels


def fit(train, k: int, *, user_features=None, item_features=None, implicit=False, solver="gibbs",
        epochs=None, samples=None, burn_in=None, noise_precision=None, keep=None,
        lr=None, reg=None, reg_bias=None, shuffle: bool = True, init=None, init_scale: float = 0.1,
        seed=None, test=None, progress: bool = False, compiled: bool = True) -> Factorization:
    """Fit a factorization machine on ``train`` with the feature groups given.

    ``user_features`` / ``item_features``: dicts ``name -> table``, each table one row per user
    (item) index of ``train`` and any number of columns (0/1 flags or real values; a DataFrame's
    column names label what is learned). ``implicit``: True adds both implicit groups, ``"user"``
    or ``"item"`` one of them. The ids are always in.

    ``solver="gibbs"`` (Bayesian FM, :mod:`mflab.fm_gibbs`): ``epochs`` sweeps in all (``samples``
    is the same number; default 100), the first ``burn_in`` (default 20) discarded; predictions
    average the draws of the sweeps after it (``keep``: only that many, evenly spread).
    ``noise_precision``: the rating noise's 1/variance, or None to sample it. Returns the posterior
    mean as ``P``, ``Q`` and biases, with the draws in ``model.draws``.
    ``solver="sgd"`` (:mod:`mflab.fm_sgd`): ``epochs`` (default 20) passes, ``lr`` (0.005),
    ``reg`` (0.02) and ``reg_bias`` (= reg) charged per rating (``reg_scaling="count"``).
    ``init=(P0, Q0)`` sets the id vectors; every other ``v_j`` is drawn ``normal(0, init_scale)``.
    ``compiled=False`` runs the plain-Python loops (slow; for teaching and tests).
    """
    require_ratings("train", train)
    k = _checks.count("k", k)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}; got {solver!r}")
    epochs = _sweeps(epochs, samples, solver)
    rng = _checks.generator(seed)
    init_scale = _checks.positive("init_scale", init_scale)
    for name, flag in (("shuffle", shuffle), ("progress", progress), ("compiled", compiled)):
        _checks.boolean(name, flag)
    require_same_index("test", test, train)
    wrong = {"gibbs": {"lr": lr, "reg": reg, "reg_bias": reg_bias},
             "sgd": {"noise_precision": noise_precision, "burn_in": burn_in}}[solver]
    for name, value in wrong.items():
        if value is not None:
            raise ValueError(f"{name} applies to the other solver, not solver={solver!r}; leave it out")
    sides = design(train, user_features=user_features, item_features=item_features, implicit=implicit)
    P0, Q0 = _checks.initial_factors(train, k, init, init_scale, rng) if init is not None else (None, None)
    params = {"k": k, "solver": solver, "epochs": epochs, "implicit": implicit, "init_scale": init_scale,
              "user_groups": tuple(g[0] for g in sides[0].groups),
              "item_groups": tuple(g[0] for g in sides[1].groups)}
    report = Progress("FM sweep" if solver == "gibbs" else "FM epoch", epochs, enabled=progress)
    if solver == "gibbs":
        burn_in = _checks.count("burn_in", 20 if burn_in is None else burn_in, minimum=0)
        if burn_in >= epochs:
            raise ValueError(f"burn_in={burn_in} must be smaller than epochs (samples)={epochs}: no "
                             f"draw would be averaged. Use more sweeps or a shorter burn-in")
        if noise_precision is not None:
            noise_precision = _checks.positive("noise_precision", noise_precision)
        if keep is not None:
            keep = _checks.count("keep", keep)
            if keep > epochs - burn_in:
                raise ValueError(f"keep={keep} is more draws than the {epochs - burn_in} sweeps after "
                                 f"burn-in; use keep=None (all of them) or fewer")
        params |= {"burn_in": burn_in, "noise_precision": noise_precision, "keep": keep}
        return _fit_gibbs(train, sides, k, params, rng, test, report, compiled, P0, Q0)
    lr = 0.005 if lr is None else _checks.positive("lr", lr)
    reg = 0.02 if reg is None else _checks.nonnegative("reg", reg)
    reg_bias = reg if reg_bias is None else _checks.nonnegative("reg_bias", reg_bias)
    params |= {"lr": lr, "reg": reg, "reg_bias": reg_bias, "reg_scaling": "count", "biases": True,
               "shuffle": shuffle}
    return _fit_sgd(train, sides, k, params, rng, test, report, compiled, P0, Q0)


def _sweeps(epochs, samples, solver):
    if epochs is not None and samples is not None and epochs != samples:
        raise ValueError(f"epochs={epochs} and samples={samples} name the same number (sweeps in all); "
                         f"give one of them")
    if samples is not None and solver != "gibbs":
        raise ValueError("samples is the Gibbs solver's name for epochs; with solver='sgd' use epochs")
    value = epochs if epochs is not None else samples
    name = "epochs" if epochs is not None else "samples"
    return _checks.count(name, (100 if solver == "gibbs" else 20) if value is None else value)


def _fit_gibbs(train, sides, k, params, rng, test, report, compiled, P0, Q0):
    thetas, present = initial_theta(sides, train, k, params["init_scale"], rng, P0, Q0)
    out = fm_gibbs.run(train, sides, thetas, present, epochs=params["epochs"], burn_in=params["burn_in"],
                       noise_precision=params["noise_precision"], keep=params["keep"], rng=rng,
                       test=test, report=report, compiled=compiled)
    draws = out["draws"]
    X_user = np.stack([d["X"][0] for d in draws])
    X_item = np.stack([d["X"][1] for d in draws])
    history = out["history"] | {"prior_precision": list(out["trace"])}
    info = {"noise_precision": np.array([d["alpha"] for d in draws]), "seconds_per_sweep": out["seconds"],
            "prior_groups": tuple(f"{side.name} {g[0]}" for side in sides for g in side.groups),
            "attribute_draws": {side.name: np.stack([d["theta"][s] for d in draws])
                                for s, side in enumerate(sides)}}
    return _model(train, sides, out["theta_mean"], X_user, X_item, np.array([d["w0"] for d in draws]),
                  history, params, info)


def _fit_sgd(train, sides, k, params, rng, test, report, compiled, P0, Q0):
    thetas, _ = initial_theta(sides, train, k, params["init_scale"], rng, P0, Q0)
    w = np.concatenate([t[:, 0] for t in thetas])
    V = np.concatenate([t[:, 1:] for t in thetas])
    n_user = sides[0].n_features
    w0 = float(train.mean())
    run = fm_sgd.compiled_epoch if compiled else fm_sgd._plain_epoch
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    users, items, values = train.user, train.item, train.value
    (u, i), work, seconds = sides, np.zeros(k), []
    for n in range(params["epochs"]):
        start = time.perf_counter()
        if params["shuffle"]:
            order = rng.permutation(len(train))
            users, items, values = train.user[order], train.item[order], train.value[order]
        sse = run(users, items, values, u.indptr, u.col, u.val, i.indptr, i.col, i.val, n_user, w, V, w0,
                  params["lr"], params["reg"], params["reg_bias"], work)
        if not (np.isfinite(sse) and np.isfinite(V).all() and np.isfinite(w).all()):
            raise ValueError(f"SGD diverged in epoch {n + 1}: the squared error became {sse} with "
                             f"lr={params['lr']}; the learning rate is too large for these features, "
                             f"try lr={params['lr'] / 10:g}")
        seconds.append(time.perf_counter() - start)
        thetas = [np.column_stack([w[:n_user], V[:n_user]]), np.column_stack([w[n_user:], V[n_user:]])]
        X = [vectors(side, theta) for side, theta in zip(sides, thetas)]
        for name, ratings in (("train_rmse", train), ("test_rmse", test)):
            if ratings is not None:
                pred = w0 + X[0][ratings.user, 0] + X[1][ratings.item, 0] + np.einsum(
                    "nf,nf->n", X[0][ratings.user, 1:], X[1][ratings.item, 1:])
                history[name].append(float(np.sqrt(np.mean((ratings.value - pred) ** 2))))
        report.step(history)
    attributes = [np.concatenate([np.arange(g[1], g[2]) for g in side.groups if g[0] not in RESERVED]
                                 + [np.zeros(0, np.int64)]) for side in sides]
    info = {"seconds_per_epoch": np.array(seconds),
            "attribute_draws": {side.name: theta[cols][None] for side, theta, cols in zip(sides, thetas, attributes)}}
    return _model(train, sides, thetas, X[0][None], X[1][None], np.array([w0]), history, params, info)


def _model(train, sides, theta_mean, X_user, X_item, w0, history, params, info):
    """The Factorization of draws ``X_user`` (S, n_users, k + 1), ``X_item`` and ``w0`` (S,)."""
    for side, theta in zip(sides, theta_mean):
        info[f"{side.name}_groups"] = {name: {"columns": labels, "w": theta[first:end, 0],
                                              "V": theta[first:end, 1:]}
                                       for name, first, end, labels in side.groups}
        info[f"{side.name}_layout"] = attribute_layout(side)
    info["w0"] = float(np.mean(w0))
    mu = float(np.mean(w0))
    user_bias = X_user[:, :, 0] + (w0 - mu)[:, None]
    args = (X_user[:, :, 1:].mean(0), X_item[:, :, 1:].mean(0), mu, user_bias.mean(0), X_item[:, :, 0].mean(0))
    kw = dict(history=history, method="fm", params=params, info=info)
    if len(w0) == 1:
        return Factorization.from_training(train, *args, **kw)
    draws = Draws(X_user[:, :, 1:], X_item[:, :, 1:], X_user[:, :, 0], X_item[:, :, 0], w0)
    return Factorization.from_training(train, None, None, None, draws=draws, **kw)


def _draws(model):
    """The model's draws as (P, Q, user_bias, item_bias, mu) stacks (one draw for an SGD fit)."""
    if getattr(model, "method", "") != "fm":
        raise TypeError(f"model must be a Factorization from mflab.fm.fit; got "
                        f"{getattr(model, 'method', type(model).__name__)!r}")
    draws = model.draws
    if draws is None:
        return model.P[None], model.Q[None], model.user_bias[None], model.item_bias[None], np.array([model.mu])
    mu = draws.mu if draws.mu is not None else np.full(len(draws), model.mu)
    return draws.P, draws.Q, draws.user_bias, draws.item_bias, mu


def _new_rows(model, side, features):
    """Per draw, the ``[B, a]`` rows (S, n, k + 1) of new users or items from attributes only."""
    if getattr(model, "method", "") != "fm":
        raise TypeError(f"model must be a Factorization from mflab.fm.fit; got "
                        f"{getattr(model, 'method', type(model).__name__)!r}")
    indptr, col, val = row_features(side, model.info[f"{side}_layout"], features)
    return np.stack([vectors(None, theta, indptr, col, val) for theta in model.info["attribute_draws"][side]])


def user_vector(model, features):
    """A new user's ``(p_u, b_u)`` from attributes alone (cold start): ``features`` maps some of
    the model's user attribute groups to that user's row, e.g. ``{"age": ..., "gender": ...}``::

        p_u = sum_j x_j v_j,   b_u = sum_j x_j w_j + the pairwise terms among these features

    averaged over the draws (Gibbs). 2-D rows give ``(n, k)`` and ``(n,)`` for ``n`` users.
    """
    X = _new_rows(model, "user", features).mean(axis=0)
    one = all(np.ndim(v) == 1 for v in features.values())
    return (X[0, 1:], float(X[0, 0])) if one else (X[:, 1:], X[:, 0])


def predict_new_users(model, features, items):
    """Predicted ratings of new users (attributes only, no ratings) for ``items``: the mean over
    the draws of ``w0 + b_u + b_i + p_u . q_i``. One user (1-D rows) scores every item given;
    ``n`` users (2-D rows) need ``items`` aligned with them (one item per user)."""
    new = _new_rows(model, "user", features)
    items = np.asarray(items)
    model._check_known("item", items, model.n_items)
    rows = np.zeros(items.shape, dtype=np.int64) if new.shape[1] == 1 else np.arange(new.shape[1])
    if rows.shape != items.shape:
        raise ValueError(f"items must have one entry per new user ({new.shape[1]}); got shape {items.shape}")
    P, Q, _, item_bias, mu = _draws(model)
    total = np.zeros(items.shape)
    for s in range(len(mu)):
        total += mu[s] + new[s, rows, 0] + item_bias[s, items] + np.einsum("...f,...f->...", new[s, rows, 1:], Q[s, items])
    return total / len(mu)


def predict_interval(model, users, items, level: float = 0.9):
    """Posterior predictive ``(mean, low, high)`` of a Gibbs fit: :func:`mflab.bayes.predict_interval`
    (the draws' spread plus the rating noise, the noise precision kept with each draw)."""
    from .bayes import predict_interval as interval

    if getattr(model, "method", "") != "fm" or model.params.get("solver") != "gibbs":
        raise TypeError(f"model must come from mflab.fm.fit(..., solver='gibbs') (intervals need its "
                        f"draws); got {getattr(model, 'method', type(model).__name__)!r}")
    return interval(model, users, items, level)
