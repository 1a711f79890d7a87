"""The 3D viewport in the centre of the window: one or two panes of point clouds.

:class:`Viewport` embeds a pyvistaqt ``QtInteractor`` with two renderers side by
side. With one pane the left renderer fills the widget and the right one is not
drawn; with two they share one camera, so that turning one turns the other.
Each renderer draws through a :class:`~vaeviewer.render.scene.ScenePane`, the
scene :class:`~vaeviewer.render.offscreen.OffscreenRenderer` draws through too:
one actor per layer, new points copied into the arrays VTK already holds, so
that playing an animation allocates nothing per frame. Only the GUI thread may call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QVBoxLayout, QWidget

from vaeviewer.render import scene
from vaeviewer.render.scene import CloudLayer

__all__ = ["MAX_PANES", "Pane", "Viewport", "THEMES"]

#: The most panes the viewport shows side by side (the input, and the reconstructions of two models).
MAX_PANES = 3

#: Background and text colours of the viewport's two themes.
THEMES = {"light": ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0)), "dark": ((0.11, 0.12, 0.14), (0.92, 0.92, 0.92))}


@dataclass(frozen=True)
class Pane:
    """What one pane of the viewport shows: clouds, a caption along its top, a line along its bottom."""

    layers: tuple[CloudLayer, ...] = ()
    caption: str = ""
    footer: str = ""


class Viewport(QWidget):
    """The interactive 3D view.

    Parameters
    ----------
    parent : QWidget, optional

    Signals
    -------
    drawn()
        After every render of new content.
    """

    drawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from pyvistaqt import QtInteractor

        self._style = "spheres"
        self._point_size = 5.0
        self._theme = "light"
        self._up = "y"
        self._view = "isometric"
        self._pane_count = 1
        self._fitted = 1.0
        self._panes_shown: tuple[Pane, ...] = ()
        self.frames_drawn = 0
        self._antialiasing: bool | None = None  # None: decided on the first render, by the OpenGL renderer

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.interactor = QtInteractor(self, shape=(1, MAX_PANES), border=False, auto_update=False)
        layout.addWidget(self.interactor)
        plotter = self.interactor
        plotter.enable_parallel_projection()
        for index in range(MAX_PANES):
            plotter.subplot(0, index)
            plotter.enable_parallel_projection()
        # One camera for all panes: turning the input turns the reconstructions with it.
        plotter.link_views()
        self._panes = [scene.ScenePane(plotter.renderers[k], scene.PaneLayout.for_window()) for k in range(MAX_PANES)]
        self._apply_theme()
        self._layout_panes(1)
        self.reset_camera()

    # ---- settings ---------------------------------------------------------------------------

    @property
    def style(self) -> str:
        """How points are drawn: ``spheres`` or ``points``."""
        return self._style

    def set_style(self, style: str) -> None:
        """Draw points as shaded ``spheres`` or flat ``points``."""
        if style not in scene.CLOUD_STYLES:
            raise ValueError(f"unknown style {style!r}")
        self._style = style
        self._redraw()

    @property
    def point_size(self) -> float:
        """Diameter of a point in pixels."""
        return self._point_size

    def set_point_size(self, size: float) -> None:
        """Set the diameter of a point in pixels (1 to 30)."""
        self._point_size = float(np.clip(size, 1.0, 30.0))
        self._redraw()

    @property
    def theme(self) -> str:
        """``light`` or ``dark``."""
        return self._theme

    def set_theme(self, theme: str) -> None:
        """Switch between the ``light`` and ``dark`` backgrounds."""
        if theme not in THEMES:
            raise ValueError(f"unknown theme {theme!r}")
        self._theme = theme
        self._apply_theme()
        self._render()

    @property
    def up(self) -> str:
        """The clouds' up axis."""
        return self._up

    def set_up(self, up: str) -> None:
        """Set the clouds' up axis and put the camera back on the current preset."""
        if up not in scene.UP_AXES:
            raise ValueError(f"up axis must be 'y' or 'z', got {up!r}")
        self._up = up
        self.reset_camera()

    @property
    def view(self) -> str:
        """The last camera preset chosen."""
        return self._view

    def set_view(self, view: str) -> None:
        """Move the camera to a preset (``isometric``, ``front``, ``side``, ``top``)."""
        if view not in scene.CAMERA_DIRECTIONS:
            raise ValueError(f"unknown view {view!r}")
        self._view = view
        self.reset_camera()

    def reset_camera(self) -> None:
        """Put the shared camera on the current preset, framing the unit sphere."""
        if self.interactor is None:
            return
        scene.aim_camera(self._panes[0].renderer.GetActiveCamera(), self._view, self._up, zoom=self._fit())
        self._fitted = self._fit()
        for pane in self._panes:
            pane.renderer.ResetCameraClippingRange()
        self._render()

    def _fit(self) -> float:
        """How much taller than wide a pane is (at least 1): the unit sphere must fit its width too."""
        width = max(1, self.width()) / self._pane_count
        return max(1.0, self.height() / width)

    def _refit(self) -> None:
        """Keep the user's zoom but make a narrow pane still frame what a wide one would."""
        fit = self._fit()
        if abs(fit - self._fitted) > 1e-6 and self.interactor is not None:
            camera = self._panes[0].renderer.GetActiveCamera()
            camera.SetParallelScale(camera.GetParallelScale() * fit / self._fitted)
            self._fitted = fit

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Keep the clouds framed when the viewport changes shape."""
        super().resizeEvent(event)
        self._refit()

    @property
    def antialiasing(self) -> bool:
        """Whether edges are smoothed (4x multisampling)."""
        return bool(self._antialiasing)

    def set_antialiasing(self, on: bool) -> None:
        """Smooth edges with 4x multisampling, or not.

        On a software OpenGL renderer (Mesa's llvmpipe) multisampling quadruples the
        cost of every frame: 2,048 points at 1000 x 800 play at 13 fps with it and
        45 fps without. The first render turns it off there and on for a GPU.
        """
        self._antialiasing = bool(on)
        if self.interactor is not None:
            self.interactor.ren_win.SetMultiSamples(4 if on else 0)
            self._render()


    # ---- content ----------------------------------------------------------------------------

    @property
    def panes(self) -> tuple[Pane, ...]:
        """What is shown now."""
        return self._panes_shown

    def show_panes(self, panes: Sequence[Pane]) -> None:
        """Show one pane, or up to :data:`MAX_PANES` side by side with linked cameras, and render.

        A layer whose point count is unchanged since the last call keeps its actor
        and only gets its points (and values) copied in.
        """
        panes = tuple(panes)
        if not 1 <= len(panes) <= MAX_PANES:
            raise ValueError(f"the viewport shows 1 to {MAX_PANES} panes, got {len(panes)}")
        if self.interactor is None:
            return  # shut down: a panel's late redraw has nothing to draw into
        if len(panes) != self._pane_count:
            self._layout_panes(len(panes))
        self._panes_shown = panes
        for drawn, pane in zip(self._panes, panes):
            drawn.show([self._styled(layer) for layer in pane.layers], pane.caption, pane.footer)
        for unused in self._panes[len(panes):]:
            unused.show([])
        self._render()

    @property
    def scene_panes(self) -> tuple[scene.ScenePane, ...]:
        """The scene of each pane, left to right: its actors, texts and colour bar; empty once shut down."""
        return tuple(self._panes)

    def clear(self) -> None:
        """Show nothing."""
        self.show_panes([Pane()])

    def image(self) -> QImage:
        """A picture of the viewport as it is on screen."""
        self._render()
        return self.interactor.grab().toImage()

    def shutdown(self) -> None:
        """Release the plotter and every VTK object of the panes; the viewport shows nothing afterwards.

        Closing twice is harmless, and so are later calls: they change settings but draw nothing.
        """
        if self.interactor is None:
            return
        _release_gl_context(self.interactor)
        self.interactor.close()
        self.interactor = None
        # The renderers, texts, bars and lookup tables must not outlive the plotter with this widget.
        for pane in self._panes:
            pane.release()
        self._panes = []
        self._panes_shown = ()

    # ---- internals --------------------------------------------------------------------------

    def _layout_panes(self, count: int) -> None:
        for k, pane in enumerate(self._panes):
            if k < count:
                pane.renderer.SetViewport(k / count, 0.0, (k + 1) / count, 1.0)
            pane.renderer.SetDraw(k < count)
        self._pane_count = count
        self._refit()

    def _styled(self, layer: CloudLayer) -> CloudLayer:
        """The layer as the View menu draws it: its style, and its size relative to the menu's point size."""
        size = self._point_size * max(layer.point_size, 0.1) / 5.0  # a layer may ask for a thinner overlay
        return replace(layer, point_size=size, style=self._style)

    def _apply_theme(self) -> None:
        background, text = THEMES[self._theme]
        for pane in self._panes:
            pane.renderer.SetBackground(*background)
            pane.set_text_color(text)

    def _redraw(self) -> None:
        if self._panes_shown:
            self.show_panes(self._panes_shown)

    def _render(self) -> None:
        if self.interactor is None or not self.isVisible():
            return  # no render on a hidden or closed window; showing it renders
        if self._antialiasing is None:
            self.interactor.render()  # the OpenGL context exists from the first render on
            self._antialiasing = not scene.is_software_renderer(self.interactor.ren_win.ReportCapabilities() or "")
            self.interactor.ren_win.SetMultiSamples(4 if self._antialiasing else 0)
        self.interactor.render()
        self.frames_drawn += 1
        self.drawn.emit()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """A viewport closed as a window of its own releases its plotter."""
        self.shutdown()
        super().closeEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Render what is there when the viewport becomes visible."""
        super().showEvent(event)
        self._render()


def _release_gl_context(interactor: Any) -> None:
    """Free VTK's OpenGL resources with the widget's context current, and drop the interactor's hold on it.

    pyvistaqt (0.13, the ``QOpenGLWidget`` interactor) does this in a slot of the
    context's ``aboutToBeDestroyed``, which never runs when the window is deleted:
    the widget's Python side is invalidated before its context goes. Its
    ``QSurface`` wrapper then outlives the surface, and shiboken hands it out for
    the next object Qt puts at that address (seen: ``topLevelWidgets()`` answering
    a ``QSurface`` for a new dialog; windows opened after closed ones crashing in
    Qt's event loop). Calling that slot here, while the widget lives, is the
    teardown pyvistaqt intends; other versions have no such slot.
    """
    cleanup = getattr(interactor, "_cleanup_context", None)
    if cleanup is not None:
        cleanup()
