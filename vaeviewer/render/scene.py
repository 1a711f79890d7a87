"""The scene both hosts draw: clouds, texts and a colour bar in a VTK renderer, kept and changed in place.

Two hosts draw point clouds: the window's viewport (a pyvistaqt interactor with
two renderers side by side) and :class:`~vaeviewer.render.offscreen.OffscreenRenderer`
(one off-screen render window, for pictures, animations and thumbnails). Each of
their renderers holds one :class:`ScenePane`, which keeps one actor per layer and,
frame after frame, copies the new points (and values) into the arrays VTK
already holds: an actor is made again only when its layer's number of points
changes, so a long animation or a thousand thumbnails allocate nothing per
frame. The pane also keeps a text along its top, one along its bottom, a colour
bar and the bar's title, made once and only changed afterwards. Where the texts
go and how large they are is the host's :class:`PaneLayout` (pixels and fitted to
an image's width off screen; fractions of the pane in the window). What a cloud
looks like (:class:`CloudLayer`), the preset cameras and the colour bar's style
are defined here once for both.
"""

from __future__ import annotations

import functools
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
    "PaneLayout",
    "ScenePane",
    "TextSpot",
    "aim_camera",
    "camera_pose",
    "is_software_renderer",
    "rgb",
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




def aim_camera(camera: Any, view: str, up: str = "y", azimuth: float = 0.0, zoom: float = 1.0) -> None:
    """Put a VTK camera on a preset view of the origin, framing the unit sphere (``zoom`` > 1 shows more)."""
    position, view_up = camera_pose(view, up, azimuth)
    camera.SetFocalPoint(0.0, 0.0, 0.0)
    camera.SetPosition(*position)
    camera.SetViewUp(*view_up)
    camera.SetParallelScale(PARALLEL_SCALE * zoom)


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
    label : str
        What the cloud is ("reconstruction of chair 3"): how the window offers it for saving.
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
    label: str = ""

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



@dataclass(frozen=True)
class TextSpot:
    """Where one text of a pane stands.

    ``x`` and ``y`` are pixels of the picture, or fractions of the pane with
    ``normalized``; the text hangs below the spot with ``top``, stands on it
    otherwise, and ends at it with ``right`` (else it is centred on it).
    """

    x: float
    y: float
    size: int
    top: bool = False
    right: bool = False
    normalized: bool = False


@dataclass(frozen=True)
class PaneLayout:
    """Where a pane's texts and colour bar go, and how large they are.

    Attributes
    ----------
    top, bottom, bar_title : TextSpot
        The caption along the top, the line along the bottom, the colour bar's title.
    bar_bottom, bar_font : float, int
        The colour bar's lower edge (a fraction of the height) and label size.
    bar_max_width : int or None
        The bar's widest, in pixels (a wide window would stretch it otherwise).
    fit_width : int or None
        Texts wider than this many pixels are shrunk (then shortened in the middle) to fit; None keeps them as they are.
    """

    top: TextSpot
    bottom: TextSpot
    bar_title: TextSpot
    bar_bottom: float
    bar_font: int
    bar_max_width: int | None = None
    fit_width: int | None = None

    @classmethod
    def for_image(cls, width: int, height: int) -> PaneLayout:
        """A picture's: sizes that read in a 128 px thumbnail without shouting in a 1024 px figure."""
        title = int(np.clip(round(0.06 * min(width, height)), 10, 20))
        bar = max(7, round(0.7 * title))
        margin = max(3, round(0.012 * height))
        return cls(
            top=TextSpot(width / 2, height - margin, title, top=True),
            bottom=TextSpot(width / 2, margin, max(7, round(0.8 * title))),
            # Right-aligned just above the bar, whose top is at 0.78 of the height.
            bar_title=TextSpot(width - max(3, round(0.012 * width)), round(0.8 * height), bar, right=True),
            bar_bottom=0.18,
            bar_font=bar,
            fit_width=width - 8,
        )

    @classmethod
    def for_window(cls) -> PaneLayout:
        """The viewport's: fixed sizes at fixed fractions of each pane."""
        return cls(
            top=TextSpot(0.5, 0.975, 15, top=True, normalized=True),
            bottom=TextSpot(0.5, 0.02, 12, normalized=True),
            bar_title=TextSpot(0.98, 0.77, 12, right=True, normalized=True),
            bar_bottom=0.15,
            bar_font=12,
            bar_max_width=90,
        )


@dataclass
class _Cloud:
    """What a pane keeps of one layer between frames."""

    points: np.ndarray  # (n, 3) float32 that VTK's points use without a copy, overwritten frame after frame
    poly: Any  # vtkPolyData of the points, one vertex each
    actor: Any  # vtkActor
    values: np.ndarray | None = None  # (n,) float32 behind the point data's scalars, made on first use
    table: Any = None  # vtkLookupTable of the layer's colour map, made on first use
    cmap: str = ""


class ScenePane:
    """The clouds, texts and colour bar of one VTK renderer, reused from one frame to the next.

    VTK objects belong to the thread that made them: make, use and release a
    pane on one thread (the GUI thread in the window).

    Parameters
    ----------
    renderer : vtkRenderer
        Where the pane draws; the host owns it (its camera, lights and background).
    layout : PaneLayout
    text_color : tuple of float
        RGB in [0, 1] of the texts and the bar's labels.
    """

    def __init__(self, renderer: Any, layout: PaneLayout, text_color: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        import vtkmodules.vtkRenderingFreeType  # noqa: F401  (registers the text rendering with VTK's factory)
        from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor

        self.renderer = renderer
        self.layout = layout
        self._clouds: list[_Cloud] = []
        self._top = self._text(layout.top)
        self._bottom = self._text(layout.bottom)
        # The bar's own title is clipped to the bar's narrow box; a text of ours is not.
        self._bar_title = self._text(layout.bar_title)
        self._bar = vtkScalarBarActor()
        style_scalar_bar(self._bar, bottom=layout.bar_bottom, font_size=layout.bar_font)
        if layout.bar_max_width is not None:
            self._bar.SetMaximumWidthInPixels(layout.bar_max_width)
        for prop in (self._top, self._bottom, self._bar, self._bar_title):
            prop.SetVisibility(False)
            renderer.AddViewProp(prop)
        self.set_text_color(text_color)

    # ---- public -----------------------------------------------------------------------------

    def show(self, layers: tuple[CloudLayer, ...] | list[CloudLayer], top: str = "", bottom: str = "") -> None:
        """Draw ``layers`` in place of what was drawn, with ``top`` and ``bottom`` texts (empty: none)."""
        for k, layer in enumerate(layers):
            self._draw(k, layer)
        for kept in self._clouds[len(layers):]:
            kept.actor.SetVisibility(False)  # hidden, not removed: the next frame with as many layers reuses it
        self._show_bar(layers)
        self._set_text(self._top, self.layout.top, top)
        self._set_text(self._bottom, self.layout.bottom, bottom)
        self.renderer.ResetCameraClippingRange()

    def set_text_color(self, color: tuple[float, float, float]) -> None:
        """Colour the texts and the bar's labels (a theme's, or the one that reads on a background)."""
        for actor in (self._top, self._bottom, self._bar_title):
            actor.GetTextProperty().SetColor(*color)
        for prop in (self._bar.GetTitleTextProperty(), self._bar.GetLabelTextProperty()):
            prop.SetColor(*color)

    @property
    def layer_count(self) -> int:
        """How many layers have an actor (shown or kept hidden for reuse)."""
        return len(self._clouds)

    def layer_actor(self, k: int) -> Any:
        """The ``vtkActor`` of layer ``k``."""
        return self._clouds[k].actor

    def layer_points(self, k: int) -> np.ndarray:
        """The float32 (n, 3) points VTK draws for layer ``k`` (the pane's own copy)."""
        return self._clouds[k].points

    @property
    def bar_shown(self) -> bool:
        """Whether the colour bar is visible."""
        return bool(self._bar.GetVisibility())

    def release(self) -> None:
        """Remove every prop from the renderer and drop the VTK objects; the pane draws nothing afterwards."""
        self.renderer.RemoveAllViewProps()
        self._clouds.clear()
        self._top = self._bottom = self._bar = self._bar_title = None
        self.renderer = None

    # ---- clouds -----------------------------------------------------------------------------

    def _draw(self, k: int, layer: CloudLayer) -> None:
        points = np.asarray(layer.points, dtype=np.float32)
        if k < len(self._clouds) and len(self._clouds[k].points) == len(points):
            kept = self._clouds[k]
            # Copy into the array VTK already holds, and tell VTK that it changed.
            kept.points[:] = points
            kept.poly.GetPoints().Modified()
        else:
            kept = self._make_cloud(k, points)
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
            self._set_values(kept, layer)
        actor.SetVisibility(True)

    def _set_values(self, kept: _Cloud, layer: CloudLayer) -> None:
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
        mapper = kept.actor.GetMapper()
        if kept.cmap != layer.cmap:
            kept.table, kept.cmap = colormap_table(layer.cmap), layer.cmap
            mapper.SetLookupTable(kept.table)
        low, high = layer.value_range()
        kept.table.SetRange(low, high)
        mapper.SetScalarRange(low, high)
        mapper.SetScalarModeToUsePointData()
        mapper.ScalarVisibilityOn()

    def _make_cloud(self, k: int, points: np.ndarray) -> _Cloud:
        """A new actor for layer ``k`` (replacing one whose point count differed)."""
        from vtkmodules.util.numpy_support import numpy_to_vtk
        from vtkmodules.vtkCommonCore import VTK_ID_TYPE, vtkPoints
        from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

        if k < len(self._clouds):
            self.renderer.RemoveViewProp(self._clouds[k].actor)
        # A private copy: frames overwrite it in place, and must not overwrite the caller's array.
        # VTK reads it without a copy of its own (deep=False); _Cloud keeps it alive.
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
        self.renderer.AddViewProp(actor)
        kept = _Cloud(own, poly, actor)
        if k < len(self._clouds):
            self._clouds[k] = kept
        else:
            self._clouds.append(kept)
        return kept

    # ---- texts and bar ----------------------------------------------------------------------

    def _show_bar(self, layers: tuple[CloudLayer, ...] | list[CloudLayer]) -> None:
        """One colour bar, for the first layer coloured by values that asks for one."""
        for k, layer in enumerate(layers):
            if layer.scalars is not None and layer.scalar_bar:
                self._bar.SetLookupTable(self._clouds[k].table)
                self._bar.SetVisibility(True)
                self._set_text(self._bar_title, self.layout.bar_title, layer.scalar_title)
                return
        self._bar.SetVisibility(False)
        self._bar_title.SetVisibility(False)

    def _text(self, spot: TextSpot) -> Any:
        from vtkmodules.vtkRenderingCore import vtkTextActor

        actor = vtkTextActor()
        prop = actor.GetTextProperty()
        prop.SetFontFamilyToArial()
        prop.SetFontSize(spot.size)
        if spot.right:
            prop.SetJustificationToRight()
        else:
            prop.SetJustificationToCentered()
        if spot.top:
            prop.SetVerticalJustificationToTop()
        else:
            prop.SetVerticalJustificationToBottom()
        if spot.normalized:
            coordinate = actor.GetPositionCoordinate()
            coordinate.SetCoordinateSystemToNormalizedViewport()
            coordinate.SetValue(spot.x, spot.y)
        else:
            actor.SetPosition(spot.x, spot.y)
        return actor

    def _set_text(self, actor: Any, spot: TextSpot, text: str) -> None:
        if not text:
            actor.SetVisibility(False)
            return
        if self.layout.fit_width is not None:
            text, size = _fit_text(text, spot.size, self.layout.fit_width)
            actor.GetTextProperty().SetFontSize(size)
        actor.SetInput(text)
        actor.SetVisibility(True)
