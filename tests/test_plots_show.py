import matplotlib.pyplot as plt
import numpy as np

import mflab
from mflab import plots


def test_every_plot_returns_its_axes_and_draws():
    fig, axes = plt.subplots(2, 4)
    axes = axes.ravel()
    R = np.array([[5, np.nan], [1, 2.0]])
    assert plots.rating_heatmap(R, ax=axes[0], annotate=True) is axes[0]
    # the unrated cell is drawn as a hatched patch, so it is visible, not blank
    assert len(axes[0].patches) == 1 and axes[0].texts[1].get_text() == "?"
    assert plots.convergence({"train_rmse": [1, 0.5], "test_rmse": [1.1, 0.9]}, ax=axes[1]) is axes[1]
    assert len(axes[1].lines) == 2
    assert plots.rmse_vs_k([1, 2, 3], [0.5, 0.4, 0.3], [0.6, 0.5, 0.55], baseline=0.7, ax=axes[2]) is axes[2]
    assert "best test k = 2" in [t.get_text() for t in axes[2].get_legend().get_texts()]
    assert plots.compare_bars({"a": 0.5, "b": 0.4}, ax=axes[3]) is axes[3]
    assert [t.get_text() for t in axes[3].texts] == ["0.5000", "0.4000"]
    X = np.random.default_rng(0).normal(size=(6, 3))
    coords, directions = plots.project_2d(X)
    np.testing.assert_allclose(coords, X @ directions)
    assert plots.latent_scatter(coords, labels=[0, 1, 0, 1, 0, 1], names=["a", "b"], ax=axes[4]) is axes[4]
    S = mflab.recommend.cosine_similarity(X)
    assert plots.similarity_matrix(S, ax=axes[5], boundaries_of=[0, 0, 1, 1, 1, 2]) is axes[5]
    plt.close(fig)


def test_show_returns_the_real_source():
    src = mflab.show(mflab.sgd.epoch)
    assert src.startswith("def epoch(") and "P[u, f] += lr * (e * q_if - reg * p_uf)" in src
    assert "```python" in src._repr_markdown_()


def test_project_2d_is_the_svd_projection_with_a_fixed_sign():
    X = np.random.default_rng(1).normal(size=(30, 4))
    coords, directions = plots.project_2d(X)
    _, s, Vt = np.linalg.svd(X)
    # up to sign, the directions are the two leading right singular vectors
    np.testing.assert_allclose(np.abs(directions), np.abs(Vt[:2].T), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(coords, axis=0), s[:2])
    # the farthest row along each direction is on the positive side
    assert np.all(coords[np.abs(coords).argmax(axis=0), [0, 1]] > 0)
    # a different sign from the SVD (here: negating X) gives the same picture of -X's rows
    flipped, _ = plots.project_2d(-X)
    np.testing.assert_allclose(np.abs(flipped), np.abs(coords), atol=1e-12)
    assert np.all(flipped[np.abs(flipped).argmax(axis=0), [0, 1]] > 0)


def test_project_2d_rejects_a_vector():
    import pytest
    with pytest.raises(ValueError, match="Q must be a 2-D array"):
        plots.project_2d(np.ones(5))


def test_curves_differ_by_line_style_under_the_series_style():
    """A projector or a greyscale print must tell curves apart without colour."""
    import matplotlib as mpl
    with mpl.rc_context():
        plots.style()
        assert plt.rcParams["figure.dpi"] >= 110 and plt.rcParams["figure.constrained_layout.use"]
        fig, axes = plt.subplots(1, 3)
        plots.convergence({"train": [1, 0.5, 0.4], "test": [1.1, 0.9, 0.8]}, ax=axes[0])
        plots.rmse_vs_k([1, 2, 3], [0.5, 0.4, 0.3], [0.6, 0.5, 0.55], ax=axes[1])
        plots.singular_values([3.0, 2.0, 1.0], ax=axes[2], label="a")
        plots.singular_values([2.5, 1.5, 0.5], ax=axes[2], label="b")
        for ax in axes:
            first, second = ax.lines[0], ax.lines[1]
            assert first.get_linestyle() != second.get_linestyle()
            assert first.get_color() != second.get_color()
        plt.close(fig)


def test_heatmaps_have_integer_ticks_and_readable_annotations():
    fig, ax = plt.subplots()
    plots.rating_heatmap(np.array([[5, np.nan, 1.0], [1, 2, 3], [4, 4, 4], [2, 2, 2]]), ax=ax, annotate=True)
    fig.canvas.draw()
    for ticks in (ax.get_xticks(), ax.get_yticks()):
        assert np.allclose(ticks, np.round(ticks))
    # white text on the darkest cell (a 5), black on a light one (a 1)
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["5.0"] == "white" and colours["1.0"] == "black"
    plt.close(fig)


def test_similarity_matrix_labels_the_genre_blocks():
    fig, ax = plt.subplots()
    S = np.eye(6)
    plots.similarity_matrix(S, ax=ax, boundaries_of=[0, 0, 1, 1, 1, 3], names=["A", "B", "C", "D"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B", "D"]
    np.testing.assert_allclose(ax.get_xticks(), [0.5, 3.0, 5.0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "D"]
    plt.close(fig)


def test_latent_scatter_groups_differ_by_marker():
    fig, ax = plt.subplots()
    X = np.arange(12, dtype=float).reshape(6, 2)
    plots.latent_scatter(X, labels=[0, 1, 2, 0, 1, 2], names=["a", "b", "c"], ax=ax)
    paths = [tuple(map(tuple, c.get_paths()[0].vertices.round(3))) for c in ax.collections]
    assert len(set(paths)) == 3  # three marker shapes
    plt.close(fig)
