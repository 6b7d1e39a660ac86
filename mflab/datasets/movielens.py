"""MovieLens 100K: 100,000 ratings (1-5) by 943 users of 1,682 movies, collected by GroupLens.

Every file is checked against its published sha256 sum each time it is read, because the lessons
print numbers that hold only for the unchanged data; a missing or altered file raises
:class:`DataFileError`, whose message names the file and says how to restore it.

Where the files are looked for, first match wins:

1. the ``path`` argument;
2. the environment variable ``MFLAB_DATA``;
3. ``data/ml-100k`` in the repository, when mflab runs from a checkout (it ships the files there
   so that a classroom works offline);
4. the per-user cache: ``$MFLAB_CACHE/ml-100k``, by default ``~/.cache/mflab/ml-100k``.

If none of them exists, GroupLens's ``ml-100k.zip`` is downloaded once (``MFLAB_MOVIELENS_URL``
names a mirror), verified file by file and installed into the cache (:mod:`mflab.datasets.fetch`).
``path`` and ``MFLAB_DATA`` may name the ``ml-100k`` directory itself or a directory containing it.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..ratings import Ratings

__all__ = ["MovieLens100K", "movielens_100k", "movielens_100k_split", "DataFileError",
           "SHA256", "SPLITS", "data_dir", "cache_dir"]

ENV_VAR = "MFLAB_DATA"
CACHE_ENV = "MFLAB_CACHE"
N_USERS, N_ITEMS = 943, 1682
SCALE = (1, 5)
SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
ARCHIVE_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
_REPO = Path(__file__).resolve().parents[2]
# Only a checkout has the data folder: an installed wheel's parents[2] is site-packages' parent.
_REPO_DATA = _REPO / "data" / "ml-100k"

# The sums of the files as GroupLens distributes them. They are the authority the loader checks
# against, so that data found through MFLAB_DATA is held to the same standard as the repository's;
# data/ml-100k.sha256 lists the same sums for `sha256sum -c`, and a test keeps the two equal.
SHA256 = {
    "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
    "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
    "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
    "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
    "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
    "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
    "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
    "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
    "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
    "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
    "ua.base": "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2",
    "ua.test": "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42",
    "ub.base": "237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881",
    "ub.test": "d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da",
}

RATING_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]


class DataFileError(ValueError):
    """A MovieLens file is missing or differs from the published one.

    The message names the file, says what is wrong and how to restore it.
    """


# --------------------------------------------------------------------------- public API
@dataclass(frozen=True, eq=False)
class MovieLens100K:
    """The three tables of MovieLens 100K.

    ``ratings``: user_id, item_id, rating (1..5), timestamp (Unix seconds), all integers.
    ``movies``: item_id, title, release_date (datetime; NaT where unknown), imdb_url, one 0/1
    column per genre (named as in ``u.genre``) and ``genres``, the movie's genres joined by "|"
    (e.g. ``"Action|Adventure|Romance|Sci-Fi|War"``). Video release dates are empty in the source
    and dropped.
    ``users``: user_id, age, gender ("M"/"F"), occupation, zip_code (a string: some are Canadian).
    ``genre_names``: the 19 genres in file order.
    """

    ratings: pd.DataFrame
    movies: pd.DataFrame
    users: pd.DataFrame
    genre_names: list = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"MovieLens100K({len(self.ratings)} ratings, {len(self.users)} users, "
                f"{len(self.movies)} movies, {len(self.genre_names)} genres)")

    def to_ratings(self) -> Ratings:
        """All ratings as a :class:`~mflab.Ratings` on the full 943 x 1682 index.

        User index ``u`` is ``user_id - 1`` and item index ``i`` is ``item_id - 1``, as in the
        canonical splits, so indices from either can be used with :meth:`title`.
        """
        return Ratings.from_frame(self.ratings, users=self.users["user_id"].to_numpy(),
                                  items=self.movies["item_id"].to_numpy(), scale=SCALE)

    def title(self, item):
        """Title of the movie at 0-based item index ``item`` (an int, or a sequence -> list)."""
        titles = self.movies["title"].to_numpy()
        idx = np.asarray(item)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"item must be an integer index or a sequence of them; got {item!r}")
        bad = idx[(idx < 0) | (idx >= len(titles))]
        if bad.size:
            raise ValueError(f"item index {bad.flat[0]} is outside [0, {len(titles)}); item indices "
                             f"are 0-based (item_id - 1)")
        return str(titles[idx]) if idx.ndim == 0 else [str(t) for t in titles[idx]]


def movielens_100k(path=None) -> MovieLens100K:
    """Load MovieLens 100K (ratings, movies, users), checking each file's sha256 first.

    ``path``: the ``ml-100k`` directory or one containing it; by default ``MFLAB_DATA``, the
    repository's ``data/ml-100k``, the cache, else a verified download. Raises :class:`DataFileError` for a missing or altered file.
    """
    where = data_dir(path)
    genre_names = [line.split("|")[0] for line in _read_text(where, "u.genre").splitlines()
                   if line.strip()]
    ratings = _read_ratings(where, "u.data")
    movie_columns = ["item_id", "title", "release_date", "video_release_date", "imdb_url", *genre_names]
    movies = pd.read_csv(_checked(where, "u.item"), sep="|", header=None, names=movie_columns,
                         encoding="latin-1", dtype={"title": str, "imdb_url": str},
                         keep_default_na=False)
    movies = movies.drop(columns="video_release_date")
    movies["release_date"] = pd.to_datetime(movies["release_date"], format="%d-%b-%Y", errors="coerce")
    flags = movies[genre_names].to_numpy(dtype=bool)
    movies["genres"] = ["|".join(g for g, on in zip(genre_names, row) if on) for row in flags]
    users = pd.read_csv(_checked(where, "u.user"), sep="|", header=None,
                        names=["user_id", "age", "gender", "occupation", "zip_code"],
                        dtype={"zip_code": str}, keep_default_na=False)
    return MovieLens100K(ratings=ratings, movies=movies, users=users, genre_names=genre_names)


def movielens_100k_split(name: str = "u1", path=None) -> tuple[Ratings, Ratings]:
    """The canonical train/test pair ``name.base`` / ``name.test`` as two :class:`~mflab.Ratings`.

    ``u1`` .. ``u5``: 80/20 splits whose test sets partition the data (5-fold cross-validation).
    ``ua``, ``ub``: exactly 10 test ratings per user. Both sets use the full 943 x 1682 index
    (``u = user_id - 1``, ``i = item_id - 1``) and the scale (1, 5).
    """
    if name not in SPLITS:
        raise ValueError(f"name must be one of {', '.join(SPLITS)}; got {name!r}")
    where = data_dir(path)
    users, items = np.arange(1, N_USERS + 1), np.arange(1, N_ITEMS + 1)
    train, test = (Ratings.from_frame(_read_ratings(where, f"{name}.{part}"), users=users,
                                      items=items, scale=SCALE)
                   for part in ("base", "test"))
    return train, test


def data_dir(path=None, *, download: bool = True) -> Path:
    """The ``ml-100k`` directory the loaders read (see the module docstring for the order).

    With nothing found and ``download=True``, fetches GroupLens's archive into the cache first.
    """
    if path is not None or os.environ.get(ENV_VAR):
        where, source = ((Path(path), "the path argument") if path is not None
                         else (Path(os.environ[ENV_VAR]), f"the {ENV_VAR} environment variable"))
        where = where.expanduser()
        if (where / "ml-100k").is_dir():
            where = where / "ml-100k"
        if not where.is_dir():
            raise DataFileError(
                f"MovieLens 100K directory {where} (from {source}) does not exist or is not a "
                f"directory. Point it at the unzipped ml-100k directory of {ARCHIVE_URL}, or leave "
                f"it unset to use the repository's copy or the download cache.")
        return where
    if _REPO_DATA.is_dir():
        return _REPO_DATA
    cached = cache_dir() / "ml-100k"
    if cached.is_dir():
        return cached
    if not download:
        raise DataFileError(_not_found(cached, "download=False was given"))
    from .fetch import DownloadError, download as fetch

    try:
        return fetch(cached)
    except DownloadError as error:
        raise DataFileError(_not_found(cached, str(error))) from None


def cache_dir() -> Path:
    """The per-user cache of downloaded data: ``$MFLAB_CACHE``, else ``~/.cache/mflab``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mflab").expanduser()


def _not_found(cached: Path, why: str) -> str:
    return (
        f"MovieLens 100K was not found and could not be downloaded ({why}). Looked in: the path "
        f"argument (not given); ${ENV_VAR} (not set); the repository's data/ml-100k ({_REPO_DATA}: "
        f"absent); the cache {cached} (absent). To fix it, either: run `make data` (or "
        f"`python -m mflab.datasets.fetch --to {cached}`) on a machine with a network; or download "
        f"{ARCHIVE_URL} elsewhere and install it with `make data FROM=path/to/ml-100k.zip`; or "
        f"set {ENV_VAR} to an unzipped ml-100k directory.")


# --------------------------------------------------------------------------- verification
def _checked(where: Path, name: str) -> Path:
    """``where / name`` after checking its sha256 against :data:`SHA256`."""
    file = where / name
    if not file.is_file():
        raise DataFileError(f"MovieLens 100K file {name} is missing from {where}. {_restore(where, name)}")
    # Hashed on every read (about 10 ms for the largest file): a cache keyed on size and
    # modification time would trust a file altered in place that kept both.
    actual = _sha256(file)
    expected = SHA256[name]
    if actual != expected:
        raise DataFileError(
            f"MovieLens 100K file {name} in {where} has been altered: its sha256 is {actual[:12]}..., "
            f"expected {expected[:12]}... The lessons' numbers hold only for the published file. "
            f"{_restore(where, name)}")
    return file


def _restore(where: Path, name: str) -> str:
    if where.resolve() == _REPO_DATA.resolve():
        how = (f"run `git checkout -- data/ml-100k/{name}` or `make data` in the mflab repository, "
               f"or copy {name}")
    elif where.resolve() == (cache_dir() / "ml-100k").resolve():
        how = f"delete {where} so that it is downloaded again, or copy {name}"
    else:
        how = f"copy {name}"
    return (f"To restore it, {how} from GroupLens's archive {ARCHIVE_URL} into {where}; or point "
            f"{ENV_VAR} (or path=...) at an intact copy of the ml-100k directory.")


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- parsing
def _read_text(where: Path, name: str) -> str:
    return _checked(where, name).read_text(encoding="latin-1")


def _read_ratings(where: Path, name: str) -> pd.DataFrame:
    """A tab-separated ratings file (u.data, u1.base, ...) with integer columns."""
    return pd.read_csv(_checked(where, name), sep="\t", header=None, names=RATING_COLUMNS,
                       dtype="int64")
