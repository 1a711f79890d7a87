"""The data-set browser: counts, splits, filters, selection, thumbnails and a 10,000-shape split."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from vaeviewer.gui.panels.dataset import DatasetPanel


def _pixels(image) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).copy()


def _greyish(pixels: np.ndarray) -> int:
    r, g, b = (pixels[..., k].astype(int) for k in range(3))
    return int(((abs(r - g) < 12) & (abs(g - b) < 12) & (r < 200) & (r > 40)).sum())


def _make_panel(qtbot, session, viewport, root, width=420, height=760) -> DatasetPanel:
    panel = DatasetPanel(session, viewport, thumbnail_root=root)
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def panel(qtbot, session, viewport, tmp_path):
    panel = _make_panel(qtbot, session, viewport, tmp_path / "thumbnails")
    yield panel
    panel.shutdown()


def _class_counts(split) -> dict[str, int]:
    labels = np.asarray(split.labels)
    return {name: int((labels == k).sum()) for k, name in enumerate(split.class_names)}


def test_counts_per_class_and_total_follow_the_split_labels(panel, session):
    counts = _class_counts(session.split)
    table = {panel.counts_table.item(r, 0).text(): int(panel.counts_table.item(r, 1).text())
             for r in range(panel.counts_table.rowCount())}
    assert table == counts
    entries = [panel.class_combo.itemText(k) for k in range(panel.class_combo.count())]
    assert entries == ["All classes"] + [f"{name} ({count})" for name, count in counts.items()]
    assert panel.model.rowCount() == len(session.split)
    assert f"{len(session.split)} shapes in {session.split.name}" in panel.total_label.text()
    assert panel.name_label.text() == "Built-in shapes"
    assert panel.format_label.text() == "builtin · 10 classes · Y up"


def test_split_selector_switches_to_train(panel, session):
    assert session.split.name == "test"
    before = panel.model.rowCount()
    panel.split_combo.setCurrentIndex(panel.split_combo.findData("train"))
    assert session.split.name == "train"
    assert len(session.split) == 1000
    assert panel.model.rowCount() == 1000 != before
    assert "1000 shapes in train" in panel.total_label.text()
    table = {panel.counts_table.item(r, 0).text(): int(panel.counts_table.item(r, 1).text())
             for r in range(panel.counts_table.rowCount())}
    assert table == _class_counts(session.split)
    # A change made elsewhere (the session) moves the selector too.
    session.set_split("test")
    assert panel.split_combo.currentData() == "test"
    assert panel.model.rowCount() == before


def test_class_filter_and_search_narrow_the_list(panel, session, qtbot):
    labels = np.asarray(session.split.labels)
    chair = session.split.class_names.index("chair")
    panel.class_combo.setCurrentIndex(panel.class_combo.findData(chair))
    assert panel.model.rowCount() == int((labels == chair).sum())
    assert all(labels[panel.model.shape_index(r)] == chair for r in range(panel.model.rowCount()))
    assert "shown" in panel.total_label.text()

    # A number is an index, and part of names: "0105" is bed_0105's, the name the viewport's title shows.
    bed = session.split.class_names.index("bed")
    panel.class_combo.setCurrentIndex(panel.class_combo.findData(bed))
    chairs = np.flatnonzero(labels == bed)
    digits = session.split.shape_name(int(chairs[5])).split("_")[-1]
    assert int(digits) != chairs[5]  # the index of that number is another shape, not in the filter
    panel.search_edit.clear()
    qtbot.keyClicks(panel.search_edit, digits)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=2000)
    assert panel.model.shape_index(0) == chairs[5] and "(by name)" in panel.total_label.text()

    panel.class_combo.setCurrentIndex(0)  # all classes: the index and the names
    qtbot.waitUntil(lambda: panel.model.rowCount() > 1, timeout=2000)
    found = panel.model.indices.tolist()
    number = int(digits)
    expected = {i for i in range(len(labels)) if digits in session.split.shape_name(i)}
    if number < len(labels):
        expected.add(number)
    assert set(found) == expected and int(chairs[5]) in found
    if number < len(labels):
        assert f"index {number} and" in panel.total_label.text()

    panel.search_edit.setText("12")
    qtbot.waitUntil(lambda: 12 in panel.model.indices.tolist(), timeout=2000)
    assert all(i == 12 or "12" in session.split.shape_name(int(i)) for i in panel.model.indices)

    panel.search_edit.setText("BOTT")  # text: part of a class or shape name, any case
    qtbot.keyClick(panel.search_edit, Qt.Key.Key_Return)
    bottle = session.split.class_names.index("bottle")
    assert panel.model.rowCount() == int((labels == bottle).sum())

    name = session.split.shape_name(40)
    panel.search_edit.setText(name)
    panel.search_edit.returnPressed.emit()
    assert 40 in panel.model.indices.tolist()
    assert all(name in session.split.shape_name(int(i)) for i in panel.model.indices)

    panel.search_edit.setText("no such shape")
    panel.search_edit.returnPressed.emit()
    assert panel.model.rowCount() == 0
    assert not panel.is_busy()


def test_clicking_an_item_selects_it_and_shows_grey_points(panel, session, viewport, qtbot):
    from PySide6.QtCore import Qt

    panel.set_active(True)
    row = 5
    rect = panel.view.visualRect(panel.model.index(row))
    with qtbot.waitSignal(panel.view_requested, timeout=2000):
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    shape = panel.model.shape_index(row)
    assert session.selection == shape
    pane = viewport.panes[0]
    assert pane.caption == session.shape_label(shape)
    assert pane.footer.startswith(f"{len(session.cloud(shape))} points · bounds x [")
    assert _greyish(_pixels(viewport.image())) > 500

    # The keyboard moves the selection too; the session moving it moves the view's current item.
    qtbot.keyClick(panel.view, Qt.Key.Key_Right)
    assert session.selection == panel.model.shape_index(row + 1)
    session.select(30)
    assert panel.view.currentIndex().row() == panel.model.row_of(30)
    assert viewport.panes[0].caption == session.shape_label(30)


def test_thumbnails_arrive_as_pictures(panel, session, qtbot):
    from PySide6.QtCore import Qt

    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    rows = panel.visible_rows()
    assert rows is not None and len(rows) >= 6
    assert panel.loader.renders >= len(rows) - 1  # the first is asked for by the size hint, whether seen or not
    for row in rows:
        pixmap = panel.model.data(panel.model.index(row), Qt.ItemDataRole.DecorationRole)
        assert pixmap is not panel.loader.placeholder
        pixels = _pixels(pixmap.toImage())
        assert pixels.shape[:2] == (96, 96)
        assert (pixels.min(axis=2) < 200).sum() > 100  # points, not a blank square
        assert _greyish(pixels) > 50


def test_a_second_panel_reads_thumbnails_from_disk(qtbot, session, viewport, tmp_path):
    root = tmp_path / "thumbnails"
    first = _make_panel(qtbot, session, viewport, root)
    qtbot.waitUntil(lambda: not first.is_busy(), timeout=20_000)
    drawn = first.loader.renders
    first.shutdown()
    first.close()
    on_disk = {int(path.stem) for path in root.rglob("*.png")}
    assert drawn > 0
    assert len(on_disk) == drawn

    second = _make_panel(qtbot, session, viewport, root)
    try:
        qtbot.waitUntil(lambda: not second.is_busy(), timeout=20_000)
        seen = {second.model.shape_index(row) for row in second.visible_rows()}
        assert seen <= on_disk
        assert second.loader.disk_hits >= len(seen)
        # Nothing on screen was drawn again; at most an item painted at the edge before the layout settled.
        assert second.loader.renders == len({int(path.stem) for path in root.rglob("*.png")} - on_disk) <= 2
    finally:
        second.shutdown()


def test_up_axis_change_draws_thumbnails_again(panel, session, qtbot):
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    drawn = panel.loader.renders
    session.set_up("z")
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    assert panel.loader.renders >= drawn + len(panel.visible_rows()) - 1


def test_opening_another_data_set_rebuilds_everything(panel, session, qtbot, tmp_path):
    from vaeviewer.data.pointnet_h5 import write_pointnet_h5

    chair = session.split.class_names.index("chair")
    panel.class_combo.setCurrentIndex(panel.class_combo.findData(chair))
    rng = np.random.default_rng(1)
    splits = {"train": (rng.normal(size=(12, 32, 3)), rng.integers(0, 2, 12)),
              "test": (rng.normal(size=(7, 32, 3)), np.array([0, 0, 0, 1, 1, 1, 1]))}
    folder = write_pointnet_h5(tmp_path / "tiny", splits, ["cone", "ring"])
    session.open_data(folder)
    assert panel.name_label.text() == "tiny"
    assert [panel.split_combo.itemData(k) for k in range(panel.split_combo.count())] == ["train", "test"]
    assert panel.split_combo.currentData() == "test"
    assert panel.class_combo.currentIndex() == 0  # the old class filter is gone
    assert [panel.class_combo.itemText(k) for k in range(panel.class_combo.count())] == [
        "All classes", "cone (3)", "ring (4)"]
    assert panel.model.rowCount() == 7
    assert panel.view.currentIndex().row() == 0 == session.selection
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)
    assert len(panel.visible_rows()) == 7


def test_use_as_a_from_the_context_menu_sets_the_pair(panel, session):
    menu = panel.context_menu(3)
    actions = {action.text(): action for action in menu.actions()}
    actions["Use as A"].trigger()
    assert session.pair["a"] == panel.model.shape_index(3)
    assert panel.model.data(panel.model.index(3)).endswith("· A")
    actions["Use as B"].trigger()
    assert session.pair["b"] == panel.model.shape_index(3)
    assert panel.model.data(panel.model.index(3)).endswith("· A B")


def test_ten_thousand_shapes_scroll_smoothly_and_draw_only_what_is_seen(qtbot, viewport, tmp_path):
    from PySide6.QtCore import QTimer

    from vaeviewer.data.pointnet_h5 import write_pointnet_h5
    from vaeviewer.workflows.session import ViewerSession

    rng = np.random.default_rng(0)
    count, points = 10_000, 64
    stretch = rng.uniform(0.2, 1.0, size=(count, 1, 3))
    data = (rng.normal(size=(count, points, 3)) * stretch).astype(np.float32)
    labels = rng.integers(0, 4, size=count)
    folder = write_pointnet_h5(tmp_path / "big", {"train": (data, labels)}, ["box", "rod", "disc", "blob"])

    session = ViewerSession()
    session.open_data(folder)
    panel = _make_panel(qtbot, session, viewport, tmp_path / "thumbnails", width=700, height=700)
    try:
        assert panel.model.rowCount() == count
        table = {panel.counts_table.item(r, 0).text(): int(panel.counts_table.item(r, 1).text())
                 for r in range(panel.counts_table.rowCount())}
        assert table == _class_counts(session.split)
        qtbot.waitUntil(lambda: not panel.is_busy(), timeout=20_000)  # the plotter is made: the slow first one
        per_screen = len(panel.visible_rows())

        bar = panel.view.verticalScrollBar()
        jumps = 40
        ticks: list[float] = []
        heartbeat = QTimer(panel)
        heartbeat.setInterval(5)
        heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
        scroller = QTimer(panel)
        scroller.setInterval(25)
        scroller.timeout.connect(lambda: bar.setValue(min(bar.maximum(), bar.value() + bar.maximum() // jumps + 1)))
        heartbeat.start()
        scroller.start()
        try:
            qtbot.waitUntil(lambda: bar.value() == bar.maximum() and not panel.is_busy(), timeout=60_000)
        finally:
            scroller.stop()
            heartbeat.stop()

        assert panel.visible_rows().stop == count  # the last shape is on screen, drawn
        gaps = np.diff(ticks)
        assert len(gaps) > 20
        assert gaps.max() < 0.2, f"the event loop stalled for {gaps.max() * 1000:.0f} ms"
        # Only what passed across the screen was drawn: at most every screenful of the jumps.
        assert panel.loader.renders <= (jumps + 2) * per_screen
        assert panel.loader.renders < count // 4
    finally:
        panel.shutdown()
        session.close()


def test_the_selected_shape_stays_in_sight_when_the_list_is_resized(panel, session, qtbot):
    panel.resize(900, 700)
    panel.show()
    qtbot.waitExposed(panel)
    session.select(240)
    view = panel.view

    def selected_in_sight() -> bool:
        return view.viewport().rect().intersects(view.visualRect(view.currentIndex()))

    qtbot.waitUntil(selected_in_sight, timeout=5000)
    panel.resize(300, 700)  # fewer columns: the items move down the list
    qtbot.waitUntil(selected_in_sight, timeout=5000)
    panel.resize(1400, 700)
    qtbot.waitUntil(selected_in_sight, timeout=5000)


def test_shapenet_synset_folders_show_their_class_by_name_with_the_id_beside_it(qtbot, panel, session, tmp_path):
    rng = np.random.default_rng(0)
    for synset in ("03001627", "04379243"):
        for split in ("train", "test"):
            (tmp_path / "pc15k" / synset / split).mkdir(parents=True)
            np.save(tmp_path / "pc15k" / synset / split / "m0.npy", rng.normal(size=(500, 3)).astype(np.float32))
    session.open_data(tmp_path / "pc15k")
    rows = [panel.counts_table.item(r, 0).text() for r in range(panel.counts_table.rowCount())]
    assert rows == ["chair (03001627)", "table (04379243)"]
