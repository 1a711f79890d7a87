"""The Latent map panel: every shape of the split as a dot on a 2-D map of its latent mean.

The map is computed lazily, on a worker thread (:func:`~vaeviewer.workflows.latent_map.latent_map`):
when the panel is first shown or activated, and again after the model, data
set or split changed while it is shown. The codes of a split are kept, so
switching between PCA and t-SNE only projects again; each projection is kept
too. Hovering a dot names its shape, clicking shows it in the viewport, and a
right-click (or the buttons below the map) makes it an end of the interpolation.
With "Decode where I point" on, a click or a drag anywhere on the map decodes
that point of the latent space instead (:mod:`.map_decoder`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.panels.latent_plot import UNKNOWN_COLOR, MapScatter, Rings, class_colors
from vaeviewer.gui.panels.map_decoder import MapDecoder
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.gui.workers import Task, TaskRunner
from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer
from vaeviewer.tasks import TaskControl
from vaeviewer.workflows.latent_map import (
    PROJECTION_METHODS,
    EncodedSplit,
    EncodeProgress,
    LatentMap,
    ProjectionStarted,
    latent_map,
)
from vaeviewer.workflows.session import ViewerSession

__all__ = ["LatentMapPanel", "class_colors"]

# Dots, in pixels; the rings that mark the chosen shapes are drawn around them.
_DOT_SIZE = 7
_SELECTION_RING = 15
_PAIR_RING = 21

# Pixels between two columns of the legend under the map.
_LEGEND_SPACING = 12

# Shapes encoded between two progress events (and two checks of the stop flag).
_BATCH_SIZE = 32


class LatentMapPanel(Panel):
    """A 2-D map (PCA or t-SNE) of the latent means of the split's shapes, coloured by class.

    Notes
    -----
    While active it shows the selected shape in the viewport. Clicking a dot
    selects that shape and emits ``view_requested``; ``Use as A`` / ``Use as B``
    (buttons for the selected shape, or the right-click menu of a dot) set the
    session's interpolation pair. The selected shape and the pair are ringed
    on the map.
    """

    name = "latent"
    title = "Latent map"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self._encoded: EncodedSplit | None = None
        self._maps: dict[str, LatentMap] = {}
        self._shown: LatentMap | None = None
        self._rows = np.zeros(0, dtype=np.int64)  # split index -> row of the shown map (-1: absent)
        self._tasks = TaskRunner(self)
        self._task: Task | None = None  # the map under way; stopped ones wind down in the runner
        self._failed = False  # the last automatic attempt failed: wait for the Compute button
        self._hovered = -1
        self._ringed: dict[str, int] = {}
        self._closed = False
        self._build()
        events = session.events
        self.listen((events.dataset, self._on_inputs_changed), (events.split, self._on_inputs_changed),
                    (events.model, self._on_inputs_changed), (events.selection, self._on_selection),
                    (events.pair, self._on_pair))
        self._update_buttons()
        self._set_info(self._missing_input() or "Compute the map to see the shapes' latent means.")

    # ---- public -------------------------------------------------------------------------------

    def method(self) -> str:
        """The projection chosen: ``pca`` or ``tsne``."""
        return str(self._method.currentData())

    def set_method(self, method: str) -> None:
        """Choose the projection (``pca`` or ``tsne``); the map follows (computing if needed)."""
        index = self._method.findData(method)
        if index < 0:
            raise ValueError(f"projection {method!r}: one of {', '.join(PROJECTION_METHODS)}")
        self._method.setCurrentIndex(index)

    @property
    def current_map(self) -> LatentMap | None:
        """The map on screen, or None."""
        return self._shown

    def compute(self) -> None:
        """(Re)compute the map of the current split with the chosen projection, on a thread.

        The split's codes are reused when they are already known. Stops a
        computation under way. Does nothing but say why without a model or data set.
        """
        self._cancel_map()
        missing = self._missing_input()
        if missing:
            self._set_info(missing)
            return
        method = self.method()
        if method in self._maps:
            self._show_map(self._maps[method])
            return
        self._failed = False
        model, split, encoded, control = self.session.model, self.session.split, self._encoded, TaskControl()

        def work() -> Any:
            return latent_map(model, split, method, encoded=encoded, batch_size=_BATCH_SIZE, control=control)

        self._task = self._tasks.start(work, stop=control.stop, on_item=self._on_item, on_failed=self._on_failed,
                                       on_done=self._on_done)
        self.progress.setRange(0, max(len(split), 1) if encoded is None else 0)
        self.progress.setValue(0)
        self.progress.setFormat("encoding %v of %m shapes" if encoded is None else "")
        self.progress.show()
        self._set_info(f"{'Projecting' if encoded is not None else 'Encoding'} {len(split)} shapes of {split.name}…")
        self._update_buttons()

    def stop(self) -> None:
        """Stop a computation under way; the map stays empty until the next one."""
        if self._task is not None:
            self._cancel_map()
            self._set_info("Stopped. Press Compute to map the shapes.")

    def is_busy(self) -> bool:
        """Whether a map is being computed."""
        return self._task is not None

    def set_active(self, active: bool) -> None:
        """Own the viewport or give it up; the map is computed on first activation."""
        super().set_active(active)
        if active:
            self._ensure_map()

    def draw(self) -> None:
        """Show the selected shape in grey, with its class, index and name above it; or the decoded point in green."""
        if self._decoded is not None:
            cloud, x, y, how = self._decoded
            label = f"decoded at ({x:+.3g}, {y:+.3g})"
            self.viewport.show_panes([Pane(layers=(CloudLayer(cloud, color=RECONSTRUCTION_GREEN, label=label),),
                                           caption=label, footer=how.split(":")[0])])
            return
        index = self.session.selection
        if self.session.split is None or index < 0:
            self.viewport.show_panes([Pane(caption="No shape selected")])
            return
        try:
            cloud = self.session.cloud(index, self.session.num_points)
        except VaeviewerError as error:
            self.viewport.show_panes([Pane(caption=self.session.shape_label(index))])
            self.error.emit(str(error))
            return
        label = self.session.shape_label(index)
        self.viewport.show_panes([Pane(layers=(CloudLayer(cloud, color=INPUT_GREY, label=label),), caption=label)])

    def shutdown(self) -> None:
        """Stop the computation (t-SNE's process is killed) and wait for its thread."""
        if self._closed:
            return
        self._closed = True
        self.stop_listening()
        self._cancel_map()
        self._tasks.shutdown()
        self.context_menu.close()

    # ---- what the map shows (for scripts and tests) ---------------------------------------------

    def dots(self) -> list[tuple[int, str]]:
        """The map's dots in drawing order: (shape index in the split, colour as ``#rrggbb``)."""
        return [(int(point.data()), point.brush().color().name()) for point in self._scatter.points()]

    def dot_position(self, index: int) -> QPoint | None:
        """Where shape ``index``'s dot is drawn, in pixels of ``plot.viewport()`` (where the mouse goes); None if absent."""
        position = self._position(index)
        if position is None:
            return None
        self.plot.getPlotItem().getViewBox().updateMatrix()  # the range on screen, even before the next paint
        return self.plot.mapFromScene(self._scatter.mapToScene(QPointF(*position)))

    def dots_at(self, index: int) -> int:
        """How many dots lie where shape ``index``'s dot is (1: it alone, so a click there picks it)."""
        position = self._position(index)
        return 0 if position is None else len(self._scatter.pointsAt(QPointF(*position)))

    def legend(self) -> list[str]:
        """The class names of the legend, in order."""
        return [label.text for _sample, label in self._legend.items]

    def axis_labels(self) -> tuple[str, str]:
        """The labels of the horizontal and the vertical axis."""
        plot_item = self.plot.getPlotItem()
        return plot_item.getAxis("bottom").labelText, plot_item.getAxis("left").labelText

    def hover_text(self) -> str:
        """The tip beside the dot under the mouse; empty when none shows."""
        return self._hover_text.toPlainText() if self._hover_text.isVisible() else ""

    def rings(self) -> dict[str, int]:
        """The shapes ringed on the map: ``selection``, ``a`` and ``b``, those that have a dot."""
        return dict(self._ringed)

    @property
    def context_shape(self) -> int:
        """The shape whose dot was right-clicked last (-1: none yet)."""
        return self._context_index

    # ---- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        self._method = QComboBox()
        for key, label in PROJECTION_METHODS.items():
            self._method.addItem(label, key)
        self._method.setToolTip(
            "PCA: the plane of largest variance; distances are true distances in it.\n"
            "t-SNE: keeps neighbourhoods, so classes separate clearly; sizes and gaps mean little.\n"
            "t-SNE takes seconds (a few for 1,000 shapes)."
        )
        self._method.currentIndexChanged.connect(self._on_method_changed)
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self._on_compute_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Projection"))
        top.addWidget(self._method)
        top.addStretch(1)
        top.addWidget(self.compute_button)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.info_label = QLabel()
        self.info_label.setWordWrap(True)

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumSize(260, 240)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        plot_item = self.plot.getPlotItem()
        plot_item.setAspectLocked(True)
        plot_item.setMenuEnabled(False)
        # pyqtgraph makes the plot's options menu without a parent; whether it is deleted with the plot then
        # hangs on the order in which the garbage collector frees the plot's Python side (seen: left alive
        # after the window closed). A child of the plot goes with it.
        plot_item.ctrlMenu.setParent(self.plot, plot_item.ctrlMenu.windowFlags())
        plot_item.hideButtons()
        for side in ("left", "bottom"):
            axis = plot_item.getAxis(side)
            axis.setPen(pg.mkPen("#555555"))
            axis.setTextPen(pg.mkPen("#333333"))
        self._scatter = MapScatter(size=_DOT_SIZE, pen=pg.mkPen(0, 0, 0, 70, width=0.6), hoverable=True, tip=None)
        self._scatter.sigClicked.connect(self._on_points_clicked)
        self._scatter.sigHovered.connect(self._on_points_hovered)
        self._scatter.context_requested.connect(self._show_context_menu)
        self._marks = Rings(pxMode=True)
        # A to the upper left of its ring, B to the upper right: both stay readable on one shape.
        self._pair_labels = {
            "a": pg.TextItem("A", color="#111111", anchor=(1.3, 1.1)),
            "b": pg.TextItem("B", color="#111111", anchor=(-0.3, 1.1)),
        }
        self._hover_text = pg.TextItem("", color="#000000", fill=pg.mkBrush(255, 255, 255, 220),
                                       border=pg.mkPen("#888888"), anchor=(0, 1.2))
        self._hover_text.setZValue(30)
        plot_item.addItem(self._scatter)
        plot_item.addItem(self._marks)
        self._marks.setZValue(10)
        for label in self._pair_labels.values():
            label.setZValue(20)
            label.hide()
            plot_item.addItem(label, ignoreBounds=True)
        self._hover_text.hide()
        plot_item.addItem(self._hover_text, ignoreBounds=True)
        # Below the plot, not over it: inside, ten classes would hide a third of the dots.
        self._legend = pg.LegendItem(labelTextColor="#222222", verSpacing=-8, horSpacing=_LEGEND_SPACING, frame=False)
        plot_item.layout.addItem(self._legend, 4, 1)
        self._legend_samples: list[pg.ScatterPlotItem] = []

        self._point_label = QLabel()
        self.use_a_button = QPushButton("Use as A")
        self.use_b_button = QPushButton("Use as B")
        self.use_a_button.setToolTip("Make the selected shape the start of the interpolation")
        self.use_b_button.setToolTip("Make the selected shape the end of the interpolation")
        self.use_a_button.clicked.connect(lambda: self._use_as("a", self.session.selection))
        self.use_b_button.clicked.connect(lambda: self._use_as("b", self.session.selection))
        self._decoded: tuple[np.ndarray, float, float, str] | None = None  # the map point decoded last
        self.decoder = MapDecoder(self.plot, lambda: self.session.model, self._show_decoded)
        bottom = QHBoxLayout()
        bottom.addWidget(self.decoder.check)
        bottom.addWidget(self._point_label, 1)
        bottom.addWidget(self.use_a_button)
        bottom.addWidget(self.use_b_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.info_label)
        layout.addWidget(self.plot, 1)
        layout.addLayout(bottom)

        self.context_menu = QMenu(self)
        self._context_index = -1
        for text, slot in (("Show", None), ("Use as A", "a"), ("Use as B", "b")):
            action = QAction(text, self.context_menu)
            action.triggered.connect(lambda _checked=False, slot=slot: self._on_context_action(slot))
            self.context_menu.addAction(action)

    # ---- computing ----------------------------------------------------------------------------

    def _missing_input(self) -> str:
        if self.session.split is None:
            return "Open a data set to map its shapes."
        if self.session.model is None:
            return "Open a model to map the latent means of the shapes."
        if not len(self.session.split):
            return f"Split {self.session.split.name} has no shapes."
        return ""

    def _wanted(self) -> bool:
        return not self._closed and (self.active or self.isVisible())

    def _ensure_map(self) -> None:
        """Compute the map if it is wanted, missing, not under way and did not just fail."""
        if not self._wanted() or self._task is not None or self._failed:
            return
        if self._shown is not None and self._shown.method == self.method():
            return
        self.compute()

    def _cancel_map(self) -> None:
        """Cancel the map under way: it ends by itself (t-SNE's process is killed), and what it sends is dropped."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.progress.hide()
        self._update_buttons()

    def _on_item(self, item: Any) -> None:
        if isinstance(item, EncodeProgress):
            self.progress.setRange(0, max(item.total, 1))
            self.progress.setValue(item.done)
        elif isinstance(item, EncodedSplit):
            self._encoded = item
        elif isinstance(item, ProjectionStarted):
            if item.method == "tsne":
                self.progress.setRange(0, 0)  # t-SNE reports no progress: a busy bar
                self.progress.setFormat("")
                self._set_info(f"t-SNE of {item.shapes} shapes (a few seconds)…")
        elif isinstance(item, LatentMap):
            self._maps[item.method] = item
            if item.method == self.method():
                self._show_map(item)

    def _on_failed(self, message: str) -> None:
        self._failed = True
        self._set_info(f"The map could not be computed: {message}")
        self.error.emit(f"latent map: {message}")

    def _on_done(self) -> None:
        self._task = None
        self.progress.hide()
        self._update_buttons()

    def _on_compute_clicked(self) -> None:
        if self._task is not None:
            self.stop()
            return
        self._maps.pop(self.method(), None)
        self._shown = None
        self.compute()

    def _on_method_changed(self) -> None:
        method = self.method()
        if method in self._maps:
            self._cancel_map()
            self._show_map(self._maps[method])
        elif self._encoded is not None or self._wanted():
            self._clear_map()
            self.compute()

    def _on_inputs_changed(self, *_args: Any) -> None:
        """The model, data set or split changed: the codes are stale."""
        self._cancel_map()
        self._encoded = None
        self._maps.clear()
        self._failed = False
        self._clear_map()
        self._set_info(self._missing_input() or "Compute the map to see the shapes' latent means.")
        self._ensure_map()

    # ---- showing ------------------------------------------------------------------------------

    def _clear_map(self) -> None:
        self._shown = None
        self._decoded = None
        self.decoder.set_map(None)
        self._rows = np.zeros(0, dtype=np.int64)
        self._scatter.setData([])
        self._marks.setData([])
        self._ringed = {}
        for label in self._pair_labels.values():
            label.hide()
        self._hover_text.hide()
        self._hovered = -1
        self._legend.clear()
        self._legend_samples.clear()
        self._point_label.setText("")

    def _show_map(self, shown: LatentMap) -> None:
        encoded = shown.encoded
        names = tuple(self.session.split.class_names) if self.session.split is not None else ()
        colors = class_colors(len(names))
        brushes = [QBrush(color) for color in colors]
        unknown = QBrush(QColor(UNKNOWN_COLOR))
        labels = encoded.labels
        point_brushes = [brushes[k] if 0 <= k < len(brushes) else unknown for k in labels.tolist()]
        self._shown = shown
        self.decoder.set_map(shown)
        size = len(self.session.split) if self.session.split is not None else 0
        self._rows = np.full(max(size, int(encoded.indices.max(initial=-1)) + 1), -1, dtype=np.int64)
        self._rows[encoded.indices] = np.arange(len(encoded.indices))
        self._scatter.setData(
            x=shown.coords[:, 0], y=shown.coords[:, 1], data=encoded.indices, brush=point_brushes,
            size=_DOT_SIZE, symbol="o",
        )
        self._legend.clear()
        self._legend_samples.clear()
        present = sorted(set(labels.tolist()))
        for k in present:
            name = names[k] if 0 <= k < len(names) else "unknown"
            sample = pg.ScatterPlotItem(size=_DOT_SIZE + 2, symbol="o", pen=pg.mkPen(0, 0, 0, 70),
                                        brush=brushes[k] if 0 <= k < len(brushes) else unknown)
            self._legend_samples.append(sample)
            self._legend.addItem(sample, name)
        self._fit_legend()
        plot_item = self.plot.getPlotItem()
        if shown.method == "pca":
            first, second = (shown.explained + (0.0, 0.0))[:2]
            plot_item.setLabel("bottom", f"PC 1 ({first:.0%} of variance)")
            plot_item.setLabel("left", f"PC 2 ({second:.0%})")
            detail = f"PCA: the plane holds {first + second:.0%} of the codes' variance"
        else:
            plot_item.setLabel("bottom", "t-SNE 1")
            plot_item.setLabel("left", "t-SNE 2")
            detail = "t-SNE: neighbours stay neighbours; distances between clusters mean little"
        text = f"{len(encoded.indices)} shapes of {encoded.split}. {detail}."
        if encoded.skipped:
            text += f" {len(encoded.skipped)} unreadable shape(s) left out."
        self._set_info(text)
        self._update_marks()
        # The legend's rows change the plot's height: lay it out now, so that the range
        # fits the plot as it will be drawn.
        plot_item.layout.activate()
        plot_item.getViewBox().autoRange(padding=0.05)

    def _fit_legend(self) -> None:
        """As many legend columns as the plot's width holds, so that no class name is cut off."""
        if not self._legend.items:
            return
        widest = max(label.item.boundingRect().width() for _sample, label in self._legend.items)
        # A sample is 20 px wide; the layout's margins add about 10 more.
        entry = 20 + widest + 10 + _LEGEND_SPACING
        available = self.plot.width() - self.plot.getPlotItem().getAxis("left").width() - 10
        columns = int(max(1, min(len(self._legend.items), available // entry)))
        if columns != self._legend.columnCount:
            self._legend.setColumnCount(columns)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def _update_marks(self) -> None:
        """Ring the selected shape and the two ends of the interpolation."""
        spots: list[dict[str, Any]] = []
        pair = self.session.pair
        for slot in ("a", "b"):
            position = self._position(pair.get(slot, -1))
            label = self._pair_labels[slot]
            if position is None:
                label.hide()
                continue
            spots.append({"pos": position, "size": _PAIR_RING, "symbol": "o", "brush": None,
                          "pen": pg.mkPen("#111111", width=2)})
            label.setPos(*position)
            label.show()
        position = self._position(self.session.selection)
        if position is not None:
            spots.append({"pos": position, "size": _SELECTION_RING, "symbol": "o", "brush": None,
                          "pen": pg.mkPen("#e0115f", width=2.5)})
        self._marks.setData(spots)
        ringed = {"a": pair.get("a", -1), "b": pair.get("b", -1), "selection": self.session.selection}
        self._ringed = {role: index for role, index in ringed.items() if self._position(index) is not None}

    def _position(self, index: int) -> tuple[float, float] | None:
        if self._shown is None or not 0 <= index < len(self._rows) or self._rows[index] < 0:
            return None
        x, y = self._shown.coords[self._rows[index]]
        return float(x), float(y)

    def _set_info(self, text: str) -> None:
        self.info_label.setText(text)

    def _update_buttons(self) -> None:
        self.compute_button.setText("Stop" if self._task is not None else "Compute")
        self.compute_button.setEnabled(self._task is not None or not self._missing_input())
        has_selection = self.session.split is not None and self.session.selection >= 0
        self.use_a_button.setEnabled(has_selection)
        self.use_b_button.setEnabled(has_selection)

    # ---- the user -----------------------------------------------------------------------------

    def _on_points_hovered(self, _item: Any, points: Any, _event: Any) -> None:
        index = int(points[0].data()) if len(points) else -1
        if index == self._hovered:
            return
        self._hovered = index
        if index < 0:
            self._hover_text.hide()
            return
        label = self.session.shape_label(index)
        self._hover_text.setText(label)
        position = self._position(index)
        if position is not None:
            self._hover_text.setPos(*position)
        self._hover_text.show()
        self._point_label.setText(label)
        self.status.emit(label)

    def _on_points_clicked(self, _item: Any, points: Any, _event: Any) -> None:
        if not len(points) or self.decoder.active:  # decoding: a click decodes that point instead
            return
        self.session.select(int(points[0].data()))
        self.view_requested.emit()

    def _show_context_menu(self, index: int, screen_position: QPointF) -> None:
        self._context_index = index
        self.context_menu.actions()[0].setText(f"Show {self.session.shape_label(index)}")
        self.context_menu.popup(screen_position.toPoint())

    def _on_context_action(self, slot: str | None) -> None:
        index = self._context_index
        if index < 0:
            return
        if slot is None:
            self.session.select(index)
            self.view_requested.emit()
        else:
            self._use_as(slot, index)

    def _use_as(self, slot: str, index: int) -> None:
        try:
            self.session.set_pair(slot, index)
        except VaeviewerError as error:
            self.error.emit(str(error))
            return
        self.status.emit(f"{slot.upper()}: {self.session.shape_label(index)}")

    def _on_selection(self, _index: int) -> None:
        self._decoded = None  # a shape was chosen: it is what the viewport shows now
        self._update_marks()
        self._update_buttons()
        if self.active:
            self.draw()

    def _show_decoded(self, cloud: np.ndarray, x: float, y: float, how: str) -> None:
        self._decoded = (cloud, x, y, how)  # how: in the viewport's footer; a label here would resize the map
        if self.active:
            self.draw()
        else:
            self.view_requested.emit()

    def _on_pair(self, _slot: str, _index: int) -> None:
        self._update_marks()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._ensure_map()
