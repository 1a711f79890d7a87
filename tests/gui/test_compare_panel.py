"""The Compare panel driven as a user does: model B beside the window's, the split's table, a click, CSV, cancel."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.pixels import _greyish, _pixels
from vaeviewer.gui.panels.compare import ComparePanel
from vaeviewer.gui.workers import live_workers

TIMEOUT_MS = 240_000


@pytest.fixture
def panel(qtbot, session, viewport):
    widget = ComparePanel(session, viewport)
    qtbot.addWidget(widget)
    widget.resize(520, 760)
    widget.show()
    widget.set_active(True)
    yield widget
    widget.shutdown()
    widget.hide()


def _choose_model_b(panel: ComparePanel, name: str) -> None:
    row = panel.model_b_box.findText(name)
    assert row > 0
    panel.model_b_box.setCurrentIndex(row)
    panel.model_b_box.activated.emit(row)


def _coloured(pixels: np.ndarray) -> int:
    """Pixels of the error colour map (not grey, not the white background)."""
    r, g, b = (pixels[..., k].astype(int) for k in range(3))
    spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    return int((spread > 60).sum())


def test_model_b_beside_the_windows_model_on_one_camera_and_one_colour_scale(qtbot, panel, session, viewport):
    session.select(30)
    assert not panel.compare_button.isEnabled()  # nothing to compare with yet
    _choose_model_b(panel, "modelnet10")
    assert panel.compare_button.isEnabled()
    panes = viewport.panes
    assert len(panes) == 3
    np.testing.assert_array_equal(panes[0].layers[0].points, session.cloud(30, session.num_points))
    a, b = panes[1].layers[0], panes[2].layers[0]
    assert a.clim == b.clim and a.scalars is not None and b.scalars is not None  # one shared error scale
    assert panes[2].caption.startswith("B: modelnet10") and panes[1].caption.startswith("A: demo")
    cameras = {id(viewport.interactor.renderers[k].GetActiveCamera()) for k in range(3)}
    assert len(cameras) == 1  # linked: one camera
    pixels = _pixels(viewport.image())
    third = pixels.shape[1] // 3
    assert _greyish(pixels[:, :third]) > 200
    assert _coloured(pixels[:, third:2 * third]) > 200 and _coloured(pixels[:, 2 * third:]) > 200


def test_the_split_table_sorts_by_where_b_wins_and_a_click_shows_that_shape(qtbot, panel, session, viewport, tmp_path):
    _choose_model_b(panel, "modelnet10")
    panel.limit_box.setValue(20)
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    assert panel.is_busy() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT_MS)
    table = panel.table
    assert table.rowCount() == 20 and panel.comparison is not None
    differences = [float(table.item(row, 5).data(Qt.ItemDataRole.UserRole)) for row in range(20)]
    assert differences == sorted(differences)
    assert "Chamfer mean" in panel.summary_label.text() and "Linear SVM" in panel.summary_label.text()
    # Sorting by a column sorts by value, not text.
    table.sortItems(3, Qt.SortOrder.DescendingOrder)
    chamfer_a = [float(table.item(row, 3).data(Qt.ItemDataRole.UserRole)) for row in range(20)]
    assert chamfer_a == sorted(chamfer_a, reverse=True)

    row = 7
    index = int(table.item(row, 0).text())
    rect = table.visualItemRect(table.item(row, 1))
    table.scrollToItem(table.item(row, 1))
    rect = table.visualItemRect(table.item(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert session.selection == index
    np.testing.assert_array_equal(viewport.panes[0].layers[0].points, session.cloud(index, session.num_points))

    out = tmp_path / "table.csv"
    assert panel.export_csv(out)
    rows = list(csv.reader(out.open()))
    assert len(rows) == 1 + 20 + 4 and rows[0][0] == "index"
    assert sorted(int(r[0]) for r in rows[1:21]) == sorted(int(i) for i in panel.comparison.indices)


def test_a_comparison_can_be_cancelled_and_a_new_split_clears_the_table(qtbot, panel, session):
    _choose_model_b(panel, "modelnet10")
    panel.limit_box.setValue(12)
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=TIMEOUT_MS)
    assert panel.table.rowCount() == 12

    panel.limit_box.setValue(0)  # every shape of the split: long enough to cancel
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not panel.is_busy() and panel.progress_label.text() == "Cancelled."
    assert panel.compare_button.isEnabled()
    qtbot.waitUntil(lambda: not live_workers(), timeout=TIMEOUT_MS)
    assert panel.table.rowCount() == 12  # the cancelled run showed nothing

    session.set_split("train")
    assert panel.table.rowCount() == 0 and panel.comparison is None and not panel.export_button.isEnabled()
