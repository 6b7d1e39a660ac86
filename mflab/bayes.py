"""Bayesian matrix factorization by Gibbs sampling (BPMF, Salakhutdinov and Mnih, ICML 2008).

The model: each rating is Gaussian around the usual prediction, with noise precision ``beta``::

    r_ui ~ N(mu + b_u + b_i + p_u . q_i, 1 / beta),       beta ~ Gamma(noise_shape, noise_rate)

and each user's vector ``x_u = [b_u, p_u]`` (``p_u`` alone with ``biases=False``; d = k + 1 or k
coordinates) is drawn from a Gaussian prior ``N(m_P, Lambda_P^-1)`` whose mean and precision have
a Normal-Wishart hyperprior ``Lambda_P ~ Wishart(W0, nu0)``, ``m_P | Lambda_P ~ N(m0, (kappa0
Lambda_P)^-1)``; items alike. Given the item side, a user's posterior is Gaussian::

    precision  A_u = Lambda_P + beta Z_u^T Z_u             (Z_u: rows [1, q_i] of the rated items)
    mean       m_u = A_u^-1 (beta Z_u^T y_u + Lambda_P m_P)  (y_u: r_ui - mu - b_i)

With ``m_P = 0`` and ``Lambda_P = tau I`` the mean is ``(Z_u^T Z_u + (tau/beta) I)^-1 Z_u^T y_u``:
:func:`mflab.ridge.solve_user` with ``reg = tau / beta``. ALS jumps to ``m_u``; a Gibbs sweep draws
``x_u`` from ``N(m_u, A_u^-1)`` instead (:func:`sample_user`), then does the same for the items,
redraws the hyperparameters (:func:`sample_hyper`) and the noise precision
(:func:`sample_noise_precision`). These steps live in :mod:`mflab.gibbs` and are re-exported here.

The returned :class:`~mflab.Factorization` keeps the draws after ``burn_in`` as ``model.draws``;
its ``P``, ``Q`` and biases are their means and ``predict`` the mean of the draws' predictions
(the posterior mean). :func:`predict_interval` turns the draws' spread and the sampled noise into
an interval per rating.
"""
from __future__ import annotations

import time
from statistics import NormalDist

import numpy as np

from . import _checks, _history
from ._progress import Progress
from .factorization import Draws, Factorization
from .gibbs import (hyperprior, normal_wishart_posterior, sample_all, sample_hyper,  # noqa: F401
                    sample_noise_precision, sample_user, sample_wishart)
from .ratings import require_ratings, require_same_index
from .ridge import Batches

__all__ = ["fit", "predict_interval", "sample_user", "sample_all", "sample_hyper", "sample_wishart",
           "normal_wishart_posterior", "sample_noise_precision", "hyperprior"]

EPOCHS = 100  # sweeps in all when neither epochs nor samples is given
_GATHER = 2**20  # factor entries gathered at once per draw by predict_interval (8 MB)


def fit(train, k: int, *, epochs: int | None = None, burn_in: int = 20, samples: int | None = None,
        keep: int | None = None, noise_precision: float | None = None, noise_shape: float = 1.0,
        noise_rate: float = 1.0, kappa0: float = 2.0, nu0: float | None = None, W0=1.0, m0=0.0,
        biases: bool = True, seed=None, init_scale: float = 0.1, init=None, test=None,
        progress: bool = False) -> Factorization:
    """Fit BPMF by ``epochs`` Gibbs sweeps (default 100); the draws after ``burn_in`` (default 20)
    are kept and averaged.

    Objective: none is minimised; the sweeps draw from the posterior of the model in the module
    docstring. ``samples`` is another name for ``epochs`` (sweeps in all, burn-in included); give
    one, or both equal. ``keep``: ``None`` keeps every sweep after burn-in; an int thins them to
    that many, evenly spread, the last sweep included (at most ``epochs - burn_in``). The kept
    draws take S x (n_users + n_items) x (k + 1) floats: thin them on large data.

    Noise precision ``beta``: ``None`` (default) samples it each sweep from its Gamma posterior
    (prior ``Gamma(noise_shape=1, noise_rate=1)``: mean 1, weak against thousands of ratings;
    the first sweep starts from a draw given the initial factors), or a float fixes it.
    Hyperprior of the users' (and the items') prior, as in BPMF (:func:`mflab.gibbs.hyperprior`):
    ``m0 = 0`` (a number or a (d,) vector), ``kappa0 = 2`` (how many rows' worth of belief in m0),
    ``nu0 = d`` (must exceed d - 1), ``W0 = 1`` (a number times I, or a (d, d) positive definite
    matrix); d = k + 1 with ``biases=True`` (the bias first), k without. ``init=(P0, Q0)`` starts from given factors
    (biases start at 0), else they are drawn from ``N(0, init_scale^2)``.

    Returns a Factorization with ``draws`` (S kept draws: ``P`` (S, n_users, k), ``Q``, biases) and
    their means as ``P``, ``Q``, biases; ``mu`` is the training mean (0 without biases).
    ``info``: ``kept`` (S), ``kept_sweeps`` (1-based), ``noise_precision`` (the beta paired with
    each kept draw), ``seconds_per_sweep``, and the means over kept sweeps of each side's prior
    (``user_prior_mean`` (d,), ``user_prior_precision`` (d, d), ``item_...``).
    ``history`` per sweep: ``train_rmse`` of the current draw; ``test_rmse`` of the running mean of
    the kept draws (before the first: of the current draw); ``noise_precision``;
    ``user_prior_precision`` and ``item_prior_precision``, the mean of diag(Lambda_P) and
    diag(Lambda_Q). Users and items without training ratings keep zero factors and bias.
    """
    require_ratings("train", train)
    k = _checks.count("k", k)
    epochs = _sweeps(epochs, samples)
    burn_in = _checks.count("burn_in", burn_in, minimum=0)
    if burn_in >= epochs:
        raise ValueError(f"burn_in={burn_in} must be smaller than epochs={epochs}: no draw would be "
                         f"kept. Use more epochs or a shorter burn-in")
    if keep is not None:
        keep = _checks.count("keep", keep)
        if keep > epochs - burn_in:
            raise ValueError(f"keep={keep} is more than the {epochs - burn_in} sweeps after burn-in "
                             f"(epochs={epochs}, burn_in={burn_in}); keep at most that many, or "
                             f"keep=None for all of them")
    if noise_precision is not None:
        noise_precision = _checks.positive("noise_precision", noise_precision)
    noise_shape = _checks.positive("noise_shape", noise_shape)
    noise_rate = _checks.positive("noise_rate", noise_rate)
    biases = _checks.boolean("biases", biases)
    d = k + 1 if biases else k
    prior = hyperprior(d, kappa0=kappa0, nu0=nu0, W0=W0, m0=m0)
    init_scale = _checks.positive("init_scale", init_scale)
    _checks.boolean("progress", progress)
    require_same_index("test", test, train)
    rng = _checks.generator(seed)
    P, Q = _checks.initial_factors(train, k, init, init_scale, rng)
    mu = train.mean() if biases else 0.0
    X_u = np.column_stack([np.zeros(train.n_users), P]) if biases else P  # rows [b_u, p_u]
    X_i = np.column_stack([np.zeros(train.n_items), Q]) if biases else Q
    g_u, g_i = train.by_user, train.by_item
    state = dict(user_rows=Batches(g_u, d), item_rows=Batches(g_i, d), g_u=g_u, g_i=g_i, mu=mu,
                 rated_u=g_u.counts() > 0, rated_i=g_i.counts() > 0, biases=biases, prior=prior)
    kept = _kept_sweeps(epochs, burn_in, keep)
    U_draws, I_draws = np.empty((len(kept), train.n_users, d)), np.empty((len(kept), train.n_items, d))
    hyper_sums = [np.zeros(d), np.zeros((d, d)), np.zeros(d), np.zeros((d, d))]
    beta, betas, seconds = noise_precision, [], []
    if beta is None:  # start from the conditional draw given the initial factors
        beta = sample_noise_precision(_sse(train, X_u, X_i, mu, biases), len(train), rng,
                                      shape=noise_shape, rate=noise_rate)
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    history |= {"noise_precision": [], "user_prior_precision": [], "item_prior_precision": []}
    test_sum = np.zeros(len(test)) if test is not None else None
    report = Progress("Gibbs sweep", epochs, enabled=progress)
    slot = 0
    for sweep in range(epochs):
        start = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):  # checked below: finite, positive definite
            try:
                X_u, X_i, hyper = _sweep(state, X_u, X_i, beta, rng)
            except (np.linalg.LinAlgError, ValueError):
                raise ValueError(f"sweep {sweep + 1} met a covariance that is not positive definite: the "
                                 f"ratings may be on a huge scale or noise_precision far too large; "
                                 f"rescale the ratings or lower noise_precision") from None
            sse = _sse(train, X_u, X_i, mu, biases)
        if not (np.isfinite(sse) and np.isfinite(X_u).all() and np.isfinite(X_i).all()):
            raise ValueError(f"the sampled model's squared error became {sse} in sweep {sweep + 1}; "
                             f"rescale the ratings or lower noise_precision")
        if noise_precision is None:
            beta = sample_noise_precision(sse, len(train), rng, shape=noise_shape, rate=noise_rate)
        is_kept = slot < len(kept) and kept[slot] == sweep
        if is_kept:
            U_draws[slot], I_draws[slot] = X_u, X_i
            betas.append(beta)
            for total, value in zip(hyper_sums, hyper):
                total += value
            slot += 1
        history["train_rmse"].append(float(np.sqrt(sse / len(train))))
        if test is not None:
            pred = _predict(X_u, X_i, test.user, test.item, mu, biases)
            if is_kept:
                test_sum += pred
            if slot:
                pred = test_sum / slot
            history["test_rmse"].append(float(np.sqrt(np.mean((test.value - pred) ** 2))))
        history["noise_precision"].append(beta)
        history["user_prior_precision"].append(float(np.diag(hyper[1]).mean()))
        history["item_prior_precision"].append(float(np.diag(hyper[3]).mean()))
        seconds.append(time.perf_counter() - start)
        report.step(history)
    S = len(kept)
    draws = Draws(P=U_draws[:, :, 1:] if biases else U_draws, Q=I_draws[:, :, 1:] if biases else I_draws,
                  user_bias=U_draws[:, :, 0] if biases else None, item_bias=I_draws[:, :, 0] if biases else None)
    del U_draws, I_draws
    info = {"kept": S, "kept_sweeps": kept + 1, "noise_precision": np.array(betas),
            "seconds_per_sweep": np.array(seconds)}
    info |= dict(zip(("user_prior_mean", "user_prior_precision", "item_prior_mean", "item_prior_precision"),
                     (total / S for total in hyper_sums)))
    params = {"k": k, "epochs": epochs, "burn_in": burn_in, "keep": keep, "noise_precision": noise_precision,
              "noise_shape": noise_shape, "noise_rate": noise_rate, "kappa0": prior["kappa0"],
              "nu0": prior["nu0"], "W0": W0 if np.ndim(W0) else float(W0),
              "m0": m0 if np.ndim(m0) else float(m0), "biases": biases, "init_scale": init_scale}
    return Factorization.from_training(train, None, None, mu, history=history, method="bayes",
                                       params=params, info=info, draws=draws)


def _sweeps(epochs, samples) -> int:
    """``epochs`` and its alias ``samples`` resolved to one count of sweeps."""
    if samples is not None:
        samples = _checks.count("samples", samples)
    if epochs is not None:
        epochs = _checks.count("epochs", epochs)
        if samples is not None and samples != epochs:
            raise ValueError(f"epochs={epochs} and samples={samples} disagree: samples is another name "
                             f"for epochs (Gibbs sweeps in all, burn-in included); give one of them")
        return epochs
    return samples if samples is not None else EPOCHS


def _kept_sweeps(epochs, burn_in, keep) -> np.ndarray:
    """0-based sweeps to keep: all after burn-in, or ``keep`` of them evenly spread, the last
    included (rounding half up, so distinct whenever keep <= epochs - burn_in)."""
    if keep is None:
        return np.arange(burn_in, epochs)
    return burn_in + np.floor(np.linspace(0, epochs - 1 - burn_in, keep) + 0.5).astype(np.int64)


def _sweep(state, X_u, X_i, beta, rng):
    """One Gibbs sweep: user hyperparameters, every user, item hyperparameters, every item."""
    prior, biases, mu = state["prior"], state["biases"], state["mu"]
    g_u, g_i = state["g_u"], state["g_i"]
    m_P, Lam_P = sample_hyper(X_u[state["rated_u"]], rng, **prior)
    features = np.column_stack([np.ones(len(X_i)), X_i[:, 1:]]) if biases else X_i
    offset = mu + (X_i[g_u.other, 0] if biases else 0.0)
    X_u = sample_all(state["user_rows"], features, g_u.value - offset, m_P, Lam_P, beta, X_u, rng)
    m_Q, Lam_Q = sample_hyper(X_i[state["rated_i"]], rng, **prior)
    features = np.column_stack([np.ones(len(X_u)), X_u[:, 1:]]) if biases else X_u
    offset = mu + (X_u[g_i.other, 0] if biases else 0.0)
    X_i = sample_all(state["item_rows"], features, g_i.value - offset, m_Q, Lam_Q, beta, X_i, rng)
    return X_u, X_i, (m_P, Lam_P, m_Q, Lam_Q)


def _sse(ratings, X_u, X_i, mu, biases) -> float:
    """Sum of squared errors of one draw on ``ratings``."""
    if biases:
        P, Q, b_u, b_i = (np.ascontiguousarray(a) for a in (X_u[:, 1:], X_i[:, 1:], X_u[:, 0], X_i[:, 0]))
    else:
        P, Q, b_u, b_i = X_u, X_i, np.zeros(len(X_u)), np.zeros(len(X_i))
    return _history.rmse(ratings, P, Q, mu, b_u, b_i) ** 2 * len(ratings)


def _predict(X_u, X_i, users, items, mu, biases) -> np.ndarray:
    """One draw's predictions for aligned ``users`` and ``items``."""
    if not biases:
        return mu + np.einsum("nk,nk->n", X_u[users], X_i[items])
    U, V = X_u[users], X_i[items]
    return mu + U[:, 0] + V[:, 0] + np.einsum("nk,nk->n", U[:, 1:], V[:, 1:])


def predict_interval(model, users, items, level: float = 0.9):
    """Posterior predictive ``(mean, low, high)`` for aligned ``users`` and ``items`` (arrays of
    indices, or one of them a single index) of a model with posterior draws.

    ``mean`` is ``model.predict`` (the mean over the S kept draws of ``r_hat_s``). The predictive
    distribution is the mixture over draws of ``N(r_hat_s, 1 / beta_s)``, ``beta_s`` the noise
    precision kept with draw s (``model.info["noise_precision"]``); its variance (law of total
    variance) is::

        var = mean_s (r_hat_s - mean)^2 + mean_s 1 / beta_s        (model doubt + rating noise)

    and the interval is the Gaussian one of that variance: ``mean -+ z sd``, ``z`` the
    ``(1 + level) / 2`` quantile of N(0, 1), ``level`` in (0, 1). Unknown users or items raise
    :class:`~mflab.ColdStartError`, as in ``predict``.
    """
    if not isinstance(model, Factorization):
        raise TypeError(f"model must be a fitted mflab Factorization with posterior draws (from "
                        f"mflab.bayes.fit); got {type(model).__name__}")
    draws = model.draws
    if draws is None:
        raise ValueError(f"model ({model.method or 'a model'}) has no posterior draws (model.draws is "
                         f"None): predict_interval needs the draws of a sampler, such as "
                         f"mflab.bayes.fit(train, k)")
    betas = np.asarray(model.info.get("noise_precision", ()), dtype=float)
    if betas.shape != (len(draws),) or not np.all(betas > 0):
        raise ValueError(f"model.info['noise_precision'] must hold one positive noise precision per "
                         f"kept draw ({len(draws)}); got {betas.shape[0] if betas.ndim else betas} "
                         f"values: predict_interval needs a model from mflab.bayes.fit")
    level = _checks.real("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.9 for a 90% interval; got {level}")
    mean = model.predict(users, items)  # checks alignment, integer indices, unknown ids
    if mean.size == 0:
        return mean, mean.copy(), mean.copy()
    users, items = (a.ravel() for a in np.broadcast_arrays(np.asarray(users), np.asarray(items)))
    spread = np.zeros(users.size)
    step = max(1, _GATHER // max(draws.k, 1))  # pairs per block, so memory stays bounded
    for start in range(0, users.size, step):
        u, i, block = users[start:start + step], items[start:start + step], slice(start, start + step)
        for s in range(len(draws)):
            mu = model.mu if draws.mu is None else draws.mu[s]
            pred = (mu + draws.user_bias[s, u] + draws.item_bias[s, i]
                    + np.einsum("nk,nk->n", draws.P[s, u], draws.Q[s, i]))
            spread[block] += (pred - mean.ravel()[block]) ** 2
    spread = spread.reshape(mean.shape)
    sd = np.sqrt(spread / len(draws) + np.mean(1.0 / betas))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return mean, mean - z * sd, mean + z * sd
