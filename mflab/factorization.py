"""``Factorization``: what every ``fit`` returns.

One shape for every model::

    r_hat(u, i) = mu + b_u + b_i + p_u . q_i

The baseline is a Factorization with k = 0 factors; plain matrix factorization is one with
``mu = 0`` and zero biases. So every lesson compares models with the same calls.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import _checks
from .ratings import require_ratings


# predict gathers at most this many factor entries per side at once (2**22 doubles: 32 MB)
_GATHER_ELEMENTS = 2 ** 22


class ColdStartError(ValueError):
    """Raised when a prediction is asked for a user or item the model has never seen."""


@dataclass(frozen=True, eq=False)
class Factorization:
    """A fitted model ``r_hat = mu + user_bias[u] + item_bias[i] + P[u] @ Q[i]``.

    Attributes
    ----------
    P : (n_users, k) array      user factors (k may be 0)
    Q : (n_items, k) array      item factors
    mu : float                  global offset (0 for plain MF)
    user_bias, item_bias        (n_users,), (n_items,) arrays; zeros where the model has none
    history : mapping of tuples per-epoch/sweep ``train_rmse`` (and ``test_rmse`` if a test set
                                was passed to ``fit``)
    scale : (low, high)         rating scale of the training data, used when ``clip=True``
    method : str                which fit made it, e.g. ``"als"``
    params : dict               the scalar hyper-parameters it was fitted with
    info : dict                 what the fit computed besides the model (e.g. ``singular_values``)
    item_ids, user_ids          raw ids carried over from the training Ratings (or None)

    The shapes are checked on construction and the arrays are read-only, like a Ratings': a
    model is a result, and a change to it would silently disagree with its ``history``.
    """

    P: np.ndarray
    Q: np.ndarray
    mu: float = 0.0
    user_bias: np.ndarray | None = None
    item_bias: np.ndarray | None = None
    history: dict = field(default_factory=dict)
    scale: tuple | None = None
    method: str = ""
    params: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict, repr=False)
    user_ids: np.ndarray | None = field(default=None, repr=False)
    item_ids: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        P, Q = _frozen("P", self.P, 2), _frozen("Q", self.Q, 2)
        if P.shape[1] != Q.shape[1]:
            raise ValueError(f"P and Q must have the same number of columns (k); got {P.shape} and {Q.shape}")
        set_("P", P)
        set_("Q", Q)
        mu = _checks._real("mu", self.mu)
        set_("mu", mu)
        for name, bias, n, other in (("user_bias", self.user_bias, len(P), "P"),
                                     ("item_bias", self.item_bias, len(Q), "Q")):
            bias = np.zeros(n) if bias is None else _frozen(name, bias, 1)
            if len(bias) != n:
                raise ValueError(f"{name} has {len(bias)} entries but {other} has {n} rows; "
                                 f"they must be one per {name.split('_')[0]}")
            bias.flags.writeable = False
            set_(name, bias)
        set_("history", MappingProxyType({name: tuple(float(v) for v in values)
                                          for name, values in dict(self.history).items()}))
        if self.scale is not None:
            set_("scale", _scale("scale", self.scale))
        for name in ("params", "info"):
            set_(name, MappingProxyType(dict(getattr(self, name))))

    @classmethod
    def from_training(cls, train, P, Q, mu=0.0, user_bias=None, item_bias=None, *, history=None,
                      method="", params=None, info=None) -> "Factorization":
        """A Factorization that carries ``train``'s scale and raw ids (used by every ``fit``)."""
        return cls(P, Q, mu, user_bias, item_bias, history=history or {}, scale=train.scale,
                   method=method, params=params or {}, info=info or {}, user_ids=train.user_ids,
                   item_ids=train.item_ids)

    # ----------------------------------------------------------------- shape
    @property
    def n_users(self) -> int:
        return len(self.P)

    @property
    def n_items(self) -> int:
        return len(self.Q)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)``."""
        return (self.n_users, self.n_items)

    @property
    def k(self) -> int:
        """Number of latent factors."""
        return self.P.shape[1]

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.params.items() if name != "k")
        last = ", ".join(f"{name} {values[-1]:.4f}" for name, values in self.history.items() if values)
        return (f"Factorization({self.method or 'model'}, {self.n_users} users x {self.n_items} items, "
                f"k={self.params.get('k', self.k)}" + (f", {settings}" if settings else "") + ")"
                + (f"  [last epoch: {last}]" if last else ""))

    # ----------------------------------------------------------------- prediction
    def predict(self, users, items, *, clip=False) -> np.ndarray:
        """Predicted ratings ``mu + b_u + b_i + p_u . q_i`` for aligned arrays of users and items.

        ``clip=True`` clips to the training rating scale; ``clip=(low, high)`` to a given one.
        A user or item index the model has no row for raises :class:`ColdStartError`.
        """
        users = np.asarray(users)
        items = np.asarray(items)
        if users.ndim and items.ndim and users.shape != items.shape:
            raise ValueError(f"users and items must be aligned (one user per item), or one of them a "
                             f"single index; got shapes {users.shape} and {items.shape}")
        self._check_known("user", users, self.n_users)
        self._check_known("item", items, self.n_items)
        if users.size == 0 or items.size == 0:
            return np.zeros(np.broadcast_shapes(users.shape, items.shape))
        scores = self.mu + self.user_bias[users] + self.item_bias[items]
        return self._clip(scores + self._dots(users, items), clip)

    def _dots(self, users, items) -> np.ndarray:
        """``p_u . q_i`` for aligned (or broadcast) index arrays, gathered a block at a time so that
        a wide model (Bayesian MF keeps k x draws columns) never copies all the rows at once."""
        users, items = np.broadcast_arrays(users, items)
        flat_u, flat_i = users.ravel(), items.ravel()
        out = np.empty(flat_u.size)
        step = max(1, _GATHER_ELEMENTS // max(self.k, 1))
        for s in range(0, flat_u.size, step):
            out[s:s + step] = np.einsum("nk,nk->n", self.P[flat_u[s:s + step]], self.Q[flat_i[s:s + step]])
        return out.reshape(users.shape)

    def predict_all(self, *, clip=False, force: bool = False) -> np.ndarray:
        """The dense users x items matrix of predictions (for small data).

        Refused above ``mflab._checks.DENSE_CELL_LIMIT`` cells unless ``force=True``; built in one
        buffer (``P Q^T`` and the offsets added in place).
        """
        _checks.dense_size("predict_all()", self.n_users, self.n_items, force=force,
                           alternative="Score one user at a time with model.recommend(user, n) or "
                                       "model.predict(user, items).")
        R = self.P @ self.Q.T if self.k else np.zeros((self.n_users, self.n_items))
        R += self.mu
        R += self.user_bias[:, None]
        R += self.item_bias[None, :]
        return self._clip(R, clip)

    def predict_ratings(self, ratings, *, clip=False) -> np.ndarray:
        """Predictions for every (user, item) of a :class:`mflab.Ratings`, aligned with ``ratings.value``."""
        require_ratings("ratings", ratings)
        return self.predict(ratings.user, ratings.item, clip=clip)

    def rmse(self, ratings, *, clip=False) -> float:
        """Root mean squared error on ``ratings``: sqrt(mean((r - r_hat)^2))."""
        from .metrics import rmse

        return rmse(ratings.value, self.predict_ratings(ratings, clip=clip))

    def mae(self, ratings, *, clip=False) -> float:
        """Mean absolute error on ``ratings``: mean(|r - r_hat|)."""
        from .metrics import mae

        return mae(ratings.value, self.predict_ratings(ratings, clip=clip))

    # ----------------------------------------------------------------- recommendations
    def recommend(self, user: int, n: int = 10, *, exclude=None, fallback=None, min_ratings: int = 1):
        """Top-``n`` items for ``user`` by predicted rating, skipping what ``exclude`` says they rated.

        See :func:`mflab.recommend.top_n` (``fallback="popular"`` serves users with fewer than
        ``min_ratings`` ratings in ``exclude`` from the popularity ranking instead).
        """
        from .recommend import top_n

        return top_n(self, user, n, exclude=exclude, fallback=fallback, min_ratings=min_ratings)

    def similar_items(self, item: int, n: int = 10):
        """The ``n`` items whose factor vectors have the highest cosine similarity to ``item``'s."""
        from .recommend import similar_items

        return similar_items(self, item, n)

    def fold_in(self, items, ratings, *, reg: float, reg_bias: float | None = None):
        """A new user's ``(p_u, b_u)`` from their first ratings, ``Q`` fixed: one ridge solve.

        See :func:`mflab.recommend.fold_in`.
        """
        from .recommend import fold_in

        return fold_in(self, items, ratings, reg=reg, reg_bias=reg_bias)

    # ----------------------------------------------------------------- helpers
    def _clip(self, scores, clip):
        if clip is False or clip is None:
            return scores
        if clip is True:
            if self.scale is None:
                raise ValueError("clip=True needs the training rating scale; pass clip=(low, high)")
            low, high = self.scale
        else:
            low, high = _scale("clip", clip)
        return np.clip(scores, low, high, out=scores if isinstance(scores, np.ndarray) else None)

    @staticmethod
    def _check_known(name, idx, n):
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"{name}s must be integer indices; got dtype {idx.dtype}")
        bad = (idx < 0) | (idx >= n)
        if np.any(bad):
            first = int(np.ravel(idx)[np.ravel(bad)][0])
            if name == "user":
                raise ColdStartError(
                    f"user {first} is not in the model (it knows users 0..{n - 1}): a cold-start user "
                    f"with no learned factors. For a new user, recommend popular items with "
                    f"mflab.recommend.popular(train, n), or model.recommend(user, fallback='popular'); "
                    f"once they have rated a few items, fold them in with Q fixed: "
                    f"model.fold_in(items, ratings, reg=...) (lesson 06)."
                )
            raise ColdStartError(
                f"item {first} is not in the model (it knows items 0..{n - 1}): a cold-start item "
                f"with no learned factors; it can only be recommended once it has ratings."
            )


def _frozen(name, value, ndim) -> np.ndarray:
    """A read-only float copy of ``value``, which must be ``ndim``-dimensional and finite."""
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers; got {type(value).__name__}") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    array.flags.writeable = False
    return array


def _scale(name, value) -> tuple:
    """``(low, high)`` as two finite floats with low <= high (equal: every training rating alike)."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high) of numbers; got {value!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(f"{name} must be (low, high) with finite low <= high; got {value!r}")
    return (low, high)
