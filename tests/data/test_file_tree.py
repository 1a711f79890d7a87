"""Folders of shape files and single shape files as data sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vaeviewer.data.file_tree as file_tree
from vaeviewer.data.file_tree import FileTreeSet, SingleFileSet, class_from_stem
from vaeviewer.errors import DataFileError, OptionError

TRIANGLE_OFF = "OFF\n3 1 0\n0 0 0\n{x} 0 0\n0 1 0\n3 0 1 2\n"


def put(root: Path, relative: str, content: str = "") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content or TRIANGLE_OFF.format(x=1 + len(relative) % 7))
    return path


def test_class_from_stem() -> None:
    assert class_from_stem("chair_0001") == "chair"
    assert class_from_stem("night_stand_0001") == "night_stand"
    assert class_from_stem("a_1_2") == "a_1"
    assert class_from_stem("model_normalized") is None
    assert class_from_stem("0001") is None


def test_modelnet_off_tree(tmp_path: Path) -> None:
    for name in ["chair/train/chair_0001.off", "chair/train/chair_0002.off", "chair/test/chair_0890.off",
                 "night_stand/train/night_stand_0001.off", "night_stand/test/night_stand_0201.off"]:
        put(tmp_path / "ModelNet10", name)
    put(tmp_path, "ModelNet10/README.txt", "ModelNet10 is a subset of ModelNet40\n")
    put(tmp_path, "ModelNet10/chair/train/.DS_Store", "junk")
    put(tmp_path, "ModelNet10/__MACOSX/chair/train/._chair_0001.off", "junk")
    with FileTreeSet(tmp_path) as dataset:
        assert dataset.format == "modelnet-off"
        assert dataset.split_names == ("train", "test")
        assert dataset.class_names == ("chair", "night_stand")
        train = dataset.split("train")
        assert [train.shape_name(i) for i in range(len(train))] == ["chair_0001", "chair_0002", "night_stand_0001"]
        assert train.labels.tolist() == [0, 0, 1]
        assert dataset.split("test").labels.tolist() == [0, 1]
        assert train.point_counts().tolist() == [3, 3, 3]
        assert dataset.warnings == []
        with pytest.raises(OptionError):
            dataset.split("all")


def test_tree_of_other_formats_is_a_file_tree(tmp_path: Path) -> None:
    put(tmp_path, "chair/train/chair_0001.off")
    put(tmp_path, "chair/test/chair_0002.xyz", "0 0 0\n1 0 0\n0 2 0\n")
    with FileTreeSet(tmp_path) as dataset:
        assert dataset.format == "file-tree" and dataset.split_names == ("train", "test")


def test_flat_folder_classes_from_stems_or_parent(tmp_path: Path) -> None:
    put(tmp_path, "bed_0001.off")
    put(tmp_path, "night_stand_0003.off")
    put(tmp_path, "scans/model_normalized.xyz", "0 0 0\n1 0 0\n0 2 0\n")
    put(tmp_path, "other/model_normalized.xyz", "0 0 0\n1 0 0\n0 3 0\n")
    put(tmp_path, "shape_names.txt", "bed\n")
    put(tmp_path, "modelnet40_train.txt", "bed_0001\n")
    with FileTreeSet(tmp_path) as dataset:
        assert dataset.format == "file-tree" and dataset.split_names == ("all",)
        assert dataset.class_names == ("bed", "night_stand", "other", "scans")
        split = dataset.split("all")
        names = [split.shape_name(i) for i in range(len(split))]
        assert names == ["bed_0001", "night_stand_0003", "other/model_normalized.xyz", "scans/model_normalized.xyz"]
        assert split.labels.tolist() == [0, 1, 2, 3]
        assert len(split.files) == 4


def test_points_are_cached_copies_and_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    put(tmp_path, "a/cone_0001.off")
    reads = []
    real_read = file_tree.read_shape_file
    monkeypatch.setattr(file_tree, "read_shape_file", lambda path: reads.append(path) or real_read(path))
    with FileTreeSet(tmp_path) as dataset:
        split = dataset.split("all")
        first = split.points(0, 64)
        first[:] = 0.0  # a caller augmenting in place must not spoil the cache
        again = split.points(0, 64)
        assert len(reads) == 1 and np.linalg.norm(again, axis=1).max() == pytest.approx(1.0, abs=1e-6)
        assert split.points(0).shape == (2048, 3) and len(reads) == 1  # another size: sampled from the parsed file
    with FileTreeSet(tmp_path) as reopened:
        assert np.array_equal(reopened.split("all").points(0, 64), again), "same file, same cloud"


def test_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in range(5):
        put(tmp_path, f"cone_{k:04d}.off")
    monkeypatch.setattr(file_tree, "_CACHE_BYTES", 2 * 100 * 3 * 4)
    with FileTreeSet(tmp_path) as dataset:
        split = dataset.split("all")
        split.load_all(100)
        assert len(split._cache) == 2


def test_broken_files_fail_alone_and_can_be_dropped(tmp_path: Path) -> None:
    put(tmp_path, "cone_0001.off")
    put(tmp_path, "cone_0002.off", "OFF\n3 1 0\n0 0 0\n")
    put(tmp_path, "cube_0001.pcd", "garbage\n")
    put(tmp_path, "cube_0002.off")
    with FileTreeSet(tmp_path) as dataset:  # opening reads nothing
        split = dataset.split("all")
        assert len(split) == 4
        split.points(0)
        with pytest.raises(DataFileError, match="cone_0002.off: truncated"):
            split.points(1)
        counts = split.point_counts()
        assert counts.tolist() == [3, 3, 0, 3]
        assert any("cube_0001.pcd" in warning for warning in dataset.warnings)
        problems = split.drop_unreadable(32)
        assert len(problems) == 2 and all(p.endswith("(skipped)") for p in problems)
        assert "cone_0002.off" in problems[0] and "cube_0001.pcd" in problems[1]
        assert set(problems) <= set(dataset.warnings)
        assert [split.shape_name(i) for i in range(len(split))] == ["cone_0001", "cube_0002"]
        assert split.labels.tolist() == [0, 1] and split.class_names == ("cone", "cube")
        assert split.load_all(32).shape == (2, 32, 3)
        assert split.drop_unreadable(32) == []


def test_empty_folders_and_wrong_paths(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"no shape files found \(looked for .off, .ply"):
        FileTreeSet(tmp_path)
    put(tmp_path, "notes.md", "hello")
    put(tmp_path, "README.txt", "hello")
    with pytest.raises(DataFileError, match="no shape files found"):
        FileTreeSet(tmp_path)
    with pytest.raises(DataFileError, match="no such file or folder"):
        FileTreeSet(tmp_path / "missing")
    with pytest.raises(DataFileError, match="is a file, not a folder"):
        FileTreeSet(tmp_path / "notes.md")


def test_single_file_set(tmp_path: Path) -> None:
    path = put(tmp_path, "night_stand_0007.off")
    with SingleFileSet(path) as dataset:
        assert dataset.format == "single-file" and dataset.split_names == ("all",)
        assert dataset.class_names == ("night_stand",)
        split = dataset.split("all")
        assert len(split) == 1 and split.labels.tolist() == [0] and split.shape_name(0) == "night_stand_0007"
        assert split.points(0, 100).shape == (100, 3)
        assert dataset.default_split().name == "all"
        with pytest.raises(OptionError):
            dataset.split("train")
    other = put(tmp_path, "scan.xyz", "0 0 0\n1 0 0\n0 1 0\n")
    assert SingleFileSet(other).class_names == ("unknown",)
    with pytest.raises(DataFileError, match="unsupported file type"):
        SingleFileSet(put(tmp_path, "x.stl", "solid"))
    with pytest.raises(DataFileError, match="no such file"):
        SingleFileSet(tmp_path / "gone.off")
    broken = SingleFileSet(put(tmp_path, "b.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 5\n"))
    with pytest.raises(DataFileError, match="face index 5 out of range"):
        broken.split("all").points(0)


def test_real_pcd_folder(real_files: list[Path]) -> None:
    folder = real_files[0].parents[1] / "modelnet10_pcd_molivas"
    with FileTreeSet(folder) as dataset:
        assert dataset.split_names == ("all",) and len(dataset.class_names) == 10
        split = dataset.split("all")
        assert len(split) == 13 and split.point_counts().tolist() == [1024] * 13
        clouds = split.load_all(256)
        assert clouds.shape == (13, 256, 3) and np.isfinite(clouds).all()
        night_stand = [split.shape_name(i) for i in range(13)].index("night_stand_0001")
        assert split.class_names[split.labels[night_stand]] == "night_stand"


def test_real_folder_of_everything(real_files: list[Path]) -> None:
    with FileTreeSet(real_files[0].parents[1]) as dataset:
        split = dataset.split("all")
        assert len(split) == 33
        assert split.drop_unreadable(128) == []
        assert dataset.warnings == []
