"""MovieLens 100K: 100,000 ratings (1-5) by 943 users of 1,682 movies, collected by GroupLens.

Every file is checked against its published sha256 sum each time it is read, because the lessons
print numbers that hold only for the unchanged data; a missing or altered file raises
:class:`DataFileError`, whose message names the file and says how to restore it.

Where the files are looked for, first match wins:

1. the ``path`` argument;
2. the environment variable ``MFLAB_DATA``;
3. ``data/ml-100k`` in the repository, when mflab runs from a checkout (it ships the files there
   so that a classroom works offline); an installed package (pip) has no such folder;
4. the per-user cache: ``$MFLAB_CACHE/ml-100k``, by default ``~/.cache/mflab/ml-100k``.

If none of them exists, GroupLens's ``ml-100k.zip`` is downloaded once (``MFLAB_MOVIELENS_URL``
names a mirror), verified file by file and installed into the cache (:mod:`mflab.datasets.fetch`).
``path`` and ``MFLAB_DATA`` may name the ``ml-100k`` directory itself or a directory containing it.
Without a network, ``python -m mflab.datasets.fetch --from path/to/ml-100k.zip`` installs an archive
downloaded elsewhere into the cache.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _checks
from ..ratings import Ratings
from . import _files
from ._files import ARCHIVE_URL, CACHE_ENV, ENV_VAR, SHA256, SIZES, cache_dir  # noqa: F401 (public names)
from . import fetch as _fetch  # one way only: fetch never imports this module
from .errors import DataFileError, DownloadError

__all__ = ["MovieLens100K", "movielens_100k", "movielens_100k_split", "DataFileError",
           "SHA256", "SPLITS", "data_dir", "cache_dir"]

N_USERS, N_ITEMS = 943, 1682
SCALE = (1, 5)
SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
# The checkout's data folder, or None for an installed package (whose parent is site-packages).
_REPO_DATA = _files.repository_data()
_sha256 = _files.sha256

RATING_COLUMNS = ["user_id", "item_id", "rating", "timestamp"]


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
        where, source = ((_checks.path("path", path), "the path argument") if path is not None
                         else (Path(os.environ[ENV_VAR]).expanduser(), f"the {ENV_VAR} environment variable"))
        if (where / "ml-100k").is_dir():
            where = where / "ml-100k"
        if not where.is_dir():
            raise DataFileError(
                f"MovieLens 100K directory {where} (from {source}) does not exist or is not a "
                f"directory. Point it at the unzipped ml-100k directory of {ARCHIVE_URL}, or leave "
                f"it unset to use {'the repository copy or ' if _REPO_DATA else ''}the download cache.")
        return where
    if _REPO_DATA is not None and _REPO_DATA.is_dir():
        return _REPO_DATA
    cached = cache_dir() / "ml-100k"
    if cached.is_dir():
        return cached
    if not download:
        raise DataFileError(_not_found(cached, "download=False was given"))
    try:
        return _fetch.download(cached)
    except DownloadError as error:
        raise DataFileError(_not_found(cached, str(error))) from None


def _not_found(cached: Path, why: str) -> str:
    """Where the data was looked for, and the fixes that work for this user (a checkout or pip)."""
    places = ["the path argument (not given)", f"${ENV_VAR} (not set)"]
    if _REPO_DATA is not None:
        places.append(f"the repository's data/ml-100k ({_REPO_DATA}: absent)")
    places.append(f"the cache {cached} (absent)")
    fixes = []
    if _REPO_DATA is not None:
        fixes.append("in the repository, run `make data` on a machine with a network, or "
                     "`make data FROM=path/to/ml-100k.zip` with an archive downloaded elsewhere")
    fixes += [f"once a network is up, run `python -m mflab.datasets.fetch` (it downloads into "
              f"{_REPO_DATA or cached})",
              f"download {ARCHIVE_URL} elsewhere (a browser, another machine) and install it with "
              f"`python -m mflab.datasets.fetch --from path/to/ml-100k.zip`",
              f"set {_files.URL_ENV} to a mirror of ml-100k.zip (a course server, say)",
              f"set {ENV_VAR} to an unzipped ml-100k directory"]
    return (f"MovieLens 100K was not found and could not be downloaded ({why}). Looked in: "
            f"{'; '.join(places)}. To fix it, either: " + "; or ".join(fixes) + ".")


# --------------------------------------------------------------------------- verification
def _checked(where: Path, name: str) -> Path:
    """``where / name`` after checking its size, then its sha256, against the published file."""
    file = where / name
    # Hashed on every read (about 10 ms for the largest file): a cache keyed on size and
    # modification time would trust a file altered in place that kept both.
    why = _files.problem(file, name)
    if why == "missing":
        raise DataFileError(f"MovieLens 100K file {name} is missing from {where}. {_restore(where, name)}")
    if why is not None:
        raise DataFileError(
            f"MovieLens 100K file {name} in {where} has been altered: {why}. The lessons' numbers "
            f"hold only for the published file. {_restore(where, name)}")
    return file


def _restore(where: Path, name: str) -> str:
    if _REPO_DATA is not None and where.resolve() == _REPO_DATA.resolve():
        how = (f"run `git checkout -- data/ml-100k/{name}` or `make data` in the mflab repository, "
               f"or copy {name}")
    elif where.resolve() == (cache_dir() / "ml-100k").resolve():
        how = (f"delete {where} so that it is downloaded again (or run `python -m "
               f"mflab.datasets.fetch --to {where}`), or copy {name}")
    else:
        how = f"copy {name}"
    return (f"To restore it, {how} from GroupLens's archive {ARCHIVE_URL} into {where}; or point "
            f"{ENV_VAR} (or path=...) at an intact copy of the ml-100k directory.")


# --------------------------------------------------------------------------- parsing
def _read_text(where: Path, name: str) -> str:
    return _checked(where, name).read_text(encoding="latin-1")


def _read_ratings(where: Path, name: str) -> pd.DataFrame:
    """A tab-separated ratings file (u.data, u1.base, ...) with integer columns."""
    return pd.read_csv(_checked(where, name), sep="\t", header=None, names=RATING_COLUMNS,
                       dtype="int64")
