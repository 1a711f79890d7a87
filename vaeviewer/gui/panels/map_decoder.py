"""Decoding any point of the latent map: click it, or drag across the map and the decoded shape follows.

The map's 2-D position goes back to a latent code (:class:`~vaeviewer.workflows.latent_map.MapInverse`: PCA's
inverse, or the nearest shapes' codes for t-SNE, said which) and is decoded on the GUI thread: one decode is a
millisecond or two, the drawing is most of a frame. Mouse moves come faster than frames, so only the latest
position waiting is decoded, once the event loop is free: a drag never falls behind the mouse.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox

__all__ = ["MapDecoder"]

_TIP = "Click anywhere on the map, or drag across it, to decode that point of the latent space (the map does not pan)"


class MapDecoder(QObject):
    """Decodes the latent map where the mouse is, while its check box is on.

    Parameters
    ----------
    plot : pyqtgraph.PlotWidget
        The map.
    model : callable
        ``model()``: the model to decode with, or None without one.
    show : callable
        ``show(cloud, x, y, how)``: draw the decoded shape (the panel asks for the viewport).

    Signals
    -------
    decoded(float, float)
        After each shape decoded and shown, with its map position.
    """

    decoded = Signal(float, float)

    def __init__(self, plot: pg.PlotWidget, model: Callable[[], Any],
                 show: Callable[[np.ndarray, float, float, str], None]) -> None:
        super().__init__(plot)
        self._plot, self._model, self._show = plot, model, show
        self._inverse: Any = None
        self._wanted: tuple[float, float] | None = None
        self._shown_at: deque[float] = deque(maxlen=60)
        self.check = QCheckBox("Decode where I point")
        self.check.setToolTip(_TIP)
        self.check.toggled.connect(self._on_toggled)
        self.check.setEnabled(False)
        self._timer = QTimer(self)
        self._timer.setObjectName("map decoder")
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._decode_latest)
        scene = plot.scene()
        scene.sigMouseMoved.connect(self._on_moved)
        scene.sigMouseClicked.connect(self._on_clicked)

    @property
    def active(self) -> bool:
        """Whether points of the map are decoded (the box is on and there is a map)."""
        return self.check.isChecked() and self._inverse is not None

    @property
    def how(self) -> str:
        """How a map position becomes a code, in words; empty without a map."""
        return self._inverse.how if self._inverse is not None else ""

    @property
    def measured_fps(self) -> float:
        """Decoded shapes shown per second over the last drag (0 before two)."""
        if len(self._shown_at) < 2 or self._shown_at[-1] <= self._shown_at[0]:
            return 0.0
        return (len(self._shown_at) - 1) / (self._shown_at[-1] - self._shown_at[0])

    def set_map(self, shown: Any) -> None:
        """Decode points of ``shown`` (a :class:`~vaeviewer.workflows.latent_map.LatentMap`); None: no map."""
        from vaeviewer.workflows.latent_map import MapInverse

        self._inverse = MapInverse(shown) if shown is not None else None
        self._wanted = None
        self.check.setEnabled(shown is not None)
        self.check.setToolTip(_TIP + (f"\n{self._inverse.how}." if self._inverse is not None else ""))

    def decode_at(self, x: float, y: float) -> None:
        """Decode map position (x, y) as soon as the event loop is free (a later call replaces it)."""
        if self._inverse is None:
            return
        self._wanted = (float(x), float(y))
        if not self._timer.isActive():
            self._timer.start()

    # ---- internals ----------------------------------------------------------------------------

    def _on_toggled(self, on: bool) -> None:
        # Dragging decodes rather than pans while the box is on.
        self._plot.getPlotItem().getViewBox().setMouseEnabled(x=not on, y=not on)
        self._shown_at.clear()

    def _view_position(self, scene_position: QPointF) -> tuple[float, float] | None:
        box = self._plot.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(scene_position):
            return None
        point = box.mapSceneToView(scene_position)
        return point.x(), point.y()

    def _on_moved(self, scene_position: QPointF) -> None:
        if not self.active or not QGuiApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            return
        position = self._view_position(scene_position)
        if position is not None:
            self.decode_at(*position)

    def _on_clicked(self, event: Any) -> None:
        if not self.active or event.button() != Qt.MouseButton.LeftButton:
            return
        position = self._view_position(event.scenePos())
        if position is not None:
            self.decode_at(*position)

    def _decode_latest(self) -> None:
        if self._wanted is None or self._inverse is None:
            return
        (x, y), self._wanted = self._wanted, None
        model = self._model()
        if model is None:
            return
        from vaeviewer.workflows.studio import decode_codes

        cloud = decode_codes(model, self._inverse.code(x, y)[None])[0]
        self._show(cloud, x, y, self._inverse.how)
        self._shown_at.append(time.perf_counter())
        self.decoded.emit(x, y)
