"""PointNet's HDF5 layout: lazy reading, validation, and writing."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest

from vaeviewer.data.pointnet_h5 import PointNetH5Set, write_pointnet_h5
from vaeviewer.errors import DataFileError, OptionError


def test_folder_layout_with_foreign_prefixes(pointnet_folder: Path) -> None:
    with PointNetH5Set(pointnet_folder) as dataset:
        assert dataset.format == "pointnet-h5" and dataset.path == pointnet_folder
        assert dataset.split_names == ("train", "test")
        assert dataset.class_names == ("cone", "cube", "sphere")
        train, test = dataset.split("train"), dataset.split("test")
        assert len(train) == 10 and len(test) == 5
        assert train.labels.tolist() == [0, 1, 2, 0, 1, 2, 2, 2, 1, 0]
        assert train.labels.dtype == np.int64 and test.labels.tolist() == [0, 1, 2, 1, 0]
        assert train.point_counts().tolist() == [64] * 10
        assert dataset.default_split().name == "test"
        with pytest.raises(OptionError, match="no split 'val'"):
            dataset.split("val")


def test_shape_names_from_id2file_or_class_and_index(pointnet_folder: Path) -> None:
    with PointNetH5Set(pointnet_folder) as dataset:
        train = dataset.split("train")
        assert [train.shape_name(i) for i in (0, 2, 5)] == ["cone_0001", "sphere_0001", "sphere_0002"]
        assert train.shape_name(6) == "sphere_6"  # second shard has no JSON
        assert train.shape_name(-1) == "cone_9"
        assert dataset.split("test").shape_name(1) == "cube_1"
        with pytest.raises(IndexError):
            train.shape_name(10)


def test_points_are_normalised_and_resampled(pointnet_folder: Path, make_clouds) -> None:
    raw = make_clouds(4, 64, 2)  # the second train shard
    with PointNetH5Set(pointnet_folder) as dataset:
        train = dataset.split("train")
        cloud = train.points(7)
        assert cloud.dtype == np.float32 and cloud.shape == (64, 3)
        np.testing.assert_allclose(cloud.mean(axis=0), 0.0, atol=1e-6)
        assert np.linalg.norm(cloud, axis=1).max() == pytest.approx(1.0, abs=1e-6)
        centred = raw[1] - raw[1].mean(axis=0)
        np.testing.assert_allclose(cloud, centred / np.linalg.norm(centred, axis=1).max(), atol=1e-5)
        assert train.points(7, 16).shape == (16, 3)
        assert train.points(7, 100).shape == (100, 3)
        with pytest.raises(OptionError):
            train.points(7, 0)


@pytest.mark.parametrize("num_points", [16, 64, 100])
def test_load_all_equals_points_one_by_one(pointnet_folder: Path, num_points: int) -> None:
    with PointNetH5Set(pointnet_folder) as dataset:
        train = dataset.split("train")
        everything = train.load_all(num_points)
        assert everything.shape == (10, num_points, 3) and everything.dtype == np.float32
        for index in range(len(train)):
            np.testing.assert_allclose(everything[index], train.points(index, num_points), atol=1e-6)


def test_single_h5_file(tmp_path: Path, make_h5, make_clouds) -> None:
    path = make_h5(tmp_path / "modelnet_test_shard.h5", make_clouds(3, 32), np.array([[0], [4], [2]], np.uint8))
    with PointNetH5Set(path) as dataset:
        assert dataset.split_names == ("test",)
        assert dataset.class_names == tuple(f"class_{k}" for k in range(5))
        assert dataset.split("test").labels.tolist() == [0, 4, 2]
    other = make_h5(tmp_path / "shapes.hdf5", make_clouds(2, 32), np.array([1, 0]))
    (tmp_path / "shape_names.txt").write_text("a\nb\n\n")
    with PointNetH5Set(other) as dataset:
        assert dataset.split_names == ("all",) and dataset.class_names == ("a", "b")
    unlabelled = make_h5(tmp_path / "train_x.h5", make_clouds(2, 8), None)
    with PointNetH5Set(unlabelled) as dataset:
        assert dataset.split("train").labels.tolist() == [-1, -1]
        assert dataset.split("train").shape_name(1) == "shape_1"


def test_glob_fallback_without_list_files(tmp_path: Path, make_h5, make_clouds) -> None:
    for name in ["ply_data_train10.h5", "ply_data_train2.h5", "ply_data_test0.h5"]:
        make_h5(tmp_path / name, make_clouds(1, 8, seed=len(name)), np.array([0]))
    (tmp_path / "shape_names.txt").write_text("only\n")
    with PointNetH5Set(tmp_path) as dataset:
        assert dataset.split_names == ("train", "test")
        train = dataset.split("train")
        assert len(train) == 2
        raw = make_clouds(1, 8, seed=len("ply_data_train2.h5"))[0]
        centred = raw - raw.mean(axis=0)
        np.testing.assert_allclose(train.points(0), centred / np.linalg.norm(centred, axis=1).max(), atol=1e-5)


def test_extra_columns_and_float_labels(tmp_path: Path, make_h5, make_clouds) -> None:
    with_normals = np.concatenate([make_clouds(2, 16), np.full((2, 16, 3), np.nan, np.float32)], axis=2)
    path = make_h5(tmp_path / "n.h5", with_normals, np.array([[1.0], [0.0]]))
    with PointNetH5Set(path) as dataset:
        split = dataset.split("all")
        assert split.labels.tolist() == [1, 0]
        assert np.isfinite(split.points(0)).all() and np.isfinite(split.load_all(16)).all()


def error_of(path: Path) -> str:
    with pytest.raises(DataFileError) as caught:
        PointNetH5Set(path)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_validation_failures(tmp_path: Path, make_h5, make_clouds) -> None:
    clouds = make_clouds(3, 8)
    assert "'label' has shape (2,)" in error_of(make_h5(tmp_path / "a.h5", clouds, np.array([0, 1])))
    assert "'label' has shape (3, 2)" in error_of(make_h5(tmp_path / "b.h5", clouds, np.zeros((3, 2), int)))
    assert "no 'data' dataset" in error_of(make_h5(tmp_path / "c.h5", None, np.array([0])))
    assert "'data' has shape (3, 8)" in error_of(make_h5(tmp_path / "d.h5", clouds[:, :, 0]))
    assert "(3, 8, 2)" in error_of(make_h5(tmp_path / "e.h5", clouds[:, :, :2]))
    assert "holds no shapes" in error_of(make_h5(tmp_path / "f.h5", clouds[:0]))
    assert "label -1 of shape 2" in error_of(make_h5(tmp_path / "g.h5", clouds, np.array([0, 1, -1])))
    assert "not class indices" in error_of(make_h5(tmp_path / "h.h5", clouds, np.array([0.0, 1.5, 1.0])))
    text = tmp_path / "i.h5"
    text.write_text("not hdf5")
    assert error_of(text).endswith("i.h5: not an HDF5 file")
    assert "no such file or folder" in error_of(tmp_path / "missing.h5")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .h5 shards found" in error_of(empty)


def test_labels_outside_shape_names_and_missing_shard(pointnet_folder: Path, make_h5, make_clouds) -> None:
    make_h5(pointnet_folder / "ply_data_test0.h5", make_clouds(2, 8), np.array([0, 3]))
    assert "label 3 of shape 1 is outside the 3 classes of shape_names.txt" in error_of(pointnet_folder)
    (pointnet_folder / "test_files.txt").write_text("data/x/ply_data_test9.h5\n")
    message = error_of(pointnet_folder)
    assert "test_files.txt: lists ply_data_test9.h5, which is not in" in message
    (pointnet_folder / "sub").mkdir()
    (pointnet_folder / "ply_data_test0.h5").rename(pointnet_folder / "sub" / "shard.h5")
    (pointnet_folder / "test_files.txt").write_text("sub/shard.h5\n")
    (pointnet_folder / "shape_names.txt").write_text("a\nb\nc\nd\n")
    with PointNetH5Set(pointnet_folder) as dataset:
        assert len(dataset.split("test")) == 2


def test_id2file_that_does_not_fit_is_a_warning(pointnet_folder: Path) -> None:
    (pointnet_folder / "ply_data_train_0_id2file.json").write_text(json.dumps(["a.off"]))
    with PointNetH5Set(pointnet_folder) as dataset:
        assert any("does not list the 6 shapes" in warning for warning in dataset.warnings)
        assert dataset.split("train").shape_name(0) == "cone_0"


def test_nan_shape_names_file_and_row(tmp_path: Path, make_h5, make_clouds) -> None:
    clouds = make_clouds(3, 8)
    clouds[2, 5, 1] = np.nan
    path = make_h5(tmp_path / "nan.h5", clouds, np.array([0, 0, 0]))
    with PointNetH5Set(path) as dataset:
        split = dataset.split("all")
        split.points(1)
        with pytest.raises(DataFileError, match=r"nan.h5: shape 2 contains NaN or infinite coordinates"):
            split.points(2)
        with pytest.raises(DataFileError, match="shape 2 contains NaN"):
            split.load_all(8)


def test_open_of_a_modelnet40_sized_file_is_lazy(tmp_path: Path) -> None:
    # 12,311 x 2048 x 3 float32 (300 MB), written in compressed chunks of zeros: a 1.4 MB file. (Every chunk
    # is written: a declared shape the file does not store is refused, see tests/robustness.)
    path = tmp_path / "ply_data_train0.h5"
    with h5py.File(path, "w") as handle:
        data = handle.create_dataset("data", shape=(12311, 2048, 3), dtype=np.float32, chunks=(256, 2048, 3),
                                     compression="gzip", compression_opts=1)
        zeros = np.zeros((256, 2048, 3), np.float32)
        for first in range(0, 12311, 256):
            data[first : first + 256] = zeros[: 12311 - first]
        data[12310] = np.random.default_rng(0).random((2048, 3))
        handle.create_dataset("label", data=np.zeros((12311, 1), np.uint8))
    tracemalloc.start()
    try:
        with PointNetH5Set(path) as dataset:
            split = dataset.split("train")
            cloud = split.points(12310)
            counts = split.point_counts()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(split) == 12311 and counts[0] == 2048
    assert cloud.shape == (2048, 3) and np.linalg.norm(cloud, axis=1).max() == pytest.approx(1.0)
    assert peak < 2_000_000, "opening must not read the data array"


def test_close_releases_the_files(pointnet_folder: Path) -> None:
    dataset = PointNetH5Set(pointnet_folder)
    split = dataset.split("train")
    dataset.close()
    with pytest.raises(ValueError, match="closed"):
        split.points(0)
    with pytest.raises(ValueError, match="closed"):
        split.load_all(8)


# ---------------------------------------------------------------- writing

def test_write_round_trip(tmp_path: Path, make_clouds) -> None:
    train = (make_clouds(5, 32), np.array([0, 1, 1, 0, 1]))
    test = (make_clouds(2, 32, 9), np.array([1, 0]))
    folder = write_pointnet_h5(tmp_path / "out" / "set", {"train": train, "test": test}, ["box", "ball"],
                               shape_names={"train": [f"s{i}" for i in range(5)]})
    assert folder == tmp_path / "out" / "set"
    assert sorted(p.name for p in folder.iterdir()) == [
        "ply_data_test0.h5", "ply_data_train0.h5", "ply_data_train_0_id2file.json",
        "shape_names.txt", "test_files.txt", "train_files.txt",
    ]
    with h5py.File(folder / "ply_data_train0.h5", "r") as handle:
        assert handle["data"].dtype == np.float32 and handle["data"].shape == (5, 32, 3)
        assert handle["label"].dtype == np.uint8 and handle["label"].shape == (5, 1)
    with PointNetH5Set(folder) as dataset:
        assert dataset.class_names == ("box", "ball") and dataset.split_names == ("train", "test")
        assert dataset.split("train").labels.tolist() == [0, 1, 1, 0, 1]
        assert dataset.split("train").shape_name(3) == "s3"
        assert dataset.split("test").shape_name(0) == "ball_0"
        np.testing.assert_allclose(dataset.split("test").points(1, 32), dataset.split("test").load_all(32)[1])
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")], "no temporary folder left"


def test_write_replaces_atomically_and_keeps_the_old_set_on_failure(tmp_path: Path, make_clouds, monkeypatch) -> None:
    folder = tmp_path / "set"
    write_pointnet_h5(folder, {"train": (make_clouds(2, 8), np.array([0, 1]))}, ["a", "b"])
    write_pointnet_h5(folder, {"test": (make_clouds(3, 8), np.array([0, 0, 0]))}, ["c"])
    with PointNetH5Set(folder) as dataset:
        assert dataset.split_names == ("test",) and dataset.class_names == ("c",)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(h5py.File, "create_dataset", fail)
    with pytest.raises(OSError, match="disk full"):
        write_pointnet_h5(folder, {"train": (make_clouds(2, 8), np.array([0, 0]))}, ["d"])
    monkeypatch.undo()
    with PointNetH5Set(folder) as dataset:
        assert dataset.class_names == ("c",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_write_rejects_bad_arguments(tmp_path: Path, make_clouds) -> None:
    clouds = make_clouds(2, 8)
    with pytest.raises(ValueError, match="labels must lie in"):
        write_pointnet_h5(tmp_path / "a", {"train": (clouds, np.array([0, 2]))}, ["x", "y"])
    with pytest.raises(ValueError, match="2 labels for 3 shapes"):
        write_pointnet_h5(tmp_path / "a", {"train": (make_clouds(3, 8), np.array([0, 1]))}, ["x", "y"])
    with pytest.raises(ValueError, match="not a plain word"):
        write_pointnet_h5(tmp_path / "a", {"../x": (clouds, np.array([0, 1]))}, ["x", "y"])
    with pytest.raises(ValueError, match="1 to 256 class names"):
        write_pointnet_h5(tmp_path / "a", {"train": (clouds, np.array([0, 1]))}, [f"c{k}" for k in range(300)])
    with pytest.raises(ValueError, match="1 shape names for 2 shapes"):
        write_pointnet_h5(tmp_path / "a", {"train": (clouds, np.array([0, 1]))}, ["x", "y"], {"train": ["s"]})
    assert not (tmp_path / "a").exists()


# ---------------------------------------------------------------- the real ModelNet10 set in ../shared

def test_real_modelnet10(modelnet10: Path) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        dataset = PointNetH5Set(modelnet10)
        first = dataset.split("train").points(0)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with dataset:
        assert peak < 3_000_000, "open + first shape must not read the 16 MB data array"
        assert elapsed < 2.0
        assert first.shape == (1024, 3) and np.isfinite(first).all()
        assert dataset.split_names == ("train", "test")
        train, test = dataset.split("train"), dataset.split("test")
        assert (len(train), len(test)) == (3991, 908)
        assert len(dataset.class_names) == 10 and dataset.class_names[6] == "night_stand"
        assert set(train.point_counts().tolist()) == {1024}
        assert train.shape_name(0) == "bathtub_0001" and test.shape_name(len(test) - 1) == "toilet_0444"
        assert np.bincount(test.labels, minlength=10).tolist() == [50, 100, 100, 86, 86, 100, 86, 100, 100, 100]
        clouds = test.load_all(1024)
        assert clouds.shape == (908, 1024, 3) and np.isfinite(clouds).all()
        np.testing.assert_allclose(np.linalg.norm(clouds, axis=2).max(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(clouds[123], test.points(123, 1024), atol=1e-6)
