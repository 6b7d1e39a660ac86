"""What MovieLens 100K is made of, and where it may live: the published files (names, sizes, sha256
sums), GroupLens's address, the repository checkout (if mflab runs from one) and the user's cache.

Shared by the loader (``movielens``) and the downloader (``fetch``); imports neither.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

ARCHIVE_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ENV_VAR = "MFLAB_DATA"  # an unzipped ml-100k directory (or one containing it)
CACHE_ENV = "MFLAB_CACHE"  # the per-user cache, by default ~/.cache/mflab
URL_ENV = "MFLAB_MOVIELENS_URL"  # a mirror of ml-100k.zip, or a local server in the tests

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

# Their sizes in bytes: compared before hashing (a file of another size is altered without
# reading it, however large it is), and the most a zip member may unpack to.
SIZES = {
    "README": 6750, "u.data": 1979173, "u.genre": 202, "u.info": 36, "u.item": 236344,
    "u.occupation": 193, "u.user": 22628,
    "u1.base": 1586544, "u1.test": 392629, "u2.base": 1583948, "u2.test": 395225,
    "u3.base": 1582546, "u3.test": 396627, "u4.base": 1581878, "u4.test": 397295,
    "u5.base": 1581776, "u5.test": 397397, "ua.base": 1792501, "ua.test": 186672,
    "ub.base": 1792476, "ub.test": 186697,
}

# The most the archive may weigh: its files stored uncompressed, plus 1 MiB for the zip's headers
# and the two helper scripts it also holds. GroupLens's deflated archive is about 5 MB; a download
# that grows past this limit is not MovieLens 100K, and is stopped there.
ARCHIVE_LIMIT = sum(SIZES.values()) + (1 << 20)

PACKAGE_PARENT = Path(__file__).resolve().parents[2]


def checkout_root() -> Path | None:
    """The repository mflab runs from, or None when it is installed (pip, a wheel).

    An installed package's parent is ``site-packages``, which must never be called "the repository";
    a checkout is recognised by the files a clone has beside the package.
    """
    root = PACKAGE_PARENT
    if "site-packages" in root.parts or "dist-packages" in root.parts:
        return None
    if (root / "pyproject.toml").is_file() and (root / "Makefile").is_file() and (root / "data").is_dir():
        return root
    return None


def repository_data() -> Path | None:
    """``data/ml-100k`` of the checkout, or None outside one."""
    root = checkout_root()
    return None if root is None else root / "data" / "ml-100k"


def cache_dir() -> Path:
    """The per-user cache of downloaded data: ``$MFLAB_CACHE``, else ``~/.cache/mflab``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mflab").expanduser()


def sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def problem(file: Path, name: str) -> str | None:
    """Why ``file`` is not the published ``name`` (missing, another size, another sum), or None.

    The size is compared first, so a huge or sparse file is refused without being read.
    """
    if not file.is_file():
        return "missing"
    size = file.stat().st_size
    if size != SIZES[name]:
        return f"{size:,} bytes where the published file has {SIZES[name]:,}"
    actual = sha256(file)
    if actual != SHA256[name]:
        return f"its sha256 is {actual[:12]}..., expected {SHA256[name][:12]}..."
    return None


def check(directory: Path) -> list[str]:
    """The names of the files of ``directory`` that are missing or differ from the published ones."""
    directory = Path(directory)
    return [name for name in SHA256 if problem(directory / name, name) is not None]
