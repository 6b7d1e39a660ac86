"""Downloading MovieLens 100K where no copy is found, for real, from a server on 127.0.0.1.

The server serves archives built from the verified copy the loader finds here (the repository's,
in CI), so the tests need no network. The loader is shown no local copy: no path, no MFLAB_DATA,
the repository's folder hidden, an empty cache.
"""
import http.server
import io
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from mflab.datasets import fetch, movielens
from mflab.datasets.movielens import DataFileError, movielens_100k, movielens_100k_split

SOURCE = movielens.data_dir()  # the verified copy the loader finds, to build archives from


def _zip(alter=None, drop=None) -> bytes:
    """ml-100k.zip as GroupLens lays it out (an ml-100k/ folder), optionally damaged."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in movielens.SHA256:
            if name == drop:
                continue
            data = (SOURCE / name).read_bytes()
            if name == alter:
                data = data.replace(b"\t5\t", b"\t4\t", 1)  # one rating changed, same size
            zf.writestr(f"ml-100k/{name}", data)
        zf.writestr("ml-100k/mku.sh", "#!/bin/sh\n")  # an unlisted file, as in the real archive
    return buffer.getvalue()


GOOD = _zip()
ROUTES = {
    "/ml-100k.zip": GOOD,
    "/truncated.zip": GOOD[: len(GOOD) // 2],
    "/altered.zip": _zip(alter="u.data"),
    "/incomplete.zip": _zip(drop="u.item"),
    "/not-a-zip.zip": b"<html>a captive portal</html>",
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        if self.path == "/hang.zip":  # answers nothing until long after the client's time-out
            time.sleep(3)
            return
        try:
            if self.path.startswith("/trickle.zip"):  # the good archive at 16 KB/s
                self._headers(len(GOOD))
                for start in range(0, len(GOOD), 1024):
                    self.wfile.write(GOOD[start:start + 1024])
                    self.wfile.flush()
                    time.sleep(1024 / 16_000)
                return
            if self.path.startswith("/endless.zip"):  # no Content-Length, and no end
                self._headers(None)
                while True:
                    self.wfile.write(bytes(1 << 16))
            if self.path.startswith("/announces-a-terabyte.zip"):
                self._headers(10 ** 12)
                self.wfile.write(GOOD)
                return
        except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
            return
        body = ROUTES.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(GOOD) if self.path == "/truncated.zip" else len(body)))
        self.end_headers()
        slow = "slow" in self.path
        try:
            for start in range(0, len(body), 1 << 16):
                self.wfile.write(body[start:start + (1 << 16)])
                if slow:
                    time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _headers(self, length):
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_local_copy(monkeypatch, tmp_path):
    """The loader sees no path, no MFLAB_DATA, no repository copy and an empty cache."""
    monkeypatch.delenv("MFLAB_DATA", raising=False)
    monkeypatch.setattr(movielens, "_REPO_DATA", tmp_path / "no-repository" / "ml-100k")
    monkeypatch.setenv("MFLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MFLAB_DOWNLOAD_TIMEOUT", "1")
    return tmp_path / "cache"


def leftovers(cache: Path) -> list[str]:
    """Files a failed fetch must not leave behind (the lock file is harmless and reused)."""
    if not cache.exists():
        return []
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def test_a_good_archive_installs_into_the_cache_and_loads(server, no_local_copy, monkeypatch, capsys):
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/ml-100k.zip")
    ml = movielens_100k()
    assert len(ml.ratings) == 100_000
    installed = no_local_copy / "ml-100k"
    assert sorted(p.name for p in installed.iterdir()) == sorted(movielens.SHA256)  # not mku.sh
    assert leftovers(no_local_copy) == ["ml-100k"]
    err = capsys.readouterr().err
    assert "Harper and Joseph A. Konstan" in err and "do not redistribute" in err
    # stderr is not a terminal here (a log, a notebook): say what happened, from where, to where
    assert f"downloaded MovieLens 100K (" in err and f"from {server}/ml-100k.zip" in err
    assert f"into {installed}" in err
    # the second load uses the cache: no download, no licence printed again
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/missing.zip")
    train, test = movielens_100k_split("u1")
    assert len(train) + len(test) == 100_000
    assert "Konstan" not in capsys.readouterr().err


@pytest.mark.parametrize("route, words", [
    ("truncated.zip", "stopped after"),
    ("altered.zip", "u.data is missing or altered"),
    ("incomplete.zip", "u.item is missing or altered"),
    ("not-a-zip.zip", "not a readable zip file"),
])
def test_a_bad_archive_is_refused_and_leaves_nothing(server, no_local_copy, monkeypatch, route, words):
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/{route}")
    with pytest.raises(DataFileError, match=words):
        movielens_100k()
    assert leftovers(no_local_copy) == []


@pytest.mark.parametrize("route", ["missing.zip", "hang.zip"])
def test_a_404_or_a_silent_server_gives_the_offline_error(server, no_local_copy, monkeypatch, route):
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/{route}")
    started = time.monotonic()
    with pytest.raises(DataFileError) as raised:
        movielens_100k()
    assert time.monotonic() - started < 2.5  # the 1 s time-out, not the server's 3 s
    message = str(raised.value)
    for remedy in ("make data", "FROM=", "MFLAB_DATA", "Looked in", str(no_local_copy)):
        assert remedy in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # no urllib traceback
    assert leftovers(no_local_copy) == []


def test_no_network_at_all_gives_the_offline_error(no_local_copy, monkeypatch):
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", "http://127.0.0.1:9/ml-100k.zip")  # nothing listens
    with pytest.raises(DataFileError, match="could not be downloaded"):
        movielens_100k()


def test_two_processes_fetching_at_once_do_not_corrupt_each_other(server, tmp_path):
    target = tmp_path / "cache" / "ml-100k"
    code = ("import sys; from pathlib import Path; from mflab.datasets import fetch; "
            "fetch.download(Path(sys.argv[1]), url=sys.argv[2], timeout=10)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(target), f"{server}/ml-100k.zip?slow={n}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    assert fetch.check(target) == []
    assert leftovers(target.parent) == ["ml-100k"]


def test_install_archive_from_a_local_file_replaces_a_damaged_copy(tmp_path):
    archive = tmp_path / "ml-100k.zip"
    archive.write_bytes(GOOD)
    target = tmp_path / "room" / "ml-100k"
    fetch.install_archive(archive, target)
    assert fetch.check(target) == []
    (target / "u.info").write_text("damaged")
    fetch.install_archive(archive, target)
    assert fetch.check(target) == []
    bad = tmp_path / "bad.zip"
    bad.write_bytes(ROUTES["/altered.zip"])
    with pytest.raises(DataFileError, match="Nothing was installed"):
        fetch.install_archive(bad, target)
    assert fetch.check(target) == []  # the good copy is untouched


def test_make_data_command_checks_and_repairs(tmp_path, server, monkeypatch, capsys):
    target = tmp_path / "data" / "ml-100k"
    archive = tmp_path / "ml-100k.zip"
    archive.write_bytes(GOOD)
    assert fetch.main(["--to", str(target), "--from", str(archive)]) == 0
    assert fetch.main(["--to", str(target)]) == 0
    assert "all 21 files match" in capsys.readouterr().out
    (target / "u.data").write_bytes(b"")
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/ml-100k.zip")
    assert fetch.main(["--to", str(target)]) == 0
    assert fetch.check(target) == []
    monkeypatch.setenv("MFLAB_MOVIELENS_URL", f"{server}/missing.zip")
    (target / "u.data").write_bytes(b"")
    assert fetch.main(["--to", str(target)]) == 1
    assert "could not download" in capsys.readouterr().err


def test_a_file_altered_in_place_with_the_same_size_and_time_is_refused(tmp_path):
    import os
    import shutil

    copy = tmp_path / "ml-100k"
    shutil.copytree(SOURCE, copy)
    movielens_100k(copy)  # verified once
    data = copy / "u.data"
    stat = data.stat()
    altered = data.read_bytes().replace(b"\t5\t", b"\t4\t", 1)
    data.write_bytes(altered)
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert data.stat().st_size == stat.st_size and data.stat().st_mtime_ns == stat.st_mtime_ns
    with pytest.raises(DataFileError, match="u.data .* has been altered"):
        movielens_100k(copy)
