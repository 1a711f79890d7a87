"""open_dataset's choice of reader, and what importing the data package loads."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from vaeviewer.data import FileTreeSet, PointNetH5Set, SingleFileSet, open_dataset, write_pointnet_h5
from vaeviewer.errors import DataFileError


def _tiny_set(folder: Path) -> Path:
    clouds = np.random.default_rng(0).random((2, 16, 3)).astype(np.float32)
    return write_pointnet_h5(folder, {"train": (clouds, np.array([0, 1]))}, ["a", "b"])


def test_pointnet_folder_and_h5_file(tmp_path: Path) -> None:
    folder = _tiny_set(tmp_path / "pn")
    with open_dataset(folder) as dataset:
        assert isinstance(dataset, PointNetH5Set) and dataset.format == "pointnet-h5"
    with open_dataset(str(folder / "ply_data_train0.h5")) as dataset:
        assert isinstance(dataset, PointNetH5Set) and dataset.split_names == ("train",)
        assert dataset.class_names == ("a", "b")


def test_folder_with_h5_but_no_shape_names(tmp_path: Path) -> None:
    folder = _tiny_set(tmp_path / "pn")
    (folder / "shape_names.txt").unlink()
    with open_dataset(folder) as dataset:
        assert isinstance(dataset, PointNetH5Set) and dataset.class_names == ("class_0", "class_1")


def test_shape_folder_and_single_file(tmp_path: Path) -> None:
    off = tmp_path / "shapes" / "chair_0001.off"
    off.parent.mkdir()
    off.write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
    with open_dataset(off.parent) as dataset:
        assert isinstance(dataset, FileTreeSet) and dataset.class_names == ("chair",)
    with open_dataset(off) as dataset:
        assert isinstance(dataset, SingleFileSet) and dataset.format == "single-file"


def test_failures(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="missing: no such file or folder"):
        open_dataset(tmp_path / "missing")
    strange = tmp_path / "mesh.stl"
    strange.write_text("solid")
    with pytest.raises(DataFileError, match=r"unsupported file type '.stl' \(supported: .h5, .hdf5, .off"):
        open_dataset(strange)
    with pytest.raises(DataFileError, match="no shape files found"):
        open_dataset(tmp_path)
    not_h5 = tmp_path / "x.h5"
    not_h5.write_text("text")
    with pytest.raises(DataFileError, match="not an HDF5 file"):
        open_dataset(not_h5)


def test_real_data(modelnet10: Path, real_files: list[Path]) -> None:
    with open_dataset(modelnet10) as dataset:
        assert isinstance(dataset, PointNetH5Set) and len(dataset.split("test")) == 908
    with open_dataset(real_files[0].parents[1]) as dataset:
        assert isinstance(dataset, FileTreeSet) and len(dataset.split("all")) == 33


def test_open_builtin_uses_the_generated_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _tiny_set(tmp_path / "builtin_cache")
    fake = types.ModuleType("vaeviewer.data.builtin")
    fake.ensure_builtin_dataset = lambda: folder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vaeviewer.data.builtin", fake)
    with open_dataset("builtin") as dataset:
        assert isinstance(dataset, PointNetH5Set) and dataset.format == "builtin"
        assert dataset.path == folder


def test_importing_the_data_package_stays_light() -> None:
    code = (
        "import sys, vaeviewer.data; "
        "heavy = [m for m in ('torch', 'trimesh', 'PySide6', 'pyvista', 'vtkmodules', 'vtk') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
