"""``Draws``: the posterior draws a sampler keeps (Bayesian MF, Bayesian factorization machines).

Imports nothing of mflab's but the freezing helper; :mod:`mflab.factorization` re-exports it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._freeze import finite as _finite, read_only


@dataclass(frozen=True, eq=False)
class Draws:
    """``S`` draws of a factorization model, stacked; draw ``s`` predicts::

        r_hat_s(u, i) = mu[s] + user_bias[s, u] + item_bias[s, i] + P[s, u] . Q[s, i]

    Attributes (read-only float copies; ``None`` biases mean zeros)
    ----------
    P : (S, n_users, k)      Q : (S, n_items, k)
    user_bias : (S, n_users) item_bias : (S, n_items)
    mu : (S,) or None        None: every draw uses the model's ``mu``

    A :class:`~mflab.Factorization` with ``draws`` holds their means as ``P``, ``Q``, the biases
    and ``mu``, and its ``predict`` is the mean over the draws of ``r_hat_s`` (the posterior mean).
    """

    P: np.ndarray
    Q: np.ndarray
    user_bias: np.ndarray | None = None
    item_bias: np.ndarray | None = None
    mu: np.ndarray | None = None

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        P, Q = _finite("draws.P", self.P, 3), _finite("draws.Q", self.Q, 3)
        if len(P) < 1 or len(P) != len(Q) or P.shape[2] != Q.shape[2]:
            raise ValueError(f"draws.P and draws.Q must be (S, n_users, k) and (S, n_items, k) with the "
                             f"same S >= 1 and k; got shapes {P.shape} and {Q.shape}")
        set_("P", P)
        set_("Q", Q)
        for name, value, n in (("user_bias", self.user_bias, P.shape[1]),
                               ("item_bias", self.item_bias, Q.shape[1])):
            bias = read_only(np.zeros((len(P), n))) if value is None else _finite(f"draws.{name}", value, 2)
            if bias.shape != (len(P), n):
                raise ValueError(f"draws.{name} must have shape (S, {n}) = {(len(P), n)}, one row per "
                                 f"draw; got {bias.shape}")
            set_(name, bias)
        if self.mu is not None:
            mu = _finite("draws.mu", self.mu, 1)
            if mu.shape != (len(P),):
                raise ValueError(f"draws.mu must have one entry per draw ({len(P)}); got shape {mu.shape}")
            set_("mu", mu)

    def __len__(self) -> int:
        return len(self.P)

    @property
    def k(self) -> int:
        return self.P.shape[2]

    def __repr__(self) -> str:
        _, n_users, k = self.P.shape
        return f"Draws({len(self)} draws, {n_users} users x {self.Q.shape[1]} items, k={k})"


def means_of(draws) -> dict:
    if draws is None:
        return {}
    mu = float(draws.mu.mean()) if draws.mu is not None else 0.0
    return {"P": draws.P.mean(axis=0), "Q": draws.Q.mean(axis=0), "mu": mu,
            "user_bias": draws.user_bias.mean(axis=0), "item_bias": draws.item_bias.mean(axis=0)}


def check_means(model, draws, means) -> None:
    """With draws, the point estimates must be the draws' means (so predict agrees with them)."""
    if draws.P.shape[1:] != model.P.shape or draws.Q.shape[1:] != model.Q.shape:
        raise ValueError(f"draws hold P {draws.P.shape[1:]} and Q {draws.Q.shape[1:]} per draw but the "
                         f"model has P {model.P.shape} and Q {model.Q.shape}")
    if draws.mu is None:
        means["mu"] = model.mu  # every draw uses the model's mu
    for name, mean in means.items():
        if not np.allclose(getattr(model, name), mean, rtol=1e-7, atol=1e-9):
            raise ValueError(f"{name} must be the mean of the draws' {name} (a model with draws predicts "
                             f"their mean); pass {name}=None to have it computed")
