"""The command line's pictures: ``inspect --grid --up`` and the options of ``reconstruct --out``."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tests.render.pixels import chair, drawn, extent, is_grey, y_up_to_z_up
from vaeviewer.cli import build_parser, main


@pytest.fixture
def z_up_chairs(tmp_path: Path) -> Path:
    """A data set in PointNet's layout of two Z-up chairs with a long class name."""
    from vaeviewer.data import write_pointnet_h5

    clouds = np.stack([y_up_to_z_up(chair())] * 2)
    return write_pointnet_h5(tmp_path / "chairs", {"train": (clouds, np.zeros(2, np.int64))}, ["night_stand_chair"])


@pytest.mark.parametrize("up", ["z", "y"])
def test_inspect_grid_stands_shapes_on_the_up_axis(z_up_chairs: Path, tmp_path: Path, up: str, capsys) -> None:
    out = tmp_path / f"grid-{up}.png"
    assert main(["inspect", str(z_up_chairs), "--grid", str(out), "--up", up]) == 0
    capsys.readouterr()
    cell = iio.imread(out)[:200, :200]
    height, width = extent(is_grey(cell[25:]))
    # Upright, a chair seen from the isometric corner is taller than wide; on its back it is not.
    assert (height > width) == (up == "z"), (height, width)
    caption = drawn(cell[:22])
    assert caption.any() and not caption[:, :2].any() and not caption[:, -2:].any(), "the long name fits"


def test_reconstruct_takes_a_mode_an_up_axis_and_an_error_scale() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["reconstruct", "--index", "0", "--out", "x.png", "--mode", "error", "--up", "z", "--error-max", "0.01"])
    assert (args.mode, args.up, args.error_max) == ("error", "z", 0.01)
    defaults = parser.parse_args(["reconstruct", "--index", "0"])
    assert (defaults.mode, defaults.up, defaults.error_max) == ("all", None, None)  # up: the data set's


@pytest.mark.parametrize("options", [["--mode", "diff"], ["--up", "x"]])
def test_reconstruct_refuses_unknown_choices(options: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["reconstruct", "--index", "0", "--out", "x.png", *options])
    assert exit.value.code == 2 and options[0] in capsys.readouterr().err


def test_reconstruct_refuses_an_error_scale_of_zero_before_loading_a_model(capsys) -> None:
    assert main(["reconstruct", "--checkpoint", "/no/such.pt", "--index", "0", "--error-max", "0"]) == 2
    error = capsys.readouterr().err
    assert "--error-max" in error and "such.pt" not in error
