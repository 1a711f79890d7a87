"""The Latent map panel: the map of the test split, hovering, clicking, A/B, recomputing, stopping."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import Qt

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


def settle(qtbot, panel) -> None:
    """Wait until the map stops moving on screen (the legend and labels resize the plot after a map arrives)."""
    first = panel.dots()[0][0]
    last = [None]

    def unchanged() -> bool:
        now = (panel.dot_position(first), panel.plot.size())
        same, last[0] = now == last[0], now
        return same

    qtbot.waitUntil(unchanged, timeout=5000)


def isolated_dot(panel, but: int = -1) -> int:
    """A shape whose dot no other dot covers, so that the mouse picks it alone."""
    for index, _color in panel.dots():
        if index != but and panel.dots_at(index) == 1:
            return index
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
    panel.set_active(True)
    assert panel.is_busy()
    shown = wait_for_map(qtbot, panel)

    # One dot per shape, in its class's colour; a legend entry per class.
    split = session.split
    dots = panel.dots()
    assert len(split) == 250 and len(dots) == 250
    np.testing.assert_array_equal(shown.encoded.indices, np.arange(250))
    colors = class_colors(len(split.class_names))
    for index, color in dots[::17]:
        assert color == colors[int(split.labels[index])].name()
    assert panel.legend() == list(split.class_names) and len(panel.legend()) == 10
    assert "PC 1" in panel.axis_labels()[0] and "PC 2" in panel.axis_labels()[1]

    # Hovering a dot names its shape.
    settle(qtbot, panel)
    index = isolated_dot(panel)
    with qtbot.waitSignal(panel.status, timeout=5000) as status:
        qtbot.mouseMove(panel.plot.viewport(), panel.dot_position(index))
    assert status.args == [session.shape_label(index)]
    assert panel.hover_text() == session.shape_label(index)

    # Clicking it selects the shape and asks for the view; the panel draws it in grey.
    with qtbot.waitSignal(panel.view_requested, timeout=5000):
        qtbot.mouseClick(panel.plot.viewport(), Qt.MouseButton.LeftButton, pos=panel.dot_position(index))
    assert session.selection == index
    assert viewport.panes[0].caption == session.shape_label(index)
    assert _greyish(_pixels(viewport.image())) > 300
    assert panel.rings() == {**session.pair, "selection": index}  # the pair's ends are ringed too

    # Use as A and B.
    panel.use_a_button.click()
    assert session.pair["a"] == index
    other = dots[0][0]
    session.select(other)
    panel.use_b_button.click()
    assert session.pair == {"a": index, "b": other}
    assert panel.rings() == {"a": index, "b": other, "selection": other}
    session.select(index)

    # A right-click on a dot offers the same, for that dot.
    clicked = isolated_dot(panel, but=index)
    qtbot.mouseClick(panel.plot.viewport(), Qt.MouseButton.RightButton, pos=panel.dot_position(clicked))
    assert panel.context_shape == clicked
    qtbot.waitUntil(panel.context_menu.isVisible, timeout=5000)
    use_b = next(action for action in panel.context_menu.actions() if action.text() == "Use as B")
    use_b.trigger()
    panel.context_menu.close()
    assert session.pair["b"] == clicked and session.selection == index

    # t-SNE reuses the codes: only the projection runs (in its own process).
    panel.set_method("tsne")
    tsne = wait_for_map(qtbot, panel, "tsne")
    assert tsne.encoded is shown.encoded and tsne.coords.shape == (250, 2)
    assert panel.axis_labels() == ("t-SNE 1", "t-SNE 2")
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
    session.set_split("train")
    assert panel.current_map is None and panel.is_busy()
    qtbot.waitUntil(lambda: not tsne_processes(), timeout=5000)
    qtbot.waitUntil(lambda: panel.progress.value() >= 32, timeout=MAP_TIMEOUT_MS)
    assert panel.progress.maximum() == 1000
    panel.shutdown()
    assert not live_workers()
    assert panel.current_map is None  # nothing half-done is shown


def test_without_a_model_the_panel_says_so(qtbot, viewport):
    from vaeviewer.workflows.session import ViewerSession

    empty = LatentMapPanel(ViewerSession(), viewport)
    qtbot.addWidget(empty)
    empty.set_active(True)
    assert not empty.is_busy() and "Open a data set" in empty.info_label.text()
    assert not empty.compute_button.isEnabled()
    empty.shutdown()


def test_a_drag_across_the_map_decodes_the_points_under_the_mouse(qtbot, panel, session, viewport):
    from vaeviewer.render.colors import RECONSTRUCTION_GREEN
    from vaeviewer.workflows.latent_map import MapInverse
    from vaeviewer.workflows.studio import decode_codes

    panel.show()
    panel.set_active(True)
    shown = wait_for_map(qtbot, panel)
    settle(qtbot, panel)
    start, end = isolated_dot(panel), None
    for index, _color in panel.dots():
        if index != start and panel.dots_at(index) == 1 and session.split.labels[index] != session.split.labels[start]:
            end = index
            break
    assert end is not None
    assert not panel.decoder.check.isChecked()
    qtbot.mouseClick(panel.decoder.check, Qt.MouseButton.LeftButton)
    assert panel.decoder.active

    view = panel.plot.viewport()
    a, b = panel.dot_position(start), panel.dot_position(end)
    decoded = []
    panel.decoder.decoded.connect(lambda x, y: decoded.append((x, y)))
    before = panel.plot.getPlotItem().getViewBox().viewRange()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, 9):
        point = a + (b - a) * (k / 8)
        qtbot.mouseMove(view, point)
        qtbot.wait(30)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=b)
    qtbot.waitUntil(lambda: len(decoded) >= 3, timeout=10_000)
    assert panel.plot.getPlotItem().getViewBox().viewRange() == before  # the map held still under the mouse
    assert session.selection != end  # dragging decodes; it chooses no shape and does not pan
    x, y = decoded[-1]
    layer = viewport.panes[0].layers[0]
    assert viewport.panes[0].caption.startswith("decoded at") and layer.color == RECONSTRUCTION_GREEN
    expected = decode_codes(session.model, MapInverse(shown).code(x, y)[None])[0]
    np.testing.assert_allclose(layer.points, expected, atol=1e-5)
    assert "PCA's inverse" in panel.decoder.how
    # The decoded shape followed the mouse, from one dot towards the other.
    assert len(set(decoded)) >= 3
    first, last = np.array(decoded[0]), np.array(decoded[-1])
    dot_a, dot_b = (shown.coords[np.flatnonzero(shown.encoded.indices == i)[0]] for i in (start, end))
    assert np.linalg.norm(first - dot_a) < 0.25 * np.linalg.norm(dot_b - dot_a)
    assert np.linalg.norm(last - dot_b) < 0.1 * np.linalg.norm(dot_b - dot_a)

    # Off again: a click on a dot shows that shape.
    qtbot.mouseClick(panel.decoder.check, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=panel.dot_position(end))
    assert session.selection == end and not viewport.panes[0].caption.startswith("decoded")
