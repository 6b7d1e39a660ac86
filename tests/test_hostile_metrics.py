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
    with pytest.raises(ValueError, match=r"ranked_lists\[0\] holds 5.*item indices must be in \[0, 3\)"):
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


# --------------------------------------------------------------------------- issue 25, class 2: index types
LOOSE_INDICES = [([1.5], TypeError, "never read as index 1"), ([True], TypeError, "booleans"),
                 (np.array([False, True, True, False, False]), TypeError, "boolean mask"),
                 ([-1], ValueError, "-1 is not read as the last"), ([99], ValueError, r"outside the 5 items"),
                 (["2"], TypeError, "integer item indices"), (None, TypeError, "None")]


@pytest.mark.parametrize("value, error, words", LOOSE_INDICES)
@pytest.mark.parametrize("argument", ["positives", "exclude"])
def test_auc_reads_no_loose_index_as_another_item(argument, value, error, words):
    scores = np.array([0.9, 0.1, 0.5, 0.4, 0.2])
    call = (lambda: metrics.auc(scores, value)) if argument == "positives" else \
        (lambda: metrics.auc(scores, [0], exclude=value))
    if argument == "exclude" and value is None:
        assert call() == 1.0  # exclude=None means nothing excluded
        return
    with pytest.raises(error, match=rf"{argument}.*{words}"):
        call()


@pytest.mark.parametrize("metric", PER_USER)
@pytest.mark.parametrize("ranked, relevant, words", [
    ([1.5, 2.0], {1}, "ranked must hold integer item indices"),
    ([True, False], {1}, "ranked holds booleans"),
    ([-1, 2], {1}, "ranked holds -1"),
    ([1, 2], None, "relevant must be a collection of item indices .* got None"),
    ([1, 2], [1.5], "relevant must hold integer item indices"),
    ([1, 2], "12", "relevant must be 0-based item indices; got the string"),
])
def test_per_user_metrics_refuse_what_is_not_item_indices(metric, ranked, relevant, words):
    with pytest.raises((TypeError, ValueError), match=words):
        metric(ranked, relevant, 2)


@pytest.mark.parametrize("lists, error, words", [
    ([[True, False]], TypeError, r"ranked_lists\[0\] holds booleans"),
    ([[0, 1.5]], TypeError, r"ranked_lists\[0\] must hold integer"),
    (pd.DataFrame({"item": [0, 1]}), TypeError, "ranked_lists must be a list of ranked lists .* got DataFrame"),
    ([0, 1, 2], TypeError, r"its entry 0 is the single value 0 \(wrap one list as \[ranked\]\)"),
    ([[0], [-1]], ValueError, r"ranked_lists\[1\] holds -1"),
])
def test_coverage_counts_only_item_indices(lists, error, words):
    with pytest.raises(error, match=words):
        metrics.coverage(lists, 3)
    assert metrics.coverage(np.array([[0, 1], [1, 2]]), 4) == 0.75  # a top_n_batch array is fine


# --------------------------------------------------------------------------- class 3: shapes and thresholds
@pytest.mark.parametrize("shape", [(2, 5), (2, 3), (3, 4)])
@pytest.mark.parametrize("argument", ["test", "exclude"])
def test_ranking_metrics_refuses_data_shaped_unlike_the_model(model_and_data, argument, shape):
    model, train, test = model_and_data
    other = Ratings([0, 1], [0, 1], [5.0, 4.0], *shape)
    kwargs = {"test": test, "exclude": train} | {argument: other}
    with pytest.raises(ValueError, match=rf"{argument} has shape {shape[0]} users x {shape[1]} items but the "
                                         rf"model was fitted on 2 x 4"):
        metrics.ranking_metrics(model, kwargs["test"], exclude=kwargs["exclude"])


@pytest.mark.parametrize("threshold, error, words", [
    (float("nan"), ValueError, "threshold must be finite"), (100, ValueError, "above every test rating"),
    (0.5, ValueError, r"outside the rating scale \[1, 5\]"), ("4", TypeError, "threshold must be a real number"),
    (True, TypeError, "threshold must be a real number"),
])
def test_ranking_metrics_threshold_is_a_rating_on_the_scale(model_and_data, threshold, error, words):
    model, train, test = model_and_data
    test = Ratings(test.user, test.item, test.value, 2, 4, scale=(1, 5))
    with pytest.raises(error, match=words):
        metrics.ranking_metrics(model, test, exclude=train, threshold=threshold)


# --------------------------------------------------------------------------- class 4: errors that name the argument
@pytest.mark.parametrize("metric", [metrics.rmse, metrics.mae])
@pytest.mark.parametrize("y_true, y_pred, words", [
    (["4", "5"], [4.0, 5.0], "y_true must be an array of numbers; got text such as '4'"),
    ([4.0, 5.0], ["a", "b"], "y_pred must be an array of numbers; got text"),
    ([4.0, None], [4.0, 5.0], "y_true must hold numbers only; got None"),
    ([True, False], [1.0, 0.0], "y_true must be an array of numbers; got booleans"),
])
def test_rating_errors_refuse_text_by_name(metric, y_true, y_pred, words):
    with pytest.raises(TypeError, match=words):
        metric(y_true, y_pred)


# --------------------------------------------------------------------------- the batched ranking equals the loop
def test_ranking_metrics_batched_equals_one_top_n_per_user(monkeypatch):
    from mflab import recommend

    rng = np.random.default_rng(0)
    n_users, n_items = 30, 12
    model = Factorization(rng.normal(size=(n_users, 2)), np.round(rng.normal(size=(n_items, 2)), 1))  # ties
    cells = rng.permutation(n_users * n_items)[:200]
    values = rng.integers(1, 6, 200).astype(float)
    R = Ratings(cells // n_items, cells % n_items, values, n_users, n_items, scale=(1, 5))
    train, test = R.subset(np.arange(200) < 150), R.subset(np.arange(200) >= 150)
    seen = 10  # every user has seen items 0..9: two candidates left, so k=5 lists are padded with -1
    full = Ratings(np.repeat(np.arange(n_users), seen), np.tile(np.arange(seen), n_users),
                   np.full(n_users * seen, 3.0), n_users, n_items)
    assert (recommend.top_n_batch(model, [0], 5, exclude=full)[0, 2:] == -1).all()
    def one_per_user(model, users, k, *, exclude):  # the slow, obvious version: a DataFrame per user
        return [recommend.top_n(model, int(u), k, exclude=exclude)["item"].to_numpy() for u in users]

    for exclude, k in ((train, 5), (None, 3), (full, 5)):
        batched = metrics.ranking_metrics(model, test, k=k, exclude=exclude, threshold=3)
        monkeypatch.setattr(metrics, "top_n_batch", one_per_user)
        looped = metrics.ranking_metrics(model, test, k=k, exclude=exclude, threshold=3)
        monkeypatch.undo()
        assert batched == looped and batched["users"] > 10
