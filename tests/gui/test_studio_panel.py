"""The Latent studio panel: its Generate, Retrieve and Edit pages driven as a user does, on the real model."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionSlider

from tests.gui.pixels import _greenish, _greyish, _pixels
from vaeviewer.gui.panels.studio import StudioPanel
from vaeviewer.gui.panels.studio_edit import TICKS
from vaeviewer.gui.workers import live_workers

TIMEOUT_MS = 240_000


@pytest.fixture
def studio(qtbot, session, viewport, tmp_path):
    widget = StudioPanel(session, viewport)
    qtbot.addWidget(widget)
    widget.resize(460, 760)
    widget.show()
    widget.set_active(True)
    yield widget
    widget.shutdown()
    widget.hide()


def _generate(qtbot, page, seed: int) -> list:
    page.seed_box.setValue(seed)
    with qtbot.waitSignal(page.view_requested, timeout=TIMEOUT_MS):
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT_MS)
    return page.samples


def test_samples_show_beside_their_nearest_training_shape_and_repeat_with_their_seed(qtbot, studio, session, viewport):
    page = studio.generate
    assert studio.current_page is page
    page.count_box.setValue(4)
    first = _generate(qtbot, page, seed=5)
    assert len(first) == 4 and page.gallery.count() == 4
    assert "nearest" in page.gallery.item(0).text()
    assert "seed 5" in page.info_label.text() and "likely copies" in page.info_label.text()
    assert "test shapes" in page.compare_label.text()  # the unseen shapes' distances beside the samples'
    # The distribution plot holds both sets of distances.
    plot = page.distance_plot
    np.testing.assert_allclose(plot.samples, [s.nearest_chamfer for s in first])
    assert len(plot.unseen) == 20 and plot.unseen_curve.isVisible()
    green_pane, grey_pane = viewport.panes
    assert green_pane.layers[0].color != grey_pane.layers[0].color
    np.testing.assert_array_equal(green_pane.layers[0].points, first[0].cloud)
    assert grey_pane.caption.startswith("nearest train shape")
    pixels = _pixels(viewport.image())
    half = pixels.shape[1] // 2
    assert _greenish(pixels[:, :half]) > 200 and _greyish(pixels[:, half:]) > 200
    # Another row shows that sample.
    page.gallery.setCurrentRow(2)
    np.testing.assert_array_equal(viewport.panes[0].layers[0].points, first[2].cloud)

    again = _generate(qtbot, page, seed=5)  # the training codes are kept: no second encode
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.cloud, b.cloud)
    other = _generate(qtbot, page, seed=6)
    assert not np.allclose(other[0].cloud, first[0].cloud, atol=1e-3)
    assert not live_workers()


def test_a_sample_becomes_an_end_of_the_interpolation_and_the_shape_edited(qtbot, studio, session, viewport):
    from vaeviewer.gui.panels.interpolation import InterpolationPanel

    page = studio.generate
    page.count_box.setValue(2)
    samples = _generate(qtbot, page, seed=1)
    page.gallery.setCurrentRow(1)
    qtbot.mouseClick(page.use_a_button, Qt.MouseButton.LeftButton)
    kept = session.kept_ends["a"]
    assert kept is not None and kept.label == "sample 2 · seed 1" and session.pair["a"] == -1
    np.testing.assert_array_equal(kept.cloud, samples[1].cloud)
    interpolation = InterpolationPanel(session, viewport)
    qtbot.addWidget(interpolation)
    try:
        assert interpolation.a_label.text() == "sample 2 · seed 1"
        path = interpolation.interpolation
        np.testing.assert_array_equal(path.input_a, samples[1].cloud)  # the path starts at the sample
        qtbot.mouseClick(interpolation.swap_button, Qt.MouseButton.LeftButton)
        assert session.kept_ends["b"] is kept and interpolation.b_label.text() == "sample 2 · seed 1"
    finally:
        interpolation.shutdown()
    # Edit… brings the Edit page to the front, editing that sample.
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    assert studio.current_page is studio.edit and studio.tabs.currentWidget() is studio.edit
    assert "sample 2 · seed 1" in studio.edit.shape_label.text()
    assert viewport.panes[0].caption == "sample 2 · seed 1"


def test_a_new_model_drops_the_samples(qtbot, studio, session):
    page = studio.generate
    page.count_box.setValue(2)
    _generate(qtbot, page, seed=0)
    session.open_checkpoint(None)
    assert page.samples == [] and page.gallery.count() == 0


def _drop(widget, path) -> None:
    """Drag a file over ``widget`` and drop it, as a file manager does."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    where = widget.rect().center()
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)


def test_a_dropped_file_lists_its_nearest_shapes_with_thumbnails(qtbot, studio, session, viewport, tmp_path):
    from vaeviewer.data.cloud_files import save_cloud

    studio.tabs.setCurrentWidget(studio.retrieve)
    page = studio.retrieve
    assert studio.current_page is page
    target = 37  # a shape of the open (test) split, saved as a file of its own
    path = save_cloud(tmp_path / "query.ply", session.cloud(target, session.num_points))
    _drop(page, path)
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT_MS)
    neighbours = page.neighbours
    assert len(neighbours) == page.k_box.value() == page.results.count()
    assert neighbours[0][0] == target and neighbours[0][1] < 0.05  # the shape itself comes first
    assert [d for _, d in neighbours] == sorted(d for _, d in neighbours)
    assert "query.ply" in page.query_label.text() and "nearest of 250 test shapes" in page.info_label.text()
    # The query beside the nearest shape, both grey.
    query_pane, shape_pane = viewport.panes
    assert query_pane.caption == "query: query.ply" and f"{target}" in shape_pane.caption
    pixels = _pixels(viewport.image())
    half = pixels.shape[1] // 2
    assert _greyish(pixels[:, :half]) > 200 and _greyish(pixels[:, half:]) > 200
    # Thumbnails come from the browser's cache and replace the placeholders.
    qtbot.waitUntil(lambda: all(page.loader.has_pixmap(shape) for shape, _ in neighbours), timeout=TIMEOUT_MS)
    assert page.results.item(0).icon().pixmap(32, 32).toImage() != page.loader.placeholder.toImage().scaled(32, 32)
    # A click on another result shows that shape beside the query.
    third = page.results.item(2)
    qtbot.mouseClick(page.results.viewport(), Qt.MouseButton.LeftButton, pos=page.results.visualItemRect(third).center())
    assert page.results.currentRow() == 2
    np.testing.assert_array_equal(viewport.panes[1].layers[0].points, session.cloud(neighbours[2][0], session.num_points))
    # Fewer neighbours asked for: the list follows.
    page.k_box.setValue(3)
    qtbot.waitUntil(lambda: not page.is_busy() and page.results.count() == 3, timeout=TIMEOUT_MS)


def test_a_broken_dropped_file_is_one_line_naming_it(qtbot, studio, tmp_path):
    page = studio.retrieve
    studio.tabs.setCurrentWidget(page)
    broken = tmp_path / "broken.off"
    broken.write_text("OFF\n3 1 0\n0 0 0\n1 1\n")
    with qtbot.waitSignal(studio.error, timeout=TIMEOUT_MS) as blocker:
        _drop(page, broken)
    message = blocker.args[0]
    assert "broken.off" in message and "\n" not in message and "Traceback" not in message
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT_MS)
    assert page.query is None and page.results.count() == 0


def _handle_center(slider) -> QPoint:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    rect = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle,
                                         slider)
    return rect.center()


def _drag(slider, dx: int, steps: int = 8) -> None:
    """Press the slider's handle, move it ``dx`` pixels in ``steps`` moves and let go, as a mouse does."""
    start = _handle_center(slider)
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(slider, QMouseEvent(QEvent.Type.MouseButtonPress, QPointF(start), QPointF(start), left,
                                               left, none))
    for k in range(1, steps + 1):
        at = QPointF(start.x() + dx * k / steps, start.y())
        QApplication.sendEvent(slider, QMouseEvent(QEvent.Type.MouseMove, at, at, Qt.MouseButton.NoButton, left, none))
    end = QPointF(start.x() + dx, start.y())
    QApplication.sendEvent(slider, QMouseEvent(QEvent.Type.MouseButtonRelease, end, end, left,
                                               Qt.MouseButton.NoButton, none))


def _edit_ready(qtbot, studio, session):
    page = studio.edit
    studio.tabs.setCurrentWidget(page)  # a first look edits the selected shape
    qtbot.waitUntil(lambda: not page.is_busy(), timeout=TIMEOUT_MS)
    assert page.sliders["pc1"].isEnabled()
    return page


def test_dragging_a_slider_redraws_the_edited_shape(qtbot, studio, session, viewport):
    page = _edit_ready(qtbot, studio, session)
    assert session.shape_label(session.selection) in page.shape_label.text()
    before = viewport.panes[1].layers[0].points.copy()
    original = viewport.panes[0].layers[0].points.copy()
    slider = page.sliders["pc1"]
    _drag(slider, slider.width() // 3)
    assert slider.value() > TICKS // 2  # the handle moved right by a third of the groove
    after = viewport.panes[1].layers[0].points
    assert np.abs(after - before).mean() > 1e-3  # the drawn cloud changed
    np.testing.assert_array_equal(viewport.panes[0].layers[0].points, original)  # the shape as it was stays
    np.testing.assert_array_equal(after, page.edited)
    assert f"pc1 +{slider.value() / TICKS:.2f}σ" == viewport.panes[1].footer
    pixels = _pixels(viewport.image())
    assert _greenish(pixels[:, pixels.shape[1] // 2:]) > 200
    # The keyboard moves it too; Reset brings the shape back.
    qtbot.keyClick(page.sliders["pc2"], Qt.Key.Key_PageUp)
    assert page.editor.amount("pc2") == pytest.approx(0.5)
    qtbot.mouseClick(page.reset_button, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(viewport.panes[1].layers[0].points, before, atol=1e-6)


def test_an_attribute_from_picked_shapes_and_apply_keeps_the_edit(qtbot, studio, session, viewport, tmp_path):
    page = _edit_ready(qtbot, studio, session)
    for shape in (0, 1, 2):  # airplanes
        session.select(shape)
        qtbot.mouseClick(page.pick_a_button, Qt.MouseButton.LeftButton)
    for shape in (25, 26):  # the next class
        session.select(shape)
        qtbot.mouseClick(page.pick_b_button, Qt.MouseButton.LeftButton)
    assert page.picked_label.text() == "Picked: A 3 shapes · B 2 shapes"
    page.first_combo.setCurrentText("picked set A")
    page.second_combo.setCurrentText("picked set B")
    attribute = page.sliders["attribute"]
    assert attribute.isEnabled()
    before = page.edited.copy()
    qtbot.keyClick(attribute, Qt.Key.Key_PageUp)
    assert np.abs(page.edited - before).mean() > 1e-3
    assert "picked set A−picked set B +0.50×" in viewport.panes[1].footer
    # Apply: the edited shape is the one edited from now on, and can end the interpolation.
    edited = page.edited.copy()
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    assert attribute.value() == 0
    np.testing.assert_array_equal(viewport.panes[0].layers[0].points, edited)
    qtbot.mouseClick(page.use_b_button, Qt.MouseButton.LeftButton)
    assert "+0.50×" in session.kept_ends["b"].label
    # Its sweep along pc1 exported with the interpolation's exporter.
    qtbot.keyClick(page.sliders["pc1"], Qt.Key.Key_PageUp)
    dialog = page.open_export_dialog()
    qtbot.addWidget(dialog)
    target = tmp_path / "sweep.gif"
    dialog.path_edit.setText(str(target))
    dialog.size_box.setValue(64)
    assert dialog.steps_box.value() == 24 and not dialog.steps_box.isEnabled()
    with qtbot.waitSignal(dialog.finished_export, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    from PIL import Image

    with Image.open(target) as gif:
        assert gif.n_frames == 24
    dialog.close()
    assert not live_workers()
