"""Clouds in NumPy arrays: the original work's data_train/data_test folders, (K, N, 3) files and (1, N, 3) files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vaeviewer.data import open_dataset
from vaeviewer.errors import DataFileError


def _clouds(count: int, points: int, seed: int, dtype=np.float32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(count, points, 3)) * (0.3, 0.6, 0.2) + 1.5).astype(dtype)


def test_the_original_works_data_folder_has_train_and_test_splits(tmp_path: Path) -> None:
    folder = tmp_path / "chair_data"
    folder.mkdir()
    train, test = _clouds(48, 1024, 0), _clouds(12, 1024, 1, np.float64)
    np.save(folder / "data_train_48.npy", train)
    np.save(folder / "data_test_12.npy", test)
    (folder / "notes.txt").write_text("not data")
    with open_dataset(folder) as dataset:
        assert dataset.format == "npy-arrays" and dataset.split_names == ("train", "test")
        assert [len(dataset.split(name)) for name in ("train", "test")] == [48, 12]
        assert dataset.class_names == ("chair_data",)
        split = dataset.split("test")
        assert (split.point_counts() == 1024).all() and (split.labels == 0).all()
        cloud = split.points(5)
        expected = test[5] - test[5].mean(axis=0)
        np.testing.assert_allclose(cloud, expected / np.linalg.norm(expected, axis=1).max(), atol=1e-5)
        assert split.points(5, 256).shape == (256, 3)


def test_a_file_of_many_clouds_is_many_shapes_and_a_batch_of_one_is_one(tmp_path: Path) -> None:
    np.save(tmp_path / "planes.npy", _clouds(7, 300, 2))
    with open_dataset(tmp_path / "planes.npy") as dataset:
        assert dataset.split_names == ("all",) and len(dataset.split("all")) == 7
        assert dataset.split("all").points(6).shape == (300, 3)
    np.save(tmp_path / "values1.npy", _clouds(1, 500, 3))
    with open_dataset(tmp_path / "values1.npy") as dataset:
        split = dataset.split("all")
        assert len(split) == 1 and split.points(0).shape == (500, 3)


@pytest.mark.parametrize("bad, problem", [
    (np.zeros((4, 10, 2), dtype=np.float32), "is not (clouds, points, 3)"),
    (np.array([[["a", "b", "c"]] * 3] * 2), "is not numeric"),
    (np.array([[[1.0, 2.0, 3.0]]] * 2, dtype=object), "refused: object arrays need pickle"),
])
def test_arrays_that_hold_no_clouds_are_refused_in_one_line(tmp_path: Path, bad, problem) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "data_train_1.npy", bad)
    with pytest.raises(DataFileError, match=problem.replace("(", r"\(").replace(")", r"\)")) as refused:
        open_dataset(folder)
    assert "data_train_1.npy" in str(refused.value) and "\n" not in str(refused.value)


def test_a_truncated_array_is_refused_before_it_is_mapped(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    np.save(folder / "data_test_5.npy", _clouds(5, 100, 4))
    path = folder / "data_test_5.npy"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFileError, match="truncated"):
        open_dataset(folder)
