"""The errors of the data loaders, in a module of their own so that the loader (``movielens``) and
the downloader (``fetch``) both import them without importing each other."""
from __future__ import annotations

__all__ = ["DataFileError", "DownloadError"]


class DataFileError(ValueError):
    """A MovieLens file is missing or differs from the published one.

    The message names the file, says what is wrong and how to restore it.
    """


class DownloadError(DataFileError):
    """The archive could not be downloaded (offline, a server error, a time-out, a deadline)."""
