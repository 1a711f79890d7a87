"""The Latent studio panel: samples drawn on a worker, each beside its nearest training shape, reproducible by seed."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.pixels import _greenish, _greyish, _pixels
from vaeviewer.gui.panels.studio import StudioPanel
from vaeviewer.gui.workers import live_workers

TIMEOUT_MS = 240_000


@pytest.fixture
def panel(qtbot, session, viewport):
    widget = StudioPanel(session, viewport)
    qtbot.addWidget(widget)
    widget.resize(420, 600)
    widget.show()
    yield widget
    widget.shutdown()
    widget.hide()


def _generate(qtbot, panel, seed: int) -> list:
    panel.seed_box.setValue(seed)
    with qtbot.waitSignal(panel.view_requested, timeout=TIMEOUT_MS):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT_MS)
    return panel.samples


def test_samples_show_beside_their_nearest_training_shape_and_repeat_with_their_seed(qtbot, panel, session, viewport):
    panel.count_box.setValue(4)
    first = _generate(qtbot, panel, seed=5)
    assert len(first) == 4 and panel.gallery.count() == 4
    assert "nearest" in panel.gallery.item(0).text()
    assert "seed 5" in panel.info_label.text() and "likely copies" in panel.info_label.text()
    assert "test shapes" in panel.compare_label.text()  # the unseen shapes' distances beside the samples'
    panel.set_active(True)
    green_pane, grey_pane = viewport.panes
    assert green_pane.layers[0].color != grey_pane.layers[0].color
    np.testing.assert_array_equal(green_pane.layers[0].points, first[0].cloud)
    assert grey_pane.caption.startswith("nearest train shape")
    pixels = _pixels(viewport.image())
    half = pixels.shape[1] // 2
    assert _greenish(pixels[:, :half]) > 200 and _greyish(pixels[:, half:]) > 200
    # Another row shows that sample.
    panel.gallery.setCurrentRow(2)
    np.testing.assert_array_equal(viewport.panes[0].layers[0].points, first[2].cloud)

    again = _generate(qtbot, panel, seed=5)  # the training codes are kept: no second encode
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.cloud, b.cloud)
    other = _generate(qtbot, panel, seed=6)
    assert not np.allclose(other[0].cloud, first[0].cloud, atol=1e-3)
    assert not live_workers()


def test_a_new_model_drops_the_samples(qtbot, panel, session):
    panel.count_box.setValue(2)
    _generate(qtbot, panel, seed=0)
    session.open_checkpoint(None)
    assert panel.samples == [] and panel.gallery.count() == 0
