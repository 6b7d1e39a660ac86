"""Check of an RMSE written by hand: ``checks.rmse(my_rmse)``."""
from __future__ import annotations

import numpy as np

from .. import metrics
from ._compare import compare

SLIPS = (
    (lambda a, b: float(np.mean((a - b) ** 2)), "that is the mean squared error: take its square root"),
    (lambda a, b: float(np.mean(np.abs(a - b))), "that is the mean absolute error (MAE): square the "
                                                  "errors, average, then take the square root"),
    (lambda a, b: float(np.sqrt(np.sum((a - b) ** 2))), "that is the root of the sum: divide by the "
                                                        "number of ratings before the square root"),
)


def rmse(yours, *, timeout: float | None = None) -> bool:
    """Check ``yours(y_true, y_pred) -> float``: ``sqrt(mean((y_true - y_pred)^2))``, one number."""
    rng = np.random.default_rng(3)
    cases = [(rng.integers(1, 6, n).astype(float), rng.uniform(1, 5, n)) for n in (1, 4, 50)]
    cases.append((np.full(3, 4.0), np.full(3, 4.0)))
    return compare("rmse", cases, yours, metrics.rmse, params=("y_true", "y_pred"), results=("the RMSE",),
                   slips=SLIPS, label=lambda y, _: f"{len(y)} rating{'s' if len(y) > 1 else ''}",
                   timeout=timeout)
