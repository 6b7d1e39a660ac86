"""Factorization machines (Rendle 2010): matrix factorization that also reads features.

A rating is described by a feature vector ``x`` (n entries, mostly zero) and predicted as::

    y_hat(x) = w0 + sum_j w_j x_j + sum_{j<l} (f_j . f_l) x_j x_l

every feature j with a weight ``w_j`` and a k-vector ``f_j`` (papers write v_j; in the code the
f_j are the rows of an array ``V``, n x k). The pairwise sum costs O(k n), not O(k n^2), because
(:func:`pairwise`)::

    sum_{j<l} (f_j . f_l) x_j x_l = 1/2 sum_f [ (sum_j f_jf x_j)^2 - sum_j f_jf^2 x_j^2 ]

Here ``x`` is the concatenation of feature *groups*: the user's id (one-hot), the movie's id,
each user attribute (age, gender, ...), each movie attribute (year, genres), and, with
``implicit``, which movies the user rated (each ``1/sqrt(n_u)``, as in SVD++) and which users
rated the movie (``1/sqrt(n_i)``). With only the two ids, ``y_hat = w0 + w_u + w_i + f_u . f_i``:
biased matrix factorization. And since every feature describes the user or the movie, the
fitted FM *is* a biased MF whatever the features (:mod:`mflab.fm_design`)::

    p_u = sum_{j user-side} x_j f_j        q_i = the same over the item side        mu = w0
    b_u = sum_{j user-side} x_j w_j + the pairwise terms among the user's own features; b_i alike

So :func:`fit` returns a :class:`~mflab.Factorization` (``predict``, ``recommend``, plots work as
for every model), with each group's learned ``w`` and ``V`` in ``info["user_groups"]`` and
``info["item_groups"]`` (``"w"``: the w_j, ``"V"``: the f_j as rows). Two solvers: ``"sgd"`` (:mod:`mflab.fm_sgd`: the gradient, one rating at
a time) and ``"gibbs"`` (:mod:`mflab.fm_gibbs`: Bayesian FM, libFM's and myFM's MCMC).
"""
from __future__ import annotations

import numpy as np

from . import _checks, fm_gibbs, fm_sgd
from ._progress import Progress
from .factorization import Draws, Factorization
from .fm_design import attribute_columns, attribute_layout, build_side, initial_theta, row_features, vectors
from .ratings import require_ratings, require_same_index

SOLVERS = ("gibbs", "sgd")


def _vector_and_factors(x, V):
    """``x`` (n,) and ``V`` (n, k) as float arrays, checked: finite, one row of V per entry of x."""
    x, V = _checks.real_array("x", x), _checks.real_array("V", V, ndim=2)
    if V.shape[0] != len(x):
        raise ValueError(f"V must have one row f_j per entry of x ({len(x)}); got shape {V.shape}")
    return x, V


def pairwise(V, x) -> float:
    """``sum_{j<l} (f_j . f_l) x_j x_l`` for one feature vector ``x`` (n,) and ``V`` (n, k), whose
    row j is f_j, in O(k n): ``1/2 sum_f [(sum_j f_jf x_j)^2 - sum_j f_jf^2 x_j^2]``."""
    x, V = _vector_and_factors(x, V)
    s = V.T @ x
    return 0.5 * float(s @ s - np.sum((V ** 2).T @ (x ** 2)))


def predict_one(x, w0, w, V) -> float:
    """The FM equation for one feature vector: ``w0 + w . x + pairwise(V, x)``; ``w`` (n,) the
    weights w_j, ``V`` (n, k) the f_j as rows."""
    x, V = _vector_and_factors(x, V)
    w = _checks.real_array("w", w)
    if w.shape != x.shape:
        raise ValueError(f"w must have one weight w_j per entry of x ({len(x)}); got shape {w.shape}")
    return float(_checks.real("w0", w0) + w @ x + pairwise(V, x))


def gradient(x, V):
    """``(d y_hat / d w, d y_hat / d V)`` at ``x``: ``x`` and ``x_j (s - f_j x_j)`` (row j),
    ``s = V^T x = sum_l x_l f_l``: the derivatives of the FM equation by ``w_j`` and by ``f_j``."""
    x, V = _vector_and_factors(x, V)
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
    ``init=(P0, Q0)`` sets the id vectors; every other ``f_j`` is drawn ``normal(0, init_scale)``.
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
                                for s, side in enumerate(sides)},
            "id_prior_mean": {side.name: np.stack([d["id_mean"][s] for d in draws]) for s, side in enumerate(sides)}}
    return _model(train, sides, out["theta_mean"], X_user, X_item, np.array([d["w0"] for d in draws]),
                  history, params, info)


def _fit_sgd(train, sides, k, params, rng, test, report, compiled, P0, Q0):
    thetas, _ = initial_theta(sides, train, k, params["init_scale"], rng, P0, Q0)
    thetas, X, history, seconds = fm_sgd.run(
        train, sides, thetas, epochs=params["epochs"], lr=params["lr"], reg=params["reg"],
        reg_bias=params["reg_bias"], shuffle=params["shuffle"], rng=rng, test=test, report=report,
        compiled=compiled)
    attributes = [attribute_columns(side) for side in sides]
    rated = (train.user_counts() > 0, train.item_counts() > 0)
    info = {"seconds_per_epoch": seconds,
            "attribute_draws": {side.name: theta[cols][None] for side, theta, cols in zip(sides, thetas, attributes)},
            "id_prior_mean": {side.name: theta[:side.n_rows][mask].mean(axis=0, keepdims=True)
                              for side, theta, mask in zip(sides, thetas, rated)}}
    return _model(train, sides, thetas, X[0][None], X[1][None], np.array([float(train.mean())]), history,
                  params, info)


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
    """Per draw, the ``[B, a]`` rows (S, n, k + 1) of new users (or items) described by attributes.

    A new user's id vector is unknown: its expected value is the id group's prior mean (Gibbs;
    with SGD, the mean of the learned id vectors), which enters as one more feature with x = 1.
    The prediction is linear in it, so using the mean gives the mean prediction.
    """
    if getattr(model, "method", "") != "fm":
        raise TypeError(f"model must be a Factorization from mflab.fm.fit; got "
                        f"{getattr(model, 'method', type(model).__name__)!r}")
    indptr, col, val = row_features(side, model.info[f"{side}_layout"], features)
    n, n_attributes = len(indptr) - 1, model.info["attribute_draws"][side].shape[1]
    counts = np.diff(indptr)
    row = np.repeat(np.arange(n), counts)  # append column n_attributes (the id's mean) to each row
    col = np.concatenate([col, np.full(n, n_attributes)])
    val = np.concatenate([val, np.ones(n)])
    order = np.lexsort((col, np.concatenate([row, np.arange(n)])))
    indptr = np.r_[0, np.cumsum(counts + 1)]
    thetas = zip(model.info["attribute_draws"][side], model.info["id_prior_mean"][side])
    return np.stack([vectors(None, np.vstack([theta, id_mean]), indptr, col[order], val[order])
                     for theta, id_mean in thetas])


def user_vector(model, features):
    """A new user's ``(p_u, b_u)`` from attributes alone (cold start): ``features`` maps some of
    the model's user attribute groups to that user's row, e.g. ``{"age": ..., "gender": ...}``
    (:func:`mflab.datasets.movielens_user_row` builds them for MovieLens)::

        p_u = sum_j x_j f_j,   b_u = sum_j x_j w_j + the pairwise terms among these features

    the sums running over the given attributes and the user id, whose unknown vector is replaced
    by its expected value (the id group's prior mean); averaged over the draws (Gibbs). 2-D rows
    give ``(n, k)`` and ``(n,)`` for ``n`` new users.
    """
    X = _new_rows(model, "user", features).mean(axis=0)
    one = all(np.ndim(v) == 1 for v in features.values())
    return (X[0, 1:], float(X[0, 0])) if one else (X[:, 1:], X[:, 0])


def predict_new_users(model, features, items):
    """Predicted ratings of new users (attributes only, no ratings) for ``items``: the mean over
    the draws of ``w0 + b_u + b_i + p_u . q_i``. One user (1-D rows) scores every item given;
    ``n`` users (2-D rows) need ``items`` aligned with them (one item per user)."""
    new = _new_rows(model, "user", features)
    items = _checks.indices("items", items, model.n_items, what="item")
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
