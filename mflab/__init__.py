"""mflab: a matrix-factorization lab for recommender systems.

Every model is fitted by a module's ``fit`` and returned as a :class:`Factorization`::

    from mflab import Ratings, baseline, svd, als, sgd, bayes, fm, implicit
    model = als.fit(train, k=3, reg=0.1, epochs=60, biases=False, seed=rng)
    model.rmse(test)
    model.save("als.npz"); Factorization.load("als.npz")

Course tooling (slides, student copies) lives apart, in ``mflab.course``; the library never imports it.
"""
from . import (als, baseline, bayes, checks, coldstart, datasets, fm, implicit, metrics, recommend, ridge, sgd,
               splits, svd)
from .factorization import ColdStartError, Draws, Factorization
from .ratings import Ratings
from .show import show

__all__ = ["Ratings", "Factorization", "Draws", "ColdStartError", "baseline", "svd", "als", "sgd", "bayes",
           "fm", "implicit", "metrics", "recommend", "ridge", "coldstart", "splits", "datasets", "show", "checks"]
__version__ = "0.1.0"
