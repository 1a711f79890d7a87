"""The window on the real ModelNet10 with the bundled ModelNet10 model: reconstruction and interpolation of chairs.

Skips when ../shared is absent.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from tests.gui.pixels import _greenish, _greyish, _pixels

#: Two chairs of ModelNet10's test split: a four-legged side chair and an armchair.
CHAIR_A, CHAIR_B = 154, 161


@pytest.fixture
def window(qtbot, session, modelnet10, tmp_path):
    from vaeviewer.gui.main_window import MainWindow

    win = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_data(modelnet10)
    session.set_up("z")
    yield win
    win.close()


def test_a_real_chair_is_reconstructed_grey_and_green_and_recognised(qtbot, window, session):
    assert session.checkpoint_path.endswith("modelnet10.pt")
    session.select(CHAIR_A)
    window.activate_panel("reconstruction")
    panel = window.panels["reconstruction"]
    qtbot.waitUntil(lambda: panel.chamfer is not None, timeout=30_000)
    assert panel.chamfer < 0.01  # two different ModelNet10 chairs are ~0.03 apart
    assert "predicted chair" in panel._class_label.text()
    pixels = _pixels(window.viewport.image())
    assert _greyish(pixels) > 500 and _greenish(pixels) > 500


def test_two_real_chairs_interpolate(qtbot, window, session):
    session.set_pair("a", CHAIR_A)
    session.set_pair("b", CHAIR_B)
    window.activate_panel("interpolation")
    panel = window.panels["interpolation"]
    qtbot.waitUntil(lambda: panel.frames is not None and len(panel.frames) == 24, timeout=30_000)
    frames = panel.frames
    assert frames.shape == (24, 1024, 3) and np.isfinite(frames).all()
    # The path moves steadily from A's reconstruction to B's: no frame jumps far from its neighbours.
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))
    assert steps.max() < 4 * np.median(steps)
    panel.set_frame(12)
    assert _greenish(_pixels(window.viewport.image())) > 300
