"""The off-screen renderer: styles, colouring by values, camera presets, up axes, and frames that
reuse their VTK objects instead of piling them up."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

from tests.render.pixels import (
    chair,
    drawn,
    extent,
    is_high_viridis,
    is_low_viridis,
    sphere,
    y_up_to_z_up,
)
from vaeviewer.render import CAMERA_DIRECTIONS, INPUT_GREY, CloudLayer, OffscreenRenderer
from vaeviewer.render.offscreen import open_renderers


def test_frames_update_the_same_actor_in_place() -> None:
    first, second = sphere(256, 0) * 0.5, sphere(256, 1) * 0.9
    kept = second.copy()
    with OffscreenRenderer((96, 96)) as renderer:
        a = renderer.render([CloudLayer(first, (0.0, 0.0, 1.0), 3.0)])
        actor = renderer.pane.layer_actor(0)
        poly = actor.GetMapper().GetInput()
        b = renderer.render([CloudLayer(second, (1.0, 0.0, 0.0), 3.0, style="points")])
        assert renderer.pane.layer_actor(0) is actor and actor.GetMapper().GetInput() is poly, "same count: updated in place"
        c = renderer.render([CloudLayer(sphere(300, 2) * 0.2, (0.0, 0.6, 0.0), 3.0)])
        assert renderer.pane.layer_actor(0) is not actor, "another count: a new actor"
        props = renderer.pane.renderer.GetViewProps().GetNumberOfItems()
    assert np.array_equal(second, kept), "the caller's points are copied, never written"
    assert extent(drawn(b))[1] > extent(drawn(a))[1] + 10, "the new points are drawn"
    red = b[..., 0].astype(int) - b[..., 2] > 100
    assert red.sum() > 100 and not (a[..., 0].astype(int) - a[..., 2] > 100).any(), "the new colour is drawn"
    assert extent(drawn(c))[1] < extent(drawn(a))[1], "the replaced actor shows the small cloud"
    assert props == 5, "one cloud, title, caption, colour bar and its title: nothing left over"


def test_points_are_flat_and_spheres_shaded() -> None:
    cloud = sphere(400, 3) * 0.7
    colour = (0.2, 0.4, 0.8)
    with OffscreenRenderer((128, 128)) as renderer:
        flat = renderer.render([CloudLayer(cloud, colour, 4.0, style="points")])
        shaded = renderer.render([CloudLayer(cloud, colour, 4.0, style="spheres")])
    exact = np.abs(flat.astype(int) - np.round(np.array(colour) * 255)).sum(axis=2) <= 3
    # Only the edges of flat points blend with the background (multisampling): a few tones.
    assert exact.sum() > 0.5 * drawn(flat).sum(), "flat points carry their exact colour"
    assert len({tuple(p) for p in flat[drawn(flat)]}) < 10
    assert len({tuple(p) for p in shaded[drawn(shaded)]}) > 50, "spheres are shaded: many tones of the colour"


def test_values_colour_the_points_and_show_a_colour_bar() -> None:
    cloud = sphere(600, 4) * 0.45
    values = (cloud[:, 0] > 0).astype(np.float32)  # 0 on the left, 1 on the right
    layer = dict(scalars=values, clim=(0.0, 1.0), scalar_title="squared distance", point_size=4.0, style="points")
    with OffscreenRenderer((160, 160), view="front") as renderer:
        image = renderer.render([CloudLayer(cloud, **layer)])
        without_bar = renderer.render([CloudLayer(cloud, **layer, scalar_bar=False)])
        plain = renderer.render([CloudLayer(cloud, INPUT_GREY, 4.0)])
    left, right = image[:, :70], image[:, 90:130]  # the points at x = 0 spill both ways
    assert is_low_viridis(left).sum() > 100 and is_high_viridis(left).sum() < 10
    assert is_high_viridis(right).sum() > 100 and is_low_viridis(right).sum() < 10
    bar = image[:, 140:]
    assert is_low_viridis(bar).sum() > 20 and is_high_viridis(bar).sum() > 20, "a colour bar at the right"
    assert not drawn(without_bar[:, 140:]).any() and not drawn(plain[:, 140:]).any(), "no bar unless asked"


def test_camera_presets_show_different_pictures() -> None:
    with OffscreenRenderer((96, 96)) as renderer:
        pictures = {}
        for view in CAMERA_DIRECTIONS:
            renderer.view = view
            pictures[view] = drawn(renderer.render([CloudLayer(chair(), INPUT_GREY, 2.0)]))
    views = list(pictures)
    for i, a in enumerate(views):
        for b in views[i + 1 :]:
            assert (pictures[a] ^ pictures[b]).sum() > 400, f"{a} and {b} look alike"


@pytest.mark.parametrize("up", ["y", "z"])
def test_a_chair_stands_upright_with_its_up_axis(up: str) -> None:
    cloud = chair() if up == "y" else y_up_to_z_up(chair())
    wrong = "z" if up == "y" else "y"
    with OffscreenRenderer((128, 128), view="side", up=up) as renderer:
        upright = extent(drawn(renderer.render([CloudLayer(cloud, INPUT_GREY, 2.0)])))
        renderer.up = wrong
        lying = extent(drawn(renderer.render([CloudLayer(cloud, INPUT_GREY, 2.0)])))
        renderer.up, renderer.view = up, "top"
        top = drawn(renderer.render([CloudLayer(cloud, INPUT_GREY, 2.0)]))
    # From the side a chair is taller (1.26) than deep (0.8); stood on its back it is the other way.
    assert upright[0] > 1.3 * upright[1], upright
    assert lying[1] > 1.3 * lying[0], lying
    # From above the seat fills a block in the middle (a lying chair would show a thin side).
    height, width = extent(top)
    assert min(height, width) > 0.6 * max(height, width)


def test_a_modelnet_chair_is_z_up(modelnet10) -> None:
    from vaeviewer.data import open_dataset

    with open_dataset(modelnet10) as dataset:
        split = dataset.split("test")
        chairs = np.flatnonzero(split.labels == split.class_names.index("chair"))[:3]
        clouds = [split.points(int(i)) for i in chairs]
    with OffscreenRenderer((128, 128), view="front", up="z") as renderer:
        for cloud in clouds:
            height, width = extent(drawn(renderer.render([CloudLayer(cloud, INPUT_GREY, 2.0)])))
            assert height > width, "a chair seen from the front is taller than wide"


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _live_vtk_objects() -> int:
    from vtkmodules.vtkCommonCore import vtkObjectBase

    gc.collect()
    # type(), not isinstance(): isinstance asks objects for __class__, which some proxies answer noisily.
    return sum(issubclass(type(o), vtkObjectBase) for o in gc.get_objects())


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads resident memory from /proc")
def test_a_thousand_frames_grow_neither_memory_nor_vtk_objects() -> None:
    rng = np.random.default_rng(0)
    clouds = [rng.normal(size=(256, 3)).astype(np.float32) * 0.4 for _ in range(8)]
    values = [rng.random(256).astype(np.float32) for _ in range(8)]

    with OffscreenRenderer((64, 64)) as renderer:

        def frame(i: int) -> np.ndarray:
            # Every kind of change between frames: points, style, colour, values, second layer, title, camera.
            layers = [CloudLayer(clouds[i % 8], (0.5, 0.5, i % 7 / 7), 3.0, style=("spheres", "points")[i % 2])]
            if i % 3 == 0:
                layers.append(CloudLayer(clouds[(i + 1) % 8], scalars=values[i % 8], scalar_title="error"))
            return renderer.render(layers, f"frame {i}", azimuth=3.6 * i)

        for i in range(50):
            frame(i)
        memory, objects = _resident_mb(), _live_vtk_objects()
        props = renderer.pane.renderer.GetViewProps().GetNumberOfItems()
        for i in range(1000):
            frame(i)
        grown_memory, grown_objects = _resident_mb() - memory, _live_vtk_objects() - objects
        assert renderer.pane.renderer.GetViewProps().GetNumberOfItems() == props
    print(f"1000 frames: resident memory {grown_memory:+.1f} MB, live VTK objects {grown_objects:+d}")
    assert grown_memory < 30
    assert grown_objects <= 0


def test_close_releases_the_render_window() -> None:
    from vtkmodules.vtkRenderingCore import vtkRenderWindow

    def windows() -> int:
        gc.collect()
        # The VTK objects Python holds are the wrappers the garbage collector tracks.
        return sum(issubclass(type(o), vtkRenderWindow) for o in gc.get_objects())

    before, open_before = windows(), open_renderers()
    renderer = OffscreenRenderer((64, 64))
    renderer.render([CloudLayer(sphere(100, 5), INPUT_GREY)], "title")
    assert windows() == before + 1 and open_renderers() == open_before + 1
    renderer.close()
    renderer.close()  # twice is harmless
    assert renderer.closed and windows() == before and open_renderers() == open_before
    with pytest.raises(RuntimeError, match="closed"):
        renderer.render([])


def test_bad_layers_and_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="style"):
        CloudLayer(sphere(10, 0), style="voxels")
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        CloudLayer(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="one value per point"):
        CloudLayer(sphere(10, 0), scalars=np.zeros(9))
    with pytest.raises(ValueError, match="view"):
        OffscreenRenderer((32, 32), view="bottom")
    with pytest.raises(ValueError, match="up axis"):
        OffscreenRenderer((32, 32), up="x")


def test_long_titles_shrink_to_fit() -> None:
    with OffscreenRenderer((120, 120)) as renderer:
        image = renderer.render([], "night_stand_0001", caption="a caption far too long for a picture this small")
    ink = drawn(image)
    assert ink[:20].any() and ink[-20:].any(), "title and caption are drawn"
    assert not ink[:, :2].any() and not ink[:, -2:].any(), "no text runs off the sides"


@pytest.mark.parametrize(
    "report, software",
    [
        ("llvmpipe (LLVM 15.0.6, 256 bits) Mesa/X.org", True),
        ("OpenGL renderer string: SWRAST", True),
        ("NVIDIA GeForce RTX 4090/PCIe/SSE2 NVIDIA Corporation", False),
        ("AMD Radeon Pro 5500M OpenGL Engine", False),
    ],
)
def test_software_rasterisers_are_recognised(report: str, software: bool) -> None:
    from vaeviewer.render.scene import is_software_renderer

    assert is_software_renderer(report) is software


def test_the_first_render_turns_multisampling_off_on_a_software_rasteriser() -> None:
    from vaeviewer.render.scene import is_software_renderer

    renderer = OffscreenRenderer((64, 64))
    try:
        assert renderer.multisampling is None
        renderer.render([CloudLayer(np.random.default_rng(0).random((50, 3)), INPUT_GREY)])
        state = renderer._window.GetState()
        software = is_software_renderer(f"{state.GetRenderer()} {state.GetVendor()}")
        assert renderer.multisampling is (not software)
        if software:  # this machine's Mesa: frames are not drawn 8 times over
            assert renderer._window.GetMultiSamples() == 0
    finally:
        renderer.close()


def test_colours_are_triples_hex_or_css_names() -> None:
    from vaeviewer.render.scene import rgb

    assert rgb((0.1, 0.2, 0.3)) == (0.1, 0.2, 0.3)
    assert rgb("#ff8000") == (1.0, 128 / 255, 0.0)
    assert rgb("White") == (1.0, 1.0, 1.0)
    for bad in ("#ff80", "#gg0000", "no such colour", (1.0, 2.0, 0.0), (0.5, 0.5)):
        with pytest.raises(ValueError):
            rgb(bad)


def test_a_dark_background_gets_white_text() -> None:
    with OffscreenRenderer((96, 96), background="black") as renderer:
        image = renderer.render([], "TITLE")
    assert image[:30].max() > 200 and image[40:].max() < 30, "white title on black, nothing else"
