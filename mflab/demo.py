"""Rate a few movies, get recommendations: the logic behind lesson 10's app (and ``make demo``).

A new user is nobody the model was trained on. Their handful of ratings is *folded in*: with the
movie factors ``Q`` and biases fixed, one ridge solve gives their ``(p_u, b_u)``
(:func:`mflab.recommend.fold_in`)::

    [b_u, p_u] = argmin  sum_i (r_ui - mu - b_i - b_u - p_u . q_i)^2 + reg |p_u|^2 + reg_bias b_u^2

and their predicted ratings ``mu + b_u + b_i + p_u . q_i`` rank every movie they have not rated.
``p_u`` also places them on the 2-D latent map of :func:`mflab.plots.project_2d`, among the
best-known movies. The widgets in :func:`app` only call the functions here, which are unit-tested
(tests/test_demo.py) against ``numpy.linalg.lstsq`` and the rule that rated movies never come back.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _checks
from . import recommend as _recommend

# Stable CSS classes, so a browser test (tests/test_browser.py) can find the widgets.
CSS = {"search": "mflab-demo-search", "results": "mflab-demo-results", "rating": "mflab-demo-rating",
       "add": "mflab-demo-add", "clear": "mflab-demo-clear", "rated": "mflab-demo-rated",
       "recs": "mflab-demo-recs", "popular": "mflab-demo-popular", "map": "mflab-demo-map"}


@dataclass(frozen=True)
class Catalogue:
    """A fitted model with what the demo shows next to it.

    ``titles[i]`` and ``counts[i]`` (number of ratings) per movie; ``coords`` (n_items x 2) are the
    movies on the latent map, ``directions`` (k x 2) the map's axes (a user goes to
    ``p_u @ directions``); ``labelled`` the most-rated movies, named on the map; ``min_ratings``:
    movies with fewer ratings are never recommended (their factors rest on too little data).
    """
    model: object
    titles: np.ndarray
    counts: np.ndarray
    coords: np.ndarray
    directions: np.ndarray
    labelled: np.ndarray
    min_ratings: int


def build(ratings=None, titles=None, *, k: int = 10, reg: float = 15.0, reg_bias: float = 5.0,
          epochs: int = 15, seed: int = 0, min_ratings: int = 50, n_labels: int = 20) -> Catalogue:
    """Fit ALS with biases on ``ratings`` (default: all of MovieLens 100K) and prepare the map.

    The defaults are lesson 07's ALS settings on MovieLens. The map's directions are the leading
    singular directions of the factors of the movies with at least ``min_ratings`` ratings.
    """
    from . import als, datasets, plots

    if ratings is None:
        ml = datasets.movielens_100k()
        ratings, titles = ml.to_ratings(), ml.movies["title"].to_numpy()
    titles = np.asarray(titles, dtype=object)
    if titles.shape != (ratings.n_items,):
        raise ValueError(f"titles must give one title per item ({ratings.n_items}); got shape {titles.shape}")
    min_ratings = _checks.positive_int("min_ratings", min_ratings)
    model = als.fit(ratings, k, reg=reg, reg_bias=reg_bias, epochs=epochs, biases=True, seed=seed)
    counts = ratings.item_counts()
    known = np.flatnonzero(counts >= min_ratings)
    if len(known) < 2:
        raise ValueError(f"fewer than two movies have min_ratings={min_ratings} ratings; lower it")
    _, directions = plots.project_2d(model.Q[known])
    labelled = known[np.argsort(-counts[known], kind="stable")[:n_labels]]
    return Catalogue(model, titles, counts, model.Q @ directions, directions, labelled, min_ratings)


def search(cat: Catalogue, query: str, n: int = 8) -> pd.DataFrame:
    """Movies whose title holds every word of ``query`` (any case), most-rated first.

    Columns ``item, title, ratings``; an empty query gives an empty frame."""
    words = str(query).lower().split()
    hits = np.array([i for i, t in enumerate(cat.titles) if words and all(w in t.lower() for w in words)],
                    dtype=int)
    hits = hits[np.argsort(-cat.counts[hits], kind="stable")][:n]
    return pd.DataFrame({"item": hits, "title": cat.titles[hits], "ratings": cat.counts[hits]})


def _items_values(rated: dict):
    items = np.fromiter((int(i) for i in rated), dtype=int, count=len(rated))
    values = np.fromiter((float(v) for v in rated.values()), dtype=float, count=len(rated))
    return items, values


def fold_in(cat: Catalogue, rated: dict, *, reg: float = 5.0, reg_bias: float = 5.0):
    """``(p_u, b_u)`` of a user who gave ``rated[item] = rating``; zeros before any rating."""
    if not rated:
        return np.zeros(cat.model.k), 0.0
    items, values = _items_values(rated)
    return _recommend.fold_in(cat.model, items, values, reg=reg, reg_bias=reg_bias)


def recommend(cat: Catalogue, rated: dict, n: int = 10, *, reg: float = 5.0,
              reg_bias: float = 5.0) -> pd.DataFrame:
    """The ``n`` unrated movies (with at least ``cat.min_ratings`` ratings) of highest predicted
    rating ``mu + b_u + b_i + p_u . q_i``. Columns ``item, title, predicted, ratings``.

    Before any rating ``p_u = 0`` and ``b_u = 0``: the ranking by ``mu + b_i`` alone."""
    n = _checks.positive_int("n", n)
    p_u, b_u = fold_in(cat, rated, reg=reg, reg_bias=reg_bias)
    m = cat.model
    scores = m.mu + b_u + m.item_bias + m.Q @ p_u
    candidates = cat.counts >= cat.min_ratings
    if rated:
        candidates[_items_values(rated)[0]] = False
    top = np.flatnonzero(candidates)
    top = top[np.lexsort((top, -scores[top]))][:n]  # best first, ties by index
    return pd.DataFrame({"item": top, "title": cat.titles[top], "predicted": scores[top],
                         "ratings": cat.counts[top]})


def popularity(cat: Catalogue, rated: dict | None = None, n: int = 10) -> pd.DataFrame:
    """The ``n`` most-rated movies not in ``rated``: the same list for everybody, for comparison."""
    keep = np.ones(len(cat.titles), dtype=bool)
    if rated:
        keep[_items_values(rated)[0]] = False
    top = np.flatnonzero(keep)
    top = top[np.argsort(-cat.counts[top], kind="stable")][:n]
    return pd.DataFrame({"item": top, "title": cat.titles[top], "ratings": cat.counts[top]})


def position(cat: Catalogue, rated: dict, *, reg: float = 5.0, reg_bias: float = 5.0) -> np.ndarray:
    """The user's place on the latent map: ``p_u @ directions`` (the origin before any rating)."""
    return fold_in(cat, rated, reg=reg, reg_bias=reg_bias)[0] @ cat.directions


def draw_map(cat: Catalogue, rated: dict, *, reg: float = 5.0, reg_bias: float = 5.0, ax=None):
    """The labelled movies on the latent map, the rated ones ringed, and the user as a star."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    known = np.flatnonzero(cat.counts >= cat.min_ratings)
    ax.scatter(*cat.coords[known].T, s=8, color="0.8", label=f"movies with >= {cat.min_ratings} ratings")
    ax.scatter(*cat.coords[cat.labelled].T, s=25, color="#0072B2")
    for i in cat.labelled:
        ax.annotate(cat.titles[i].rsplit(" (", 1)[0][:20], cat.coords[i], fontsize=8,
                    xytext=(3, 3), textcoords="offset points")
    if rated:
        items = _items_values(rated)[0]
        ax.scatter(*cat.coords[items].T, s=90, facecolors="none", edgecolors="#D55E00", lw=2,
                   label="movies you rated")
    x, y = position(cat, rated, reg=reg, reg_bias=reg_bias)
    ax.scatter([x], [y], marker="*", s=350, color="#D55E00", edgecolors="black", label="you", zorder=5)
    ax.set(xlabel="direction 1", ylabel="direction 2", title="You on the latent map")
    ax.legend(fontsize=9, loc="best")
    return ax


def _table(df: pd.DataFrame, columns) -> str:
    return df[list(columns)].to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0)


def app(cat: Catalogue, *, reg: float = 5.0, reg_bias: float = 5.0, n: int = 10):
    """The ipywidgets app: search, rate with a slider, and watch the lists and the map update."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    rated: dict = {}
    query = w.Text(placeholder="search a title, e.g. star wars", description="Search")
    results = w.Select(options=[], rows=6, layout=w.Layout(width="100%"))
    stars = w.IntSlider(value=4, min=1, max=5, description="Your rating")
    add = w.Button(description="Rate", button_style="primary")
    clear = w.Button(description="Start over")
    rated_box = w.HTML()
    recs_box, pop_box, map_box = w.HTML(), w.HTML(), w.Output()
    for widget, name in ((query, "search"), (results, "results"), (stars, "rating"), (add, "add"),
                         (clear, "clear"), (rated_box, "rated"), (recs_box, "recs"), (pop_box, "popular"),
                         (map_box, "map")):
        widget.add_class(CSS[name])

    def on_search(_=None):
        found = search(cat, query.value)
        results.options = [(f"{t} ({c} ratings)", int(i)) for i, t, c in found.itertuples(index=False)]
        if len(found):
            results.value = int(found["item"].iloc[0])

    def refresh(_=None):
        mine = pd.DataFrame({"title": cat.titles[list(rated)], "your rating": list(rated.values())})
        rated_box.value = ("<b>Rated:</b> none yet" if not rated else "<b>Rated</b>" + _table(mine, mine.columns))
        recs = recommend(cat, rated, n, reg=reg, reg_bias=reg_bias)
        recs_box.value = "<b>Your top %d</b>" % n + _table(recs, ["title", "predicted"])
        pop_box.value = "<b>Most rated (same for everyone)</b>" + _table(popularity(cat, rated, n), ["title", "ratings"])
        map_box.clear_output(wait=True)
        with map_box:
            draw_map(cat, rated, reg=reg, reg_bias=reg_bias)
            plt.show()

    def on_add(_):
        if results.value is not None:
            rated[int(results.value)] = int(stars.value)
            refresh()

    def on_clear(_):
        rated.clear()
        refresh()

    query.observe(on_search, names="value")
    add.on_click(on_add)
    clear.on_click(on_clear)
    refresh()
    left = w.VBox([query, results, w.HBox([stars, add, clear]), rated_box])
    lists = w.HBox([recs_box, pop_box], layout=w.Layout(justify_content="space-between"))
    return w.VBox([w.HBox([left, map_box]), lists])
