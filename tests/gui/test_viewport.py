"""The viewport: panes, in-place updates, settings, pixels on screen."""

from __future__ import annotations

import numpy as np

from tests.gui.pixels import _greenish, _greyish, _pixels  # noqa: F401 (other tests import them from here too)
from vaeviewer.gui.viewport import Pane
from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer


def test_one_pane_draws_grey_points(viewport, session):
    cloud = session.cloud(0)
    viewport.show_panes([Pane((CloudLayer(cloud, INPUT_GREY),), caption="chair")])
    pixels = _pixels(viewport.image())
    assert _greyish(pixels) > 500
    assert _greenish(pixels) == 0


def test_two_panes_side_by_side_grey_left_green_right(viewport, session):
    cloud = session.cloud(0)
    viewport.show_panes([Pane((CloudLayer(cloud, INPUT_GREY),)), Pane((CloudLayer(cloud, RECONSTRUCTION_GREEN),))])
    pixels = _pixels(viewport.image())
    half = pixels.shape[1] // 2
    assert _greyish(pixels[:, :half]) > 300 and _greenish(pixels[:, :half]) == 0
    assert _greenish(pixels[:, half:]) > 300
    # The panes share one camera.
    left, right = (viewport.interactor.renderers[k].GetActiveCamera() for k in (0, 1))
    assert left is right


def test_same_sized_frames_reuse_the_actor(viewport):
    rng = np.random.default_rng(0)
    viewport.show_panes([Pane((CloudLayer(rng.normal(size=(2048, 3)) * 0.3),))])
    actor = viewport.scene_panes[0].layer_actor(0)
    for _ in range(20):
        cloud = rng.normal(size=(2048, 3)) * 0.3
        viewport.show_panes([Pane((CloudLayer(cloud),))])
    assert viewport.scene_panes[0].layer_actor(0) is actor
    np.testing.assert_allclose(viewport.scene_panes[0].layer_points(0), cloud.astype(np.float32))


def test_scalars_show_a_colour_bar_and_dark_theme_changes_background(viewport, session):
    cloud = session.cloud(0)
    values = np.linspace(0, 1, len(cloud))
    viewport.show_panes([Pane((CloudLayer(cloud, scalars=values, scalar_title="error"),))])
    assert viewport.scene_panes[0].bar_shown
    viewport.set_theme("dark")
    pixels = _pixels(viewport.image())
    assert pixels[2, 2].max() < 60  # a dark corner
    viewport.set_theme("light")
    assert _pixels(viewport.image())[2, 2].min() > 240


def test_software_opengl_renders_without_multisampling(viewport):
    from vaeviewer.render.scene import is_software_renderer

    capabilities = viewport.interactor.ren_win.ReportCapabilities()
    software = is_software_renderer(capabilities)
    assert viewport.antialiasing is (not software)
    assert viewport.interactor.ren_win.GetMultiSamples() == (0 if software else 4)
    viewport.set_antialiasing(True)
    assert viewport.interactor.ren_win.GetMultiSamples() == 4
    assert is_software_renderer("OpenGL renderer string: llvmpipe (LLVM 15.0.6, 256 bits)")
    assert not is_software_renderer("OpenGL renderer string: NVIDIA GeForce RTX 4090/PCIe/SSE2")


def _surface_wrappers() -> int:
    """Python wrappers of Qt surfaces alive now: the GL widget's own is the only kind the window makes."""
    import gc

    from PySide6.QtGui import QSurface

    return sum(1 for item in gc.get_objects() if isinstance(item, QSurface))


def test_no_wrapper_of_the_gl_surface_outlives_the_window(qtbot, session, tmp_path):
    """A wrapper kept past its surface's deletion aliases whatever Qt puts at that address next.

    Seen before the fix: ``QApplication.topLevelWidgets()`` answered a ``QSurface``
    for a new dialog (the deleted surface's address reused), and windows opened
    after closed ones crashed inside Qt's event loop. The plotter's reference
    cycles keep it alive until a garbage collection, so none runs here.
    """
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent, QSettings

    from vaeviewer.gui.main_window import MainWindow

    gc.collect()
    before = _surface_wrappers()
    gc.disable()
    try:
        window = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        window.resize(800, 600)
        window.show()
        qtbot.waitExposed(window)
        window.viewport.image()  # drawn: the GL context and its surface exist
        window.close()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        del window
        assert _surface_wrappers() == before
    finally:
        gc.enable()
