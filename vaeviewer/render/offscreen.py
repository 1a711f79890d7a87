"""One reused off-screen render window that turns point clouds into images.

:class:`OffscreenRenderer` keeps one VTK render window for its whole life and
draws through one :class:`~vaeviewer.render.scene.ScenePane`, the scene the
window's viewport draws through too: a new frame copies the points (and values)
into the arrays VTK already holds and changes only the actors' properties. A
long animation or a thousand thumbnails therefore neither allocate VTK objects
per frame nor grow in memory.

It is built on VTK directly rather than on a pyvista ``Plotter``: the plotter's
set-up (theme, interactor, a dozen helper objects) and its screenshot path
were half of a 24-frame GIF export, and the CLI's pictures then need no
import of pyvista's plotting layer. The picture is the one pyvista would make:
the same five-light kit following the camera, parallel projection, 8-sample
multisampling on a GPU.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

import numpy as np

from vaeviewer.render.scene import (
    CAMERA_DIRECTIONS,
    UP_AXES,
    CloudLayer,
    PaneLayout,
    ScenePane,
    aim_camera,
    is_software_renderer,
    rgb,
)

__all__ = ["OffscreenRenderer", "configure_headless", "open_renderers"]

def configure_headless() -> None:
    """Make VTK render through EGL when there is no X or Wayland display.

    Without it VTK first tries X, prints a warning about a bad X connection,
    then falls back to EGL. Must run before VTK creates its first window.
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    # For pyvista's plotters in the same process: the first one opens a throwaway OpenGL window only
    # to decide whether to warn that there is no X server (80-130 ms on Mesa's llvmpipe); rendering
    # needs none off screen, and a failure to render is reported by VTK itself.
    os.environ.setdefault("ALLOW_PLOTTING", "true")


# The renderers not closed yet (what a leak check of the window's tests looks at).
_OPEN: weakref.WeakSet = weakref.WeakSet()


def open_renderers() -> int:
    """How many :class:`OffscreenRenderer` are alive and not closed."""
    return len(_OPEN)


class OffscreenRenderer:
    """Render clouds to RGB images with one render window that is reused for every frame.

    VTK objects belong to the thread that made them: create, use and close a
    renderer on one thread (the GUI thread in the window).

    Parameters
    ----------
    size : tuple of int
        Width and height of the images in pixels.
    background : str
        Background colour.
    view : str
        Camera direction, one of :data:`CAMERA_DIRECTIONS`.
    up : str
        The clouds' up axis, one of :data:`UP_AXES`.
    """

    def __init__(
        self, size: tuple[int, int] = (512, 512), background: str = "white", view: str = "isometric", up: str = "y"
    ) -> None:
        self.view = view
        self.up = up
        configure_headless()
        # The OpenGL classes behind vtkRenderWindow and the text rendering register themselves
        # with VTK's object factory on import.
        import vtkmodules.vtkRenderingFreeType  # noqa: F401
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
        from vtkmodules.vtkCommonCore import vtkUnsignedCharArray
        from vtkmodules.vtkRenderingCore import vtkLightKit, vtkRenderer, vtkRenderWindow

        self._multisampling: bool | None = None
        self._size = (int(size[0]), int(size[1]))
        background_rgb = rgb(background)
        self._window = vtkRenderWindow()
        self._window.SetOffScreenRendering(1)
        self._window.SetSize(*self._size)
        self._window.SetMultiSamples(8)  # kept on a GPU; see _choose_multisampling
        self._renderer = vtkRenderer()
        self._renderer.SetBackground(*background_rgb)
        self._window.AddRenderer(self._renderer)
        # pyvista's (and the window's) lighting: a key, fill, two back and a head light, moving
        # with the camera.
        self._renderer.AutomaticLightCreationOff()
        vtkLightKit().AddLightsToRenderer(self._renderer)
        self._renderer.LightFollowCameraOn()
        self._renderer.GetActiveCamera().ParallelProjectionOn()
        self._pixels = vtkUnsignedCharArray()
        text_color = (1.0, 1.0, 1.0) if background_rgb[1] < 0.5 else (0.0, 0.0, 0.0)
        self._pane = ScenePane(self._renderer, PaneLayout.for_image(*self._size), text_color)
        _OPEN.add(self)

    @property
    def view(self) -> str:
        """Camera direction, one of :data:`CAMERA_DIRECTIONS`; may change between frames."""
        return self._view

    @view.setter
    def view(self, value: str) -> None:
        if value not in CAMERA_DIRECTIONS:
            raise ValueError(f"unknown view {value!r}; one of {', '.join(CAMERA_DIRECTIONS)}")
        self._view = value

    @property
    def up(self) -> str:
        """The clouds' up axis, one of :data:`UP_AXES`; may change between frames."""
        return self._up

    @up.setter
    def up(self, value: str) -> None:
        if value not in UP_AXES:
            raise ValueError(f"up axis must be 'y' or 'z', got {value!r}")
        self._up = value

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the images in pixels."""
        return self._size

    @property
    def pane(self) -> ScenePane:
        """The scene it draws through (its actors, texts and colour bar)."""
        return self._pane

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has released the render window."""
        return self._window is None

    def render(self, layers: list[CloudLayer], title: str = "", azimuth: float = 0.0, *, caption: str = "") -> np.ndarray:
        """Draw ``layers`` (replacing what was drawn before) and return the image.

        Parameters
        ----------
        layers : list of CloudLayer
            Clouds to draw, later ones over earlier ones where they overlap.
        title : str
            Text along the top edge, shrunk to fit the width.
        azimuth : float
            Turn the camera about the up axis by this many degrees (for orbits).
        caption : str
            Smaller text along the bottom edge (a legend, a figure).

        Returns
        -------
        numpy.ndarray
            uint8 (height, width, 3).
        """
        if self._window is None:
            raise RuntimeError("the renderer is closed")
        self._pane.show(layers, title, caption)
        self._frame_camera(azimuth)
        if self._multisampling is None:
            self._choose_multisampling()
        self._window.Render()
        width, height = self._size
        # The back buffer, where the frame was drawn; OpenGL's rows run bottom to top.
        self._window.GetPixelData(0, 0, width - 1, height - 1, 0, self._pixels, 0)
        image = _as_numpy(self._pixels).reshape(height, width, 3)
        return image[::-1].copy()

    @property
    def multisampling(self) -> bool | None:
        """Whether edges are smoothed by multisampling; None until the first render decides it."""
        return self._multisampling

    def _choose_multisampling(self) -> None:
        """Keep multisampling on a GPU, turn it off on a software rasteriser (once, at the first render).

        Mesa's llvmpipe renders every frame 8 times over with 8 samples (pyvista's
        default, which the window's viewport also starts from): 2,048 shaded points at 512 x 512 took 46 ms a frame with it and
        10 ms without (2-core Xeon), the cost that dominated a GIF export. The
        window's viewport makes the same choice.
        """
        window = self._window
        window.Initialize()  # creates the OpenGL context without rendering (a render at 8 samples: ~50 ms)
        # An off-screen window cannot ReportCapabilities() ("display id not set"); its state knows.
        state = window.GetState()
        self._multisampling = not is_software_renderer(f"{state.GetRenderer()} {state.GetVendor()}")
        if not self._multisampling:
            window.SetMultiSamples(0)

    def _frame_camera(self, azimuth: float = 0.0) -> None:
        aim_camera(self._renderer.GetActiveCamera(), self.view, self.up, azimuth)
        self._renderer.ResetCameraClippingRange()

    def close(self) -> None:
        """Release the render window (its OpenGL context) and the VTK objects; closing twice is harmless."""
        if self._window is None:
            return
        _OPEN.discard(self)
        self._pane.release()
        self._window.RemoveRenderer(self._renderer)
        self._window.Finalize()
        self._window = self._renderer = self._pixels = None

    def __enter__(self) -> OffscreenRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _as_numpy(array: Any) -> np.ndarray:
    """A uint8 view of a VTK unsigned-char array's memory (VTK arrays export the buffer protocol)."""
    return np.frombuffer(memoryview(array), dtype=np.uint8)
