"""Rate a few movies, get recommendations: the logic behind lesson 13's app (and ``make demo``).

A new user is nobody the model was trained on. Their handful of ratings is *folded in*: with the
movie factors ``Q`` and biases fixed, one ridge solve gives their ``(p_u, b_u)``
(:func:`mflab.recommend.fold_in`)::

    [b_u, p_u] = argmin  sum_i (r_ui - mu - b_i - b_u - p_u . q_i)^2 + reg |p_u|^2 + reg_bias b_u^2

and their predicted ratings ``mu + b_u + b_i + p_u . q_i`` rank every movie they have not rated.
``p_u`` also places them on the 2-D latent map of :func:`mflab.plots.project_2d`, among the
best-known movies. :func:`fold_in_study` chooses ``reg`` for this solve on validation users (held
out from the fit, each giving a few ratings and scored on the rest): :data:`FOLD_IN_REG`. The
widgets in :func:`app` only call the functions here, which are unit-tested (tests/test_demo.py)
against ``numpy.linalg.lstsq`` and the rule that rated movies never come back.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import _checks, plots
from . import recommend as _recommend

# The fold-in ridge of the app: lowest validation RMSE for new users with 3, 5 or 10 ratings in
# :func:`fold_in_study` (lesson 13 runs it and prints the table).
FOLD_IN_REG = 5.0

# Lesson 13's cells that make up the app page `make demo` serves (see app_page).
APP_TAG = "demo-app"
APP_TITLE = """# Rate and recommend

Type part of a title, pick the movie, set your rating (1 to 5 stars) and press **Rate**. Your top
10, the most-rated list and your star on the latent map update after every rating; rating a movie
again replaces its rating, and **Start over** forgets you. The model is ALS fitted on all 100,000
MovieLens ratings; your ratings are folded in with the movie factors fixed (lessons 08 and 13)."""

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

    The defaults are the ALS setting that ``bench/als_search.py`` chose on a validation split of
    MovieLens (lesson 13 uses it). The map's directions are the leading
    singular directions of the factors of the movies with at least ``min_ratings`` ratings.
    """
    from . import als, datasets

    if ratings is None:
        ml = datasets.movielens_100k()
        ratings, titles = ml.to_ratings(), ml.movies["title"].to_numpy()
    titles = np.asarray(titles, dtype=object)
    if titles.shape != (ratings.n_items,):
        raise ValueError(f"titles must give one title per item ({ratings.n_items}); got shape {titles.shape}")
    min_ratings = _checks.count("min_ratings", min_ratings)
    n_labels = _checks.count("n_labels", n_labels, minimum=0)
    model = als.fit(ratings, k, reg=reg, reg_bias=reg_bias, epochs=epochs, biases=True, seed=seed)
    counts = ratings.item_counts()
    known = np.flatnonzero(counts >= min_ratings)
    if len(known) < 2:
        raise ValueError(f"fewer than two movies have min_ratings={min_ratings} ratings; lower it")
    _, directions = plots.project_2d(model.Q[known])
    labelled = known[np.argsort(-counts[known], kind="stable")[:n_labels]]
    return Catalogue(model, titles, counts, model.Q @ directions, directions, labelled, min_ratings)


def fold_in_study(ratings=None, *, regs=(1.0, 2.0, 5.0, 10.0, 20.0, 50.0), n_given=(3, 5, 10),
                  reg_bias: float = 5.0, val_frac: float = 0.2, min_user_ratings: int = 30, k: int = 10,
                  model_reg: float = 15.0, epochs: int = 15, seed: int = 0) -> pd.DataFrame:
    """Choose the fold-in ``reg`` on validation users: RMSE of their unseen ratings per ``reg``.

    A share ``val_frac`` of the users with at least ``min_user_ratings`` ratings is held out as
    "new users"; ALS (``k``, ``model_reg``, ``reg_bias``, ``epochs``) is fitted on everybody else.
    Each held-out user gives ``n`` of their ratings (drawn at random, seeded), is folded in with
    each ``reg`` (the bias ridge ``reg_bias``), and is scored on all their other ratings. The row
    ``reg = inf`` is ``p_u = 0`` with ``b_u`` folded in alone, the factor-free fallback.
    Columns ``n_given, reg, rmse, users, scored``; one row per pair (``users`` held out, ``scored``
    the unseen ratings the RMSE pools).
    """
    from . import als, datasets

    if ratings is None:
        ratings = datasets.movielens_100k().to_ratings()
    regs = [_checks.positive("regs", r) for r in np.atleast_1d(regs).tolist()]
    n_given = [_checks.count("n_given", n) for n in np.atleast_1d(n_given).tolist()]
    if not regs or not n_given:
        raise ValueError("regs and n_given must each hold at least one value")
    reg_bias = _checks.nonnegative("reg_bias", reg_bias)
    val_frac = _checks.positive("val_frac", val_frac)
    if val_frac >= 1:
        raise ValueError(f"val_frac must be in (0, 1); got {val_frac}")
    min_user_ratings = _checks.count("min_user_ratings", min_user_ratings)
    rng = _checks.generator(seed)
    counts = ratings.user_counts()
    eligible = np.flatnonzero(counts >= max(min_user_ratings, max(n_given) + 1))
    if not len(eligible):
        raise ValueError(f"no user has more than max(n_given)={max(n_given)} and at least "
                         f"min_user_ratings={min_user_ratings} ratings: nobody to validate on")
    held = np.sort(rng.choice(eligible, size=max(1, int(round(val_frac * len(eligible)))), replace=False))
    is_held = np.isin(ratings.user, held)
    model = als.fit(ratings.subset(~is_held), k, reg=model_reg, reg_bias=reg_bias, epochs=epochs,
                    biases=True, seed=seed)
    rows = []
    order = {u: rng.permutation(np.flatnonzero(ratings.user == u)) for u in held}
    for n in n_given:
        for reg in (*regs, np.inf):
            sse, count = 0.0, 0
            for u in held:
                given, rest = order[u][:n], order[u][n:]
                items, values = ratings.item[given], ratings.value[given]
                if np.isinf(reg):  # bias only: the ridge on p_u made infinite
                    b_u = float(np.sum(values - model.mu - model.item_bias[items]) / (n + reg_bias))
                    p_u = np.zeros(model.k)
                else:
                    p_u, b_u = _recommend.fold_in(model, items, values, reg=reg, reg_bias=reg_bias)
                pred = model.mu + b_u + model.item_bias[ratings.item[rest]] + model.Q[ratings.item[rest]] @ p_u
                err = ratings.value[rest] - np.clip(pred, *ratings.scale)
                sse, count = sse + err @ err, count + len(rest)
            rows.append({"n_given": n, "reg": reg, "rmse": np.sqrt(sse / count), "users": len(held),
                         "scored": count})
    return pd.DataFrame(rows)


def search(cat: Catalogue, query: str, n: int = 8) -> pd.DataFrame:
    """Movies whose title holds every word of ``query`` (any case), most-rated first.

    Columns ``item, title, ratings``; an empty query gives an empty frame."""
    n = _checks.count("n", n)
    if not isinstance(query, str):
        raise TypeError(f"query must be a string (words of a title); got {type(query).__name__}")
    words = query.lower().split()
    hits = np.array([i for i, t in enumerate(cat.titles) if words and all(w in t.lower() for w in words)],
                    dtype=int)
    hits = hits[np.argsort(-cat.counts[hits], kind="stable")][:n]
    return pd.DataFrame({"item": hits, "title": cat.titles[hits], "ratings": cat.counts[hits]})


def _items_values(cat: Catalogue, rated: dict):
    """The movie indices and ratings of ``rated``, checked: integer keys (a key of 1.7 is not movie
    1) naming movies of the catalogue, and ratings on the model's scale (50 is not a rating on 1-5)."""
    if not isinstance(rated, dict):
        raise TypeError(f"rated must be a dict {{movie index: rating}}; got {type(rated).__name__}")
    items = _checks.indices("rated (its keys, the movies)", list(rated), len(cat.titles), what="movie")
    values = _checks.values_on_scale("rated (its values, the ratings)", list(rated.values()),
                                     getattr(cat.model, "scale", None))
    return items, values


def fold_in(cat: Catalogue, rated: dict, *, reg: float = FOLD_IN_REG, reg_bias: float = 5.0):
    """``(p_u, b_u)`` of a user who gave ``rated[item] = rating``; zeros before any rating."""
    items, values = _items_values(cat, rated)
    if not len(items):
        return np.zeros(cat.model.k), 0.0
    return _recommend.fold_in(cat.model, items, values, reg=reg, reg_bias=reg_bias)


def recommend(cat: Catalogue, rated: dict, n: int = 10, *, reg: float = FOLD_IN_REG,
              reg_bias: float = 5.0) -> pd.DataFrame:
    """The ``n`` unrated movies (with at least ``cat.min_ratings`` ratings) of highest predicted
    rating ``mu + b_u + b_i + p_u . q_i``. Columns ``item, title, predicted, ratings``.

    Before any rating ``p_u = 0`` and ``b_u = 0``: the ranking by ``mu + b_i`` alone."""
    n = _checks.count("n", n)
    p_u, b_u = fold_in(cat, rated, reg=reg, reg_bias=reg_bias)
    m = cat.model
    scores = m.mu + b_u + m.item_bias + m.Q @ p_u
    candidates = cat.counts >= cat.min_ratings
    if rated:
        candidates[_items_values(cat, rated)[0]] = False
    top = np.flatnonzero(candidates)
    top = top[np.lexsort((top, -scores[top]))][:n]  # best first, ties by index
    return pd.DataFrame({"item": top, "title": cat.titles[top], "predicted": scores[top],
                         "ratings": cat.counts[top]})


def popularity(cat: Catalogue, rated: dict | None = None, n: int = 10) -> pd.DataFrame:
    """The ``n`` most-rated movies not in ``rated``: the same list for everybody, for comparison."""
    n = _checks.count("n", n)
    keep = np.ones(len(cat.titles), dtype=bool)
    if rated is not None:
        keep[_items_values(cat, rated)[0]] = False
    top = np.flatnonzero(keep)
    top = top[np.argsort(-cat.counts[top], kind="stable")][:n]
    return pd.DataFrame({"item": top, "title": cat.titles[top], "ratings": cat.counts[top]})


def position(cat: Catalogue, rated: dict, *, reg: float = FOLD_IN_REG, reg_bias: float = 5.0) -> np.ndarray:
    """The user's place on the latent map: ``p_u @ directions`` (the origin before any rating)."""
    return fold_in(cat, rated, reg=reg, reg_bias=reg_bias)[0] @ cat.directions


def draw_map(cat: Catalogue, rated: dict, *, reg: float = FOLD_IN_REG, reg_bias: float = 5.0, ax=None):
    """The movies on the latent map (the most-rated ones named), the rated ones ringed, the origin (a
    user with no ratings) marked with a cross, and the user as a star."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    known = np.flatnonzero(cat.counts >= cat.min_ratings)
    ax.scatter(*cat.coords[known].T, s=8, color="0.8", label=f"movies with >= {cat.min_ratings} ratings")
    ax.scatter(*cat.coords[cat.labelled].T, s=25, color="#0072B2", label=f"the {len(cat.labelled)} most rated")
    ax.scatter([0], [0], marker="+", s=120, lw=2, color="black", label="origin (no ratings yet)", zorder=4)
    items = _items_values(cat, rated)[0]
    if rated:
        ax.scatter(*cat.coords[items].T, s=90, facecolors="none", edgecolors="#D55E00", lw=2,
                   label="movies you rated")
    x, y = position(cat, rated, reg=reg, reg_bias=reg_bias)
    ax.scatter([x], [y], marker="*", s=350, color="#D55E00", edgecolors="black", label="you", zorder=5)
    # Names where they fit without overlapping: the movies you rated first, then the most-rated.
    named = np.concatenate([items, [i for i in cat.labelled if i not in set(items)]]).astype(int)
    plots.label_points(ax, cat.coords[named], [_short(cat.titles[i]) for i in named],
                       priority=-np.arange(len(named)), fontsize=9)
    ax.set(xlabel="direction 1", ylabel="direction 2", title="You on the latent map")
    ax.legend(fontsize=9, loc="best")
    return ax


def _short(title: str, width: int = 24) -> str:
    """A title without its year, cut with an ellipsis past ``width`` characters."""
    name = title.rsplit(" (", 1)[0]
    return name if len(name) <= width else name[:width - 1].rstrip() + "…"


def _table(df: pd.DataFrame, columns) -> str:
    return df[list(columns)].to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0,
                                     justify="left")


def app(cat: Catalogue, *, reg: float = FOLD_IN_REG, reg_bias: float = 5.0, n: int = 10):
    """The ipywidgets app: search, rate with a slider, and watch the lists and the map update.

    Laid out for a 1280 x 720 projector: search, rating and your ratings on the left, your top
    ``n`` and the most-rated list beside them, the latent map below. Every widget carries a class of
    :data:`CSS`, which the browser test uses to find it."""
    import io

    import ipywidgets as w
    from matplotlib.figure import Figure

    rated: dict = {}
    query = w.Text(placeholder="search a title, e.g. star wars", description="Search",
                   layout=w.Layout(width="96%"))  # 100% plus the widget's margins would overflow
    results = w.Select(options=[], rows=6, layout=w.Layout(width="96%"))
    stars = w.IntSlider(value=5, min=1, max=5, description="Your rating", layout=w.Layout(width="220px"))
    add = w.Button(description="Rate", button_style="primary", layout=w.Layout(width="70px"))
    clear = w.Button(description="Start over", layout=w.Layout(width="95px"))
    rated_box = w.HTML()
    recs_box = w.HTML(layout=w.Layout(flex="1 1 auto", margin="0 0 0 24px"))
    pop_box = w.HTML(layout=w.Layout(flex="1 1 auto", margin="0 0 0 24px"))
    # The map is a PNG in an Image widget (not an Output widget): nothing but the widgets' own
    # values changes, and a notebook executed with store_widget_state=False stores no state at all.
    map_image = w.Image(format="png", layout=w.Layout(max_width="100%"))
    map_box = w.Box([map_image], layout=w.Layout(width="100%", justify_content="center"))
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
        fig = Figure(figsize=(7, 4.2))
        draw_map(cat, rated, reg=reg, reg_bias=reg_bias, ax=fig.subplots())
        png = io.BytesIO()
        fig.savefig(png, format="png", bbox_inches="tight")
        map_image.value = png.getvalue()

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
    left = w.VBox([query, results, w.HBox([stars, add, clear]), rated_box],
                  layout=w.Layout(width="400px", flex="0 0 400px"))
    top = w.HBox([left, recs_box, pop_box], layout=w.Layout(width="100%", align_items="flex-start"))
    return w.VBox([top, map_box], layout=w.Layout(width="100%"))


def app_page(notebook, out_dir) -> Path:
    """Write the page ``make demo`` serves: the cells of ``notebook`` tagged :data:`APP_TAG` (the
    imports, the model, the app) under :data:`APP_TITLE`, outputs cleared.

    Voila shows every markdown cell and output of the notebook it serves, hidden or not; serving
    this page instead keeps the lesson's check answers and solutions off the projector."""
    notebook, out_dir = Path(notebook), Path(out_dir)
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if APP_TAG in c.get("metadata", {}).get("tags", [])]
    if not any("demo.app(" in "".join(c["source"]) for c in cells if c["cell_type"] == "code"):
        raise ValueError(f"{notebook} has no code cell tagged {APP_TAG!r} that calls demo.app(...)")
    for c in cells:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    title = {"cell_type": "markdown", "id": "demo-app-title", "metadata": {}, "source": APP_TITLE}
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k != "widgets"}
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / notebook.name
    target.write_text(json.dumps(dict(nb, cells=[title] + cells, metadata=metadata), indent=1,
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":  # python -m mflab.demo NOTEBOOK OUT_DIR   (make demo)
    print(app_page(*sys.argv[1:3]))
