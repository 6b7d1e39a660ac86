"""The download cannot be held, filled or fooled, and a user without the repository is told what
works for them (issue 25, class 6; issue 21, pip users).

Every server is on 127.0.0.1 (test_fetch.py's); nothing here touches the internet. The classes:
a download that grows past any honest size; a zip member that unpacks to far more than its file;
a server that trickles; a process killed mid-download; a huge (sparse) file where a data file
should be; environment variables and arguments of the wrong kind; a pip install with no network.
"""
import ast
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import test_fetch
from test_fetch import GOOD, SOURCE, leftovers, no_local_copy, server  # noqa: F401 (fixtures)
from mflab.datasets import _files, fetch, movielens
from mflab.datasets.movielens import DataFileError, movielens_100k, movielens_100k_split

ROOT = Path(__file__).resolve().parents[1]


def _bomb() -> bytes:
    """A zip whose u.data unpacks to 32 MiB (16 times the published file) from a few dozen KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("ml-100k/u.data", bytes(32 << 20))
        zf.writestr("ml-100k/u.info", (SOURCE / "u.info").read_bytes())
    return buffer.getvalue()


# --------------------------------------------------------------------------- sizes
def test_a_zip_bomb_never_unpacks_past_the_published_sizes(server, no_local_copy, monkeypatch):
    test_fetch.ROUTES["/bomb.zip"] = _bomb()
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/bomb.zip")
    written = []
    check = _files.check

    def measured(directory):  # what the extraction wrote, seen just before verification
        written.append(sum(p.stat().st_size for p in Path(directory).iterdir()))
        return check(directory)

    monkeypatch.setattr(_files, "check", measured)
    with pytest.raises(DataFileError, match="u.data, .* are missing or altered. Nothing was installed"):
        movielens_100k()
    assert written == [_files.SIZES["u.info"]]  # the honest member only; not a byte of the bomb
    assert leftovers(no_local_copy) == []


@pytest.mark.parametrize("route, words", [
    ("endless.zip", "passed 1,000,000 bytes"),           # no Content-Length, never ends
    ("announces-a-terabyte.zip", "announces 1,000,000,000,000 bytes"),  # refused before reading
])
def test_a_download_larger_than_any_honest_archive_is_stopped(server, no_local_copy, monkeypatch, route, words):
    monkeypatch.setattr(_files, "ARCHIVE_LIMIT", 1_000_000)
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/{route}")
    started = time.monotonic()
    with pytest.raises(DataFileError, match=words):
        movielens_100k()
    assert time.monotonic() - started < 3
    assert leftovers(no_local_copy) == []


def test_the_archive_limit_holds_the_real_archive():
    assert len(GOOD) < _files.ARCHIVE_LIMIT  # deflated, as GroupLens ships it
    assert _files.ARCHIVE_LIMIT < 20e6


def test_a_huge_sparse_data_file_is_refused_by_its_size_without_reading_it(tmp_path):
    copy = tmp_path / "ml-100k"
    shutil.copytree(SOURCE, copy)
    with open(copy / "u.data", "r+b") as f:
        try:
            f.truncate(256 << 30)  # 256 GiB, sparse: no block is written
        except OSError:
            pytest.skip("this file system has no sparse files")
    started = time.monotonic()
    with pytest.raises(DataFileError, match=r"u.data .* altered: 274,877,906,944 bytes where the "
                                            r"published file has 1,979,173"):
        movielens_100k(copy)
    assert fetch.check(copy) == ["u.data"]
    assert time.monotonic() - started < 5  # hashing 256 GiB would take minutes


def test_the_published_sizes_are_the_shipped_files():
    assert {name: (SOURCE / name).stat().st_size for name in _files.SHA256} == _files.SIZES


# --------------------------------------------------------------------------- time
def test_a_trickling_server_is_given_up_at_the_deadline(server, no_local_copy, monkeypatch):
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/trickle.zip")
    monkeypatch.setenv("MFLAB_DOWNLOAD_DEADLINE", "0.5")  # each read answers well within its 1 s
    started = time.monotonic()
    with pytest.raises(DataFileError, match=r"given up after .* within 0.5 s \(MFLAB_DOWNLOAD_DEADLINE\)"):
        movielens_100k()
    assert time.monotonic() - started < 2
    assert leftovers(no_local_copy) == []


def test_what_a_killed_download_left_is_cleaned_by_the_next(server, tmp_path):
    target = tmp_path / "cache" / "ml-100k"
    code = ("import sys; from pathlib import Path; from mflab.datasets import fetch; "
            "fetch.download(Path(sys.argv[1]), url=sys.argv[2], timeout=10, deadline=60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(target), f"{server}/trickle.zip"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a loaded machine may take long to start Python
        while not any(p.stat().st_size for p in target.parent.glob(".ml-100k-*.zip")):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)  # no finally clause of its own runs
        proc.wait()
    assert leftovers(target.parent)  # the partial archive is there
    (target.parent / ".ml-100k-stale").mkdir()  # and a staging folder, as after a kill in extraction
    fetch.download(target, url=f"{server}/ml-100k.zip", timeout=10)
    assert leftovers(target.parent) == ["ml-100k"]
    assert fetch.check(target) == []


# --------------------------------------------------------------------------- arguments and variables
@pytest.mark.parametrize("var", ["MFLAB_DOWNLOAD_TIMEOUT", "MFLAB_DOWNLOAD_DEADLINE"])
@pytest.mark.parametrize("value", ["abc", "0", "-3", "inf", "nan"])
def test_a_bad_download_variable_is_named(no_local_copy, monkeypatch, var, value):
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", "http://127.0.0.1:9/ml-100k.zip")
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=rf"environment variable {var}='{value}' is not a .*number.*"
                                         rf"unset it for the default"):
        movielens_100k()


@pytest.mark.parametrize("url", ["files.grouplens.org/ml-100k.zip", "~/ml-100k.zip", "C:/ml-100k.zip"])
def test_a_mirror_variable_that_is_not_a_url_is_named(no_local_copy, monkeypatch, url):
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", url)
    with pytest.raises(ValueError, match=r"environment variable MFLAB_MOVIELENS_URL=.* is not a URL"):
        movielens_100k()


@pytest.mark.parametrize("call", [movielens_100k, lambda path: movielens_100k_split("u1", path),
                                  movielens.data_dir, fetch.check, lambda path: fetch.install_archive(path, "x"),
                                  lambda path: fetch.download(path, url="http://127.0.0.1:9/x.zip")],
                         ids=["movielens_100k", "movielens_100k_split", "data_dir", "check", "install_archive",
                              "download"])
@pytest.mark.parametrize("path", [123, 4.5, ["ml-100k"]])
def test_a_path_that_is_not_a_path_is_named(call, path):
    with pytest.raises(TypeError, match=r"must be a path \(a str or pathlib.Path\); got"):
        call(path)


# --------------------------------------------------------------------------- a pip user
def test_outside_a_checkout_the_offline_error_gives_what_works_without_the_repository(no_local_copy, monkeypatch):
    monkeypatch.setattr(movielens, "_REPO_DATA", None)
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", "http://127.0.0.1:9/ml-100k.zip")
    with pytest.raises(DataFileError) as raised:
        movielens_100k()
    message = str(raised.value)
    for remedy in ("python -m mflab.datasets.fetch --from path/to/ml-100k.zip", "MFLAB_MOVIELENS_URL",
                   "MFLAB_DATA", str(no_local_copy / "ml-100k")):
        assert remedy in message
    assert "make data" not in message and "repository" not in message


def test_an_installed_package_offline_names_no_repository_and_fetches_into_the_cache(tmp_path):
    """mflab copied into a site-packages folder, as pip lays it out, with nothing listening."""
    site = tmp_path / "lib" / "site-packages"
    shutil.copytree(ROOT / "mflab", site / "mflab", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("MFLAB_DATA", "PYTHONPATH")}
    env |= {"PYTHONPATH": str(site), "MFLAB_CACHE": str(tmp_path / "cache"), "MFLAB_DOWNLOAD_TIMEOUT": "1",
            "MFLAB_MOVIELENS_URL": "http://127.0.0.1:9/ml-100k.zip", "NUMBA_DISABLE_JIT": "1"}
    archive = tmp_path / "ml-100k.zip"
    archive.write_bytes(GOOD)
    code = ("import sys\nfrom mflab.datasets import _files, fetch, movielens\n"
            "assert movielens.__file__.startswith(sys.argv[1]), movielens.__file__\n"
            "print('target', fetch.default_target())\n"
            "try:\n    movielens.movielens_100k()\nexcept movielens.DataFileError as e:\n    print('error', e)\n"
            "fetch.main(['--from', sys.argv[2]])\n"  # what the error tells them to run
            "print('ratings', len(movielens.movielens_100k().ratings))\n")
    done = subprocess.run([sys.executable, "-c", code, str(site), str(archive)], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"target {tmp_path / 'cache' / 'ml-100k'}" in out  # never a folder in site-packages
    error = out.split("error ", 1)[1].split("\n")[0]
    assert "python -m mflab.datasets.fetch --from path/to/ml-100k.zip" in error
    assert "make data" not in error and "repository" not in error and "site-packages" not in error
    assert f"installed {archive} into {tmp_path / 'cache' / 'ml-100k'}" in out and "ratings 100000" in out
    assert not list(site.rglob("u.data"))


# --------------------------------------------------------------------------- no import cycle
def test_fetch_and_its_helpers_never_import_the_loader():
    for module in ("fetch", "_files", "errors"):
        tree = ast.parse((ROOT / "mflab" / "datasets" / f"{module}.py").read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names} | {node.module or "" for node in ast.walk(tree)
                                                if isinstance(node, ast.ImportFrom)}
        assert not any("movielens" in name for name in imported), module
