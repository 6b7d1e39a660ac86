"""Independent references the tests hold mflab to (imported by several test files)."""
import numpy as np


def stacked_ridge(X, y, ridge):
    """argmin |X w - y|^2 + sum_j ridge_j w_j^2, as ordinary least squares on the stacked system
    [X; diag(sqrt(ridge))] w = [y; 0]. ``ridge`` is one number (lambda I) or one per column."""
    k = X.shape[1]
    ridge = np.broadcast_to(np.asarray(ridge, dtype=float), (k,))
    A = np.vstack([X, np.diag(np.sqrt(ridge))])
    return np.linalg.lstsq(A, np.r_[y, np.zeros(k)], rcond=None)[0]
