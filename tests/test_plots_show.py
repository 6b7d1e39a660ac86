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
