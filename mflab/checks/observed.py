"""Check of lesson 01's exercise: the RMSE of ``P Q^T`` over the observed cells of a rating matrix
with gaps, ``checks.observed_rmse(my_rmse)``."""
from __future__ import annotations

import numpy as np

from .. import metrics
from ._compare import compare


def _reference(R, P, Q):
    """mflab.metrics.rmse on the observed (non-NaN) cells of R against the same cells of P Q^T."""
    seen = ~np.isnan(R)
    return metrics.rmse(R[seen], (P @ Q.T)[seen])


def _errors(R, P, Q):
    seen = ~np.isnan(R)
    return (R - P @ Q.T)[seen]


def _over_every_cell_nan(R, P, Q):  # np.mean over all of R: the nan cells make the result nan
    return float(np.sqrt(np.mean((R - P @ Q.T) ** 2)))


def _empty_as_zero(R, P, Q):  # np.nan_to_num(R): every empty cell a rating of 0
    return float(np.sqrt(np.mean((np.nan_to_num(R) - P @ Q.T) ** 2)))


def _over_all_cells(R, P, Q):  # the observed errors summed, divided by every cell
    return float(np.sqrt(np.sum(_errors(R, P, Q) ** 2) / R.size))


def _over_users(R, P, Q):  # the observed errors summed, divided by len(R), the number of rows
    return float(np.sqrt(np.sum(_errors(R, P, Q) ** 2) / len(R)))


def _transposed(R, P, Q):  # raises unless R is square, as the student's code would
    seen = ~np.isnan(R)
    return float(np.sqrt(np.mean((R - Q @ P.T)[seen] ** 2)))


SLIPS = (
    (lambda R, P, Q: float(np.mean(_errors(R, P, Q) ** 2)),
     "that is the mean squared error (MSE): take its square root"),
    (_over_every_cell_nan, "the mean ran over the empty (nan) cells too, and any arithmetic that touches a nan "
                           "gives nan: keep the observed cells only, e.g. seen = ~np.isnan(R), then R[seen] "
                           "against (P @ Q.T)[seen]"),
    (_empty_as_zero, "the empty cells were counted as ratings of 0 (np.nan_to_num, or a matrix filled "
                     "with 0): average over the observed cells only, e.g. seen = ~np.isnan(R), then "
                     "R[seen] against (P @ Q.T)[seen]"),
    (_over_all_cells, "you divided by every cell of R (R.size); divide by the number of observed "
                      "ratings, (~np.isnan(R)).sum()"),
    (_over_users, "you divided by len(R), the number of users (rows of R); divide by the number of "
                  "observed ratings, (~np.isnan(R)).sum()"),
    (lambda R, P, Q: float(np.mean(np.abs(_errors(R, P, Q)))),
     "that is the mean absolute error (MAE): square the errors, average them, then take the square root"),
    (lambda R, P, Q: float(np.sqrt(np.sum(_errors(R, P, Q) ** 2))),
     "that is the root of the sum: divide by the number of observed ratings before the square root"),
    (_transposed, "the predictions are P @ Q.T (users x items, like R); Q @ P.T is its transpose"),
)


def observed_rmse(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(R, P, Q) -> float``: the RMSE of ``P Q^T`` over the observed cells of ``R``.

    ``R`` is (n_users, n_items) with NaN in the empty cells, ``P`` (n_users, k), ``Q`` (n_items, k).
    With Omega the observed cells::

        RMSE = sqrt( (1 / |Omega|) sum_{(u,i) in Omega} (r_ui - p_u . q_i)^2 )

    One number. The reference is :func:`mflab.metrics.rmse` on the observed cells. Named slips: no
    square root (the MSE), the mean over every cell (nan), empty cells counted as 0, divided by every cell or by the number of users,
    the MAE, the root of the sum, P and Q the wrong way round (Q P^T).
    """
    rng = np.random.default_rng(1)
    cases = []
    for n_users, n_items, k, n_empty in ((5, 4, 2, 7), (3, 6, 1, 5), (4, 4, 3, 6), (8, 5, 2, 20)):
        R = rng.integers(1, 6, (n_users, n_items)).astype(float)
        R.flat[rng.choice(R.size, n_empty, replace=False)] = np.nan
        cases.append((R, rng.normal(0, 1, (n_users, k)), rng.normal(0, 1, (n_items, k))))
    return compare("observed_rmse", cases, yours, _reference, params=("R", "P", "Q"), results=("the RMSE",),
                   label=lambda R, P, Q: f"{R.shape[0]} x {R.shape[1]}, {int((~np.isnan(R)).sum())} observed, "
                                         f"k={P.shape[1]}",
                   slips=SLIPS, timeout=timeout)
