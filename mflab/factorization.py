"""``Factorization``: what every ``fit`` returns.

One shape for every model::

    r_hat(u, i) = mu + b_u + b_i + p_u . q_i

The baseline is a Factorization with k = 0 factors; plain matrix factorization is one with
``mu = 0`` and zero biases. A sampler (Bayesian MF, Bayesian FM) also keeps its posterior
``draws`` (:class:`Draws`); then ``P``, ``Q``, ``mu`` and the biases are the draws' means and a
prediction is the mean of the draws' predictions. So every lesson compares models with the same calls.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from . import _checks, _freeze
from ._draws import Draws, check_means, means_of
from ._factorization_io import FORMAT_VERSION, read, write  # noqa: F401  (FORMAT_VERSION: public)
from ._raw_ids import RawIds
from .ratings import require_ratings

__all__ = ["Factorization", "Draws", "ColdStartError", "FORMAT_VERSION"]

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
    history : mapping           per-epoch/sweep ``train_rmse`` (and ``test_rmse`` if a test set
                                was passed to ``fit``): tuples of floats (a trace of vectors: a
                                read-only (steps, ...) array)
    scale : (low, high)         rating scale of the training data, used when ``clip=True``
    method : str                which fit made it, e.g. ``"als"``
    params : mapping            the hyper-parameters it was fitted with; ``params["k"] == k``
    info : mapping              what the fit computed besides the model (e.g. ``singular_values``)
    user_ids, item_ids          raw ids carried over from the training Ratings (or None)
    draws : Draws or None       posterior draws (S of them); P, Q, mu, biases are then their means

    Everything is checked on construction and copied read-only, all the way down (``params`` and
    ``info`` become read-only mappings of tuples and read-only arrays): a model is a result, and
    a change to it would silently disagree with its ``history``.
    """

    P: np.ndarray | None
    Q: np.ndarray | None
    mu: float | None = 0.0
    user_bias: np.ndarray | None = None
    item_bias: np.ndarray | None = None
    history: dict = field(default_factory=dict)
    scale: tuple | None = None
    method: str = ""
    params: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict, repr=False)
    user_ids: np.ndarray | None = field(default=None, repr=False)
    item_ids: np.ndarray | None = field(default=None, repr=False)
    draws: Draws | None = field(default=None, repr=False)

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        draws = self.draws
        if draws is not None and not isinstance(draws, Draws):
            raise TypeError(f"draws must be an mflab.factorization.Draws or None; got {type(draws).__name__}")
        means = means_of(draws)
        P = _freeze.finite("P", means["P"] if self.P is None and draws else self.P, 2)
        Q = _freeze.finite("Q", means["Q"] if self.Q is None and draws else self.Q, 2)
        if P.shape[1] != Q.shape[1]:
            raise ValueError(f"P and Q must have the same number of columns (k); got {P.shape} and {Q.shape}")
        set_("P", P)
        set_("Q", Q)
        set_("mu", _checks._real("mu", means["mu"] if self.mu is None and draws else (self.mu or 0.0)))
        for name, n, other in (("user_bias", len(P), "P"), ("item_bias", len(Q), "Q")):
            bias = getattr(self, name)
            if bias is None:
                bias = means[name] if draws else np.zeros(n)
            bias = _freeze.finite(name, bias, 1)
            if len(bias) != n:
                raise ValueError(f"{name} has {len(bias)} entries but {other} has {n} rows; "
                                 f"they must be one per {name.split('_')[0]}")
            set_(name, bias)
        if draws is not None:
            check_means(self, draws, means)
        set_("history", _freeze.history(self.history))
        if self.scale is not None:
            set_("scale", _freeze.scale_pair("scale", self.scale))
        if not isinstance(self.method, str):
            raise TypeError(f"method must be a string; got {self.method!r}")
        params = dict(self.params)
        if params.setdefault("k", P.shape[1]) != P.shape[1]:
            raise ValueError(f"params['k'] is {params['k']!r} but P and Q have {P.shape[1]} columns; "
                             f"model.k and params['k'] must agree")
        set_("params", _freeze.freeze(params, "params"))
        set_("info", _freeze.freeze(dict(self.info), "info"))
        for name, n in (("user_ids", len(P)), ("item_ids", len(Q))):
            ids = getattr(self, name)
            if ids is not None:
                ids = _freeze.read_only(ids)
                if ids.shape != (n,):
                    raise ValueError(f"{name} must have one raw id per row ({n}); got shape {ids.shape}")
                set_(name, ids)

    @classmethod
    def from_training(cls, train, P, Q, mu=0.0, user_bias=None, item_bias=None, *, history=None,
                      method="", params=None, info=None, draws=None) -> "Factorization":
        """A Factorization that carries ``train``'s scale and raw ids (used by every ``fit``).

        With ``draws``, ``P``, ``Q``, ``mu`` (pass ``None``) and the biases may be left out: they
        are then the draws' means.
        """
        return cls(P, Q, mu, user_bias, item_bias, history=history or {}, scale=train.scale,
                   method=method, params=params or {}, info=info or {}, user_ids=train.user_ids,
                   item_ids=train.item_ids, draws=draws)

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
        """Number of latent factors (``== params["k"]``)."""
        return self.P.shape[1]

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self.params.items() if name != "k")
        last = ", ".join(f"{name} {values[-1]:.4f}" for name, values in self.history.items()
                         if isinstance(values, tuple) and values)
        kept = f", {len(self.draws)} draws" if self.draws is not None else ""
        return (f"Factorization({self.method or 'model'}, {self.n_users} users x {self.n_items} items, "
                f"k={self.k}{kept}" + (f", {settings}" if settings else "") + ")"
                + (f"  [last epoch: {last}]" if last else ""))

    # ----------------------------------------------------------------- prediction
    def predict(self, users, items, *, clip=False) -> np.ndarray:
        """Predicted ratings ``mu + b_u + b_i + p_u . q_i`` for aligned arrays of users and items.

        With draws: the mean over the S draws of ``mu_s + b_u^s + b_i^s + p_u^s . q_i^s``.
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
        """``p_u . q_i`` (with draws: its mean over draws) for aligned or broadcast index arrays,
        gathered a block of pairs at a time, so memory stays bounded however many pairs or draws."""
        users, items = np.broadcast_arrays(users, items)
        flat_u, flat_i = users.ravel(), items.ravel()
        out = np.empty(flat_u.size)
        if self.draws is None:
            step = max(1, _GATHER_ELEMENTS // max(self.k, 1))
            for s in range(0, flat_u.size, step):
                out[s:s + step] = np.einsum("nk,nk->n", self.P[flat_u[s:s + step]], self.Q[flat_i[s:s + step]])
        else:
            P, Q, S = self.draws.P, self.draws.Q, len(self.draws)
            step = max(1, _GATHER_ELEMENTS // max(self.k * S, 1))
            for s in range(0, flat_u.size, step):
                out[s:s + step] = np.einsum("snk,snk->n", P[:, flat_u[s:s + step]], Q[:, flat_i[s:s + step]]) / S
        return out.reshape(users.shape)

    def predict_all(self, *, clip=False, force: bool = False) -> np.ndarray:
        """The dense users x items matrix of predictions (for small data).

        Refused above ``mflab._checks.DENSE_CELL_LIMIT`` cells unless ``force=True``. Built in one
        buffer (``P Q^T``, or the mean of the draws' ``P_s Q_s^T`` a block of draws at a time, then
        the offsets added in place).
        """
        _checks.dense_size("predict_all()", self.n_users, self.n_items, force=force,
                           alternative="Score one user at a time with model.recommend(user, n) or "
                                       "model.predict(user, items).")
        if self.draws is None or self.k == 0:
            R = self.P @ self.Q.T if self.k else np.zeros((self.n_users, self.n_items))
        else:
            R = np.zeros((self.n_users, self.n_items))
            S = len(self.draws)
            block = max(1, _GATHER_ELEMENTS // (self.k * (self.n_users + self.n_items)))
            for s in range(0, S, block):
                P = np.concatenate(self.draws.P[s:s + block], axis=1)  # draws side by side
                R += P @ np.concatenate(self.draws.Q[s:s + block], axis=1).T
            R /= S
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
        e = require_ratings("ratings", ratings).value - self.predict_ratings(ratings, clip=clip)
        return float(np.sqrt(np.mean(e * e)))

    def mae(self, ratings, *, clip=False) -> float:
        """Mean absolute error on ``ratings``: mean(|r - r_hat|)."""
        e = require_ratings("ratings", ratings).value - self.predict_ratings(ratings, clip=clip)
        return float(np.mean(np.abs(e)))

    # ----------------------------------------------------------------- raw ids
    @cached_property
    def _raw(self) -> RawIds:
        return RawIds(self.user_ids, self.item_ids, ColdStartError)

    def predict_ids(self, raw_users, raw_items, *, clip=False) -> np.ndarray:
        """:meth:`predict` by the dataset's own ids (``user_ids``, ``item_ids`` of the training
        Ratings); an unknown raw id raises :class:`ColdStartError` naming it."""
        users, items = self._raw.users(raw_users), self._raw.items(raw_items)
        return self.predict(users, items, clip=clip)

    def recommend_ids(self, raw_user, n: int = 10, *, exclude=None, fallback=None, min_ratings: int = 1):
        """:meth:`recommend` for the user whose raw id is ``raw_user`` (DataFrame with ``item_id``)."""
        user = int(self._raw.users(raw_user, one=True))
        return self.recommend(user, n, exclude=exclude, fallback=fallback, min_ratings=min_ratings)

    # ----------------------------------------------------------------- recommendations
    def recommend(self, user: int, n: int = 10, *, exclude=None, fallback=None, min_ratings: int = 1):
        """Top-``n`` items for ``user`` by predicted rating, skipping what ``exclude`` says they rated.

        See :func:`mflab.recommend.top_n` (``fallback="popular"`` serves users with fewer than
        ``min_ratings`` ratings in ``exclude`` from the popularity ranking instead).
        """
        from .recommend import top_n

        return top_n(self, user, n, exclude=exclude, fallback=fallback, min_ratings=min_ratings)

    def similar_items(self, item: int, n: int = 10):
        """The ``n`` items whose (posterior-mean) factor vectors have the highest cosine similarity."""
        from .recommend import similar_items

        return similar_items(self, item, n)

    def fold_in(self, items, ratings, *, reg=None, reg_bias=None, reg_scaling=None):
        """A new user's ``(p_u, b_u)`` from their first ratings, ``Q`` fixed: one ridge solve with
        the model's own ``reg`` by default. See :func:`mflab.recommend.fold_in`."""
        from .recommend import fold_in

        return fold_in(self, items, ratings, reg=reg, reg_bias=reg_bias, reg_scaling=reg_scaling)

    # ----------------------------------------------------------------- files
    def save(self, path) -> None:
        """Write every field to one ``.npz`` file (format :data:`FORMAT_VERSION`, no pickle)."""
        write(path, self)

    @classmethod
    def load(cls, path) -> "Factorization":
        """The model :meth:`save` wrote to ``path``; a file of another format version, or one not
        written by mflab, is refused with an error that says which."""
        fields = read(path)
        draws = fields.pop("draws")
        return cls(**fields, draws=Draws(**draws) if draws is not None else None)

    # ----------------------------------------------------------------- helpers
    def _clip(self, scores, clip):
        if clip is False or clip is None:
            return scores
        if clip is True:
            if self.scale is None:
                raise ValueError("clip=True needs the training rating scale; pass clip=(low, high)")
            low, high = self.scale
        else:
            low, high = _freeze.scale_pair("clip", clip)
        return np.clip(scores, low, high, out=scores if isinstance(scores, np.ndarray) else None)

    @staticmethod
    def _check_known(name, idx, n):
        if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.dtype == bool):
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
                    f"model.fold_in(items, ratings).")
            raise ColdStartError(
                f"item {first} is not in the model (it knows items 0..{n - 1}): a cold-start item "
                f"with no learned factors; it can only be recommended once it has ratings.")
