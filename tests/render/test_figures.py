"""Off-screen pictures: the clouds are drawn, in the right colours, where they should be."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from vaeviewer.errors import OptionError
from vaeviewer.render import INPUT_GREY, CloudLayer, OffscreenRenderer, comparison_image, save_png, shape_grid_image


def sphere(n: int, seed: int) -> np.ndarray:
    points = np.random.default_rng(seed).normal(size=(n, 3))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def coloured(image: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 60) -> np.ndarray:
    return (np.abs(image.astype(int) - np.array(rgb)).sum(axis=2) < tolerance)


def is_grey(image: np.ndarray) -> np.ndarray:
    rgb = image.astype(int)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    return (spread < 12) & (rgb.mean(axis=2) > 60) & (rgb.mean(axis=2) < 215)


def is_green(image: np.ndarray) -> np.ndarray:
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return (g > r + 40) & (g > b + 40)


def test_renderer_draws_a_cloud_and_replaces_it_in_place() -> None:
    with OffscreenRenderer((160, 160)) as renderer:
        empty = renderer.render([])
        one = renderer.render([CloudLayer(sphere(500, 0), (0.0, 0.0, 1.0))])
        again = renderer.render([CloudLayer(sphere(500, 0) * 0.3, (1.0, 0.0, 0.0))])
    assert empty.shape == (160, 160, 3)
    assert (empty > 250).all(), "an empty scene is all background"
    blue = one[..., 2].astype(int) - one[..., 0] > 80
    assert blue.sum() > 500
    assert not (again[..., 2].astype(int) - again[..., 0] > 80).any(), "the old cloud was replaced"
    red = again[..., 0].astype(int) - again[..., 2] > 80
    ys, xs = np.nonzero(red)
    assert 40 < xs.mean() < 120 and 40 < ys.mean() < 120, "a small cloud at the origin is drawn in the middle"


def test_comparison_shows_grey_input_and_green_reconstruction() -> None:
    image = comparison_image(sphere(800, 1), sphere(800, 2) * 0.8, "test", size=200)
    assert image.shape == (200, 600, 3)
    left, middle, right = image[:, :200], image[:, 200:400], image[:, 400:]
    assert is_grey(left).sum() > 300 and is_green(left).sum() == 0
    assert is_green(middle).sum() > 300
    assert is_grey(right).sum() > 100 and is_green(right).sum() > 300


def test_grid_has_one_drawn_cell_per_shape(tmp_path: Path) -> None:
    clouds = [sphere(300, k) for k in range(5)]
    image = shape_grid_image(clouds, [f"s{k}" for k in range(5)], columns=3, cell=120)
    assert image.shape == (240, 360, 3)
    cells = [image[r * 120 : (r + 1) * 120, c * 120 : (c + 1) * 120] for r in range(2) for c in range(3)]
    assert all(is_grey(cell).sum() > 100 for cell in cells[:5])
    assert not is_grey(cells[5]).any(), "the sixth cell is empty"
    path = save_png(image, tmp_path / "grid.png")
    assert iio.imread(path).shape == image.shape


def test_save_png_refuses_other_suffixes_and_unwritable_places(tmp_path: Path) -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(OptionError, match="must be a .png"):
        save_png(image, tmp_path / "x.jpg")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OptionError, match="cannot write"):
        save_png(image, tmp_path / "file" / "inside.png")


@pytest.mark.parametrize("up", ["y", "z"])
def test_camera_moves_between_frames(up: str) -> None:
    cloud = sphere(500, 3) * np.array([1.0, 0.3, 0.3], dtype=np.float32)  # long along X
    with OffscreenRenderer((128, 128), up=up) as renderer:
        front = renderer.render([CloudLayer(cloud, INPUT_GREY)], azimuth=0.0)
        turned = renderer.render([CloudLayer(cloud, INPUT_GREY)], azimuth=90.0)
    assert np.abs(front.astype(int) - turned).sum() > 10_000, "an orbiting camera must change the picture"
