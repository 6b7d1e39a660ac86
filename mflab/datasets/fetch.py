"""Fetch MovieLens 100K from GroupLens and install it only after every file checks out.

The repository carries the data for offline classrooms, but the published package does not (the
licence forbids redistribution), so a user without the repository gets it here, on first use::

    archive  --download-->  temporary file  --extract-->  temporary directory
             --sha256 of every file against movielens.SHA256-->  rename into place (atomic)

Nothing is moved into place before all files match, and the temporary files are removed on any
failure, so an interrupted, truncated or tampered download leaves nothing a later run could trust.
A lock file serialises processes that fetch into the same directory at the same time.

From the command line (what ``make data`` runs)::

    python -m mflab.datasets.fetch                  # check data/ml-100k; download it if needed
    python -m mflab.datasets.fetch --from ml-100k.zip   # install a local copy of the archive
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from . import movielens as _ml

URL_ENV = "MFLAB_MOVIELENS_URL"  # a mirror of ml-100k.zip, or a local server in the tests
TIMEOUT_ENV = "MFLAB_DOWNLOAD_TIMEOUT"  # seconds without an answer before giving up
DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16

LICENCE = """\
MovieLens 100K was collected by the GroupLens Research Project, University of Minnesota.
Terms (full text in ml-100k/README): use it for research; do not imply endorsement by the
University of Minnesota or GroupLens; do not redistribute it without GroupLens's permission;
ask GroupLens before any commercial use. Cite it as:
  F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context.
  ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4, Article 19.
  https://doi.org/10.1145/2827872"""


class DownloadError(_ml.DataFileError):
    """The archive could not be downloaded (offline, a server error, a time-out)."""


def archive_url() -> str:
    """Where the archive is downloaded from: ``MFLAB_MOVIELENS_URL``, else GroupLens's address."""
    return os.environ.get(URL_ENV) or _ml.ARCHIVE_URL


def download(target: Path, *, url: str | None = None, timeout: float | None = None) -> Path:
    """Download, verify and install MovieLens 100K as the directory ``target`` (``.../ml-100k``).

    Returns ``target``. If another process installed it while this one waited for the lock, that
    copy is checked and kept. Raises :class:`DownloadError` when the archive cannot be fetched and
    :class:`mflab.datasets.movielens.DataFileError` when it does not match the published sums.
    """
    url = url or archive_url()
    timeout = _timeout(timeout)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        if _complete(target):
            return target
        fd, name = tempfile.mkstemp(prefix=".ml-100k-", suffix=".zip", dir=target.parent)
        archive = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                _copy_url(url, out, timeout)
            _install_locked(archive, target, source=url)
        finally:
            archive.unlink(missing_ok=True)
    print(LICENCE, file=sys.stderr)
    return target


def install_archive(archive, target: Path) -> Path:
    """Install a local copy of ``ml-100k.zip`` as ``target``, with the same checks as :func:`download`.

    An existing ``target`` is replaced only once the archive has been verified.
    """
    archive = Path(archive).expanduser()
    if not archive.is_file():
        raise _ml.DataFileError(f"archive {archive} does not exist; download ml-100k.zip from "
                                f"{_ml.ARCHIVE_URL} first, or give its path")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        _install_locked(archive, target, source=str(archive), replace=True)
    return target


def check(directory: Path) -> list[str]:
    """The names of the files of ``directory`` that are missing or differ from the published ones."""
    directory = Path(directory)
    return [name for name, digest in _ml.SHA256.items()
            if not (directory / name).is_file() or _ml._sha256(directory / name) != digest]


# --------------------------------------------------------------------------- the steps
def _timeout(timeout):
    if timeout is None:
        timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout}")
    return timeout


def _copy_url(url: str, out, timeout: float) -> None:
    """Stream ``url`` into the open file ``out``, with a progress line on stderr."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                done += len(chunk)
                _progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as error:  # HTTPError, time-outs, resets
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"could not download {url}: {reason}") from None
    finally:
        if sys.stderr.isatty() or "ipykernel" in sys.modules:
            print(file=sys.stderr)
    if total and done != total:
        raise DownloadError(f"the download of {url} stopped after {done:,} of {total:,} bytes")


def _progress(done: int, total: int) -> None:
    if not (sys.stderr.isatty() or "ipykernel" in sys.modules):
        return
    if total:
        bar = "#" * int(30 * done / total)
        print(f"\rDownloading ml-100k.zip [{bar:<30}] {done / 1e6:.1f}/{total / 1e6:.1f} MB",
              end="", file=sys.stderr, flush=True)
    else:
        print(f"\rDownloading ml-100k.zip {done / 1e6:.1f} MB", end="", file=sys.stderr, flush=True)


def _install_locked(archive: Path, target: Path, *, source: str, replace: bool = False) -> None:
    """Extract the published files of ``archive`` beside ``target``, verify them, rename into place."""
    staging = Path(tempfile.mkdtemp(prefix=".ml-100k-", dir=target.parent))
    try:
        _extract(archive, staging, source)
        bad = check(staging)
        if bad:
            raise _ml.DataFileError(
                f"the archive from {source} does not hold the published MovieLens 100K: "
                f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} missing or altered. Nothing "
                f"was installed. Download it again, or fetch ml-100k.zip from {_ml.ARCHIVE_URL}.")
        if replace and target.exists():
            old = Path(tempfile.mkdtemp(prefix=".ml-100k-old-", dir=target.parent))
            os.rename(target, old / "ml-100k")
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: Path, staging: Path, source: str) -> None:
    """Copy the published files out of the zip (only those: no path in the archive is trusted)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = {Path(m).name: m for m in zf.namelist()
                       if Path(m).parent.name == "ml-100k" and Path(m).name in _ml.SHA256}
            for name, member in members.items():
                with zf.open(member) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _ml.DataFileError(
            f"the archive from {source} is not a readable zip file ({error}); it may have been cut "
            f"short. Nothing was installed. Download it again.") from None


def _complete(directory: Path) -> bool:
    return directory.is_dir() and not check(directory)


@contextlib.contextmanager
def _locked(target: Path):
    """An exclusive lock on ``<target>.lock`` while one process downloads or installs."""
    import fcntl

    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- make data
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mflab.datasets.fetch",
        description="Check the repository's MovieLens 100K copy; fetch or install it if it is "
                    "missing or damaged.")
    parser.add_argument("--from", dest="archive", help="install this local ml-100k.zip instead of downloading")
    parser.add_argument("--to", default=str(_ml._REPO_DATA), help="the ml-100k directory to check (default: %(default)s)")
    args = parser.parse_args(argv)
    target = Path(args.to)
    try:
        if args.archive:
            install_archive(args.archive, target)
            print(f"installed {args.archive} into {target}; all {len(_ml.SHA256)} files verified")
            return 0
        bad = check(target) if target.is_dir() else list(_ml.SHA256)
        if not bad:
            print(f"{target}: all {len(_ml.SHA256)} files match their published sha256 sums")
            return 0
        print(f"{target}: {len(bad)} file(s) missing or altered ({', '.join(bad[:5])}"
              f"{', ...' if len(bad) > 5 else ''}); fetching {archive_url()}")
        if target.exists():
            with tempfile.TemporaryDirectory() as tmp:
                download(Path(tmp) / "ml-100k")
                for name in _ml.SHA256:  # verified copies over the damaged ones
                    shutil.copy2(Path(tmp) / "ml-100k" / name, target / name)
        else:
            download(target)
        print(f"installed into {target}; all {len(_ml.SHA256)} files verified")
        return 0
    except _ml.DataFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
