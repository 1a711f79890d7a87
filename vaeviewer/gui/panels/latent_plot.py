"""The latent map's drawing pieces: class colours, the dots that answer a right-click, the rings that let clicks through."""

from __future__ import annotations

import colorsys
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor

__all__ = ["UNKNOWN_COLOR", "MapScatter", "Rings", "class_colors"]

# Matplotlib's qualitative palettes, copied so that the map needs no matplotlib.
_TAB10 = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
_TAB20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
    "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)
#: Colour of shapes without a class.
UNKNOWN_COLOR = "#b0b0b0"


def class_colors(count: int) -> list[QColor]:
    """``count`` colours that tell classes apart: tab10 up to 10, tab20 up to 20, then spread hues.

    Beyond 20 classes no palette keeps every pair apart; hues stepped by the
    golden angle, in three lightness bands, keep neighbouring class indices
    far apart (in the spirit of Glasbey's palettes).
    """
    if count <= 10:
        return [QColor(c) for c in _TAB10[:count]]
    if count <= 20:
        return [QColor(c) for c in _TAB20[:count]]
    colors = []
    for k in range(count):
        hue = (k * 0.618033988749895) % 1.0
        lightness = (0.45, 0.62, 0.32)[k % 3]
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.75)
        colors.append(QColor.fromRgbF(red, green, blue))
    return colors


class MapScatter(pg.ScatterPlotItem):
    """The dots of the map; a right-click on a dot asks for its menu instead of the plot's."""

    #: Split index of the dot under a right-click, and where on the screen it was.
    context_requested = Signal(int, QPointF)

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.RightButton:
            points = self.pointsAt(ev.pos())
            if len(points):
                ev.accept()
                self.context_requested.emit(int(points[0].data()), ev.screenPos())
                return
        super().mouseClickEvent(ev)


class Rings(pg.ScatterPlotItem):
    """Rings drawn over the dots to mark chosen shapes; clicks go through them to the dots."""

    def mouseClickEvent(self, ev: Any) -> None:
        # pyqtgraph's scene ignores acceptedMouseButtons(): a ring would take the click.
        ev.ignore()
