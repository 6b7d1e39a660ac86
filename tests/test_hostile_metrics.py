"""Ranking metrics refuse what would make them silently wrong, and the implicit-feedback metrics
(hit rate, AP/MAP, AUC, coverage) hold hand-computed values."""
import numpy as np
import pandas as pd
import pytest

from mflab import Factorization, Ratings, datasets, metrics

PER_USER = [metrics.precision_at_k, metrics.recall_at_k, metrics.ndcg_at_k, metrics.hit_rate_at_k,
            metrics.average_precision_at_k]


@pytest.mark.parametrize("metric", PER_USER)
def test_a_ranked_list_with_a_repeated_item_is_refused(metric):
    with pytest.raises(ValueError, match="ranked lists item 1 more than once"):
        metric([1, 1, 1], {1}, 3)  # NDCG was 2.13 before: above its maximum of 1


@pytest.mark.parametrize("metric", PER_USER)
def test_a_dataframe_or_a_2d_list_is_refused(metric):
    top = pd.DataFrame({"item": [3, 1], "score": [4.5, 4.2]})
    with pytest.raises(TypeError, match=r"got a DataFrame \(pass its item column"):
        metric(top, {1}, 2)  # iterating it gave the column names and a score of 0
    with pytest.raises(ValueError, match="flat list"):
        metric([[3, 1]], {1}, 2)
    with pytest.raises(ValueError, match="flat collection"):
        metric([3, 1], [[1]], 2)


@pytest.mark.parametrize("metric", PER_USER[1:])
def test_no_relevant_item_is_undefined_not_zero(metric):
    with pytest.raises(ValueError, match="relevant is empty"):
        metric([3, 1], set(), 2)


def test_ndcg_never_exceeds_one_and_precision_allows_no_relevant():
    assert metrics.ndcg_at_k([1, 2, 3], {1, 2, 3}, 3) == pytest.approx(1.0)
    assert metrics.precision_at_k([1, 2], set(), 2) == 0.0


def test_hit_rate_and_average_precision_by_hand():
    ranked, relevant = [3, 1, 7, 5], {1, 5, 9}
    assert metrics.hit_rate_at_k(ranked, relevant, 1) == 0.0
    assert metrics.hit_rate_at_k(ranked, relevant, 2) == 1.0
    # hits at positions 2 and 4: precision 1/2 and 2/4; divided by min(4, 3)
    assert metrics.average_precision_at_k(ranked, relevant, 4) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert metrics.average_precision_at_k([1, 5, 9], relevant, 3) == pytest.approx(1.0)


def test_auc_by_hand_with_ties_and_exclusions():
    scores = np.array([0.9, 0.1, 0.5, 0.5, 0.2])
    # positives {0, 2}; negatives {1, 3, 4}: item 0 beats all 3; item 2 beats 1 and 4, ties 3
    assert metrics.auc(scores, [0, 2]) == pytest.approx((3 + 2.5) / 6)
    assert metrics.auc(scores, [0, 2], exclude=[3]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least one non-positive"):
        metrics.auc(scores, [0, 1, 2, 3, 4])


def test_coverage_by_hand():
    assert metrics.coverage([[0, 1], [1, 2]], 10) == pytest.approx(0.3)
    with pytest.raises(ValueError, match=r"item indices in \[0, 3\)"):
        metrics.coverage([[0, 5]], 3)


@pytest.fixture
def model_and_data():
    model = Factorization(np.ones((2, 1)), np.arange(4.0)[:, None])
    train = Ratings([0, 1], [3, 0], [5.0, 5.0], 2, 4)
    test = Ratings([0, 0, 1], [2, 0, 3], [5.0, 4.0, 1.0], 2, 4)
    return model, train, test


@pytest.mark.parametrize("threshold", [float("nan"), float("inf")])
def test_a_non_finite_threshold_is_refused(model_and_data, threshold):
    model, train, test = model_and_data
    with pytest.raises(ValueError, match="threshold must be finite"):
        metrics.ranking_metrics(model, test, exclude=train, threshold=threshold)


def test_a_threshold_above_every_rating_is_refused():
    """The genre data's ratings never reach 4: the default threshold used to score 0.0 on 0 users."""
    d = datasets.synthetic_genres()
    model = Factorization(np.zeros((d.train.n_users, 0)), np.zeros((d.train.n_items, 0)))
    assert d.test.value.max() < 4
    with pytest.raises(ValueError, match="above every test rating"):
        metrics.ranking_metrics(model, d.test, exclude=d.train)


def test_threshold_none_makes_every_test_item_relevant(model_and_data):
    model, train, test = model_and_data
    out = metrics.ranking_metrics(model, test, exclude=train, threshold=None, k=1)
    # user 0 ranks item 2 first (in test), user 1 ranks item 3 first (in test, rated 1)
    assert out["hit_rate@1"] == 1.0 and out["users"] == 2
    assert metrics.ranking_metrics(model, test, exclude=train, k=1)["users"] == 1
