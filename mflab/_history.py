"""The RMSE every fit records in its ``history`` after each sweep or epoch.

Computed in one compiled pass over the ratings, without the (n_ratings x k) temporaries that
:meth:`Factorization.predict` builds, so recording it costs little next to the sweep itself.
"""
from __future__ import annotations

import numpy as np

from ._numba import njit


def _sse(users, items, values, P, Q, b_u, b_i, mu):
    """Sum of squared errors of ``mu + b_u + b_i + p_u . q_i`` on the given ratings."""
    k = P.shape[1]
    sse = 0.0
    for t in range(len(values)):
        u, i = users[t], items[t]
        dot = 0.0
        for f in range(k):
            dot += P[u, f] * Q[i, f]
        e = values[t] - (mu + b_u[u] + b_i[i] + dot)
        sse += e * e
    return sse


def _sse_numpy(users, items, values, P, Q, b_u, b_i, mu):
    """:func:`_sse` with numpy: an (n_ratings x k) temporary, but no Python loop (no numba)."""
    e = values - (mu + b_u[users] + b_i[items] + np.einsum("tk,tk->t", P[users], Q[items]))
    return float(e @ e)


# A reported RMSE does not depend on the order of its sum, so let it reassociate and vectorise. Only
# that: full fastmath also assumes no NaN or inf, and a diverged model's NaN is what the caller checks.
# nogil: sgd.fit computes one epoch's history on a second thread while the next epoch runs.
_compiled_sse = njit(fastmath={"reassoc"}, nogil=True, fallback=_sse_numpy)(_sse)


def rmse(ratings, P, Q, mu, b_u, b_i) -> float:
    """Training or test RMSE of ``mu + b_u + b_i + P Q^T`` on ``ratings``."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged model's inf is reported, not warned
        sse = _compiled_sse(ratings.user, ratings.item, ratings.value, P, Q, b_u, b_i, float(mu))
    return float(np.sqrt(sse / len(ratings)))
