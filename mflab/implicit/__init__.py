"""Implicit feedback: who watched, clicked or bought what, with no rating to predict.

A missing entry is not "unknown" but "probably not interested, weakly". **An interaction is a
stored positive value** of a :class:`~mflab.Ratings` (a count, or a strength such as a rating);
both models drop stored zeros with a warning (``Ratings.from_dense(counts)`` stores them) and
refuse negative values. Two models, each a module with a ``fit`` returning a
:class:`~mflab.Factorization` whose scores rank items (they are not ratings)::

    from mflab import implicit
    model = implicit.als.fit(train, 32, alpha=10.0, seed=0)   # confidence-weighted ALS
    model = implicit.bpr.fit(train, 64, lr=0.05, epochs=100, seed=0)   # Bayesian personalised ranking

- :mod:`mflab.implicit.als`: Hu, Koren and Volinsky's weighted least squares over every cell,
  solved by alternating sweeps (exact, or a few conjugate-gradient steps per row).
- :mod:`mflab.implicit.bpr`: Rendle et al.'s pairwise ranking, by SGD over sampled triples.

One pair of letters throughout: ``P`` (users x k) holds the user vectors ``p_u``, ``Q`` (items x k)
the item vectors ``q_i``; the 0/1 preference of implicit ALS is ``pref_ui`` (pi_ui in the lessons).
"""
from . import als, bpr

__all__ = ["als", "bpr"]
