"""Datasets of the lessons: a toy matrix, the Alice/Bob/Carol example, synthetic genres, MovieLens 100K."""
from .toy import lecture_example, toy_matrix
from .synthetic import SyntheticGenres, synthetic_genres
from .movielens import MovieLens100K, movielens_100k, movielens_100k_split
from .features import movielens_features, movielens_user_row
from .errors import DataFileError, DownloadError

__all__ = ["toy_matrix", "lecture_example", "synthetic_genres", "SyntheticGenres",
           "movielens_100k", "movielens_100k_split", "MovieLens100K", "movielens_features",
           "movielens_user_row", "DataFileError", "DownloadError"]
