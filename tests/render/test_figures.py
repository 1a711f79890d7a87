"""Still pictures: the clouds are drawn, in the right colours, where they should be."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tests.render.pixels import drawn, is_green, is_grey, is_high_viridis, is_low_viridis, sphere
from vaeviewer.errors import OptionError
from vaeviewer.render import (
    INPUT_GREY,
    CloudLayer,
    OffscreenRenderer,
    comparison_image,
    nearest_squared_distance,
    save_png,
    shape_grid_image,
)

SIZE = 160


def plate(n: int, seed: int) -> np.ndarray:
    """Points on a flat rectangle in the XY plane, facing the front camera."""
    points = np.random.default_rng(seed).uniform(-1, 1, size=(n, 3)) * np.array([0.8, 0.5, 0.0])
    return points.astype(np.float32)


def half_pushed_back(points: np.ndarray, depth: float = 0.5) -> np.ndarray:
    """A 'reconstruction' whose right half (x > 0) lies ``depth`` behind the input: seen from the
    front it covers the same pixels, but every point of that half is ``depth`` squared off."""
    out = points.copy()
    out[out[:, 0] > 0, 2] -= depth
    return out


def body(image: np.ndarray, band: int) -> np.ndarray:
    """The panels under the title strip of a figure ``band`` rows high."""
    return image[band:]


def test_renderer_draws_a_cloud_and_replaces_it() -> None:
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


def test_overlay_shows_grey_input_under_green_reconstruction() -> None:
    image = comparison_image(sphere(800, 1), sphere(800, 2) * 0.8, "CD 0.00123", size=SIZE)
    assert image.shape == (SIZE, SIZE, 3)
    assert is_grey(image).sum() > 100 and is_green(image).sum() > 300
    assert drawn(image[:12]).any(), "the title is drawn at the top"


def test_side_by_side_puts_input_left_and_reconstruction_right_in_one_framing() -> None:
    cloud = sphere(800, 3) * np.array([0.9, 0.5, 0.3], dtype=np.float32)
    image = comparison_image(cloud, cloud, "CD 0", size=SIZE, mode="side")
    assert image.shape[1] == 2 * SIZE and SIZE < image.shape[0] < SIZE + 40
    panels = body(image, image.shape[0] - SIZE)
    # Without the rows of the panels' titles and captions, whose antialiased text is grey.
    left, right = panels[25:-25, :SIZE], panels[25:-25, SIZE:]
    assert is_grey(left).sum() > 300 and is_green(left).sum() == 0
    assert is_green(right).sum() > 300 and is_green(right).sum() > 2 * is_grey(right).sum()  # pale edges blend
    # The same cloud from the same camera covers the same pixels on both sides.
    a, b = drawn(left), drawn(right)
    assert (a & b).sum() > 0.9 * (a | b).sum()


def test_error_view_colours_the_far_half_differently_and_has_a_colour_bar() -> None:
    cloud = plate(1500, 4)
    image = comparison_image(cloud, half_pushed_back(cloud), "CD", size=SIZE, mode="error", view="front")
    assert image.shape[1] > 2 * SIZE, "panels and a strip with the colour bar"
    panels = body(image, image.shape[0] - SIZE)
    reconstruction = panels[:, SIZE : 2 * SIZE]
    near, far = reconstruction[:, : SIZE // 2 - 8], reconstruction[:, SIZE // 2 + 8 :]
    assert is_low_viridis(near).sum() > 200 and is_high_viridis(near).sum() < 0.05 * drawn(near).sum()
    assert is_high_viridis(far).sum() > 200 and is_low_viridis(far).sum() < 0.05 * drawn(far).sum()
    bar = panels[:, 2 * SIZE :]
    assert is_low_viridis(bar).sum() > 20 and is_high_viridis(bar).sum() > 20
    assert not is_green(reconstruction).sum() > 50, "coloured by error, not green"


def test_given_errors_set_the_colours() -> None:
    cloud = sphere(600, 5) * 0.5
    nothing_wrong = np.zeros(len(cloud), np.float32)
    image = comparison_image(
        cloud, cloud, "", size=SIZE, mode="error", input_error=nothing_wrong,
        reconstruction_error=nothing_wrong, error_max=0.01,
    )
    panels = image[:, : 2 * SIZE]
    assert is_low_viridis(panels).sum() > 300 and not is_high_viridis(panels).any()


def test_all_shows_every_panel() -> None:
    cloud = plate(1000, 6)
    image = comparison_image(cloud, half_pushed_back(cloud), "CD", size=SIZE, mode="all", view="front")
    assert image.shape[1] > 3 * SIZE and 2 * SIZE < image.shape[0] < 2 * SIZE + 40
    top = body(image, image.shape[0] - 2 * SIZE)[:SIZE]
    bottom = image[-SIZE:]
    assert is_grey(top[:, :SIZE]).sum() > 200 and is_green(top[:, SIZE : 2 * SIZE]).sum() > 200
    assert is_grey(top[:, 2 * SIZE : 3 * SIZE]).sum() > 50 and is_green(top[:, 2 * SIZE : 3 * SIZE]).sum() > 100
    assert is_low_viridis(bottom[:, : 2 * SIZE]).sum() > 200 and is_high_viridis(bottom[:, : 2 * SIZE]).sum() > 50


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        comparison_image(sphere(10, 0), sphere(10, 1), "", size=32, mode="diff")


def test_nearest_squared_distance_matches_brute_force() -> None:
    a, b = sphere(300, 7), sphere(200, 8) * 0.5
    expected = ((a[:, None] - b[None]) ** 2).sum(-1).min(1)
    assert np.allclose(nearest_squared_distance(a, b, chunk=64), expected, atol=1e-6)


def test_grid_has_one_drawn_cell_per_shape_and_readable_captions(tmp_path: Path) -> None:
    clouds = [sphere(300, k) * 0.6 for k in range(5)]
    captions = ["night_stand_0001", "s1", "a_rather_long_shape_name_0002", "s3", "s4"]
    image = shape_grid_image(clouds, captions, columns=3, cell=120)
    assert image.shape == (240, 360, 3)
    cells = [image[r * 120 : (r + 1) * 120, c * 120 : (c + 1) * 120] for r in range(2) for c in range(3)]
    assert all(is_grey(cell).sum() > 100 for cell in cells[:5])
    assert not drawn(cells[5]).any(), "the sixth cell is empty"
    for cell in cells[:5]:
        caption = drawn(cell[:20])
        assert caption.any() and not caption[:, :2].any() and not caption[:, -2:].any(), "captions fit their cell"
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
