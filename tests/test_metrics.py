import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mflab import Ratings, Factorization, metrics


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1, 5), min_size=1, max_size=50))
def test_rmse_of_constant_prediction_is_std(values):
    y = np.array(values)
    assert metrics.rmse(y, np.full_like(y, y.mean())) == pytest.approx(y.std(), abs=1e-12)


def test_perfect_and_hand_computed():
    assert metrics.rmse([1, 2, 3], [1, 2, 3]) == 0 and metrics.mae([1, 2, 3], [1, 2, 3]) == 0
    assert metrics.rmse([1, 2], [2, 4]) == pytest.approx(np.sqrt((1 + 4) / 2))
    assert metrics.mae([1, 2], [2, 4]) == pytest.approx(1.5)


def test_metric_input_errors():
    with pytest.raises(ValueError, match="same shape"):
        metrics.rmse([1, 2], [1])
    with pytest.raises(ValueError, match="y_pred holds NaN"):
        metrics.mae([1, 2], [1, np.nan])
    with pytest.raises(ValueError, match="empty"):
        metrics.rmse([], [])


def test_ranking_metrics_hand_computed():
    ranked, relevant = [3, 1, 7, 5], {1, 5, 9}
    assert metrics.precision_at_k(ranked, relevant, 4) == pytest.approx(2 / 4)
    assert metrics.recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)
    dcg = 1 / np.log2(3) + 1 / np.log2(5)
    idcg = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert metrics.ndcg_at_k(ranked, relevant, 4) == pytest.approx(dcg / idcg)
    assert metrics.ndcg_at_k([1, 5, 9], relevant, 3) == pytest.approx(1.0)
    assert metrics.precision_at_k(ranked, relevant, 2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="relevant is empty: recall is undefined"):
        metrics.recall_at_k(ranked, set(), 3)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        metrics.precision_at_k(ranked, relevant, 0)


def test_ranking_metrics_over_users_with_known_model():
    # 2 users x 4 items; the model scores item i as i for everyone (higher index = better)
    model = Factorization(np.ones((2, 1)), np.arange(4.0)[:, None])
    train = Ratings([0, 1], [3, 0], [5.0, 5.0], 2, 4)
    test = Ratings([0, 0, 1], [2, 0, 3], [5.0, 4.0, 1.0], 2, 4)
    out = metrics.ranking_metrics(model, test, k=1, exclude=train)
    # user 0: items 0,1,2 left, top-1 = item 2, relevant {2, 0} -> p=1, r=0.5; user 1 has no relevant item
    assert out == {"precision@1": 1.0, "recall@1": 0.5, "ndcg@1": 1.0, "hit_rate@1": 1.0, "map@1": 1.0, "users": 1}
