"""The ridge solve every model borrows, and its batching: the bottom layer of mflab.

One user's (or item's) least-squares problem with a ridge penalty::

    p_u = argmin |r_u - Q_u p|^2 + reg |p|^2 = (Q_u^T Q_u + reg I)^{-1} Q_u^T r_u

is :func:`solve_user`, the few lines a student reads. :class:`Batches` solves it for every row of a
grouped rating table at once: rows are put in batches of similar rating counts, each batch's rated
factor rows are gathered into one zero-padded (rows x width x k) array, all the Gram matrices
``Q_u^T Q_u`` of the batch come from one stacked matrix product and one batched
``numpy.linalg.solve`` solves them. Rows with fewer ratings than unknowns solve the equivalent,
smaller (width x width) system instead (:func:`_solve_dual`). Memory per batch is bounded, so the
same code fits millions of ratings.

ALS (:mod:`mflab.als`), Bayesian MF (:mod:`mflab.bayes`, which draws around the same solution),
implicit ALS (:mod:`mflab.implicit.als`), factorization machines (:mod:`mflab.fm`) and fold-in
(:mod:`mflab.recommend`) all import this module; it imports nothing of mflab's.
"""
from __future__ import annotations

import numpy as np

_BATCH_FLOATS = 2_000_000  # gathered factor values and Gram entries per batch (~16 MB each)
_WIDTH_STEP = 1.125  # rows whose counts differ by less than this factor share a padded width


def solve_user(Q_u: np.ndarray, r_u: np.ndarray, reg: float) -> np.ndarray:
    """One ridge solve: ``p_u = (Q_u^T Q_u + reg I)^{-1} Q_u^T r_u``.

    ``Q_u`` is (n_rated, k), the factor rows of the items user u rated; ``r_u`` their ratings.
    """
    k = Q_u.shape[1]
    return np.linalg.solve(Q_u.T @ Q_u + reg * np.eye(k), Q_u.T @ r_u)


def solve_all(grouped, X: np.ndarray, y: np.ndarray, reg: float, current: np.ndarray, *,
              reg_scaling: str = "none") -> np.ndarray:
    """:func:`solve_user` for every row of a grouped rating table at once.

    ``grouped`` is ``Ratings.by_user`` (or ``by_item``): rows sorted by user, ``grouped.other``
    the item of each rating; ``X`` the fixed factors of the other side; ``y`` the targets in the
    same sorted order. Rows with no ratings keep their ``current`` value. ``reg_scaling="count"``
    uses ``reg * n_u`` as row u's ridge.
    """
    k = X.shape[1]
    counts = np.diff(grouped.indptr).astype(float) if reg_scaling == "count" else None
    return Batches(grouped, k).solve(X, y, np.full(k, float(reg)), current, counts)


class Batches:
    """The rows of a grouped table that have ratings, in batches of similar rating counts.

    Built once per fit. A batch is its row ids and a (rows x width) table of the positions of each
    row's ratings in the sorted order (and one of the other side's ids), padded to the batch's
    largest count with -1: the solver appends a zero factor row and a zero target, which -1 picks.
    A batch holds at most about ``_BATCH_FLOATS`` gathered values and Gram entries, so memory
    stays bounded whatever the number of rows.
    """

    def __init__(self, grouped, k: int):
        counts = np.diff(grouped.indptr)
        rated = np.flatnonzero(counts)
        rated = rated[np.argsort(counts[rated], kind="stable")]
        sorted_counts = counts[rated]
        width_class = np.floor(np.log(sorted_counts) / np.log(_WIDTH_STEP)).astype(np.int64)
        edges = np.r_[0, np.flatnonzero(np.diff(width_class)) + 1, len(rated)]
        self.batches = []  # (row ids, the other side's ids, the ratings' positions)
        for lo, hi in zip(edges[:-1], edges[1:]):
            width = int(sorted_counts[hi - 1])
            per_batch = max(1, _BATCH_FLOATS // ((width + k + 1) * k))
            for first in range(lo, hi, per_batch):
                rows = rated[first:min(first + per_batch, hi)]
                pos = grouped.indptr[rows][:, None] + np.arange(width)
                pos[np.arange(width) >= counts[rows][:, None]] = -1  # the zero row appended at the end
                other = np.where(pos >= 0, grouped.other[pos], -1)
                self.batches.append((rows, other, pos))

    def solve(self, X, y, ridge, current, counts=None):
        """Solve every rated row's ridge problem ``(X_u^T X_u + diag(ridge)) x = X_u^T y_u``.

        With ``counts`` (one number per row) row u's ridge is ``counts[u] * ridge`` instead.
        Rows without ratings keep their ``current`` value.
        """
        k = X.shape[1]
        X_pad = np.vstack([X, np.zeros((1, k))])  # padding (-1) gathers this zero row and zero
        y_pad = np.r_[y, 0.0]  # target, so padded entries add nothing to the sums
        # Products of at most ~2^17 multiply-adds each: a BLAS such as OpenBLAS runs larger ones on
        # several threads, which for matrices this small costs more than it saves (much more when
        # the machine is busy).
        step = max(8, 2**17 // (k * k))
        diag = np.arange(k)
        out = current.copy()
        for rows, other, pos in self.batches:
            row_ridge = ridge if counts is None else counts[rows][:, None] * ridge  # (k,) or (rows, k)
            if other.shape[1] < k and np.all(row_ridge > 0):
                out[rows] = _solve_dual(X_pad[other], y_pad[pos], np.reshape(row_ridge, (-1, 1, k)))
                continue
            A = np.zeros((len(rows), k, k))
            b = np.zeros((len(rows), k, 1))
            for s in range(0, other.shape[1], step):
                Xb = X_pad[other[:, s:s + step]]  # (rows, <= step, k)
                Xt = Xb.transpose(0, 2, 1)
                A += Xt @ Xb
                b += Xt @ y_pad[pos[:, s:s + step]][..., None]
            A[:, diag, diag] += row_ridge
            try:
                out[rows] = np.linalg.solve(A, b)[..., 0]
            except np.linalg.LinAlgError:
                raise ValueError(
                    "a normal-equation matrix is singular: the factors of the rated items (or users) "
                    "are linearly dependent and the ridge is zero; use reg > 0 (and reg_bias > 0 with "
                    "biases)") from None
        return out


def _solve_dual(Xb, yb, ridge):
    """The same ridge solutions for rows with fewer ratings (w) than unknowns (k), via a w x w system.

    With ``D = diag(ridge)`` (all > 0; ``ridge`` is (k,) or one row of it per problem), ``(X^T X + D)^{-1} X^T y = D^{-1} X^T (X D^{-1} X^T + I)^{-1} y``
    (push-through identity), so each row costs a w x w solve instead of a k x k one. ``Xb`` is
    (rows, w, k) and ``yb`` (rows, w), zero-padded; a padded entry gets a 1 on the diagonal of its
    system and a zero target, so it contributes nothing.
    """
    Xs = Xb / ridge  # X D^{-1}
    M = Xs @ Xb.transpose(0, 2, 1)
    w = np.arange(M.shape[1])
    M[:, w, w] += 1.0
    z = np.linalg.solve(M, yb[..., None])
    return (Xs.transpose(0, 2, 1) @ z)[..., 0]
