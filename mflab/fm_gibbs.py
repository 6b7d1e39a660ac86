"""Bayesian factorization machine by Gibbs sampling (Freudenthaler, Schmidt-Thieme and Rendle 2011).

Each feature j has ``theta_j = [w_j, f_j]`` (its linear weight and its k-vector), a priori
``N(m_g, Lambda_g^-1)`` for its group g, with a Normal-Wishart hyperprior on ``(m_g, Lambda_g)``
(:func:`mflab.bayes.sample_hyper`); the noise precision beta (``alpha`` in the code) has a
Gamma(1, 1) prior and ``w0`` a flat one. With only the two id groups this is exactly Bayesian MF
(:mod:`mflab.bayes`).

Why Normal-Wishart per group rather than myFM's Normal-Gamma per dimension: with the ids alone it
is BPMF's own prior, so the two models can be held against each other; and each feature's
``w_j`` and ``f_j`` are drawn together from their joint conditional (a (k+1)-dimensional block),
which mixes better than one coordinate at a time and costs the same order per sweep below.

Why block draws are cheap here. With the item side fixed, every user's ratings depend on the
user-side features only through ``X_u = [B_u, a_u]`` (bias and vector, see :mod:`mflab.fm`)::

    sum_i (y_ui - w0 - B_i - X_u . [1, c_i])^2 = X_u^T G_u X_u - 2 r_u^T X_u + const,
    G_u = sum_i [1, c_i][1, c_i]^T,   r_u = sum_i (y_ui - w0 - B_i) [1, c_i]     (one pass, O(n d^2))

and ``X_u`` is linear in each feature's ``theta_j``: with ``z`` the rest of the user's vector
(``a_u - x_j f_j``), ``X_u = X_u^-j + x_j M theta_j`` where ``M = [[1, z^T], [0, I]]``. So the
conditional of ``theta_j`` is Gaussian::

    precision  A = Lambda_g + beta sum_u x_j^2 M^T G_u M
    mean       A^-1 (Lambda_g m_g + beta sum_u x_j M^T (r_u - G_u X_u^-j))

summed over the users having feature j only: O(users having it x d^2), d = k + 1, whatever their
number of ratings (the relation-block trick, Rendle 2013). :func:`sample_group` draws the features
of one group in turn, keeping every ``X_u`` and residual ``rho_u = r_u - G_u X_u`` current.

Every loop here is plain Python compiled by numba (without numba: the numpy versions of
:mod:`mflab.fm_numpy`); the random normals are drawn by numpy outside them, so the plain and the
compiled runs draw the same numbers.
"""
from __future__ import annotations

import time

import numpy as np

from . import fm_numpy
from .fm_design import attribute_columns
from ._numba import njit
from .gibbs import sample_hyper, sample_noise_precision


def side_vectors(indptr, col, val, theta, X):
    """``X[r] = [B_r, a_r]`` of every row from its features (CSR ``indptr, col, val``)::

        a_r = sum_j x_j f_j,   B_r = sum_j x_j w_j + 1/2 (|a_r|^2 - sum_j x_j^2 |f_j|^2)

    the linear terms plus the pairwise ones within the side, by the O(k n) identity.
    """
    d = theta.shape[1]
    for r in range(len(indptr) - 1):
        linear, squares = 0.0, 0.0
        for c in range(1, d):
            X[r, c] = 0.0
        for p in range(indptr[r], indptr[r + 1]):
            j, x = col[p], val[p]
            linear += x * theta[j, 0]
            for c in range(1, d):
                X[r, c] += x * theta[j, c]
                squares += (x * theta[j, c]) ** 2
        total = 0.0
        for c in range(1, d):
            total += X[r, c] ** 2
        X[r, 0] = linear + 0.5 * (total - squares)


def rating_stats(indptr, other, value, X_other, w0, G, r):
    """Each row's ``G_u`` and ``r_u`` (module docstring) from its ratings (``indptr``, ``other``,
    ``value``: a grouped Ratings view) and the other side's ``[B_i, c_i]`` rows ``X_other``.

    ``G_u`` sums the outer products ``z_i z_i^T`` of the rated items, ``z_i = [1, c_i]``; they
    depend on the item alone, so each is computed once and added to every user who rated it.
    """
    n, d = X_other.shape
    outer = np.empty((n, d * d))  # row i: z_i z_i^T, flattened
    for i in range(n):
        for a in range(d):
            for c in range(d):
                outer[i, a * d + c] = (1.0 if a == 0 else X_other[i, a]) * (1.0 if c == 0 else X_other[i, c])
    flat_G = G.reshape(len(G), d * d)
    for u in range(len(indptr) - 1):
        flat_G[u] = 0.0
        r[u] = 0.0
        for t in range(indptr[u], indptr[u + 1]):
            i = other[t]
            target = value[t] - w0 - X_other[i, 0]
            r[u, 0] += target
            for a in range(1, d):
                r[u, a] += target * X_other[i, a]
            for q in range(d * d):
                flat_G[u, q] += outer[i, q]


def sample_group(first, end, t_indptr, t_row, t_val, present, theta, X, G, rho, m, Lam, alpha, eps):
    """Draw ``theta[j]`` for the features ``first <= j < end`` in turn from their conditionals.

    ``X`` and ``rho`` (one row per user) are updated after each draw. ``eps`` (end - first, d)
    are standard normals (zeros give the conditional means). Features with ``present`` False (no
    rated row) are left alone. Returns False if a precision matrix was not positive definite.
    """
    d = theta.shape[1]
    flat_G = G.reshape(len(G), d * d)
    A, T, L, flat_A = np.empty((d, d)), np.empty((d, d)), np.empty((d, d)), np.empty(d * d)
    b, z, s, old, y = np.empty(d), np.empty(d), np.empty(d), np.empty(d), np.empty(d)
    prior_term = np.zeros(d)  # Lambda m, written out: numba's matrix product needs SciPy
    for a in range(d):
        for c in range(d):
            prior_term[a] += Lam[a, c] * m[c]
    for j in range(first, end):
        if not present[j]:
            continue
        flat_A[:] = 0.0
        T[:, :] = 0.0
        b[:] = 0.0
        for p in range(t_indptr[j], t_indptr[j + 1]):
            u, x = t_row[p], t_val[p]
            z[0] = 0.0
            for c in range(1, d):
                z[c] = X[u, c] - x * theta[j, c]
            for a in range(d):
                s[a] = G[u, a, 0] + 0.5 * G[u, 0, 0] * z[a]
                b[a] += x * (rho[u, a] + z[a] * rho[u, 0])
            # M^T G M = G + z s^T + s z^T with s = G[:, 0] + G[0, 0] z / 2, because M = I + e_0 z^T.
            # The sum of x^2 G runs over the flat d*d entries (one loop that vectorises), the sum of
            # x^2 z s^T in T; then A = that sum + T + T^T
            for q in range(d * d):
                flat_A[q] += x * x * flat_G[u, q]
            for a in range(d):
                for c in range(d):
                    T[a, c] += x * x * z[a] * s[c]
        for a in range(d):
            for c in range(d):
                A[a, c] = flat_A[a * d + c] + T[a, c] + T[c, a]
        # r_u - G_u X_u^-j = rho_u + x G_u M theta_old, so the data part of the mean's right-hand
        # side is b + A theta_old; then add the prior
        for a in range(d):
            old[a] = theta[j, a]
        for a in range(d):
            acc = b[a]
            for c in range(d):
                acc += A[a, c] * old[c]
            y[a] = prior_term[a] + alpha * acc
        for a in range(d):
            for c in range(d):
                A[a, c] = Lam[a, c] + alpha * A[a, c]
        if not _cholesky(A, L):
            return False
        # theta = L^-T (L^-1 y + eps): mean A^-1 y, covariance (L L^T)^-1 = A^-1
        for a in range(d):
            acc = y[a]
            for c in range(a):
                acc -= L[a, c] * y[c]
            y[a] = acc / L[a, a]
        for a in range(d - 1, -1, -1):
            acc = y[a] + eps[j - first, a]
            for c in range(a + 1, d):
                acc -= L[c, a] * theta[j, c]
            theta[j, a] = acc / L[a, a]
        for p in range(t_indptr[j], t_indptr[j + 1]):
            u, x = t_row[p], t_val[p]
            shift = theta[j, 0] - old[0]  # X_u changes by x M (theta_new - theta_old)
            for c in range(1, d):
                shift += (X[u, c] - x * old[c]) * (theta[j, c] - old[c])
            s[0] = x * shift
            for c in range(1, d):
                s[c] = x * (theta[j, c] - old[c])
            for c in range(d):
                X[u, c] += s[c]
            for c in range(d):  # G_u is symmetric: its row c is its column c, contiguous
                for a in range(d):
                    rho[u, a] -= flat_G[u, c * d + a] * s[c]
    return True


def _cholesky(A, L):
    """``L`` lower triangular with ``L L^T = A`` (``A``'s lower triangle is read); False if ``A``
    is not positive definite. Written out because numba's own needs SciPy."""
    d = len(A)
    L[:, :] = 0.0
    for a in range(d):
        for c in range(a + 1):
            acc = A[a, c]
            for q in range(c):
                acc -= L[a, q] * L[c, q]
            if a == c:
                if not acc > 0.0:
                    return False
                L[a, a] = np.sqrt(acc)
            else:
                L[a, c] = acc / L[c, c]
    return True


def residual_sums(users, items, values, X_user, X_item, w0):
    """``(sum e, sum e^2)`` of the errors ``e = y - (w0 + B_u + B_i + a_u . c_i)``."""
    d = X_user.shape[1]
    total, squares = 0.0, 0.0
    for t in range(len(values)):
        u, i = users[t], items[t]
        e = values[t] - w0 - X_user[u, 0] - X_item[i, 0]
        for c in range(1, d):
            e -= X_user[u, c] * X_item[i, c]
        total += e
        squares += e * e
    return total, squares


_cholesky = njit()(_cholesky)  # a compiled loop can only call compiled functions
plain = {f.__name__: f for f in (side_vectors, rating_stats, sample_group, residual_sums)}
# fastmath: the sums may be reordered (and vectorised); results differ from the plain loops' by rounding
compiled_loops = {name: njit(fastmath=True, fallback=getattr(fm_numpy, name))(f) for name, f in plain.items()}


def run(train, sides, thetas, present, *, epochs, burn_in, noise_precision, keep, rng, test=None,
        report=None, compiled=True):
    """The Gibbs sweeps from the starting ``thetas`` (one (n_features, k + 1) array per side, changed
    in place); ``present[s][j]``: feature j of side s has a rated row (else it stays as it is).
    Returns a dict: ``draws`` (per kept sweep: ``X`` per side, ``w0``, ``alpha``, the attribute
    groups' ``theta`` rows per side and the id groups' prior means ``id_mean``), ``theta_mean`` per side (over the kept sweeps),
    ``history`` per sweep, ``trace`` (sweeps x groups: each group's mean of diag Lambda_g) and
    ``seconds`` per sweep.

    A sweep: for each side, for each of its groups, the group's hyperparameters then its features
    (:func:`sample_group`); then ``w0`` and, unless given, the noise precision beta (``alpha``).
    """
    run_ = compiled_loops if compiled else plain
    d, n = thetas[0].shape[1], len(train)
    grouped = (train.by_user, train.by_item)
    X = [np.zeros((side.n_rows, d)) for side in sides]
    G = [np.empty((side.n_rows, d, d)) for side in sides]
    r = [np.empty((side.n_rows, d)) for side in sides]
    w0 = float(train.mean())
    alpha = 2.0 if noise_precision is None else noise_precision
    kept = set(range(burn_in, epochs) if keep is None else
               (burn_in + np.floor(np.linspace(0, epochs - 1 - burn_in, keep) + 0.5)).astype(int).tolist())
    draws, trace, seconds = [], [], []
    theta_sum = [np.zeros_like(t) for t in thetas]
    attributes = [attribute_columns(side) for side in sides]
    history = {"train_rmse": [], "noise_precision": [], "w0": []} | ({"test_rmse": []} if test is not None else {})
    test_sum = np.zeros(len(test)) if test is not None else None
    id_mean = [np.zeros(d), np.zeros(d)]  # the id groups' prior means: a new user's expected id vector
    for sweep in range(epochs):
        start = time.perf_counter()
        precisions = []
        for s, (side, g) in enumerate(zip(sides, grouped)):
            run_["side_vectors"](side.indptr, side.col, side.val, thetas[s], X[s])
            run_["rating_stats"](g.indptr, g.other, g.value, X[1 - s], w0, G[s], r[s])
            rho = r[s] - np.einsum("uac,uc->ua", G[s], X[s])
            for name, first, end, _ in side.groups:
                rows = thetas[s][first:end][present[s][first:end]]
                if len(rows) == 0:
                    precisions.append(np.nan)
                    continue
                m, Lam = sample_hyper(rows, rng)
                precisions.append(float(np.mean(np.diag(Lam))))
                if name == "id":
                    id_mean[s] = m
                eps = rng.standard_normal((end - first, d))
                if not run_["sample_group"](first, end, side.t_indptr, side.t_row, side.t_val, present[s],
                                            thetas[s], X[s], G[s], rho, m, Lam, alpha, eps):
                    raise ValueError(f"sweep {sweep + 1}: the conditional precision of a {side.name} "
                                     f"feature of group {name!r} is not positive definite; the ratings "
                                     f"may be on a huge scale or noise_precision far too large")
        total, squares = run_["residual_sums"](train.user, train.item, train.value, X[0], X[1], w0)
        shift = rng.normal(total / n, 1.0 / np.sqrt(alpha * n))  # w0's draw (flat prior)
        w0 += shift
        sse = squares - 2 * shift * total + n * shift ** 2
        if not (np.isfinite(sse) and np.isfinite(X[0]).all() and np.isfinite(X[1]).all()):
            raise ValueError(f"the sampled model's squared error became {sse} in sweep {sweep + 1}; "
                             f"rescale the ratings or lower noise_precision")
        if noise_precision is None:
            alpha = sample_noise_precision(sse, n, rng)
        history["train_rmse"].append(float(np.sqrt(sse / n)))
        history["noise_precision"].append(float(alpha))
        history["w0"].append(float(w0))
        trace.append(precisions)
        if test is not None:
            pred = _predict(X, w0, test.user, test.item)
            if sweep >= burn_in:
                test_sum += pred
                pred = test_sum / (sweep - burn_in + 1)
            history["test_rmse"].append(float(np.sqrt(np.mean((test.value - pred) ** 2))))
        if sweep in kept:
            draws.append({"X": (X[0].copy(), X[1].copy()), "w0": w0, "alpha": alpha, "id_mean": tuple(id_mean),
                          "theta": tuple(t[cols] for t, cols in zip(thetas, attributes))})
            for total_s, theta in zip(theta_sum, thetas):
                total_s += theta
        seconds.append(time.perf_counter() - start)
        if report is not None:
            report.step(history)
    return {"draws": draws, "theta_mean": [t / len(draws) for t in theta_sum], "history": history,
            "trace": np.array(trace), "seconds": np.array(seconds)}


def _predict(X, w0, users, items):
    Xu, Xi = X[0][users], X[1][items]
    return w0 + Xu[:, 0] + Xi[:, 0] + np.einsum("nc,nc->n", Xu[:, 1:], Xi[:, 1:])
