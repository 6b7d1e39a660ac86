"""The wheel and sdist carry the package and the MovieLens sums, never a GroupLens data file.

GroupLens's licence forbids redistributing MovieLens, so a file whose bytes hash to any of the
published sums must not be inside a built distribution, whatever its name. A user who installs the
wheel has no repository copy; the loader then downloads and verifies the archive (here from a local
server, see test_fetch.py).
"""
import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from mflab.datasets import movielens
from test_fetch import server  # noqa: F401 (the local HTTP server fixture)

ROOT = Path(__file__).resolve().parents[1]
GROUPLENS_SUMS = set(movielens.SHA256.values())


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with this environment's setuptools, so no network is needed
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    wheel, = out.glob("*.whl")
    sdist, = out.glob("*.tar.gz")
    return wheel, sdist


def members(archive: Path) -> dict[str, bytes]:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return {name: zf.read(name) for name in zf.namelist() if not name.endswith("/")}
    with tarfile.open(archive) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_no_grouplens_file_is_inside(dist, kind):
    files = members(dist[0] if kind == "wheel" else dist[1])
    assert any(name.endswith("mflab/datasets/_files.py") for name in files)
    assert any(name.endswith("mflab/course/templates/deck.html.j2") for name in files)  # make slides needs it
    assert not any(name.endswith(("mflab/slides.py", "mflab/student.py")) for name in files)  # moved to mflab.course
    carried = [name for name, data in files.items() if hashlib.sha256(data).hexdigest() in GROUPLENS_SUMS]
    assert carried == []
    assert not [name for name in files if "/ml-100k/" in name]


def test_the_sums_ship_so_a_download_can_be_verified(dist):
    wheel, sdist = dist
    code = next(data for name, data in members(wheel).items() if name.endswith("datasets/_files.py"))
    assert all(digest.encode() in code for digest in GROUPLENS_SUMS)
    listing = next(data for name, data in members(sdist).items() if name.endswith("data/ml-100k.sha256"))
    assert listing == (ROOT / "data" / "ml-100k.sha256").read_bytes()


def test_an_installed_wheel_downloads_and_verifies_the_data(dist, tmp_path, server):  # noqa: F811
    site = tmp_path / "site"
    with zipfile.ZipFile(dist[0]) as zf:
        zf.extractall(site)
    env = {k: v for k, v in os.environ.items() if k not in ("MFLAB_DATA", "PYTHONPATH")}
    env |= {"PYTHONPATH": str(site), "MFLAB_CACHE": str(tmp_path / "cache"),
            "MFLAB_MOVIELENS_URL": f"{server}/ml-100k.zip", "MFLAB_DOWNLOAD_TIMEOUT": "10"}
    code = ("import mflab, sys; from mflab.datasets import movielens_100k; "
            "assert mflab.__file__.startswith(sys.argv[1]), mflab.__file__; "
            "print(len(movielens_100k().ratings))")
    done = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "100000"
    assert (tmp_path / "cache" / "ml-100k" / "u.data").is_file()
