"""The Latent studio's Retrieve page: the shapes of the open split nearest to any file, in latent space.

A file is opened (Open…, or dropped on the page): any mesh or cloud vaeviewer
reads, a scan or a shape of another data set. On a worker it is read, centred,
scaled and resampled as the data sets are, encoded, and the split's latent index
(:func:`vaeviewer.workflows.studio.build_index`, cached on disk per checkpoint and
data set) gives the k shapes with the nearest latent means. They are listed with
their thumbnails (the data-set browser's disk cache) and distances; choosing one
shows it beside the query, both in grey (both are inputs, not decoded shapes).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.gui.panels.studio_page import StudioPage
from vaeviewer.gui.panels.thumbnail_model import THUMBNAIL_SIZE, ThumbnailLoader
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.render.colors import INPUT_GREY
from vaeviewer.render.scene import CloudLayer
from vaeviewer.workflows.session import KeptShape, ViewerSession

__all__ = ["RetrievePage"]

_QUERY_FILTER = "Shapes (*.ply *.off *.obj *.pcd *.xyz *.txt *.npy *.stl);;All files (*)"


class RetrievePage(StudioPage):
    """Look up the shapes nearest to a file (see the module).

    Attributes
    ----------
    results : QListWidget
        The neighbours, nearest first; each item's ``Qt.UserRole`` is its shape index in the split.
    """

    name = "retrieve"
    title = "Retrieve"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None,
                 thumbnail_root: str | Path | None = None) -> None:
        super().__init__(session, viewport, parent)
        self.setAcceptDrops(True)
        self._index: Any = None  # the open split's latent index, once built
        self._query_path: Path | None = None
        self._query: Any = None  # the query cloud, at the model's point count
        self._found: list[tuple[int, float]] = []  # (shape index in the split, latent distance)
        self.seconds = 0.0  # the last look-up's time: read, encode and search (index load included)
        self._encoded_split = False  # whether that time includes encoding the split
        self.loader = ThumbnailLoader(THUMBNAIL_SIZE, thumbnail_root, self)
        self.loader.ready.connect(self._on_thumbnail)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open shape file…")
        self.open_button.setToolTip("A mesh or cloud to look up (PLY, OFF, OBJ, PCD, XYZ, NPY, STL); or drop one here")
        self.open_button.clicked.connect(self._browse)
        row.addWidget(self.open_button)
        row.addStretch(1)
        row.addWidget(QLabel("Nearest"))
        self.k_box = QSpinBox(minimum=1, maximum=64, value=8)
        self.k_box.setToolTip("How many of the nearest shapes to list")
        self.k_box.setMaximumWidth(80)
        self.k_box.valueChanged.connect(lambda _k: self._query is not None and self.search())
        row.addWidget(self.k_box)
        layout.addLayout(row)
        self.query_label = QLabel("Drop a shape file here, or open one: the nearest shapes of the split are listed.")
        self.query_label.setWordWrap(True)
        layout.addWidget(self.query_label)
        self.results = QListWidget()
        self.results.setViewMode(QListView.ViewMode.IconMode)
        self.results.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.results.setResizeMode(QListView.ResizeMode.Adjust)
        self.results.setMovement(QListView.Movement.Static)
        self.results.setWordWrap(True)
        self.results.setGridSize(QSize(THUMBNAIL_SIZE + 28, THUMBNAIL_SIZE + 44))
        self.results.currentRowChanged.connect(self._on_chosen)
        layout.addWidget(self.results, 1)
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        layout.addWidget(self.info_label)
        layout.addLayout(self._shape_buttons("the query"))
        events = session.events
        self.listen((events.model, self._on_inputs_changed), (events.dataset, self._on_inputs_changed),
                    (events.split, self._on_inputs_changed), (events.up, self._on_up))
        self._thumbnails_of: Any = None  # (folder, split, up) the loader serves; None: idle, no thread
        self._update_buttons()

    # ---- public -----------------------------------------------------------------------------

    @property
    def query(self) -> Any:
        """The query cloud as encoded (float32 (N, 3)), or None."""
        return self._query

    @property
    def neighbours(self) -> list[tuple[int, float]]:
        """The listed shapes: (index in the split, latent distance), nearest first."""
        return list(self._found)

    def open_query(self, path: str | Path) -> None:
        """Look up the shapes nearest to the shape in file ``path`` (on a worker)."""
        self._query_path = Path(path)
        self._query = None
        self.search()

    def search(self) -> None:
        """Encode the query file and list its nearest shapes; a search under way is replaced."""
        session = self.session
        if self._query_path is None:
            return
        if session.model is None or session.split is None:
            self.query_label.setText("Open a model and a data set to search.")
            return
        from vaeviewer.workflows.studio import build_index, data_location, retrieve

        model, split, index, path, query = session.model, session.split, self._index, self._query_path, self._query
        checkpoint, data, k = session.checkpoint_path or None, data_location(session.data_path), self.k_box.value()

        def work():
            from vaeviewer.data.file_tree import SingleFileSet

            began = time.perf_counter()
            cloud = query
            if cloud is None:
                with SingleFileSet(path) as single:
                    cloud = single.split("all").points(0, model.config.num_points)
                yield ("query", cloud)
            built = index if index is not None else build_index(model, split, checkpoint=checkpoint, data=data)
            yield ("index", built)
            rows = retrieve(model, built, [cloud], k)[0]
            fresh = index is None and not built.cached  # this look-up encoded the whole split first
            yield ("found", ([(int(built.indices[r]), d) for r, d in rows], time.perf_counter() - began, fresh))

        self.query_label.setText(f"Looking up {path.name}" + (
            "" if index is not None else f"; encoding the {len(split)} {split.name} shapes first") + "…")
        self._start(work, self._on_item, self._on_failed)

    def draw(self) -> None:
        """The query beside the chosen neighbour (both grey), or the query alone."""
        if self._query is None:
            self.viewport.show_panes([Pane(caption="Retrieve: drop a shape file on the Latent studio's Retrieve page")])
            return
        query = Pane((CloudLayer(self._query, INPUT_GREY, label=f"query {self._query_path.name}"),),
                     caption=f"query: {self._query_path.name}")
        row = self.results.currentRow()
        if not 0 <= row < len(self._found) or self.session.split is None:
            self.viewport.show_panes([query])
            return
        shape, distance = self._found[row]
        cloud = self.session.cloud(shape, self.session.num_points)
        self.viewport.show_panes([query, Pane((CloudLayer(cloud, INPUT_GREY, label=self.session.shape_label(shape)),),
                                              caption=f"{row + 1}. {self.session.shape_label(shape)}",
                                              footer=f"latent distance {distance:.3f}")])

    def prepare_screenshot(self) -> None:
        """Show the nearest shape beside the query."""
        if self._found and self.results.currentRow() < 0:
            self.results.setCurrentRow(0)
        self.draw()

    def shutdown(self) -> None:
        """Stop a look-up and the thumbnails' worker, and wait for their threads."""
        super().shutdown()
        self.loader.shutdown()

    # ---- dropping a file --------------------------------------------------------------------

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Take a dragged local file (the window's own drop would open it as a data set)."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Look up the first dropped file."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_query(paths[0])

    # ---- internals --------------------------------------------------------------------------

    def _browse(self) -> None:
        start = str(self._query_path.parent) if self._query_path is not None else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Shape to look up", start, _QUERY_FILTER)
        if path:
            self.open_query(path)

    def kept(self) -> KeptShape | None:
        """The query, or None."""
        return None if self._query is None else KeptShape(f"query {self._query_path.name}", self._query)

    def _on_item(self, item: tuple[str, Any]) -> None:
        kind, value = item
        if kind == "query":
            self._query = value
        elif kind == "index":
            self._index = value
        else:
            self._found, self.seconds, self._encoded_split = value
            self._fill_results()
            self.view_requested.emit()

    def _fill_results(self) -> None:
        session = self.session
        wanted = (session.data_folder, session.split, session.up)
        if self._thumbnails_of != wanted:  # the thumbnails' worker starts with the first results
            self.loader.reset(*wanted)
            self._thumbnails_of = wanted
        self.results.blockSignals(True)
        self.results.clear()
        for k, (shape, distance) in enumerate(self._found):
            item = QListWidgetItem(f"{k + 1}. {self.session.shape_label(shape).split(' (')[0]}\nd {distance:.3f}")
            item.setData(Qt.ItemDataRole.UserRole, shape)
            item.setToolTip(f"{self.session.shape_label(shape)}: latent distance {distance:.4f}")
            pixmap = self.loader.pixmap(shape)
            item.setIcon(pixmap if pixmap is not None else self.loader.placeholder)
            self.results.addItem(item)
        self.results.blockSignals(False)
        self.results.setCurrentRow(0 if self._found else -1)
        split = self.session.split
        self.query_label.setText(f"Query: {self._query_path.name}")
        spent = (f"{self.seconds:.1f} s, encoding the split's shapes first" if self._encoded_split
                 else f"{self.seconds * 1000:.0f} ms (read, encode, search)")
        self.info_label.setText(f"{len(self._found)} nearest of {len(self._index.latents)} {split.name} shapes · {spent}")

    def _on_thumbnail(self, shape: int) -> None:
        pixmap = self.loader.pixmap(shape)
        for row in range(self.results.count()):
            item = self.results.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == shape and pixmap is not None:
                item.setIcon(pixmap)

    def _on_failed(self, message: str) -> None:
        self.query_label.setText(f"Look-up failed: {message}")
        self._query_path = None if self._query is None else self._query_path
        self.error.emit(message)

    def _reset_thumbnails(self) -> None:
        """No thumbnails until the next results: the loader idles (its worker ends)."""
        self.loader.reset(None, None, self.session.up)
        self._thumbnails_of = None

    def _on_up(self, *_args: Any) -> None:
        if self._found:
            self._fill_results()  # drawn again upright

    def _on_inputs_changed(self, *_args: Any) -> None:
        self._cancel()
        self._index = None
        self._found = []
        self.results.clear()
        self.info_label.setText("")
        self._reset_thumbnails()
        if self._query_path is not None:
            self._query = None  # read again at the new model's point count
            self.search()
        self._update_buttons()
        if self.active:
            self.draw()

    def _update_buttons(self) -> None:
        for button in (self.use_a_button, self.use_b_button, self.edit_button):
            button.setEnabled(self._query is not None)
