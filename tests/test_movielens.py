"""MovieLens 100K loader: the published facts of the data set, the canonical splits, and the refusal
of missing or altered files."""
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from mflab.datasets import movielens
from mflab.datasets.movielens import DataFileError, movielens_100k, movielens_100k_split

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
# The verified copy the loader finds: the repository's in a checkout; the download cache when the
# repository's copy has been removed (as for republishing; see data/README.md).
DATA = movielens.data_dir()


@pytest.fixture(scope="module")
def ml():
    return movielens_100k()


@pytest.fixture
def copy(tmp_path):
    """A private copy of ml-100k (as tmp_path/ml-100k) that a test may damage."""
    target = tmp_path / "ml-100k"
    shutil.copytree(DATA, target)
    return target


def triplets(r):
    """The set of (user, item, rating) rows of a Ratings."""
    return set(zip(r.user.tolist(), r.item.tolist(), r.value.tolist()))


# --------------------------------------------------------------------------- the data set
def test_sizes_match_the_readme(ml):
    assert len(ml.ratings) == 100_000
    assert ml.ratings["user_id"].nunique() == len(ml.users) == 943
    assert ml.ratings["item_id"].nunique() == len(ml.movies) == 1682
    assert list(ml.users["user_id"]) == list(range(1, 944))
    assert list(ml.movies["item_id"]) == list(range(1, 1683))


def test_ratings_are_integers_from_1_to_5(ml):
    for column in movielens.RATING_COLUMNS:
        assert np.issubdtype(ml.ratings[column].dtype, np.integer), column
    assert set(ml.ratings["rating"]) == {1, 2, 3, 4, 5}


def test_every_user_has_at_least_20_ratings(ml):
    assert ml.ratings.groupby("user_id").size().min() >= 20


def test_movie_50_is_star_wars_with_sci_fi_among_its_genres(ml):
    star_wars = ml.movies.set_index("item_id").loc[50]
    assert star_wars["title"] == "Star Wars (1977)"
    assert star_wars["Sci-Fi"] == 1
    assert "Sci-Fi" in star_wars["genres"].split("|")
    assert star_wars["release_date"].year == 1977
    assert ml.title(49) == "Star Wars (1977)"


def test_genres_follow_u_genre_and_the_flags(ml):
    assert len(ml.genre_names) == 19
    assert ml.genre_names[0] == "unknown" and ml.genre_names[-1] == "Western"
    flags = ml.movies[ml.genre_names].to_numpy()
    assert set(np.unique(flags)) <= {0, 1}
    counts = ml.movies["genres"].str.split("|").map(len).to_numpy()
    np.testing.assert_array_equal(counts, flags.sum(axis=1))


def test_titles_are_decoded_as_latin_1(ml):
    assert ml.title(542) == "Misérables, Les (1995)"


def test_users_table(ml):
    assert list(ml.users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert set(ml.users["gender"]) == {"M", "F"}
    assert "T8H1N" in set(ml.users["zip_code"])  # zip codes stay strings


def test_to_ratings_uses_the_full_index(ml):
    r = ml.to_ratings()
    assert r.shape == (943, 1682) and len(r) == 100_000
    assert r.scale == (1.0, 5.0)
    np.testing.assert_array_equal(r.user, ml.ratings["user_id"].to_numpy() - 1)
    np.testing.assert_array_equal(r.item, ml.ratings["item_id"].to_numpy() - 1)
    np.testing.assert_array_equal(r.value, ml.ratings["rating"].to_numpy())


def test_title_rejects_an_index_out_of_range(ml):
    assert ml.title([0, 49]) == ["Toy Story (1995)", "Star Wars (1977)"]
    with pytest.raises(ValueError, match="1682"):
        ml.title(1682)


# --------------------------------------------------------------------------- canonical splits
def test_u1_base_and_test_make_up_u_data(ml):
    train, test = movielens_100k_split("u1")
    assert (len(train), len(test)) == (80_000, 20_000)
    assert train.shape == test.shape == (943, 1682)
    assert train.scale == test.scale == (1.0, 5.0)
    assert not triplets(train) & triplets(test)
    assert triplets(train) | triplets(test) == triplets(ml.to_ratings())


def test_u1_files_are_u_data_row_for_row():
    """The same claim on the raw lines, timestamps included, independent of the loader."""
    lines = {name: set((DATA / name).read_text().splitlines())
             for name in ("u.data", "u1.base", "u1.test")}
    assert lines["u1.base"] | lines["u1.test"] == lines["u.data"]
    assert not lines["u1.base"] & lines["u1.test"]


def test_u1_to_u5_test_sets_partition_u_data(ml):
    tests = [movielens_100k_split(f"u{k}")[1] for k in range(1, 6)]
    union = set().union(*map(triplets, tests))
    assert sum(map(len, tests)) == len(union) == 100_000
    assert union == triplets(ml.to_ratings())


@pytest.mark.parametrize("name", ["ua", "ub"])
def test_ua_ub_hold_out_ten_ratings_per_user(name):
    train, test = movielens_100k_split(name)
    assert len(train) + len(test) == 100_000
    assert set(test.user_counts()) == {10}


def test_unknown_split_name_is_refused():
    with pytest.raises(ValueError, match="u1, u2, u3, u4, u5, ua, ub"):
        movielens_100k_split("u6")


# --------------------------------------------------------------------------- verification
def test_embedded_sums_equal_the_shipped_sha256_file():
    shipped = {}
    for line in (REPO_DATA / "ml-100k.sha256").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        shipped[name.lstrip("*")] = digest
    assert movielens.SHA256 == shipped


def test_shipped_files_match_their_sums():
    for name, digest in movielens.SHA256.items():
        assert movielens._sha256(DATA / name) == digest, name


def _flip_one_byte(file, offset=1000):
    data = bytearray(file.read_bytes())
    data[offset] = ord("7") if data[offset] != ord("7") else ord("8")
    file.write_bytes(bytes(data))


def test_an_altered_u_data_is_refused_naming_it(copy):
    _flip_one_byte(copy / "u.data")
    with pytest.raises(DataFileError) as caught:
        movielens_100k(copy)
    message = str(caught.value)
    assert "u.data" in message and "altered" in message
    assert movielens.SHA256["u.data"][:12] in message  # the expected sum, for comparison
    assert "ml-100k.zip" in message and "MFLAB_DATA" in message
    assert isinstance(caught.value, ValueError)


def test_a_missing_file_is_refused_naming_it(copy):
    (copy / "u.user").unlink()
    with pytest.raises(DataFileError, match=r"u\.user is missing"):
        movielens_100k(copy)
    (copy / "u3.test").unlink()
    with pytest.raises(DataFileError, match=r"u3\.test is missing"):
        movielens_100k_split("u3", path=copy)


def test_a_file_altered_after_a_successful_load_is_refused(copy):
    movielens_100k_split("u2", path=copy)  # verified and cached
    file = copy / "u2.test"
    _flip_one_byte(file)
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # coarse clocks
    with pytest.raises(DataFileError, match=r"u2\.test .*altered"):
        movielens_100k_split("u2", path=copy)


def test_the_repository_copy_suggests_git_checkout(monkeypatch, copy):
    _flip_one_byte(copy / "u.genre", offset=3)
    monkeypatch.setattr(movielens, "_REPO_DATA", copy.resolve())
    monkeypatch.delenv("MFLAB_DATA", raising=False)
    with pytest.raises(DataFileError, match=re.escape("git checkout -- data/ml-100k/u.genre")):
        movielens_100k()


def test_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        movielens_100k(tmp_path / "nowhere")


# --------------------------------------------------------------------------- where the data is
@pytest.mark.parametrize("level", ["parent", "ml-100k"])
def test_mflab_data_is_honoured(monkeypatch, copy, level):
    _flip_one_byte(copy / "u.data")
    monkeypatch.setenv("MFLAB_DATA", str(copy.parent if level == "parent" else copy))
    assert movielens.data_dir() == copy
    with pytest.raises(DataFileError, match=re.escape(str(copy))):
        movielens_100k()  # it read the damaged copy, not the repository's


def test_the_repository_copy_comes_before_the_cache(monkeypatch, copy, tmp_path):
    monkeypatch.delenv("MFLAB_DATA", raising=False)
    monkeypatch.setattr(movielens, "_REPO_DATA", copy)
    monkeypatch.setenv("MFLAB_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache" / "ml-100k").mkdir(parents=True)
    assert movielens.data_dir() == copy
    monkeypatch.setattr(movielens, "_REPO_DATA", tmp_path / "removed" / "ml-100k")
    assert movielens.data_dir() == tmp_path / "cache" / "ml-100k"
    monkeypatch.setenv("MFLAB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(DataFileError, match="download=False"):
        movielens.data_dir(download=False)


def test_path_argument_wins_over_mflab_data(monkeypatch, copy, tmp_path):
    monkeypatch.setenv("MFLAB_DATA", str(tmp_path / "nowhere"))
    assert len(movielens_100k(copy).ratings) == 100_000
