"""The up axis of a data set: its layout's convention where one tells, else measured and called a guess."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REAL
from tests.test_cli import vaeviewer
from vaeviewer.data import open_dataset


def _up(path) -> tuple[str, str, str]:
    with open_dataset(path) as dataset:
        return dataset.up.axis, dataset.up.how, dataset.up.reason


def test_the_built_in_set_is_y_up_by_its_convention() -> None:
    assert _up("builtin")[:2] == ("y", "convention")
    found = json.loads(vaeviewer("inspect", "builtin", "--json").stdout)
    assert found["up"] == "y" and "built-in" in found["up_reason"]


def test_the_modelnet10_h5_set_sampled_from_the_meshes_is_measured_z_up(modelnet10: Path) -> None:
    axis, how, reason = _up(modelnet10)
    assert (axis, how) == ("z", "measured") and reason.startswith("measured: the shapes stand along z")
    result = vaeviewer("inspect", str(modelnet10), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["up"] == "z"
    assert "up      z (measured: " in vaeviewer("inspect", str(modelnet10)).stdout


def test_files_of_the_wild_follow_their_origin(real_files: list[Path]) -> None:
    assert _up(REAL / "modelnet_go_mesh")[:2] == ("z", "measured")  # ModelNet's chairs and a toilet, as meshed
    assert _up(REAL / "shapenet_go_mesh" / "model_normalized.obj")[:2] == ("y", "convention")


def _array_folder(tmp_path: Path, scale: tuple[float, float, float], names: tuple[str, ...]) -> Path:
    folder = tmp_path / "clouds"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        np.save(folder / f"{name}.npy", (rng.uniform(-1, 1, size=(300, 3)) * scale).astype(np.float32))
    return folder


@pytest.mark.parametrize(("scale", "axis"), [((1.0, 1.0, 0.4), "z"), ((1.0, 0.4, 1.0), "y")])
def test_shapes_of_unknown_classes_give_a_guess_by_their_thinnest_side(tmp_path: Path, scale, axis: str) -> None:
    found, how, reason = _up(_array_folder(tmp_path, scale, ("scan_a", "scan_b", "scan_c")))
    assert (found, how) == (axis, "measured") and reason.startswith("a guess")


@pytest.mark.parametrize(("scale", "axis"), [((1.0, 0.5, 1.6), "z"), ((1.0, 1.6, 0.5), "y")])
def test_tall_classes_stand_along_their_longest_side(tmp_path: Path, scale, axis: str) -> None:
    """Chairs are longest along the up axis, where an unknown shape would be called thinnest."""
    folder = tmp_path / "tree"
    (folder / "chair").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for k in range(4):
        cloud = (rng.uniform(-1, 1, size=(300, 3)) * scale).astype(np.float32)
        np.savetxt(folder / "chair" / f"chair_{k:04d}.xyz", cloud)
    found, how, reason = _up(folder)
    assert (found, how) == (axis, "measured") and reason.startswith(f"measured: the shapes stand along {axis}")


def test_shapes_that_do_not_agree_leave_y_up(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for k, scale in enumerate([(1.0, 1.0, 0.4), (1.0, 0.4, 1.0)] * 2):
        np.save(folder / f"scan_{k}.npy", (rng.uniform(-1, 1, size=(300, 3)) * scale).astype(np.float32))
    found, _, reason = _up(folder)
    assert found == "y" and "do not tell" in reason


def test_the_command_lines_pictures_follow_the_data_set(tmp_path: Path) -> None:
    """reconstruct --out without --up draws a z-up set with z up: the same picture as --up z, not as --up y."""
    folder = _array_folder(tmp_path, (1.0, 1.0, 0.3), ("flat_a", "flat_b"))
    pictures = {}
    for name, extra in (("default", ()), ("z", ("--up", "z")), ("y", ("--up", "y"))):
        out = tmp_path / f"{name}.png"
        result = vaeviewer("reconstruct", "--data", str(folder), "--index", "0", "--mode", "side", "--out", str(out),
                           *extra)
        assert result.returncode == 0, result.stderr
        pictures[name] = out.read_bytes()
    assert pictures["default"] == pictures["z"] != pictures["y"]
