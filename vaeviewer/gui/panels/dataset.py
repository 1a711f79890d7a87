"""The data-set browser: splits, classes, search and a grid of thumbnails of the shapes.

The grid is a ``QListView`` over :class:`~vaeviewer.gui.panels.thumbnail_model.ShapeListModel`,
which holds only the indices of the shapes that pass the filter; thumbnails are
asked for when an item is painted and arrive from
:class:`~vaeviewer.gui.panels.thumbnail_model.ThumbnailLoader` (disk cache on a
worker thread, drawing in short slices on the GUI thread), so that a split of
ten thousand shapes opens at once and scrolls without stalls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QModelIndex, QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.panels.thumbnail_model import THUMBNAIL_SIZE, ShapeListModel, ThumbnailLoader
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.render.colors import INPUT_GREY
from vaeviewer.render.scene import CloudLayer
from vaeviewer.workflows.session import ViewerSession

__all__ = ["DatasetPanel"]


#: Item data of the class filter's "All classes" entry.
ALL_CLASSES = -2
#: Item data of the class filter's entry for shapes without a label.
UNKNOWN_CLASS = -1


class DatasetPanel(Panel):
    """Browse the open data set: choose a split, filter by class or name, pick a shape.

    Parameters
    ----------
    session : ViewerSession
    viewport : Viewport
    parent : QWidget, optional
    thumbnail_root : str or pathlib.Path, optional
        Folder of the thumbnails' disk cache; the user cache folder by default.

    Attributes
    ----------
    view : QListView
        The grid of shapes.
    model : ShapeListModel
        Its items: the shapes that pass the filter.
    loader : ThumbnailLoader
        Where the thumbnails come from (``renders`` and ``disk_hits`` count them).
    split_combo, class_combo : QComboBox
    search_edit : QLineEdit
    counts_table : QTableWidget
        Shapes per class in the split.
    """

    name = "dataset"
    title = "Data set"

    def __init__(
        self,
        session: ViewerSession,
        viewport: Viewport,
        parent: QWidget | None = None,
        thumbnail_root: str | Path | None = None,
    ) -> None:
        super().__init__(session, viewport, parent)
        self._syncing = False  # True while the view follows the session, so it does not echo back
        self._names_lower: list[str] | None = None  # shape names of the split, made on the first text search
        self.match_note = ""  # what the search matched: an index, names, or both

        self.loader = ThumbnailLoader(THUMBNAIL_SIZE, thumbnail_root, self)
        self.loader.failed.connect(self.error)
        self.model = ShapeListModel(self.loader, self)
        self._build_widgets()

        # Typing waits for a pause; scrolling trims the thumbnail queue at most every 60 ms.
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.setObjectName("dataset search timer")
        self._search_timer.timeout.connect(self._apply_filter)
        self._retain_timer = QTimer(self, singleShot=True, interval=60)
        self._retain_timer.setObjectName("dataset thumbnail trim timer")
        self._retain_timer.timeout.connect(self._retain_visible)

        self.split_combo.currentIndexChanged.connect(self._on_split_chosen)
        self.class_combo.currentIndexChanged.connect(lambda row: self._apply_filter())
        self.search_edit.textChanged.connect(lambda text: self._search_timer.start())
        self.search_edit.returnPressed.connect(self._apply_filter)
        self.counts_table.cellClicked.connect(self._on_count_clicked)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.view.clicked.connect(self._on_clicked)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.view.verticalScrollBar().valueChanged.connect(self._schedule_retain)
        self.view.verticalScrollBar().rangeChanged.connect(self._schedule_retain)

        events = session.events
        self.listen((events.dataset, self._on_dataset), (events.split, self._on_split),
                    (events.selection, self._on_selection), (events.pair, self._on_pair), (events.up, self._on_up))
        self._on_dataset()

    # ---- widgets ----------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        self.name_label = QLabel()
        font = QFont(self.name_label.font())
        font.setBold(True)
        self.name_label.setFont(font)
        self.path_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.format_label = QLabel()
        for label in (self.name_label, self.path_label, self.format_label):
            layout.addWidget(label)

        form = QFormLayout()
        self.split_combo = QComboBox()
        self.split_combo.setToolTip("Which split of the data set to browse")
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("Show the shapes of one class only")
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("index, or part of a class or shape name")
        self.search_edit.setClearButtonEnabled(True)
        form.addRow("Split", self.split_combo)
        form.addRow("Class", self.class_combo)
        form.addRow("Search", self.search_edit)
        layout.addLayout(form)

        self.counts_table = QTableWidget(0, 2)
        self.counts_table.setHorizontalHeaderLabels(["Class", "Shapes"])
        self.counts_table.verticalHeader().setVisible(False)
        self.counts_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.counts_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.counts_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.counts_table.setToolTip("Click a class to show only its shapes")
        self.counts_table.setMaximumHeight(150)
        layout.addWidget(self.counts_table)
        self.total_label = QLabel()
        layout.addWidget(self.total_label)

        view = self.view = QListView()
        view.setModel(self.model)
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setMovement(QListView.Movement.Static)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setUniformItemSizes(True)  # one size hint for all: no per-item work for 10,000 shapes
        view.setLayoutMode(QListView.LayoutMode.Batched)
        view.setBatchSize(500)
        view.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        line = view.fontMetrics().height()
        view.setGridSize(QSize(THUMBNAIL_SIZE + 14, THUMBNAIL_SIZE + line + 12))
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.verticalScrollBar().setSingleStep(24)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.setMinimumHeight(2 * (THUMBNAIL_SIZE + line + 12))
        layout.addWidget(view, stretch=1)
        # The items are laid out again in batches after a resize: scroll once that is done.
        self._keep_visible = QTimer(self)
        self._keep_visible.setObjectName("data set list keeps the selection in sight")
        self._keep_visible.setSingleShot(True)
        self._keep_visible.setInterval(100)
        self._keep_visible.timeout.connect(self._scroll_to_current)
        view.viewport().installEventFilter(self)

    # ---- session -> widgets -----------------------------------------------------------------

    def _on_dataset(self) -> None:
        """A data set was opened: header, splits, then everything of the split."""
        dataset = self.session.dataset
        # Filters of the old data set mean nothing in the new one (class 3 is another class).
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.blockSignals(False)
        self.search_edit.blockSignals(True)
        self.search_edit.clear()
        self.search_edit.blockSignals(False)
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        if dataset is None:
            self.name_label.setText("No data set open")
            self.path_label.setText("")
            self.path_label.setToolTip("")
            self.format_label.setText("")
        else:
            builtin = self.session.data_path == "builtin"
            self.name_label.setText("Built-in shapes" if builtin else Path(dataset.path).name)
            self.path_label.setText(str(dataset.path))
            self.path_label.setToolTip(str(dataset.path))
            self._show_format()
            for name in dataset.split_names:
                self.split_combo.addItem(f"{name} ({len(dataset.split(name))})", name)
        self.split_combo.blockSignals(False)
        self.split_combo.setEnabled(dataset is not None)
        self._on_split()

    def _on_split(self, name: str | None = None) -> None:
        """Another split (or data set): counts, class filter, items and thumbnails anew."""
        split = self.session.split
        self._names_lower = None
        if split is not None:
            row = self.split_combo.findData(split.name)
            if row >= 0 and row != self.split_combo.currentIndex():
                self.split_combo.blockSignals(True)
                self.split_combo.setCurrentIndex(row)
                self.split_combo.blockSignals(False)
        self._fill_counts()
        self.loader.reset(self.session.data_folder, split, self.session.up)
        self._apply_filter()
        self._on_pair()
        if self.active:
            self.draw()

    def _fill_counts(self) -> None:
        """The class filter's entries and the table of shapes per class, for the current split."""
        split = self.session.split
        chosen = self.class_combo.currentData()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("All classes", ALL_CLASSES)
        rows: list[tuple[str, int, int]] = []
        if split is not None:
            labels = np.asarray(split.labels)
            names = tuple(split.class_names)
            counts = np.bincount(labels[(labels >= 0) & (labels < len(names))], minlength=len(names))
            rows = [(name, int(count), k) for k, (name, count) in enumerate(zip(names, counts))]
            unknown = int(len(labels) - counts.sum())
            if unknown:
                rows.append(("unknown", unknown, UNKNOWN_CLASS))
            self.class_combo.setItemData(0, f"{len(labels)} shapes", Qt.ItemDataRole.ToolTipRole)
        for name, count, data in rows:
            self.class_combo.addItem(f"{name} ({count})", data)
        found = self.class_combo.findData(chosen) if chosen is not None else 0
        self.class_combo.setCurrentIndex(max(found, 0))
        self.class_combo.blockSignals(False)
        self.class_combo.setEnabled(split is not None)

        self.counts_table.setRowCount(len(rows))
        ids = self.session.dataset.class_ids if self.session.dataset is not None else {}
        for r, (name, count, data) in enumerate(rows):
            name_item = QTableWidgetItem(f"{name} ({ids[name]})" if name in ids else name)  # ShapeNet: the synset id
            name_item.setData(Qt.ItemDataRole.UserRole, data)
            count_item = QTableWidgetItem()
            count_item.setData(Qt.ItemDataRole.DisplayRole, count)
            count_item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.counts_table.setItem(r, 0, name_item)
            self.counts_table.setItem(r, 1, count_item)

    def _on_selection(self, index: int) -> None:
        self._sync_current()
        if self.active:
            self.draw()

    def _on_pair(self, slot: str | None = None, index: int | None = None) -> None:
        marks: dict[int, str] = {}
        for key, shape in self.session.pair.items():
            if shape >= 0:
                marks[shape] = (marks.get(shape, "") + " " + key.upper()).strip()
        self.model.set_marks(marks)

    def _show_format(self) -> None:
        """The set's layout, classes and up axis, with why that axis in the tooltip."""
        dataset, session = self.session.dataset, self.session
        if dataset is None:
            return
        classes = len(dataset.class_names)
        self.format_label.setText(f"{dataset.format} · {classes} class{'es' if classes != 1 else ''} · "
                                  f"{session.up.upper()} up")
        self.format_label.setToolTip(f"{session.up.upper()} up: {session.up_reason} (View ▸ Up axis changes it)")

    def _on_up(self, up: str) -> None:
        """Thumbnails for the other up axis (the viewport's own axis is the window's business)."""
        self._show_format()
        self.loader.reset(self.session.data_folder, self.session.split, up)
        if self.model.rowCount():
            self.model.dataChanged.emit(
                self.model.index(0), self.model.index(self.model.rowCount() - 1), [Qt.ItemDataRole.DecorationRole]
            )

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        """When the list is resized (shown, a dock dragged), keep the selected shape in sight once it is laid out again."""
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self._keep_visible.start()
        return False

    def _scroll_to_current(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.view.scrollTo(index)

    def _sync_current(self) -> None:
        """Make the view's current item the session's selection, without echoing it back."""
        selection = self.session.selection
        row = self.model.row_of(selection) if selection >= 0 else -1
        self._syncing = True
        try:
            if row < 0:
                self.view.selectionModel().clear()
            else:
                index = self.model.index(row)
                if self.view.currentIndex() != index:
                    self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
        finally:
            self._syncing = False

    # ---- filter -----------------------------------------------------------------------------

    def filtered_indices(self) -> np.ndarray:
        """Indices (ascending) of the split's shapes that pass the class filter and the search."""
        split = self.session.split
        if split is None:
            return np.zeros(0, dtype=np.int64)
        labels = np.asarray(split.labels)
        keep = np.ones(len(labels), dtype=bool)
        chosen = self.class_combo.currentData()
        if chosen is not None and chosen != ALL_CLASSES:
            keep &= (labels == chosen) if chosen >= 0 else ((labels < 0) | (labels >= len(split.class_names)))
        text = self.search_edit.text().strip().lower()
        self.match_note = ""
        if text:
            if self._names_lower is None:
                self._names_lower = [split.shape_name(i).lower() for i in range(len(split))]
            name = text.lstrip("#") if text.startswith("#") else text
            by_name = np.fromiter((name in shape for shape in self._names_lower), dtype=bool, count=len(labels))
            classes = [k for k, class_name in enumerate(split.class_names) if name in class_name.lower()]
            by_name |= np.isin(labels, classes)
            by_index = np.zeros_like(keep)
            if name.isdigit() and int(name) < len(labels):
                by_index[int(name)] = True
            # "0894" is the index 894 and part of chair_0894's name: both are shown, and the note says which is which.
            indexed, named = int((keep & by_index).sum()), int((keep & by_name & ~by_index).sum())
            if indexed and named:
                self.match_note = f"index {int(name)} and {named} by name"
            elif indexed:
                self.match_note = f"index {int(name)}"
            elif named:
                self.match_note = "by name"
            keep &= by_index | by_name
        return np.flatnonzero(keep)

    def _apply_filter(self) -> None:
        self._search_timer.stop()
        self.loader.retain(())  # the view asks again for what it paints of the new list
        indices = self.filtered_indices()
        self.model.set_split(self.session.split, indices)
        split = self.session.split
        self.session.set_browsed(None if split is None or len(indices) == len(split) else indices)
        if split is None:
            self.total_label.setText("")
        else:
            shown = f" · {len(indices)} shown" if len(indices) != len(split) else ""
            if self.match_note:
                shown += f" ({self.match_note})"
            self.total_label.setText(f"Total: {len(split)} shapes in {split.name}{shown}")
        self._sync_current()
        self._schedule_retain()

    # ---- widgets -> session -----------------------------------------------------------------

    def _on_split_chosen(self, row: int) -> None:
        name = self.split_combo.itemData(row)
        if name is None:
            return
        try:
            self.session.set_split(name)
        except VaeviewerError as error:
            self.error.emit(str(error))

    def _on_count_clicked(self, row: int, column: int) -> None:
        item = self.counts_table.item(row, 0)
        if item is not None:
            found = self.class_combo.findData(item.data(Qt.ItemDataRole.UserRole))
            if found >= 0:
                self.class_combo.setCurrentIndex(found)

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        self.session.select(self.model.shape_index(current.row()))
        self.view_requested.emit()

    def _on_clicked(self, index: QModelIndex) -> None:
        # Clicking the current item changes nothing, yet the user wants to see it.
        if index.isValid():
            self.session.select(self.model.shape_index(index.row()))
            self.view_requested.emit()

    def context_menu(self, row: int) -> QMenu:
        """The menu of the item in ``row``: show it, or make it an end of the interpolation."""
        shape = self.model.shape_index(row)
        label = self.session.shape_label(shape)
        menu = QMenu(self)
        menu.addSection(label)
        show = menu.addAction("Show in viewport")
        show.triggered.connect(lambda: self._show_shape(shape))
        for slot in ("a", "b"):
            action = menu.addAction(f"Use as {slot.upper()}")
            action.setToolTip(f"Make {label} end {slot.upper()} of the interpolation")
            action.triggered.connect(lambda checked=False, slot=slot: self._use_as(slot, shape))
        return menu

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        menu = self.context_menu(index.row())
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.viewport().mapToGlobal(pos))  # popup, not exec: never block the window

    def _show_shape(self, shape: int) -> None:
        self.session.select(shape)
        self.view_requested.emit()

    def _use_as(self, slot: str, shape: int) -> None:
        try:
            self.session.set_pair(slot, shape)
        except VaeviewerError as error:
            self.error.emit(str(error))
            return
        self.status.emit(f"{self.session.shape_label(shape)} is end {slot.upper()} of the interpolation")

    # ---- thumbnails -------------------------------------------------------------------------

    def visible_rows(self) -> range | None:
        """Rows of the items on screen; None while the view has not laid them out yet."""
        count = self.model.rowCount()
        rect = self.view.viewport().rect()
        if count == 0 or not self.view.isVisible() or rect.isEmpty():
            return range(0)
        grid = self.view.gridSize()
        step_x, step_y = max(8, grid.width() // 3), max(8, grid.height() // 3)
        rows = [
            index.row()
            for y in range(rect.top() + 2, rect.bottom(), step_y)
            for x in range(rect.left() + 2, rect.right(), step_x)
            if (index := self.view.indexAt(QPoint(x, y))).isValid()
        ]
        if not rows:
            return None
        first, last = min(rows), max(rows)
        # The probes may miss items cut by the edges: extend while the neighbours still show.
        while first > 0 and self.view.visualRect(self.model.index(first - 1)).intersects(rect):
            first -= 1
        while last < count - 1 and self.view.visualRect(self.model.index(last + 1)).intersects(rect):
            last += 1
        return range(first, last + 1)

    def _schedule_retain(self, *args: object) -> None:
        if not self._retain_timer.isActive():  # a throttle, not a debounce: trims during a long scroll too
            self._retain_timer.start()

    def _retain_visible(self) -> None:
        rows = self.visible_rows()
        if rows is not None:
            indices = self.model.indices
            self.loader.retain(indices[rows.start : rows.stop].tolist())

    def is_busy(self) -> bool:
        """Whether thumbnails of items on screen are still coming."""
        if self.loader.pending:
            return True  # asked for by a paint: on screen, or just scrolled off and soon dropped
        rows = self.visible_rows()
        if rows is None:
            return True
        indices = self.model.indices
        return any(not self.loader.has_pixmap(int(indices[row])) for row in rows)

    # ---- viewport ---------------------------------------------------------------------------

    def draw(self) -> None:
        """Show the chosen shape, with its name, point count and bounds."""
        shape = self.session.selection
        if self.session.split is None or shape < 0:
            self.viewport.show_panes([Pane(caption="No shape chosen")])
            return
        try:
            cloud = self.session.cloud(shape)
        except VaeviewerError as error:
            self.viewport.show_panes([Pane(caption=self.session.shape_label(shape), footer="cannot be read")])
            self.error.emit(str(error))
            return
        low, high = cloud.min(axis=0), cloud.max(axis=0)
        bounds = ", ".join(f"{axis} [{low[k]:.2f}, {high[k]:.2f}]" for k, axis in enumerate("xyz"))
        footer = f"{len(cloud)} points · bounds {bounds}"
        self.viewport.show_panes(
            [Pane((CloudLayer(cloud, INPUT_GREY, label=self.session.shape_label(shape)),),
                  caption=self.session.shape_label(shape), footer=footer)]
        )

    def shutdown(self) -> None:
        """Stop the timers and the thumbnail worker, release the thumbnail renderer."""
        self.stop_listening()
        self._search_timer.stop()
        self._retain_timer.stop()
        self._keep_visible.stop()
        self.view.viewport().removeEventFilter(self)
        self.loader.shutdown()
