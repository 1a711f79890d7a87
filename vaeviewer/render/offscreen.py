"""One reused off-screen render window that turns point clouds into images.

:class:`OffscreenRenderer` keeps one VTK render window for its whole life and,
frame after frame, one actor per layer: a new frame copies the points (and
values) into the arrays VTK already holds and changes only the actors'
properties. An actor is made again only when its layer's number of points
changes. A long animation or a thousand thumbnails therefore neither allocate
VTK objects per frame nor grow in memory.

It is built on VTK directly rather than on a pyvista ``Plotter``: the plotter's
set-up (theme, interactor, a dozen helper objects) and its screenshot path
were half of a 24-frame GIF export, and the CLI's pictures then need no
import of pyvista's plotting layer. The picture is the one pyvista would make:
the same five-light kit following the camera, parallel projection, 8-sample
multisampling on a GPU.
"""

from __future__ import annotations

import functools
import os
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaeviewer.render.colors import ERROR_CMAP, INPUT_GREY, colormap_table

__all__ = [
    "CAMERA_DIRECTIONS",
    "CLOUD_STYLES",
    "PARALLEL_SCALE",
    "UP_AXES",
    "CloudLayer",
    "camera_pose",
    "OffscreenRenderer",
    "configure_headless",
    "is_software_renderer",
    "style_scalar_bar",
]

#: Where the camera looks from, for a Y-up cloud centred at the origin whose front faces +Z.
#: For Z-up clouds the same directions are turned by 90 degrees about X (+Y up becomes +Z up,
#: the +Z front becomes -Y), which is how raw ModelNet meshes stand.
CAMERA_DIRECTIONS = {
    "isometric": (1.0, 0.8, 1.4),
    "front": (0.0, 0.0, 1.0),
    "side": (1.0, 0.0, 0.0),
    "top": (0.0, 1.0, 0.0),
}

#: How a cloud's points are drawn: shaded spheres (depth reads well) or flat squares (exact colours).
CLOUD_STYLES = ("spheres", "points")

#: The up axes clouds come with: ``y`` (ShapeNet, PointNet's h5, the built-in set), ``z`` (raw ModelNet).
UP_AXES = ("y", "z")

# The renderers not closed yet (what a leak check of the window's tests looks at).
_OPEN: weakref.WeakSet = weakref.WeakSet()


def open_renderers() -> int:
    """How many :class:`OffscreenRenderer` are alive and not closed."""
    return len(_OPEN)


# Clouds are scaled to the unit sphere: one fixed parallel scale frames every cloud alike, so
# that sizes compare between pictures (a camera reset would blow small clouds up).
PARALLEL_SCALE = 1.08


def camera_pose(
    view: str, up: str = "y", azimuth: float = 0.0, distance: float = 4.0
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Where a camera looking at the origin stands, and its up vector, for a preset view.

    Parameters
    ----------
    view : str
        One of :data:`CAMERA_DIRECTIONS`.
    up : str
        The clouds' up axis, one of :data:`UP_AXES`.
    azimuth : float
        Turn about the up axis by this many degrees (for orbits).
    distance : float
        Distance from the origin.

    Returns
    -------
    position, view_up : tuple of float
    """
    if view not in CAMERA_DIRECTIONS:
        raise ValueError(f"unknown view {view!r}; one of {', '.join(CAMERA_DIRECTIONS)}")
    if up not in UP_AXES:
        raise ValueError(f"up axis must be 'y' or 'z', got {up!r}")
    x, y, z = CAMERA_DIRECTIONS[view]
    angle = np.radians(azimuth)
    # Turn about the Y axis, then map Y-up directions to Z-up ones when the clouds are Z-up.
    x, z = x * np.cos(angle) + z * np.sin(angle), -x * np.sin(angle) + z * np.cos(angle)
    direction = np.array([x, y, z] if up == "y" else [x, -z, y], dtype=float)
    direction /= np.linalg.norm(direction)
    view_up = (0.0, 1.0, 0.0) if up == "y" else (0.0, 0.0, 1.0)
    if view == "top":
        # Looking down, the front (+Z, or -Y for Z-up) is at the bottom of the picture.
        view_up = (0.0, 0.0, -1.0) if up == "y" else (0.0, 1.0, 0.0)
    return tuple(float(v) for v in distance * direction), view_up  # type: ignore[return-value]


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


def style_scalar_bar(bar: Any, *, bottom: float, font_size: int, color: tuple[float, float, float] | None = None) -> None:
    """Lay out a ``vtkScalarBarActor`` as every picture and the window show it: upright at the right edge.

    Five labels, its labels left of the bar, Arial without bold, italics or
    shadow. The bar's own title stays unused: VTK clips it to the bar's narrow
    box, so callers place a text of their own above it.
    """
    bar.SetOrientationToVertical()
    bar.SetNumberOfLabels(5)
    bar.SetLabelFormat("%.2g")
    bar.SetBarRatio(0.3)
    bar.UnconstrainedFontSizeOn()
    bar.SetPosition(0.86, bottom)
    bar.SetWidth(0.12)
    bar.SetHeight(0.6)
    bar.SetTextPositionToPrecedeScalarBar()
    for text in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
        if color is not None:
            text.SetColor(color)
        text.SetFontFamilyToArial()
        text.BoldOff()
        text.ItalicOff()
        text.ShadowOff()
        text.SetFontSize(font_size)


def is_software_renderer(capabilities: str) -> bool:
    """Whether an OpenGL capability report (``ReportCapabilities()``) names a software rasteriser."""
    text = capabilities.lower()
    return any(name in text for name in ("llvmpipe", "softpipe", "swrast", "software rasterizer", "lavapipe"))


@dataclass(frozen=True)
class CloudLayer:
    """One cloud to draw.

    Parameters
    ----------
    points : numpy.ndarray
        float (n, 3) points.
    color : str or tuple of float
        Colour of every point (a name, ``#rrggbb`` or RGB in 0..1); unused when ``scalars`` is given.
    point_size : float
        Diameter of a point in pixels.
    style : str
        ``"spheres"`` (shaded) or ``"points"`` (flat squares), one of :data:`CLOUD_STYLES`.
    scalars : numpy.ndarray, optional
        One value per point (e.g. its error); the points are then coloured by ``cmap`` and the
        picture gets a colour bar.
    cmap : str
        matplotlib colour map of ``scalars``; perceptually uniform ``viridis`` by default.
    clim : tuple of float, optional
        Values at the two ends of the colour map (values beyond are clamped); the range of
        ``scalars`` by default. Give it to compare pictures on one scale.
    scalar_title : str
        Title of the colour bar: what the values are, in which unit.
    scalar_bar : bool
        Whether a layer with ``scalars`` shows its colour bar (at the right edge). Figures
        whose panels share one scale turn it off and draw the bar once, beside them.
    """

    points: np.ndarray
    color: str | tuple[float, float, float] = INPUT_GREY
    point_size: float = 5.0
    style: str = "spheres"
    scalars: np.ndarray | None = None
    cmap: str = ERROR_CMAP
    clim: tuple[float, float] | None = None
    scalar_title: str = ""
    scalar_bar: bool = True

    def __post_init__(self) -> None:
        if self.style not in CLOUD_STYLES:
            raise ValueError(f"unknown cloud style {self.style!r}; one of {', '.join(CLOUD_STYLES)}")
        shape = np.shape(self.points)
        if len(shape) != 2 or shape[1] != 3:
            raise ValueError(f"points must be an (n, 3) array, got shape {shape}")
        if self.scalars is not None and np.shape(self.scalars) != (shape[0],):
            raise ValueError(f"scalars must hold one value per point ({shape[0]}), got shape {np.shape(self.scalars)}")

    def value_range(self) -> tuple[float, float]:
        """The values at the ends of the colour map: ``clim``, else the range of ``scalars``.

        An empty or constant range is widened a little, since VTK needs low < high.
        """
        if self.clim is not None:
            low, high = (float(v) for v in self.clim)
        elif self.scalars is not None and np.size(self.scalars):
            low, high = float(np.nanmin(self.scalars)), float(np.nanmax(self.scalars))
        else:
            low, high = 0.0, 1.0
        if not high > low:
            high = low + max(abs(low) * 1e-6, 1e-12)
        return low, high


@dataclass
class _Actor:
    """What the renderer keeps of one layer between frames."""

    points: np.ndarray  # (n, 3) float32 that VTK's points use without a copy, overwritten frame after frame
    poly: Any  # vtkPolyData of the points, one vertex each
    actor: Any  # vtkActor
    values: np.ndarray | None = None  # (n,) float32 behind the point data's scalars, made on first use
    table: Any = None  # vtkLookupTable of the layer's colour map, made on first use
    cmap: str = ""


def rgb(color: str | tuple[float, float, float]) -> tuple[float, float, float]:
    """An RGB triple in [0, 1] from a triple, ``#rrggbb`` or a CSS colour name ("white", "grey"...).

    Raises
    ------
    ValueError
        For anything else.
    """
    if isinstance(color, str):
        text = color.strip()
        if text.startswith("#") and len(text) == 7:
            try:
                return tuple(int(text[k : k + 2], 16) / 255.0 for k in (1, 3, 5))  # type: ignore[return-value]
            except ValueError:
                pass
        else:
            from vtkmodules.vtkCommonColor import vtkNamedColors

            names = vtkNamedColors()
            if names.ColorExists(text.lower()):
                return tuple(names.GetColor3d(text.lower()))  # type: ignore[return-value]
        raise ValueError(f"unknown colour {color!r}")
    values = tuple(float(v) for v in color)
    if len(values) != 3 or not all(0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"a colour needs three values in [0, 1], got {color!r}")
    return values  # type: ignore[return-value]


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
        from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor
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
        self._text_color = (1.0, 1.0, 1.0) if background_rgb[1] < 0.5 else (0.0, 0.0, 0.0)
        self._actors: list[_Actor] = []
        renderer = self._renderer
        # Texts and colour bar are made once and only changed afterwards, like the clouds.
        self._title = self._text_actor(top=True)
        self._caption = self._text_actor(top=False)
        self._bar = vtkScalarBarActor()
        # The bar's own title is clipped to the bar's narrow box; a text of ours is not.
        self._bar_title = self._text_actor(top=False)
        self._style_bar()
        for prop in (self._title, self._caption, self._bar, self._bar_title):
            prop.SetVisibility(False)
            renderer.AddViewProp(prop)
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
        for k, layer in enumerate(layers):
            self._draw(k, layer)
        for kept in self._actors[len(layers) :]:
            # Hidden, not removed: the next frame with as many layers reuses it.
            kept.actor.SetVisibility(False)
        self._show_bar(layers)
        self._set_text(self._title, title, self._font_size())
        self._set_text(self._caption, caption, max(7, round(0.8 * self._font_size())))
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

    def _draw(self, k: int, layer: CloudLayer) -> None:
        points = np.asarray(layer.points, dtype=np.float32)
        if k < len(self._actors) and len(self._actors[k].points) == len(points):
            kept = self._actors[k]
            # Copy into the array VTK already holds, and tell VTK that it changed.
            kept.points[:] = points
            kept.poly.GetPoints().Modified()
        else:
            kept = self._make_actor(k, points)
        actor = kept.actor
        prop = actor.GetProperty()
        prop.SetPointSize(float(layer.point_size))
        spheres = layer.style == "spheres"
        prop.SetRenderPointsAsSpheres(spheres)
        # Flat points carry exact colours (a legend reads them); spheres are shaded to show depth.
        prop.SetLighting(spheres)
        mapper = actor.GetMapper()
        if layer.scalars is None:
            mapper.ScalarVisibilityOff()
            prop.SetColor(rgb(layer.color))
        else:
            values = np.asarray(layer.scalars, dtype=np.float32).reshape(-1)
            if kept.values is None:
                from vtkmodules.util.numpy_support import numpy_to_vtk

                kept.values = values.copy()
                array = numpy_to_vtk(kept.values, deep=False)
                array.SetName("values")
                kept.poly.GetPointData().SetScalars(array)
            else:
                kept.values[:] = values
                kept.poly.GetPointData().GetScalars().Modified()
            if kept.cmap != layer.cmap:
                kept.table, kept.cmap = colormap_table(layer.cmap), layer.cmap
                mapper.SetLookupTable(kept.table)
            low, high = layer.value_range()
            kept.table.SetRange(low, high)
            mapper.SetScalarRange(low, high)
            mapper.SetScalarModeToUsePointData()
            mapper.ScalarVisibilityOn()
        actor.SetVisibility(True)

    def _make_actor(self, k: int, points: np.ndarray) -> _Actor:
        """A new actor for layer ``k`` (replacing one whose point count differed)."""
        from vtkmodules.util.numpy_support import numpy_to_vtk
        from vtkmodules.vtkCommonCore import VTK_ID_TYPE, vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

        renderer = self._renderer
        if k < len(self._actors):
            renderer.RemoveViewProp(self._actors[k].actor)
        # A private copy: frames overwrite it in place, and must not overwrite the caller's array.
        # VTK reads it without a copy of its own (deep=False); _Actor keeps it alive.
        own = np.array(points, dtype=np.float32, order="C", copy=True).reshape(-1, 3)
        vtk_points = vtkPoints()
        vtk_points.SetData(numpy_to_vtk(own, deep=False))
        count = len(own)
        id_type = np.int64 if VTK_ID_TYPE == 16 else np.int32
        vertices = vtkCellArray()  # one vertex cell per point
        vertices.SetData(numpy_to_vtk(np.arange(count + 1, dtype=id_type), deep=True, array_type=VTK_ID_TYPE),
                         numpy_to_vtk(np.arange(count, dtype=id_type), deep=True, array_type=VTK_ID_TYPE))
        poly = vtkPolyData()
        poly.SetPoints(vtk_points)
        poly.SetVerts(vertices)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(poly)
        mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        renderer.AddViewProp(actor)
        kept = _Actor(own, poly, actor)
        if k < len(self._actors):
            self._actors[k] = kept
        else:
            self._actors.append(kept)
        return kept

    def _show_bar(self, layers: list[CloudLayer]) -> None:
        """One colour bar, for the first layer coloured by values that asks for one."""
        for k, layer in enumerate(layers):
            if layer.scalars is not None and layer.scalar_bar:
                self._bar.SetLookupTable(self._actors[k].table)
                self._bar.SetVisibility(True)
                self._set_text(self._bar_title, layer.scalar_title, self._bar_font_size())
                return
        self._bar.SetVisibility(False)
        self._bar_title.SetVisibility(False)

    def _font_size(self) -> int:
        """Title size in pixels: readable in a 128 px thumbnail, not shouting in a 1024 px figure."""
        return int(np.clip(round(0.06 * min(self._size)), 10, 20))

    def _bar_font_size(self) -> int:
        return max(7, round(0.7 * self._font_size()))

    def _text_actor(self, top: bool) -> Any:
        from vtkmodules.vtkRenderingCore import vtkTextActor

        actor = vtkTextActor()
        text = actor.GetTextProperty()
        text.SetColor(self._text_color)
        text.SetFontFamilyToArial()
        text.SetJustificationToCentered()
        if top:
            text.SetVerticalJustificationToTop()
        else:
            text.SetVerticalJustificationToBottom()
        margin = max(3, round(0.012 * self._size[1]))
        actor.SetPosition(self._size[0] / 2, self._size[1] - margin if top else margin)
        return actor

    def _set_text(self, actor: Any, text: str, font_size: int) -> None:
        if not text:
            actor.SetVisibility(False)
            return
        fitted, size = _fit_text(text, font_size, self._size[0] - 8)
        actor.GetTextProperty().SetFontSize(size)
        actor.SetInput(fitted)
        actor.SetVisibility(True)

    def _style_bar(self) -> None:
        width, height = self._size
        style_scalar_bar(self._bar, bottom=0.18, font_size=self._bar_font_size(), color=self._text_color)
        # Right-aligned just above the bar, whose top is at 0.78 of the height.
        title = self._bar_title
        title.GetTextProperty().SetJustificationToRight()
        title.SetPosition(width - max(3, round(0.012 * width)), round(0.8 * height))

    def _frame_camera(self, azimuth: float = 0.0) -> None:
        position, up = camera_pose(self.view, self.up, azimuth)
        camera = self._renderer.GetActiveCamera()
        camera.SetFocalPoint(0.0, 0.0, 0.0)
        camera.SetPosition(*position)
        camera.SetViewUp(*up)
        camera.SetParallelScale(PARALLEL_SCALE)
        self._renderer.ResetCameraClippingRange()

    def close(self) -> None:
        """Release the render window (its OpenGL context) and the VTK objects; closing twice is harmless."""
        if self._window is None:
            return
        _OPEN.discard(self)
        self._renderer.RemoveAllViewProps()
        self._actors.clear()
        self._title = self._caption = self._bar = self._bar_title = None
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


@functools.lru_cache(maxsize=256)  # an animation sets the same few titles frame after frame
def _fit_text(text: str, font_size: int, max_width: int, smallest: int = 7) -> tuple[str, int]:
    """``text`` and a font size at which its widest line fits ``max_width`` pixels.

    Shrinks the font down to ``smallest``; a text still too wide loses characters
    in its middle (``night_st...0001``), where names differ least.
    """
    import vtkmodules.vtkRenderingFreeType  # noqa: F401  (registers the text renderer it measures with)
    from vtkmodules.vtkRenderingCore import vtkTextProperty, vtkTextRenderer

    renderer = vtkTextRenderer.GetInstance()
    prop = vtkTextProperty()
    prop.SetFontFamilyToArial()

    def width(candidate: str, size: int) -> int:
        prop.SetFontSize(size)
        box = [0, 0, 0, 0]
        renderer.GetBoundingBox(prop, candidate, box, 72)
        return box[1] - box[0]

    size = font_size
    while size > smallest and width(text, size) > max_width:
        size -= 1
    lines = text.split("\n")
    for i, line in enumerate(lines):
        keep = len(line)
        while keep > 2 and width(line, size) > max_width:
            keep -= 1
            line = lines[i][: (keep + 1) // 2] + "..." + lines[i][len(lines[i]) - keep // 2 :]
        lines[i] = line
    return "\n".join(lines), size
