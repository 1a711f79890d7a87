"""The Latent map panel: the map of the test split, hovering, clicking, A/B, recomputing, stopping."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.gui.pixels import _greyish, _pixels
from vaeviewer.gui.panels.latent import LatentMapPanel, class_colors
from vaeviewer.gui.workers import live_workers

# Generous: encoding the 250 test shapes takes seconds, more on a busy machine.
MAP_TIMEOUT_MS = 240_000


@pytest.fixture
def panel(qtbot, session, viewport):
    widget = LatentMapPanel(session, viewport)
    qtbot.addWidget(widget)
    widget.resize(520, 560)
    yield widget
    widget.shutdown()
    widget.hide()


def wait_for_map(qtbot, panel, method="pca", old=None):
    qtbot.waitUntil(lambda: panel.current_map is not None and panel.current_map.method == method
                    and panel.current_map is not old and not panel.is_busy(), timeout=MAP_TIMEOUT_MS)
    return panel.current_map


def view_position(panel, point) -> QPoint:
    """Where a dot of the map is in the plot widget's viewport, in pixels."""
    # The view applies a new range when it next paints; map with the range on screen.
    panel._plot.getPlotItem().getViewBox().updateMatrix()
    scene_position = panel._scatter.mapToScene(point.pos())
    return panel._plot.mapFromScene(scene_position)


def settle(qtbot, panel) -> None:
    """Wait until the plot's layout and range stop changing (the legend and labels resize it)."""
    view_box = panel._plot.getPlotItem().getViewBox()
    last = [None]

    def unchanged() -> bool:
        view_box.updateMatrix()
        now = (view_box.sceneBoundingRect(), view_box.viewRect())
        same, last[0] = now == last[0], now
        return same

    qtbot.waitUntil(unchanged, timeout=5000)


def isolated_point(panel):
    """A dot with no other dot under the mouse where it is drawn."""
    panel._plot.getPlotItem().getViewBox().updateMatrix()
    for point in panel._scatter.points():
        if len(panel._scatter.pointsAt(point.pos())) == 1:
            return point
    raise AssertionError("every dot overlaps another")


def tsne_processes() -> list[int]:
    """Process ids of this process's children that run t-SNE (Linux: read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline, open(f"/proc/{entry}/stat") as stat:
                command, parent = cmdline.read(), int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"_tsne_process_main" in command:
            found.append(int(entry))
    return found


def test_map_of_the_test_split_is_coloured_by_class_and_picks_shapes(qtbot, panel, session, viewport):
    assert not panel.is_busy()  # hidden and inactive: nothing is computed yet
    panel.show()
    qtbot.waitExposed(panel)
    started = time.perf_counter()
    panel.set_active(True)
    assert panel.is_busy()
    shown = wait_for_map(qtbot, panel)
    print(f"\nPCA map of {len(session.split)} shapes: {time.perf_counter() - started:.1f} s")

    # One dot per shape, in its class's colour; a legend entry per class.
    split = session.split
    assert len(split) == 250 and len(panel._scatter.points()) == 250
    np.testing.assert_array_equal(shown.encoded.indices, np.arange(250))
    colors = class_colors(len(split.class_names))
    for point in panel._scatter.points()[::17]:
        label = int(split.labels[int(point.data())])
        assert point.brush().color().name() == colors[label].name()
    legend_names = [label.text for _sample, label in panel._legend.items]
    assert legend_names == list(split.class_names) and len(legend_names) == 10
    assert "PC 1" in panel._plot.getPlotItem().getAxis("bottom").labelText

    # Hovering a dot names its shape.
    settle(qtbot, panel)
    point = isolated_point(panel)
    index = int(point.data())
    with qtbot.waitSignal(panel.status, timeout=5000) as status:
        qtbot.mouseMove(panel._plot.viewport(), view_position(panel, point))
    assert status.args == [session.shape_label(index)]
    assert panel._hover_text.isVisible() and panel._hover_text.toPlainText() == session.shape_label(index)

    # Clicking it selects the shape and asks for the view; the panel draws it in grey.
    with qtbot.waitSignal(panel.view_requested, timeout=5000):
        qtbot.mouseClick(panel._plot.viewport(), Qt.MouseButton.LeftButton, pos=view_position(panel, point))
    assert session.selection == index
    assert viewport.panes[0].caption == session.shape_label(index)
    assert _greyish(_pixels(viewport.image())) > 300
    selection_ring = [spot for spot in panel._marks.points() if spot.size() == 15]
    assert len(selection_ring) == 1 and selection_ring[0].pos() == point.pos()

    # Use as A and B.
    panel._use_a.click()
    assert session.pair["a"] == index
    other = int(panel._scatter.points()[0].data())
    session.select(other)
    panel._use_b.click()
    assert session.pair == {"a": index, "b": other}
    assert panel._pair_labels["a"].isVisible() and panel._pair_labels["b"].isVisible()
    session.select(index)

    # A right-click on a dot offers the same, for that dot.
    other_point = next(p for p in panel._scatter.points() if int(p.data()) != index
                   and len(panel._scatter.pointsAt(p.pos())) == 1)
    qtbot.mouseClick(panel._plot.viewport(), Qt.MouseButton.RightButton, pos=view_position(panel, other_point))
    assert panel._context_index == int(other_point.data())
    qtbot.waitUntil(panel._context_menu.isVisible, timeout=5000)
    use_b = next(action for action in panel._context_menu.actions() if action.text() == "Use as B")
    use_b.trigger()
    panel._context_menu.close()
    assert session.pair["b"] == int(other_point.data()) and session.selection == index
    viewport.image().save("/tmp/latent_viewport.png")
    panel.grab().save("/tmp/latent_panel_pca.png")

    # t-SNE reuses the codes: only the projection runs (in its own process).
    started = time.perf_counter()
    panel.set_method("tsne")
    tsne = wait_for_map(qtbot, panel, "tsne")
    print(f"t-SNE of {len(split)} codes, process start included: {time.perf_counter() - started:.1f} s")
    assert tsne.encoded is shown.encoded and tsne.coords.shape == (250, 2)
    assert "t-SNE" in panel._plot.getPlotItem().getAxis("bottom").labelText
    panel.grab().save("/tmp/latent_panel_tsne.png")
    # Back to PCA at once: each projection is kept.
    panel.set_method("pca")
    assert panel.current_map is shown and not panel.is_busy()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="looks for the t-SNE process in /proc")
def test_new_inputs_recompute_and_stop_the_old_work_at_once(qtbot, panel, session):
    panel.set_active(True)
    first = wait_for_map(qtbot, panel)

    session.open_checkpoint(None)  # the same weights, but another model object: stale codes
    assert panel.current_map is None and panel.is_busy()
    second = wait_for_map(qtbot, panel, old=first)
    assert second.encoded is not first.encoded
    np.testing.assert_allclose(second.coords, first.coords, atol=1e-4)

    # Another split while t-SNE runs: its process is killed, the new split is encoded.
    panel.set_method("tsne")
    qtbot.waitUntil(lambda: len(tsne_processes()) == 1, timeout=30_000)
    started = time.perf_counter()
    session.set_split("train")
    assert panel.current_map is None and panel.is_busy()
    qtbot.waitUntil(lambda: not tsne_processes(), timeout=5000)
    print(f"\nt-SNE process gone {time.perf_counter() - started:.2f} s after the split changed")
    qtbot.waitUntil(lambda: panel._progress.value() >= 32, timeout=MAP_TIMEOUT_MS)
    assert panel._progress.maximum() == 1000
    started = time.perf_counter()
    panel.shutdown()
    print(f"shutdown while encoding: {time.perf_counter() - started:.2f} s")
    assert not live_workers()
    assert panel.current_map is None  # nothing half-done is shown


def test_without_a_model_the_panel_says_so(qtbot, viewport):
    from vaeviewer.workflows.session import ViewerSession

    empty = LatentMapPanel(ViewerSession(), viewport)
    qtbot.addWidget(empty)
    empty.set_active(True)
    assert not empty.is_busy() and "Open a data set" in empty._info.text()
    assert not empty._compute.isEnabled()
    empty.shutdown()
