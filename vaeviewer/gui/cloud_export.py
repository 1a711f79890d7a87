"""File ▸ Export cloud: every cloud the viewport shows, saved as PLY, PCD, NPY or XYZ."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QMenu

from vaeviewer.data.cloud_files import save_cloud
from vaeviewer.gui.viewport import Viewport

__all__ = ["CLOUD_FILTER", "fill_export_menu", "save_shown_cloud", "shown_clouds"]

CLOUD_FILTER = "Clouds (*.ply *.pcd *.npy *.xyz);;PLY (*.ply);;PCD (*.pcd);;NumPy (*.npy);;XYZ text (*.xyz)"
_FRAME = "frame: the model's, centred on the mean and scaled to the unit sphere, as the window shows it"


def shown_clouds(viewport: Viewport) -> list[tuple[str, np.ndarray]]:
    """The clouds on screen, pane by pane and layer by layer: (what it is, float32 (n, 3) points)."""
    found = []
    for pane in viewport.panes:
        for k, layer in enumerate(pane.layers):
            label = layer.label or (f"{pane.caption} ({k + 1})" if pane.caption else f"cloud {len(found) + 1}")
            found.append((label, np.asarray(layer.points, dtype=np.float32)))
    return found


def save_shown_cloud(viewport: Viewport, index: int, path: str | Path) -> Path:
    """Write the ``index``-th of :func:`shown_clouds` to ``path`` (format by suffix), with what it is in its header."""
    clouds = shown_clouds(viewport)
    if not 0 <= index < len(clouds):
        from vaeviewer.errors import OptionError

        raise OptionError(f"cloud {index} is not shown (the viewport shows {len(clouds)})")
    label, points = clouds[index]
    return save_cloud(path, points, comment=f"vaeviewer: {label}\n{_FRAME}")


def fill_export_menu(menu: QMenu, viewport: Viewport, ask: Callable[[int, str], None]) -> None:
    """One action per cloud shown; choosing one calls ``ask(index, label)`` (which asks for the file)."""
    menu.clear()
    clouds = shown_clouds(viewport)
    for k, (label, points) in enumerate(clouds):
        action = menu.addAction(f"{label[:1].upper()}{label[1:]} ({len(points)} points)…")
        action.triggered.connect(lambda _=False, k=k, label=label: ask(k, label))
    if not clouds:
        menu.addAction("Nothing shown to export").setEnabled(False)
