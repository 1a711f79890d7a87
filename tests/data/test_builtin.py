"""The built-in data set: generation, determinism, and the on-disk cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vaeviewer.data import builtin
from vaeviewer.data.builtin import (
    BUILTIN_CLASSES,
    BUILTIN_SEED,
    BUILTIN_VERSION,
    builtin_cache_dir,
    builtin_shape_names,
    ensure_builtin_dataset,
)
from vaeviewer.data.pointnet_h5 import PointNetH5Set
from vaeviewer.data.procedural import generate_builtin_dataset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ensure_builtin_dataset write a tiny set (3 + 2 shapes per class, 64 points)."""
    monkeypatch.setattr(builtin, "BUILTIN_TRAIN_PER_CLASS", 3)
    monkeypatch.setattr(builtin, "BUILTIN_TEST_PER_CLASS", 2)
    monkeypatch.setattr(builtin, "BUILTIN_POINTS", 64)


def test_generated_arrays_have_the_promised_layout() -> None:
    splits = generate_builtin_dataset(seed=0, points=128, train_per_class=3, test_per_class=2)
    assert list(splits) == ["train", "test"]
    for split, per_class in (("train", 3), ("test", 2)):
        data, labels = splits[split]
        assert data.dtype == np.float32 and data.shape == (10 * per_class, 128, 3)
        assert labels.dtype == np.int64 and labels.shape == (10 * per_class,)
        assert np.array_equal(np.bincount(labels, minlength=10), np.full(10, per_class))
        assert np.all(np.diff(labels) >= 0)  # class by class
        assert np.isfinite(data).all()
        assert np.allclose(np.linalg.norm(data, axis=2).max(axis=1), 1.0, atol=1e-5)
        assert np.abs(data.mean(axis=1)).max() < 1e-5


def test_same_seed_gives_identical_bytes_and_another_seed_differs() -> None:
    first = generate_builtin_dataset(seed=0, points=64, train_per_class=2, test_per_class=1)
    again = generate_builtin_dataset(seed=0, points=64, train_per_class=2, test_per_class=1)
    other = generate_builtin_dataset(seed=1, points=64, train_per_class=2, test_per_class=1)
    for split in ("train", "test"):
        assert first[split][0].tobytes() == again[split][0].tobytes()
        assert first[split][1].tobytes() == again[split][1].tobytes()
        assert not np.array_equal(first[split][0], other[split][0])
    assert not np.array_equal(first["train"][0][:1], first["test"][0][:1])


def test_a_shape_does_not_depend_on_the_order_or_number_generated() -> None:
    full = generate_builtin_dataset(seed=0, points=64, train_per_class=3, test_per_class=2)
    alone = generate_builtin_dataset(seed=0, points=64, train_per_class=1, test_per_class=2, classes=("mug",))
    mug = BUILTIN_CLASSES.index("mug")
    assert np.array_equal(alone["train"][0][0], full["train"][0][3 * mug])
    assert np.array_equal(alone["test"][0], full["test"][0][2 * mug : 2 * mug + 2])


def test_progress_is_reported_for_every_shape() -> None:
    calls: list[tuple[int, int]] = []
    generate_builtin_dataset(points=32, train_per_class=1, test_per_class=1, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(k, 20) for k in range(1, 21)]


def test_shape_names_are_numbered_on_from_train_into_test() -> None:
    names = builtin_shape_names(3, 2)
    assert names["train"][:4] == ["airplane_0000", "airplane_0001", "airplane_0002", "bed_0000"]
    assert names["test"][:3] == ["airplane_0003", "airplane_0004", "bed_0003"]
    assert len(names["train"]) == 30 and len(names["test"]) == 20


def test_cache_dir_honours_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAEVIEWER_CACHE_DIR", str(tmp_path))
    assert builtin_cache_dir() == tmp_path / f"builtin-v{BUILTIN_VERSION}-seed{BUILTIN_SEED}"
    assert builtin_cache_dir(7).name == f"builtin-v{BUILTIN_VERSION}-seed7"
    monkeypatch.delenv("VAEVIEWER_CACHE_DIR")
    assert builtin_cache_dir().parent.name == "vaeviewer"


@pytest.mark.usefixtures("small_builtin")
def test_ensure_writes_once_and_then_reuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAEVIEWER_CACHE_DIR", str(tmp_path))
    folder = ensure_builtin_dataset()
    assert folder == builtin_cache_dir()
    shard = folder / "ply_data_train0.h5"
    written = shard.stat().st_mtime_ns

    def no_generation(**_: object) -> None:
        raise AssertionError("generated again although the cache was complete")

    monkeypatch.setattr(builtin, "generate_builtin_dataset", no_generation)
    assert ensure_builtin_dataset() == folder
    assert shard.stat().st_mtime_ns == written
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no staging left behind

    with PointNetH5Set(folder) as dataset:
        assert dataset.class_names == BUILTIN_CLASSES
        assert dataset.split_names == ("train", "test")
        train = dataset.split("train")
        assert len(train) == 30 and train.shape_name(0) == "airplane_0000"
        assert dataset.split("test").shape_name(2) == "bed_0003"
        assert train.points(4).shape == (64, 3)


@pytest.mark.usefixtures("small_builtin")
def test_an_incomplete_folder_is_regenerated(tmp_path: Path) -> None:
    folder = ensure_builtin_dataset(cache_dir=tmp_path / "set")
    (folder / "ply_data_test0.h5").unlink()
    assert ensure_builtin_dataset(cache_dir=folder) == folder
    assert (folder / "ply_data_test0.h5").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


@pytest.mark.usefixtures("small_builtin")
def test_a_set_that_appears_while_generating_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "set"
    real = builtin.generate_builtin_dataset

    def racing(**kwargs: object) -> dict:
        # Another process finishes first, while this one is still generating.
        monkeypatch.setattr(builtin, "generate_builtin_dataset", real)
        ensure_builtin_dataset(cache_dir=folder)
        (folder / "winner").write_text("first")
        return real(**kwargs)

    monkeypatch.setattr(builtin, "generate_builtin_dataset", racing)
    assert ensure_builtin_dataset(cache_dir=folder) == folder
    assert (folder / "winner").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_two_processes_generating_at_once_leave_one_complete_set(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from vaeviewer.data import builtin
        builtin.BUILTIN_TRAIN_PER_CLASS, builtin.BUILTIN_TEST_PER_CLASS, builtin.BUILTIN_POINTS = 4, 2, 64
        print(builtin.ensure_builtin_dataset(cache_dir=sys.argv[1]))
        """
    )
    target = tmp_path / "set"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    runs = [subprocess.Popen([sys.executable, "-c", script, str(target)], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=60)[0].strip() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs == [str(target), str(target)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]
    with PointNetH5Set(target) as dataset:
        assert len(dataset.split("train")) == 40 and len(dataset.split("test")) == 20


def test_the_application_set_opens_with_the_pointnet_reader() -> None:
    # The suite's own cache folder (tests/conftest.py), shared with the other tests that use it.
    with PointNetH5Set(ensure_builtin_dataset()) as dataset:
        assert dataset.class_names == BUILTIN_CLASSES
        train, test = dataset.split("train"), dataset.split("test")
        assert (len(train), len(test)) == (1000, 250)
        assert train.point_counts()[0] == 2048
        assert np.array_equal(np.bincount(test.labels), np.full(10, 25))
        assert test.shape_name(0) == "airplane_0100"


def test_importing_builtin_loads_nothing_heavy() -> None:
    code = (
        "import sys, vaeviewer.data.builtin; "
        "print(','.join(m for m in ('torch', 'PySide6', 'pyvista', 'vtk', 'vtkmodules') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == ""
