"""Bayesian matrix factorization by Gibbs sampling (BPMF, Salakhutdinov and Mnih, ICML 2008).

The model: each rating is Gaussian around the usual prediction, with noise precision ``beta``::

    r_ui ~ N(mu + b_u + b_i + p_u . q_i, 1 / beta)

and each user's vector ``x_u = [b_u, p_u]`` (``p_u`` alone with ``biases=False``) is drawn from a
Gaussian prior ``N(m_U, Lambda_U^-1)`` whose mean and precision have a Normal-Wishart hyperprior;
items alike. Given the item side, a user's posterior is Gaussian::

    precision  A_u = Lambda_U + beta Z_u^T Z_u             (Z_u: rows [1, q_i] of the rated items)
    mean       m_u = A_u^-1 (beta Z_u^T y_u + Lambda_U m_U)  (y_u: r_ui - mu - b_i)

With ``m_U = 0`` and ``Lambda_U = tau I`` the mean is ``(Z_u^T Z_u + (tau/beta) I)^-1 Z_u^T y_u``:
:func:`mflab.als.solve_user` with ``reg = tau / beta``. ALS jumps to ``m_u``; a Gibbs sweep draws
``x_u`` from ``N(m_u, A_u^-1)`` instead (:func:`sample_user`), then does the same for the items and
redraws the hyperparameters. Predictions average ``mu + b_u + b_i + p_u . q_i`` over the draws
after ``burn_in``: the posterior mean, whose spread across draws says how sure the model is.

The sweep is batched like ALS (no Python loop over users): rows are grouped by rating count
(``ridge.Batches``) and every row of a batch is solved and drawn at once.
"""
from __future__ import annotations

import time
from statistics import NormalDist

import numpy as np

from . import _checks, _history
from ._progress import Progress
from .ridge import Batches
from .factorization import Factorization
from .ratings import require_ratings, require_same_index


def sample_user(Z_u, y_u, prior_mean, prior_precision, noise_precision, rng=None):
    """One draw of a user's vector from its Gaussian posterior (``rng=None``: its mean).

    ``Z_u`` (n_rated, d) holds the features of the items the user rated, ``y_u`` the targets. The
    matrix and right-hand side are ALS's (:func:`mflab.als.solve_user`), plus the prior's terms::

        A = prior_precision + beta Z_u^T Z_u,   m = A^-1 (beta Z_u^T y_u + prior_precision prior_mean)
        draw = m + L^-T eps,  with A = L L^T (Cholesky) and eps ~ N(0, I), so cov(draw) = A^-1
    """
    A = prior_precision + noise_precision * Z_u.T @ Z_u
    b = noise_precision * Z_u.T @ y_u + prior_precision @ prior_mean
    mean = np.linalg.solve(A, b)
    if rng is None:
        return mean
    L = np.linalg.cholesky(A)
    return mean + np.linalg.solve(L.T, rng.standard_normal(len(mean)))


def sample_wishart(W, nu, rng):
    """One draw from the Wishart distribution with scale ``W`` (d x d) and ``nu`` degrees of freedom.

    Bartlett's construction: ``W = L L^T``; ``A`` lower triangular with ``A_jj^2 ~ chi2(nu - j)``
    and standard normal entries below the diagonal; the draw ``L A A^T L^T`` has mean ``nu W``.
    """
    d = len(W)
    L = np.linalg.cholesky(W)
    A = np.tril(rng.standard_normal((d, d)), -1)
    A[np.diag_indices(d)] = np.sqrt(rng.chisquare(nu - np.arange(d)))
    LA = L @ A
    return LA @ LA.T


def sample_hyper(X, rng, *, beta0=2.0):
    """Draw ``(m, Lambda)`` from their Normal-Wishart posterior given the rows ``X`` (N x d).

    Hyperprior: ``m0 = 0``, ``beta0``, ``nu0 = d``, ``W0 = I`` (the paper's choices)::

        Lambda ~ Wishart(W_n, nu0 + N),   W_n^-1 = W0^-1 + N S + beta0 N / (beta0 + N) xbar xbar^T
        m ~ N((N xbar) / (beta0 + N), ((beta0 + N) Lambda)^-1)
    """
    N, d = X.shape
    xbar = X.mean(axis=0)
    S = (X - xbar).T @ (X - xbar) / N
    W_n_inv = np.eye(d) + N * S + beta0 * N / (beta0 + N) * np.outer(xbar, xbar)
    W_n = np.linalg.inv(W_n_inv)
    Lambda = sample_wishart((W_n + W_n.T) / 2, d + N, rng)
    cov = np.linalg.inv((beta0 + N) * Lambda)
    m = rng.multivariate_normal(N * xbar / (beta0 + N), (cov + cov.T) / 2)
    return m, Lambda


def sample_all(batches, Z, y, prior_mean, prior_precision, noise_precision, current, rng):
    """:func:`sample_user` for every row with ratings (batched); other rows keep ``current``.

    ``rng=None`` gives every row its posterior mean instead of a draw.
    """
    d = Z.shape[1]
    Z_pad = np.vstack([Z, np.zeros((1, d))])  # padding (-1) gathers this zero row and zero target
    y_pad = np.r_[y, 0.0]
    prior_term = prior_precision @ prior_mean
    out = current.copy()
    for rows, other, pos in batches.batches:
        Zb = Z_pad[other]
        A = noise_precision * (Zb.transpose(0, 2, 1) @ Zb) + prior_precision
        b = noise_precision * (Zb.transpose(0, 2, 1) @ y_pad[pos][..., None])[..., 0] + prior_term
        try:
            L = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            raise ValueError("a posterior precision matrix is not positive definite; the ratings may "
                             "be on a huge scale, or noise_precision far too large: rescale the "
                             "ratings or lower noise_precision") from None
        mean = np.linalg.solve(A, b[..., None])[..., 0]
        if rng is None:
            out[rows] = mean
        else:
            eps = rng.standard_normal((len(rows), d, 1))
            out[rows] = mean + np.linalg.solve(L.transpose(0, 2, 1), eps)[..., 0]
    return out


def fit(train, k: int, *, samples: int = 100, burn_in: int = 20, noise_precision: float | None = 2.0,
        biases: bool = True, keep: int = 200, seed=None, init_scale: float = 0.1, test=None,
        progress: bool = False) -> Factorization:
    """Fit BPMF by ``samples`` Gibbs sweeps; predictions average the sweeps after ``burn_in``.

    Objective: none is minimised; the sweeps draw from the posterior of the model in the module
    docstring. ``noise_precision`` is ``beta`` (1 / noise variance), or ``None`` to sample it too
    (Gamma(1, 1) prior, posterior ``Gamma(1 + n/2, 1 + SSE/2)``).

    The returned Factorization predicts the posterior mean over ``keep`` draws spread evenly
    across the sweeps after burn-in: its ``P`` and ``Q`` are those draws side by side, scaled by
    ``1/sqrt(keep)``, so ``p_u . q_i`` is the average of the draws' products (k x keep columns).
    ``info`` holds the posterior-mean factors (``P_mean``, ``Q_mean``, for plots), the kept draws
    (for :func:`predict_interval`), the noise precision per sweep and the seconds per sweep.
    ``history``: per sweep, ``train_rmse`` of the current draw and ``test_rmse`` of the running
    average over all draws since burn-in (the first ``burn_in`` entries: of the current draw).
    Users and items without training ratings keep zero factors and bias.
    """
    require_ratings("train", train)
    k = _checks.positive_int("k", k)
    samples = _checks.positive_int("samples", samples)
    burn_in = _checks.positive_int("burn_in", burn_in, minimum=0)
    if burn_in >= samples:
        raise ValueError(f"burn_in={burn_in} must be smaller than samples={samples}: no draw would be "
                         f"averaged. Use more samples or a shorter burn-in")
    if noise_precision is not None:
        noise_precision = _checks.positive("noise_precision", noise_precision)
    biases = _checks.boolean("biases", biases)
    keep = _checks.positive_int("keep", keep)
    init_scale = _checks.positive("init_scale", init_scale)
    require_same_index("test", test, train)
    rng = _checks.generator(seed)
    P, Q = _checks.initial_factors(train, k, None, init_scale, rng)
    mu = train.mean() if biases else 0.0
    X_u = np.column_stack([np.zeros(train.n_users), P]) if biases else P  # [b_u, p_u]
    X_i = np.column_stack([np.zeros(train.n_items), Q]) if biases else Q
    by_user, by_item = train.by_user, train.by_item
    d = X_u.shape[1]
    user_rows, item_rows = Batches(by_user, d), Batches(by_item, d)
    rated_u, rated_i = by_user.counts() > 0, by_item.counts() > 0
    beta = 2.0 if noise_precision is None else noise_precision
    kept_sweeps = set(np.linspace(burn_in, samples - 1, min(keep, samples - burn_in)).round().astype(int).tolist())
    draws, betas, seconds = [], [], []
    test_sum = np.zeros(len(test)) if test is not None else None
    history = {"train_rmse": []} | ({"test_rmse": []} if test is not None else {})
    report = Progress("Gibbs sweep", samples, enabled=progress)
    for sweep in range(samples):
        start = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):  # checked below: finite, positive definite
            try:
                X_u, X_i = _sweep(user_rows, item_rows, by_user, by_item, X_u, X_i, rated_u, rated_i,
                                  mu, beta, biases, rng)
            except (np.linalg.LinAlgError, ValueError):
                raise ValueError(f"sweep {sweep + 1} met a covariance that is not positive definite: the "
                                 f"ratings may be on a huge scale or noise_precision far too large; "
                                 f"rescale the ratings or lower noise_precision") from None
        parts = _parts(X_u, X_i, biases)
        sse = _history.rmse(train, *parts[:2], mu, *parts[2:]) ** 2 * len(train)
        if not (np.isfinite(sse) and np.isfinite(X_u).all() and np.isfinite(X_i).all()):
            raise ValueError(f"the sampled model's squared error became {sse} in sweep {sweep + 1}; "
                             f"rescale the ratings or lower noise_precision")
        if noise_precision is None:
            beta = rng.gamma(1.0 + len(train) / 2, 1.0 / (1.0 + sse / 2))
        betas.append(beta)
        history["train_rmse"].append(float(np.sqrt(sse / len(train))))
        if test is not None:
            pred = Factorization(parts[0], parts[1], mu, parts[2], parts[3]).predict_ratings(test)
            if sweep >= burn_in:
                test_sum += pred
                pred = test_sum / (sweep - burn_in + 1)
            history["test_rmse"].append(float(np.sqrt(np.mean((test.value - pred) ** 2))))
        if sweep in kept_sweeps:
            draws.append(parts)
        seconds.append(time.perf_counter() - start)
        report.step(history)
    return _posterior_mean(train, draws, mu, history, betas, seconds,
                           params={"k": k, "samples": samples, "burn_in": burn_in,
                                   "noise_precision": noise_precision, "biases": biases, "keep": keep,
                                   "init_scale": init_scale})


def _sweep(user_rows, item_rows, by_user, by_item, X_u, X_i, rated_u, rated_i, mu, beta, biases, rng):
    """One Gibbs sweep: user hyperparameters, every user, item hyperparameters, every item."""
    m_U, Lam_U = sample_hyper(X_u[rated_u], rng)
    features = np.column_stack([np.ones(len(X_i)), X_i[:, 1:]]) if biases else X_i
    offset = mu + (X_i[by_user.other, 0] if biases else 0.0)
    X_u = sample_all(user_rows, features, by_user.value - offset, m_U, Lam_U, beta, X_u, rng)
    m_V, Lam_V = sample_hyper(X_i[rated_i], rng)
    features = np.column_stack([np.ones(len(X_u)), X_u[:, 1:]]) if biases else X_u
    offset = mu + (X_u[by_item.other, 0] if biases else 0.0)
    X_i = sample_all(item_rows, features, by_item.value - offset, m_V, Lam_V, beta, X_i, rng)
    return X_u, X_i


def _parts(X_u, X_i, biases):
    """(P, Q, user_bias, item_bias) of one draw."""
    if biases:
        return X_u[:, 1:].copy(), X_i[:, 1:].copy(), X_u[:, 0].copy(), X_i[:, 0].copy()
    return X_u.copy(), X_i.copy(), np.zeros(len(X_u)), np.zeros(len(X_i))


def _posterior_mean(train, draws, mu, history, betas, seconds, params):
    n = len(draws)
    P = np.hstack([d[0] for d in draws]) / np.sqrt(n)
    Q = np.hstack([d[1] for d in draws]) / np.sqrt(n)
    info = {"P_mean": np.mean([d[0] for d in draws], axis=0), "Q_mean": np.mean([d[1] for d in draws], axis=0),
            "draws": draws, "noise_precision": np.array(betas), "seconds_per_sweep": np.array(seconds)}
    return Factorization.from_training(
        train, P, Q, mu, np.mean([d[2] for d in draws], axis=0), np.mean([d[3] for d in draws], axis=0),
        history=history, method="bayes", params=params, info=info)


def predict_interval(model, users, items, level: float = 0.9):
    """Posterior predictive ``(mean, low, high)`` for aligned ``users`` and ``items`` of a BPMF fit.

    The spread combines how much the kept draws disagree and the noise of a rating (variance
    ``1/beta``, beta averaged over the kept sweeps); the interval is Gaussian, ``level`` central.
    """
    if getattr(model, "method", "") != "bayes":
        raise TypeError("predict_interval needs a model from mflab.bayes.fit (it reads the kept draws)")
    level = _checks.positive("level", level)
    if level >= 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    users, items = np.asarray(users), np.asarray(items)
    mean = model.predict(users, items)
    per_draw = np.array([model.mu + bu[users] + bi[items] + np.einsum("...k,...k->...", P[users], Q[items])
                         for P, Q, bu, bi in model.info["draws"]])
    noise_var = 1.0 / np.mean(model.info["noise_precision"][-len(per_draw):])
    sd = np.sqrt(per_draw.var(axis=0) + noise_var)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return mean, mean - z * sd, mean + z * sd
