"""Thumbnails: drawn with one plotter, kept on disk, drawn again when the data set or the file changes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.render.pixels import drawn, is_grey, sphere
from vaeviewer.render import ThumbnailCache, dataset_fingerprint, render_thumbnails, thumbnail_cache_dir

SIZE = 64


class CountingLoader:
    """A cloud loader that counts its calls: a call is a cache miss."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, index: int) -> np.ndarray:
        self.calls.append(index)
        return sphere(300, index) * (0.3 + 0.1 * (index % 5))


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A stand-in data set: a folder with one data file (the cache reads only names, sizes and times)."""
    folder = tmp_path / "shapes"
    folder.mkdir()
    (folder / "ply_data_train0.h5").write_bytes(b"x" * 100)
    return folder


@pytest.fixture
def cache(tmp_path: Path):
    with ThumbnailCache(tmp_path / "thumbnails", size=SIZE) as cache:
        yield cache


def test_render_thumbnails_draws_one_picture_per_cloud() -> None:
    clouds = [sphere(500, k) * 0.2 * (k + 1) for k in range(4)]
    thumbnails = render_thumbnails(clouds, size=SIZE)
    assert len(thumbnails) == 4 and render_thumbnails([]) == []
    for thumbnail in thumbnails:
        assert thumbnail.shape == (SIZE, SIZE, 3) and thumbnail.dtype == np.uint8
        assert is_grey(thumbnail).sum() > 20
    sizes = [drawn(t).sum() for t in thumbnails]
    assert sizes == sorted(sizes), "bigger clouds are drawn bigger: one framing for all"


def test_a_cached_thumbnail_is_not_drawn_again(cache: ThumbnailCache, dataset: Path, tmp_path: Path) -> None:
    loader = CountingLoader()
    key = cache.split_key(dataset, "train")
    first = cache.get_or_render(key, 3, lambda: loader(3))
    again = cache.get_or_render(key, 3, lambda: loader(3))
    assert loader.calls == [3] and np.array_equal(first, again)
    assert cache.path(key, 3).is_file() and cache.path(key, 3).is_relative_to(tmp_path / "thumbnails")
    # Another cache on the same folder (the next run of the app) finds it too, without a plotter.
    with ThumbnailCache(tmp_path / "thumbnails", size=SIZE) as later:
        assert np.array_equal(later.get_or_render(later.split_key(dataset, "train"), 3, lambda: loader(3)), first)
    assert loader.calls == [3]


def test_get_many_draws_only_the_missing_ones(cache: ThumbnailCache, dataset: Path) -> None:
    loader = CountingLoader()
    key = cache.split_key(dataset, "train")
    cache.get_or_render(key, 2, lambda: loader(2))
    images = cache.get_many(key, [0, 1, 2, 3], loader)
    assert loader.calls == [2, 0, 1, 3]
    assert len(images) == 4 and all(image.shape == (SIZE, SIZE, 3) for image in images)
    assert not np.array_equal(images[0], images[1])


def test_a_changed_data_set_gets_new_thumbnails(cache: ThumbnailCache, dataset: Path) -> None:
    loader = CountingLoader()
    key = cache.split_key(dataset, "train")
    cache.get_or_render(key, 0, lambda: loader(0))
    assert cache.split_key(dataset, "train") == key, "an unchanged data set keeps its key"
    data = dataset / "ply_data_train0.h5"
    data.write_bytes(b"y" * 120)
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 10**9))
    changed = cache.split_key(dataset, "train")
    assert changed != key
    cache.get_or_render(changed, 0, lambda: loader(0))
    assert loader.calls == [0, 0]
    assert not cache.path(key, 0).exists(), "pictures of the old files are removed"
    assert cache.split_key(dataset, "test") != changed, "each split has its own pictures"


def test_fingerprint_follows_files_but_not_hidden_ones(dataset: Path) -> None:
    before = dataset_fingerprint(dataset)
    (dataset / ".DS_Store").write_bytes(b"finder")
    assert dataset_fingerprint(dataset) == before
    (dataset / "test_files.txt").write_text("ply_data_test0.h5\n")
    assert dataset_fingerprint(dataset) != before
    single = dataset / "ply_data_train0.h5"
    assert dataset_fingerprint(single) != dataset_fingerprint(dataset)


@pytest.mark.parametrize("damage", ["garbage", "empty", "wrong size"])
def test_a_damaged_cache_file_is_drawn_again(cache: ThumbnailCache, dataset: Path, damage: str) -> None:
    import imageio.v3 as iio

    loader = CountingLoader()
    key = cache.split_key(dataset, "train")
    good = cache.get_or_render(key, 1, lambda: loader(1))
    path = cache.path(key, 1)
    if damage == "garbage":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        iio.imwrite(path, np.zeros((8, 8, 3), np.uint8))
    assert np.array_equal(cache.get_or_render(key, 1, lambda: loader(1)), good)
    assert loader.calls == [1, 1]
    assert np.array_equal(iio.imread(path), good), "the file is whole again"


def test_an_unwritable_cache_still_gives_pictures(tmp_path: Path, dataset: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    with ThumbnailCache(blocked, size=SIZE) as cache:
        key = cache.split_key(dataset, "train")
        image = cache.get_or_render(key, 0, lambda: sphere(200, 0))
        assert image.shape == (SIZE, SIZE, 3) and not cache.store(key, 0, image)


def test_files_from_any_thread_renders_on_one(cache: ThumbnailCache, dataset: Path) -> None:
    key = cache.split_key(dataset, "train")
    image = cache.get_or_render(key, 0, lambda: sphere(200, 0))
    outcome: dict[str, object] = {}

    def worker() -> None:
        outcome["hit"] = cache.lookup(key, 0)
        outcome["stored"] = cache.store(key, 5, image)
        try:
            cache.get_or_render(key, 6, lambda: sphere(200, 6))
        except RuntimeError as error:
            outcome["error"] = str(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert np.array_equal(outcome["hit"], image) and outcome["stored"] is True
    assert "thread" in str(outcome.get("error"))
    assert np.array_equal(cache.lookup(key, 5), image)


def test_the_cache_lives_under_the_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VAEVIEWER_CACHE_DIR", str(tmp_path / "cache"))
    assert thumbnail_cache_dir() == tmp_path / "cache" / "thumbnails"
    assert ThumbnailCache().root == tmp_path / "cache" / "thumbnails"
    with pytest.raises(ValueError, match="up axis"):
        ThumbnailCache(up="x")
