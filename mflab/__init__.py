"""mflab: a matrix-factorization lab for recommender systems.

Every model is fitted by a module's ``fit`` and returned as a :class:`Factorization`::

    from mflab import Ratings, baseline, svd, als, sgd
    model = als.fit(train, k=3, reg=0.1, epochs=60, biases=False, seed=rng)
    model.rmse(test)
"""
from . import als, baseline, bayes, checks, coldstart, datasets, metrics, recommend, ridge, sgd, splits, svd
from .factorization import ColdStartError, Factorization
from .ratings import Ratings
from .show import show

__all__ = ["Ratings", "Factorization", "ColdStartError", "baseline", "svd", "als", "sgd", "bayes", "metrics",
           "recommend", "coldstart", "splits", "datasets", "show", "checks"]
__version__ = "0.1.0"
