"""The figures lessons draw more than once. Each takes an optional ``ax`` and returns it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler

# Okabe and Ito's palette (distinguishable with every common colour-vision deficiency), each colour
# paired with its own line style so curves stay apart in greyscale and on a dim projector.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")  # one per group in scatter plots, with COLORS
MARK_COLOR = "#555555"  # reference lines (a chosen k, a baseline): grey, so curves keep the palette

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "figure.figsize": (8.0, 4.5),
    "figure.constrained_layout.use": True,
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "lines.linewidth": 2.0,
    "lines.markersize": 6,
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "viridis",
    "axes.prop_cycle": cycler(color=COLORS) + cycler(linestyle=LINESTYLES),
}


def style() -> None:
    """Apply the series' figure style: readable from the back of a room, colour-blind safe.

    dpi 110 and 13-point fonts at 8 x 4.5 inches (a 1280x720 slide holds one such figure); curves
    differ by colour *and* line style (Okabe-Ito colours); constrained layout so titles
    never overlap. Every lesson calls it once, in its first code cell.
    """
    plt.rcParams.update(STYLE)


def _ax(ax, figsize=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def convergence(history: dict, *, ax=None, ylabel="RMSE", title="Convergence", xlabel="epoch"):
    """Each curve of a ``Factorization.history`` (train, test) against the epoch/sweep number."""
    ax = _ax(ax)
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=2, label=name.replace("_", " "))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    return ax


def rating_heatmap(R, *, ax=None, title="Ratings", vmin=1, vmax=5, cmap="YlOrRd", annotate=False,
                   xlabel="item", ylabel="user", colorbar=True):
    """A users x items matrix as a heatmap; NaN (unrated) cells are grey and hatched, not blank."""
    R = np.asarray(R, dtype=float)
    ax = _ax(ax, (5, 4))
    ax.set_facecolor("#d9d9d9")
    im = ax.imshow(np.ma.masked_invalid(R), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto",
                   interpolation="nearest")  # crisp cells; smoothing would blend neighbouring users
    if np.isnan(R).any():
        # one hatched patch behind the image, which is transparent where R is NaN: only the missing
        # cells show it (a patch per cell draws the same picture, ~50x slower on a large matrix)
        ax.add_patch(plt.Rectangle((-0.5, -0.5), R.shape[1], R.shape[0], fill=False, hatch="//",
                                   edgecolor="#888888", lw=0, zorder=-1))
    if annotate:
        for (u, i), r in np.ndenumerate(R):
            dark = not np.isnan(r) and (r - vmin) > 0.6 * (vmax - vmin)  # white text on dark cells
            ax.text(i, u, "?" if np.isnan(r) else f"{r:.1f}", ha="center", va="center", fontsize=11,
                    color="white" if dark else "black")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    _integer_ticks(ax)
    if colorbar:
        plt.colorbar(im, ax=ax, label="rating")
    return ax


def _integer_ticks(ax):
    """Cells are numbered 0, 1, 2, ...: no tick at 0.5 or 2.5 on a heatmap's axes."""
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))


def genre_boundaries(ax, movie_genres, *, rows=False, color="white"):
    """Lines between genre blocks of a plot whose movie axis is sorted by genre."""
    counts = np.bincount(np.asarray(movie_genres))
    for b in np.cumsum(counts)[:-1]:
        ax.axvline(b - 0.5, color=color, lw=1)
        if rows:
            ax.axhline(b - 0.5, color=color, lw=1)
    return ax


def rmse_vs_k(ks, train_rmse, test_rmse, *, baseline=None, ax=None, title="Train and test RMSE against k"):
    """Train and test RMSE against the number of factors, the best test k marked."""
    ax = _ax(ax, (8, 4))
    ax.plot(ks, train_rmse, marker="o", label="train")  # colour and line style from the style's cycle
    ax.plot(ks, test_rmse, marker="s", label="test")
    best = ks[int(np.argmin(test_rmse))]
    ax.axvline(best, color=MARK_COLOR, ls=":", label=f"best test k = {best}")
    if baseline is not None:
        ax.axhline(baseline, color=MARK_COLOR, ls=(0, (6, 3)), lw=1.5, label=f"baseline test ({baseline:.4f})")
    ax.set(xlabel="k (latent factors)", ylabel="RMSE", title=title)
    ax.legend()
    return ax


def compare_bars(scores: dict, *, ax=None, ylabel="test RMSE", title="Methods compared", fmt="{:.4f}"):
    """One labelled bar per method (``{"Baseline": 0.48, ...}``)."""
    ax = _ax(ax, (7, 4))
    names, values = list(scores), list(scores.values())
    colors = [COLORS[j % len(COLORS)] for j in range(len(names))]
    bars = ax.bar(names, values, color=colors, edgecolor="black", alpha=0.85)
    for bar, v in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, v, fmt.format(v), ha="center", va="bottom", fontsize=11)
    ax.set(ylabel=ylabel, title=title, ylim=(0, max(values) * 1.2))
    return ax


def latent_scatter(X2, *, labels=None, names=None, ax=None, title="Latent space", texts=None):
    """2-D points (e.g. factor vectors projected on two directions), coloured by ``labels``.

    ``names[label]`` gives the legend entry of each label; ``texts`` annotates each point. Each
    label gets its own colour *and* marker shape, so groups stay apart in greyscale too.
    """
    X2 = np.asarray(X2)
    ax = _ax(ax, (6, 5))
    if labels is None:
        ax.scatter(X2[:, 0], X2[:, 1], s=30, alpha=0.7, edgecolors="black", lw=0.5)
    else:
        labels = np.asarray(labels)
        for j, g in enumerate(np.unique(labels)):
            pts = X2[labels == g]
            label = names[g] if names is not None else str(g)
            ax.scatter(pts[:, 0], pts[:, 1], s=50, alpha=0.8, edgecolors="black", lw=0.5, label=label,
                       color=COLORS[j % len(COLORS)], marker=MARKERS[j % len(MARKERS)])
        ax.legend(fontsize=11)
    if texts is not None:
        for (x, y), t in zip(X2, texts):
            ax.annotate(t, (x, y), fontsize=10, alpha=0.8, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="direction 1", ylabel="direction 2", title=title)
    return ax


def similarity_matrix(S, *, ax=None, title="Cosine similarity", boundaries_of=None, names=None):
    """A square similarity matrix in [-1, 1]; ``boundaries_of`` (sorted genre labels) draws blocks.

    With ``boundaries_of``, ``names`` (one name per genre label, e.g. ``data.genres``) labels each
    block at its centre on both axes instead of numbering the rows.
    """
    ax = _ax(ax, (5, 4))
    im = ax.imshow(S, cmap="RdYlGn", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    _integer_ticks(ax)
    if boundaries_of is not None:
        genre_boundaries(ax, boundaries_of, rows=True, color="black")
        if names is not None:
            labels = np.asarray(boundaries_of)
            present = np.unique(labels)
            centres = [np.flatnonzero(labels == g).mean() for g in present]
            ax.set_xticks(centres, [names[g] for g in present], rotation=90)  # narrow blocks stay legible
            ax.set_yticks(centres, [names[g] for g in present])
    plt.colorbar(im, ax=ax, label="cosine similarity")
    ax.set(title=title)
    return ax


def project_2d(Q):
    """Coordinates of the rows of ``Q`` on its two leading singular directions, and those directions.

    Returns ``(coords, directions)``: ``coords = Q V_2`` (n x 2) and ``V_2`` (k x 2), so other
    vectors in the same space (users) can be projected with ``P @ directions``. A singular direction
    is only defined up to its sign, so each is oriented to give the row farthest along it a positive
    coordinate: the same picture on every machine and BLAS.
    """
    Q = np.asarray(Q, dtype=float)
    if Q.ndim != 2 or Q.shape[0] < 1 or Q.shape[1] < 2:
        raise ValueError(f"Q must be a 2-D array with at least one row and two columns; got shape {Q.shape}")
    _, _, Vt = np.linalg.svd(Q, full_matrices=False)
    directions = Vt[:2].T
    coords = Q @ directions
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), [0, 1]])
    signs[signs == 0] = 1.0
    return coords * signs, directions * signs


def singular_values(s, *, ax=None, n=None, label=None, mark=None, log=True, title="Singular values"):
    """The singular values ``s`` (largest first) against their index 1, 2, ...; a low-rank matrix
    shows a few large values, then a cliff. ``n`` plots only the first ``n``; ``mark`` draws a
    dotted line after index ``mark`` (e.g. the true rank); ``log`` uses a log y-axis.
    """
    s = np.asarray(s, dtype=float)[:n]
    ax = _ax(ax, (6, 4))
    ax.plot(np.arange(1, len(s) + 1), s, marker="o", ms=4, label=label)  # line style from the cycle
    if mark is not None:
        ax.axvline(mark + 0.5, color=MARK_COLOR, ls=":", label=f"first {mark}")
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="index", ylabel="singular value", title=title)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    if label is not None or mark is not None:
        ax.legend()
    return ax


def count_matrix(counts, *, row_labels=None, col_labels=None, ax=None, title="Counts", xlabel="",
                 ylabel="", cmap="Blues"):
    """A small table of counts (e.g. true genre x dominant latent factor) as an annotated heatmap.

    ``counts`` is a 2-D array or a DataFrame (its index and columns label the axes); zero cells
    are left blank so the pattern stands out.
    """
    is_frame = hasattr(counts, "columns") and hasattr(counts, "index")  # a DataFrame, not a list
    if row_labels is None and is_frame:
        row_labels = [str(r) for r in counts.index]
    if col_labels is None and is_frame:
        col_labels = [str(c) for c in counts.columns]
    C = np.asarray(counts)
    if C.ndim != 2:
        raise ValueError(f"counts must be 2-D; got shape {C.shape}")
    ax = _ax(ax, (5, 4))
    im = ax.imshow(C, cmap=cmap, aspect="auto")
    for (r, c), v in np.ndenumerate(C):
        if v:
            dark = (v - C.min()) > 0.6 * (C.max() - C.min())
            ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=11, color="white" if dark else "black")
    if row_labels is not None:
        ax.set_yticks(range(C.shape[0]), row_labels)
    if col_labels is not None:
        ax.set_xticks(range(C.shape[1]), col_labels)
    plt.colorbar(im, ax=ax)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def predicted_vs_true(y_true, y_pred, *, ax=None, title="Predicted against true", scale=(1, 5),
                      xlabel="true rating", ylabel="predicted rating"):
    """Scatter of predictions against the true ratings with the diagonal of perfect predictions."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}")
    ax = _ax(ax, (5, 5))
    ax.scatter(y_true, y_pred, s=15, alpha=0.4)
    low, high = scale
    ax.plot([low, high], [low, high], color=COLORS[1], ls="--", lw=1.5, label="perfect prediction")
    pad = 0.05 * (high - low)
    ax.set(xlim=(low - pad, high + pad), ylim=(low - pad, high + pad), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    return ax


def label_points(ax, X2, texts, *, priority=None, fontsize=10):
    """Write ``texts[j]`` next to point ``X2[j]``, in order of ``priority`` (highest first; default:
    as given), trying six spots around the point (the four corners, then above and below) and
    skipping a label that fits in none without overlapping a label already written or
    leaving the axes. Returns how many it wrote.

    A crowded 2-D map then shows as many names as fit legibly instead of a pile of overlapping ones.
    Each text is laid out once (one line, unrotated); the other spots are its box moved.
    """
    X2 = np.asarray(X2, dtype=float)
    if len(texts) != len(X2):
        raise ValueError(f"texts must have one entry per point; got {len(texts)} for {len(X2)} points")
    order = np.arange(len(X2)) if priority is None else np.argsort(-np.asarray(priority), kind="stable")
    # Settle the view first (autoscaling and the aspect are applied lazily, at draw time), so the
    # boxes are measured where they will be drawn; labels do not move the data limits. Call this
    # after the last scatter.
    ax.autoscale_view()
    ax.apply_aspect()
    canvas = ax.figure.canvas
    if not hasattr(canvas, "get_renderer"):  # a bare Figure (as the demo app draws): measure with Agg
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        canvas = FigureCanvasAgg(ax.figure)
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed = []
    points = ax.figure.dpi / 72  # pixels per typographic point (the offsets are in points)
    for j in order:
        if not texts[j]:
            continue
        # Lay the text out once (the slow part) at the first spot; the other spots are the same box
        # moved by the offset and the alignment, which is exact for one line of unrotated text.
        offset, ha, va = LABEL_SPOTS[0]
        label = ax.annotate(texts[j], X2[j], fontsize=fontsize, xytext=offset, textcoords="offset points",
                            ha=ha, va=va)
        first = label.get_window_extent(renderer)
        for offset, ha, va in LABEL_SPOTS:
            dx = (offset[0] - LABEL_SPOTS[0][0][0]) * points - {"left": 0, "right": 1, "center": 0.5}[ha] * first.width
            dy = (offset[1] - LABEL_SPOTS[0][0][1]) * points - {"bottom": 0, "top": 1}[va] * first.height
            box = first.translated(dx, dy).expanded(1.05, 1.15)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                label.set(ha=ha, va=va)
                label.xyann = offset
                placed.append(box)
                break
        else:
            label.remove()
    return len(placed)


# Where label_points tries a label, in order: (offset in points, horizontal and vertical alignment)
LABEL_SPOTS = (((4, 3), "left", "bottom"), ((4, -3), "left", "top"),
               ((-4, 3), "right", "bottom"), ((-4, -3), "right", "top"),
               ((0, 7), "center", "bottom"), ((0, -7), "center", "top"))


def fold_in_curves(curves: dict, *, ax=None, ylabel="", title="", errors=None, mark=None):
    """Metric against the number of ratings a new user revealed, one curve per method.

    ``curves`` maps a name to a pandas Series indexed by the number revealed (1, 2, 5, 10, ...);
    ``errors`` (same keys, optional) draws +- one standard error as a band; ``mark`` draws a dotted
    vertical line at that number (e.g. the crossover). The x axis is logarithmic with a tick per n.
    """
    ax = _ax(ax, (6, 4))
    for j, (name, series) in enumerate(curves.items()):
        x, y = series.index.to_numpy(dtype=float), series.to_numpy(dtype=float)
        line, = ax.plot(x, y, marker=MARKERS[j % len(MARKERS)], label=name, color=COLORS[j % len(COLORS)],
                        ls=LINESTYLES[j % len(LINESTYLES)])  # colour and line style, as style() pairs them
        if errors is not None and name in errors:
            e = errors[name].to_numpy(dtype=float)
            ax.fill_between(x, y - e, y + e, color=line.get_color(), alpha=0.15, lw=0)
    if mark is not None:
        ax.axvline(mark, color=MARK_COLOR, ls=":", label=f"crossover: {mark} rating{'s' if mark != 1 else ''}")
    ns = sorted({int(n) for s in curves.values() for n in s.index})
    ax.set_xscale("log")
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.minorticks_off()
    ax.set(xlabel="ratings the new user revealed", ylabel=ylabel, title=title)
    ax.legend()
    return ax
