"""Fetch MovieLens 100K from GroupLens and install it only after every file checks out.

The repository carries the data for offline classrooms, but the published package does not (the
licence forbids redistribution), so a user without the repository gets it here, on first use::

    archive  --download-->  temporary file  --extract-->  temporary directory
             --size, then sha256, of every file-->  rename into place (atomic)

Nothing is moved into place before all files match, and the temporary files are removed on any
failure, so an interrupted, truncated or tampered download leaves nothing a later run could trust;
what a killed process left behind is removed by the next run. A lock file serialises processes that
fetch into the same directory at the same time. Nothing is read past a known size: the download
stops at :data:`~mflab.datasets._files.ARCHIVE_LIMIT` bytes and a zip member is extracted only
when it declares the published size of its file, so a zip bomb cannot fill the disk; and the
whole download has a deadline (``MFLAB_DOWNLOAD_DEADLINE``), besides the time-out of each read
(``MFLAB_DOWNLOAD_TIMEOUT``), so a server that trickles is given up on.

From the command line::

    python -m mflab.datasets.fetch                       # check the data; download it if needed
    python -m mflab.datasets.fetch --from ml-100k.zip    # install a copy downloaded elsewhere
    python -m mflab.datasets.fetch --to DIR              # another ml-100k directory

In a checkout the default directory is the repository's ``data/ml-100k`` (``make data`` runs this);
an installed package uses the cache (``$MFLAB_CACHE/ml-100k``, by default ``~/.cache/mflab/ml-100k``),
never a folder inside site-packages.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from .. import _checks
from . import _files
from .errors import DataFileError, DownloadError

__all__ = ["download", "install_archive", "check", "archive_url", "default_target", "main",
           "DownloadError", "DataFileError", "LICENCE"]

URL_ENV = _files.URL_ENV
TIMEOUT_ENV = "MFLAB_DOWNLOAD_TIMEOUT"  # seconds one read may wait for the server
DEADLINE_ENV = "MFLAB_DOWNLOAD_DEADLINE"  # seconds the whole download may take
DEFAULT_TIMEOUT = 30.0
DEFAULT_DEADLINE = 300.0  # the 5 MB archive in 5 minutes: a link of 17 KB/s still makes it
_CHUNK = 1 << 16

LICENCE = """\
MovieLens 100K was collected by the GroupLens Research Project, University of Minnesota.
Terms (full text in ml-100k/README): use it for research; do not imply endorsement by the
University of Minnesota or GroupLens; do not redistribute it without GroupLens's permission;
ask GroupLens before any commercial use. Cite it as:
  F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context.
  ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4, Article 19.
  https://doi.org/10.1145/2827872"""


def archive_url() -> str:
    """Where the archive is downloaded from: ``MFLAB_MOVIELENS_URL``, else GroupLens's address."""
    url = os.environ.get(URL_ENV, "").strip()
    if url and not url.lower().startswith(("http://", "https://", "ftp://", "file:")):
        raise ValueError(f"the environment variable {URL_ENV}={url!r} is not a URL; set it to the "
                         f"http(s) address of a copy of ml-100k.zip, or unset it for {_files.ARCHIVE_URL}")
    return url or _files.ARCHIVE_URL


def default_target() -> Path:
    """The directory ``python -m mflab.datasets.fetch`` fills: the checkout's ``data/ml-100k``, else
    the cache's ``ml-100k`` (a pip user has no repository, and site-packages is no place for data)."""
    return _files.repository_data() or _files.cache_dir() / "ml-100k"


def download(target: Path, *, url: str | None = None, timeout: float | None = None,
             deadline: float | None = None) -> Path:
    """Download, verify and install MovieLens 100K as the directory ``target`` (``.../ml-100k``).

    ``timeout``: seconds one read may wait (default ``MFLAB_DOWNLOAD_TIMEOUT``, else 30);
    ``deadline``: seconds the whole download may take (default ``MFLAB_DOWNLOAD_DEADLINE``, else
    300). Returns ``target``. If another process installed it while this one waited for the lock,
    that copy is checked and kept. Prints (to stderr) where the data came from and went, and the
    licence. Raises :class:`DownloadError` when the archive cannot be fetched and
    :class:`DataFileError` when it does not match the published files.
    """
    url = url or archive_url()
    timeout = _seconds("timeout", timeout, TIMEOUT_ENV, DEFAULT_TIMEOUT)
    deadline = _seconds("deadline", deadline, DEADLINE_ENV, DEFAULT_DEADLINE)
    target = _checks.path("target", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        if _complete(target):
            return target
        fd, name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".zip", dir=target.parent)
        archive = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                size = _copy_url(url, out, timeout, deadline)
            _install_locked(archive, target, source=url)
        finally:
            archive.unlink(missing_ok=True)
    print(f"mflab: downloaded MovieLens 100K ({size / 1e6:.1f} MB) from {url}\n"
          f"mflab: installed its {len(_files.SHA256)} files, each verified, into {target}\n"
          f"{LICENCE}", file=sys.stderr, flush=True)
    return target


def install_archive(archive, target: Path) -> Path:
    """Install a local copy of ``ml-100k.zip`` as ``target``, with the same checks as :func:`download`.

    An existing ``target`` is replaced only once the archive has been verified.
    """
    archive = _checks.path("archive", archive)
    if not archive.is_file():
        raise DataFileError(f"archive {archive} does not exist; download ml-100k.zip from "
                            f"{_files.ARCHIVE_URL} first, or give its path")
    if archive.stat().st_size > _files.ARCHIVE_LIMIT:
        raise DataFileError(f"archive {archive} has {archive.stat().st_size:,} bytes, more than "
                            f"MovieLens 100K's files uncompressed ({_files.ARCHIVE_LIMIT:,}): it is "
                            f"not ml-100k.zip. Nothing was installed.")
    target = _checks.path("target", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        _install_locked(archive, target, source=str(archive), replace=True)
    return target


def check(directory: Path) -> list[str]:
    """The names of the files of ``directory`` that are missing or differ from the published ones
    (each file's size is compared before it is hashed)."""
    return _files.check(_checks.path("directory", directory))


# --------------------------------------------------------------------------- the steps
def _seconds(name, value, var, default) -> float:
    if value is None:
        return _checks.env_number(var, default, unit="seconds")
    return _checks.positive(name, value)


def _temp_prefix(target: Path) -> str:
    return f".{target.name}-"


def _copy_url(url: str, out, timeout: float, deadline: float) -> int:
    """Stream ``url`` into the open file ``out`` with a progress line; the number of bytes.

    Stops with :class:`DownloadError` past :data:`_files.ARCHIVE_LIMIT` bytes, or when the whole
    download outlasts ``deadline`` seconds (checked after every read; one read waits at most
    ``timeout``, so a server that sends nothing at all is given up on after ``timeout``).
    """
    limit, started = _files.ARCHIVE_LIMIT, time.monotonic()
    total = done = 0
    try:
        with urllib.request.urlopen(url, timeout=min(timeout, deadline)) as response:
            total = int(response.headers.get("Content-Length") or 0)
            if total > limit:
                raise DownloadError(f"{url} announces {total:,} bytes, more than MovieLens 100K's "
                                    f"files uncompressed ({limit:,}): it is not ml-100k.zip, so "
                                    f"nothing was downloaded")
            while chunk := response.read1(_CHUNK):
                done += len(chunk)
                if done > limit:
                    raise DownloadError(f"the download of {url} passed {limit:,} bytes, more than "
                                        f"MovieLens 100K's files uncompressed: it is not ml-100k.zip, "
                                        f"so it was stopped there")
                out.write(chunk)
                _progress(done, total)
                elapsed = time.monotonic() - started
                if elapsed > deadline:
                    raise DownloadError(
                        f"the download of {url} was given up after {elapsed:.0f} s with {done:,} "
                        f"bytes{f' of {total:,}' if total else ''} ({done / elapsed / 1e3:.0f} KB/s): "
                        f"it must finish within {deadline:g} s ({DEADLINE_ENV}). Raise "
                        f"{DEADLINE_ENV} on a slow link, or download the archive another way "
                        f"and install it with `python -m mflab.datasets.fetch --from ml-100k.zip`")
    except DownloadError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as error:  # HTTPError, time-outs, resets
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"could not download {url}: {reason}") from None
    finally:
        if _interactive():
            print(file=sys.stderr)
    if total and done != total:
        raise DownloadError(f"the download of {url} stopped after {done:,} of {total:,} bytes")
    return done


def _interactive() -> bool:
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def _progress(done: int, total: int) -> None:
    if not _interactive():
        return
    if total:
        bar = "#" * int(30 * done / total)
        print(f"\rDownloading ml-100k.zip [{bar:<30}] {done / 1e6:.1f}/{total / 1e6:.1f} MB",
              end="", file=sys.stderr, flush=True)
    else:
        print(f"\rDownloading ml-100k.zip {done / 1e6:.1f} MB", end="", file=sys.stderr, flush=True)


def _install_locked(archive: Path, target: Path, *, source: str, replace: bool = False) -> None:
    """Extract the published files of ``archive`` beside ``target``, verify them, rename into place."""
    staging = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), dir=target.parent))
    try:
        _extract(archive, staging, source)
        bad = _files.check(staging)
        if bad:
            raise DataFileError(
                f"the archive from {source} does not hold the published MovieLens 100K: "
                f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} missing or altered. Nothing "
                f"was installed. Download it again, or fetch ml-100k.zip from {_files.ARCHIVE_URL}.")
        if replace and target.exists():
            old = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), dir=target.parent))
            os.rename(target, old / "ml-100k")
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: Path, staging: Path, source: str) -> None:
    """Copy the published files out of the zip: only those (no path in the archive is trusted), and
    only a member that declares its file's published size; never more bytes than that."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = {Path(m.filename).name: m for m in zf.infolist()
                       if Path(m.filename).parent.name == "ml-100k" and Path(m.filename).name in _files.SHA256}
            for name, member in members.items():
                size = _files.SIZES[name]
                if member.file_size != size:  # left out: check() then reports it as altered
                    continue
                with zf.open(member) as src, open(staging / name, "wb") as dst:
                    left = size + 1  # one byte more than published shows a lying header
                    while left > 0 and (chunk := src.read(min(_CHUNK, left))):
                        dst.write(chunk)
                        left -= len(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as error:
        raise DataFileError(
            f"the archive from {source} is not a readable zip file ({error}); it may have been cut "
            f"short. Nothing was installed. Download it again.") from None


def _complete(directory: Path) -> bool:
    return directory.is_dir() and not _files.check(directory)


def _clean_leftovers(target: Path) -> None:
    """Remove what a killed process left beside ``target`` (temporary archives, staging folders).

    Called with the lock held: no live process is writing them, since every writer holds the lock.
    """
    for leftover in target.parent.glob(_temp_prefix(target) + "*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(target: Path):
    """An exclusive lock on ``.<target>.lock`` while one process downloads or installs; what a
    killed process left is cleaned first (the kernel released its lock when it died)."""
    import fcntl

    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _clean_leftovers(target)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- the command line
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mflab.datasets.fetch",
        description="Check the MovieLens 100K copy; fetch or install it if it is missing or damaged.")
    parser.add_argument("--from", dest="archive",
                        help="install this ml-100k.zip (downloaded elsewhere) instead of downloading")
    parser.add_argument("--to", default=str(default_target()),
                        help="the ml-100k directory to check and fill (default: %(default)s)")
    args = parser.parse_args(argv)
    target = Path(args.to).expanduser()
    n = len(_files.SHA256)
    try:
        if args.archive:
            install_archive(args.archive, target)
            print(f"installed {args.archive} into {target}; all {n} files verified")
            return 0
        bad = _files.check(target) if target.is_dir() else list(_files.SHA256)
        if not bad:
            print(f"{target}: all {n} files match their published sha256 sums")
            return 0
        print(f"{target}: {len(bad)} file(s) missing or altered ({', '.join(bad[:5])}"
              f"{', ...' if len(bad) > 5 else ''}); fetching {archive_url()}")
        if target.exists():
            with tempfile.TemporaryDirectory() as tmp:
                download(Path(tmp) / "ml-100k")
                for name in _files.SHA256:  # verified copies over the damaged ones
                    shutil.copy2(Path(tmp) / "ml-100k" / name, target / name)
        else:
            download(target)
        print(f"installed into {target}; all {n} files verified")
        return 0
    except (DataFileError, ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
