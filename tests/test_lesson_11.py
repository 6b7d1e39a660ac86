"""The figures lesson 11 (implicit feedback) prints, held through the mflab API.

Each test fits what the lesson fits (same data, split, settings and seeds), so a package change
that moves a printed number fails here, fast, before nbval runs the notebook. Tolerances: scores
and losses to 1e-6 relative (rounding in another BLAS or CPU stays far below); ranking metrics to
1e-4 (one user's held-out movie moving one place changes NDCG@10 by about 1e-5).
"""
import json
from pathlib import Path

import numpy as np
import pytest

import mflab
from mflab import Ratings, baseline, implicit, metrics, recommend, sgd, splits

# compiled ALS (CG) and BPR on MovieLens: too slow as plain Python
pytestmark = pytest.mark.needs_numba

LESSON = Path(__file__).parents[1] / "notebooks" / "11_implicit_feedback.ipynb"
RANK = dict(abs=1e-4)
VALUE = dict(rel=1e-6)


@pytest.fixture(scope="module")
def data():
    ml = mflab.datasets.movielens_100k()
    R = ml.to_ratings()
    timestamps = ml.ratings["timestamp"].to_numpy()
    watched = Ratings(R.user, R.item, np.ones(len(R)), R.n_users, R.n_items)
    train, test = splits.leave_last_out(watched, timestamps)
    held = np.isin(R.user * R.n_items + R.item, test.user * R.n_items + test.item)
    fit_part, val = splits.leave_last_out(train, timestamps[~held])
    rng = np.random.default_rng(1)
    random_cells = rng.integers(0, R.n_users, 2000), rng.integers(0, R.n_items, 2000)
    stars = Ratings(R.user, R.item, R.value, R.n_users, R.n_items, scale=(1, 5))
    star_train, _ = splits.leave_last_out(stars, timestamps)
    return dict(R=R, train=train, test=test, fit_part=fit_part, val=val, random=random_cells,
                star_train=star_train)


@pytest.fixture(scope="module")
def val_ndcg(data):
    """The lesson's own val_ndcg, taken from the notebook (so the test holds what students read)."""
    cell = next("".join(c["source"]) for c in json.loads(LESSON.read_text(encoding="utf-8"))["cells"]
                if "".join(c["source"]).startswith("def val_ndcg"))
    namespace = {"np": np, "fit_part": data["fit_part"], "val": data["val"]}
    exec(cell.split("\n\n\n")[0], namespace)  # the definition, without the printing loop after it
    return namespace["val_ndcg"]


def ranking(model, held, exclude):
    return metrics.ranking_metrics(model, held, k=10, exclude=exclude, threshold=None)


@pytest.fixture(scope="module")
def paper(data):
    return implicit.als.fit(data["fit_part"], 32, alpha=40.0, reg=0.01, epochs=15, solver="exact", seed=0)


def mean_scores(model, data):
    fit_part, (u, i) = data["fit_part"], data["random"]
    return model.predict(fit_part.user, fit_part.item).mean(), model.predict(u, i).mean()


def test_split(data):
    assert (len(data["train"]), len(data["test"]), len(data["fit_part"]), len(data["val"])) == (99_057, 943, 98_114, 943)


def test_fitting_only_the_ones_scores_everything_high_and_ranks_below_popularity(data):
    fit_part, val = data["fit_part"], data["val"]
    ones = sgd.fit(fit_part, 20, lr=0.01, reg=0.02, epochs=20, biases=False, seed=0)
    assert mean_scores(ones, data) == pytest.approx((0.971584661775858, 0.7673071161063816), **VALUE)
    popular = baseline.popularity(fit_part, by="count")
    assert ranking(ones, val, fit_part)["hit_rate@10"] == pytest.approx(0.021208907741251327, **RANK)
    assert ranking(popular, val, fit_part)["hit_rate@10"] == pytest.approx(0.07423117709437964, **RANK)


def test_the_lessons_ndcg_shortcut_is_ranking_metrics_ndcg(data, val_ndcg, paper):
    fit_part, val = data["fit_part"], data["val"]
    popular = baseline.popularity(fit_part, by="count")  # integer scores: ties, broken by index
    ones = sgd.fit(fit_part, 20, lr=0.01, reg=0.02, epochs=20, biases=False, seed=0)
    for model in (paper, popular, ones):
        assert val_ndcg(model) == pytest.approx(ranking(model, val, fit_part)["ndcg@10"], abs=1e-12)
    assert val_ndcg(popular) == pytest.approx(0.03451670902796043, **RANK)
    assert val_ndcg(ones) == pytest.approx(0.008559877435937877, **RANK)


def test_the_paper_settings_model(data, val_ndcg, paper):
    loss = np.array(paper.history["loss"])
    assert np.all(np.diff(loss) < 0), "each exact sweep lowers the loss"
    assert loss[[0, 1, 4, 14]] == pytest.approx([566822.5586482588, 276359.9240846416, 239213.77312287525,
                                                226906.49579987553], **VALUE)
    assert loss[-1] == pytest.approx(implicit.als.loss(paper, data["fit_part"], alpha=40.0, reg=0.01), rel=1e-9)
    assert mean_scores(paper, data) == pytest.approx((0.9455043936434069, 0.20552736341760208), **VALUE)
    assert val_ndcg(paper) == pytest.approx(0.05726146281592904, **RANK)


def conditions_and_distances(Q, fit_part, alpha, steps=(3, 10)):
    """Section 4's table: median condition number of A_u and median relative distance after s CG steps."""
    QtQ = Q.T @ Q
    cond, dist = [], {s: [] for s in steps}
    for u in range(0, fit_part.n_users, 4):
        Q_u = Q[fit_part.user_items(u)[0]]
        A = QtQ + alpha * Q_u.T @ Q_u + 0.01 * np.eye(Q.shape[1])
        b = (1 + alpha) * Q_u.sum(axis=0)
        solution = np.linalg.solve(A, b)
        cond.append(np.linalg.cond(A))
        for s in steps:
            x = implicit.als.conjugate_gradient(lambda v: A @ v, b, np.zeros(Q.shape[1]), s)
            dist[s].append(np.linalg.norm(x - solution) / np.linalg.norm(solution))
    return np.median(cond), {s: np.median(v) for s, v in dist.items()}


def test_conjugate_gradient_on_user_0_and_alpha_slows_it(data, paper):
    fit_part, Q = data["fit_part"], paper.Q
    QtQ, items = Q.T @ Q, fit_part.user_items(0)[0]
    Q_u, c_u = Q[items], np.full(len(items), 41.0)
    exact = implicit.als.solve_user(Q, QtQ, items, c_u, 0.01)
    assert np.allclose(exact, np.linalg.lstsq(  # the stacked weighted least squares, independently
        np.vstack([np.sqrt(np.r_[c_u, np.ones(Q.shape[0] - len(items))])[:, None]
                   * np.vstack([Q_u, np.delete(Q, items, axis=0)]), np.sqrt(0.01) * np.eye(32)]),
        np.r_[np.sqrt(c_u), np.zeros(Q.shape[0] - len(items)), np.zeros(32)], rcond=None)[0], atol=1e-8)

    def matvec(v):
        return QtQ @ v + Q_u.T @ ((c_u - 1) * (Q_u @ v)) + 0.01 * v

    gaps = {s: np.linalg.norm(implicit.als.conjugate_gradient(matvec, Q_u.T @ c_u, np.zeros(32), s) - exact)
            / np.linalg.norm(exact) for s in (3, 32)}
    assert round(gaps[3], 2) == 0.29 and gaps[32] < 1e-8
    table = {a: conditions_and_distances(Q, fit_part, a) for a in (0.01, 1.0, 40.0)}
    assert [round(table[a][0]) for a in (0.01, 1.0, 40.0)] == [14, 13, 33]
    assert table[40.0][0] / table[1.0][0] == pytest.approx(2.5, abs=0.2)  # "about two and a half times"
    assert 30 < table[40.0][1][10] / table[1.0][1][10] < 80  # "about fifty times further" after 10 steps
    assert abs(np.log(table[0.01][1][10] / table[1.0][1][10])) < np.log(3)  # "nothing changes" below 1
    assert 0.07 < min(t[1][3] for t in table.values()) and max(t[1][3] for t in table.values()) < 0.25


@pytest.mark.parametrize("alpha, ndcg_cg, watched, random, loss_above_exact", [
    (0.01, 0.0790723779984324, 0.5507956883992988, 0.056888192624995254, 0.0005248781325790652),
    (40.0, 0.04985725215034144, 0.9452094944914614, 0.20782810365188378, 0.004952688276285366),
])
def test_seed_0_of_the_alpha_grid_with_cg(data, val_ndcg, paper, alpha, ndcg_cg, watched, random, loss_above_exact):
    fit_part = data["fit_part"]
    cg = implicit.als.fit(fit_part, 32, alpha=alpha, reg=0.01, epochs=15, seed=0)
    assert val_ndcg(cg) == pytest.approx(ndcg_cg, **RANK)
    # printed to 3 decimals; the random-cell mean moves 2.5e-5 (relative) under OpenBLAS's Haswell kernel
    assert mean_scores(cg, data) == pytest.approx((watched, random), rel=2e-4)
    # section 5: CG's training loss after 15 sweeps against the exact solve's (same seed), printed
    # at one significant digit ("0.05%", "0.5%": "ten times further" at alpha 40)
    exact = paper if alpha == 40.0 else implicit.als.fit(fit_part, 32, alpha=alpha, reg=0.01, epochs=15,
                                                         solver="exact", seed=0)
    above = cg.history["loss"][-1] / exact.history["loss"][-1] - 1
    assert above == pytest.approx(loss_above_exact, rel=1e-3)
    assert f"{100 * above:.1g}" == {0.01: "0.05", 40.0: "0.5"}[alpha]


@pytest.fixture(scope="module")
def bpr_val(data):
    return implicit.bpr.fit(data["fit_part"], 32, lr=0.05, reg=0.01, epochs=30, seed=0)


def test_bpr_on_the_validation_split(data, val_ndcg, bpr_val):
    loss = bpr_val.history["loss"]
    assert (loss[0], loss[9], loss[29]) == pytest.approx((0.4592445239398314, 0.19157731010244516,
                                                          0.1249372396733686), rel=1e-5)
    assert loss[29] < np.log(2)
    assert np.corrcoef(bpr_val.item_bias, data["fit_part"].item_counts())[0, 1] == pytest.approx(0.8935815777750437, abs=1e-3)
    assert val_ndcg(bpr_val) == pytest.approx(0.06576833783470587, **RANK)


@pytest.fixture(scope="module")
def models(data):
    train = data["train"]
    return {"popularity": baseline.popularity(train, by="count"),
            "explicit": sgd.fit(data["star_train"], 50, lr=0.01, reg=0.1, epochs=30, biases=True, seed=0),
            "als": implicit.als.fit(train, 32, alpha=0.01, reg=0.01, epochs=15, seed=0),
            "bpr": implicit.bpr.fit(train, 32, lr=0.05, reg=0.01, epochs=30, seed=0)}


# hit rate, NDCG, AUC, coverage, distinct movies, median viewers of a listed movie
TEST_TABLE = {"popularity": (0.0859, 0.0449, 0.7974, 0.0541, 91, 418),
              "explicit": (0.0223, 0.0089, 0.5716, 0.0957, 161, 123),
              "als": (0.1485, 0.0749, 0.8515, 0.3424, 576, 228),
              "bpr": (0.1379, 0.0661, 0.8898, 0.3573, 601, 228)}


def test_the_test_table(data, models):
    train, test, R = data["train"], data["test"], data["R"]
    users, viewers = np.arange(R.n_users), train.item_counts()
    for name, m in models.items():
        scores = ranking(m, test, train)
        S = m.predict_all()
        auc = np.mean([metrics.auc(S[u], test.user_items(u)[0], exclude=train.user_items(u)[0]) for u in users])
        lists = recommend.top_n_batch(m, users, 10, exclude=train)
        got = (scores["hit_rate@10"], scores["ndcg@10"], auc, metrics.coverage(lists, R.n_items))
        assert got == pytest.approx(TEST_TABLE[name][:4], abs=6e-5), name
        assert (len(np.unique(lists)), np.median(viewers[lists])) == pytest.approx(TEST_TABLE[name][4:], abs=0.5), name
    # what the prose says of it
    best = {col: max(TEST_TABLE, key=lambda n: TEST_TABLE[n][col]) for col in range(4)}
    assert best == {0: "als", 1: "als", 2: "bpr", 3: "bpr"}
    assert all(TEST_TABLE[m][c] > TEST_TABLE["popularity"][c] for m in ("als", "bpr") for c in range(4))
    assert TEST_TABLE["explicit"][0] < TEST_TABLE["popularity"][0]


def test_exercise_2_who_benefits(data, models):
    train, test = data["train"], data["test"]
    counts, viewers = train.user_counts(), train.item_counts()
    group = np.digitize(counts, np.quantile(counts, [1 / 3, 2 / 3]))
    seen = train.to_dense(fill=0.0)[:, np.argsort(-viewers, kind="stable")[:50]] > 0
    rows = []
    for g in range(3):
        members = np.flatnonzero(group == g)
        sub = test.subset(np.isin(test.user, members))
        rows.append((len(members), ranking(models["popularity"], sub, train)["hit_rate@10"],
                     ranking(models["als"], sub, train)["hit_rate@10"], seen[members].mean(),
                     np.median(viewers[sub.item])))
    assert [r[0] for r in rows] == [313, 314, 316]
    assert [round(r[1], 3) for r in rows] == [0.089, 0.073, 0.095]
    assert [round(r[2], 3) for r in rows] == [0.192, 0.175, 0.079]
    assert [round(r[3], 3) for r in rows] == [0.159, 0.328, 0.636]
    assert [r[4] for r in rows] == [134.0, 126.5, 86.0]
    assert round((rows[2][1] - rows[2][2]) * rows[2][0]) == 5  # "a difference of 5 users out of 316"
    p, n = rows[2][1], rows[2][0]  # "about one standard deviation of a hit rate measured on 316 users"
    assert round(np.sqrt(p * (1 - p) / n), 3) == 0.016 and 0.8 < 5 / n / np.sqrt(p * (1 - p) / n) < 1.2


def test_exercise_3_popularity_negatives(data, val_ndcg, bpr_val):
    fit_part = data["fit_part"]
    bpr_pop = implicit.bpr.fit(fit_part, 32, lr=0.05, reg=0.01, epochs=30, seed=0, negatives="popularity")
    users = np.arange(fit_part.n_users)
    coverage = [metrics.coverage(recommend.top_n_batch(m, users, 10, exclude=fit_part), fit_part.n_items)
                for m in (bpr_val, bpr_pop)]
    assert coverage == pytest.approx([0.3620689655172414, 0.654577883472057], abs=1e-3)
    assert val_ndcg(bpr_pop) == pytest.approx(0.04933400446308359, **RANK)
