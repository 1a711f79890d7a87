"""Still pictures: input against reconstruction, and grids of shapes with their names.

Every figure is drawn with one :class:`~vaeviewer.render.offscreen.OffscreenRenderer`
and assembled from square panels that share one camera, so a shape sits at the
same place and scale in every panel of a figure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaeviewer.files import atomic_write
from vaeviewer.render.colors import ERROR_CMAP, ERROR_TITLE, INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.offscreen import OffscreenRenderer
from vaeviewer.render.scene import CloudLayer

__all__ = [
    "COMPARISON_MODES",
    "INPUT_GREY",
    "RECONSTRUCTION_GREEN",
    "comparison_image",
    "nearest_squared_distance",
    "save_png",
    "shape_grid_image",
]

#: What :func:`comparison_image` can draw.
#:
#: ``overlay``
#:     one panel, the input in grey under the reconstruction in green (as in the original work);
#: ``side``
#:     input | reconstruction, seen from one camera;
#: ``error``
#:     input | reconstruction coloured by the two terms of the Chamfer distance: every input
#:     point by its squared distance to the nearest reconstructed point (where a part was
#:     missed), every reconstructed point by its squared distance to the nearest input point
#:     (where points were put where nothing is); one colour scale, one colour bar;
#: ``all``
#:     input | reconstruction | overlay above the two error panels, their colour bar and a
#:     summary of the numbers.
COMPARISON_MODES = ("overlay", "side", "error", "all")

_OVERLAY_LEGEND = "grey: input    green: reconstruction"


def nearest_squared_distance(points: np.ndarray, others: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Squared distance of every point to the nearest of ``others``.

    The per-point terms of the Chamfer distance, for callers that did not get
    them from the model; numpy only, ``chunk`` rows at a time to bound memory.

    Parameters
    ----------
    points : numpy.ndarray
        (n, 3) cloud.
    others : numpy.ndarray
        (m, 3) cloud, m >= 1.
    chunk : int
        Rows of ``points`` compared at once.

    Returns
    -------
    numpy.ndarray
        float32 (n,).
    """
    a = np.asarray(points, dtype=np.float64)
    b = np.asarray(others, dtype=np.float64)
    b_norm = (b * b).sum(axis=1)
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), chunk):
        block = a[start : start + chunk]
        d = (block * block).sum(axis=1)[:, None] + b_norm[None, :] - 2.0 * block @ b.T
        out[start : start + chunk] = np.maximum(d.min(axis=1), 0.0)
    return out


def comparison_image(
    input_points: np.ndarray,
    reconstruction: np.ndarray,
    title: str,
    size: int = 512,
    mode: str = "overlay",
    up: str = "y",
    input_error: np.ndarray | None = None,
    reconstruction_error: np.ndarray | None = None,
    *,
    error_max: float | None = None,
    view: str = "isometric",
) -> np.ndarray:
    """Draw a shape against its reconstruction.

    Parameters
    ----------
    input_points, reconstruction : numpy.ndarray
        float (n, 3) and (m, 3) clouds in the unit sphere.
    title : str
        Shown above the figure (put the Chamfer distance in it).
    size : int
        Side of one square panel in pixels.
    mode : str
        One of :data:`COMPARISON_MODES`.
    up : str
        The clouds' up axis, ``y`` or ``z``.
    input_error, reconstruction_error : numpy.ndarray, optional
        Squared distance of every input point to the nearest reconstructed point and the
        other way round (:class:`~vaeviewer.workflows.reconstruct.Reconstruction` has
        both); computed here when not given. Used by ``error`` and ``all``.
    error_max : float, optional
        Error at the light end of the colour map (larger errors are clamped to it). By
        default the 99th percentile of both errors, so that one stray point does not
        turn the rest dark; give the same value to compare several pictures.
    view : str
        Camera preset, see :data:`~vaeviewer.render.scene.CAMERA_DIRECTIONS`.

    Returns
    -------
    numpy.ndarray
        uint8 RGB image: ``overlay`` (size, size); ``side`` (band + size, 2 * size);
        ``error`` (band + size, 2 * size + bar); ``all`` (band + 2 * size, 3 * size + bar),
        where ``band`` is the strip of the title and ``bar`` that of the colour bar.
    """
    if mode not in COMPARISON_MODES:
        raise ValueError(f"unknown comparison mode {mode!r}; one of {', '.join(COMPARISON_MODES)}")
    point_size = max(2.0, 5.0 * size / 512)
    grey = CloudLayer(input_points, INPUT_GREY, point_size)
    green = CloudLayer(reconstruction, RECONSTRUCTION_GREEN, point_size)
    with OffscreenRenderer((size, size), view=view, up=up) as renderer:
        if mode == "overlay":
            return renderer.render([grey, green], title, caption=_OVERLAY_LEGEND)
        count = f"{len(input_points)} points"
        side = [
            renderer.render([grey], "input", caption=count),
            renderer.render([green], "reconstruction", caption=f"{len(reconstruction)} points"),
        ]
        if mode != "side":
            errors = _error_panels(
                renderer, grey, green, input_error, reconstruction_error, error_max, point_size, full=mode == "all"
            )
        if mode == "side":
            panels = np.concatenate(side, axis=1)
        elif mode == "error":
            panels = np.concatenate(errors, axis=1)
        else:
            overlay = renderer.render([grey, green], "overlay", caption=_OVERLAY_LEGEND)
            top = np.concatenate([*side, overlay], axis=1)
            bottom = np.concatenate(errors, axis=1)
            # The colour bar stands beside the error panels only: white beside the row above.
            top = np.pad(top, ((0, 0), (0, bottom.shape[1] - top.shape[1]), (0, 0)), constant_values=255)
            panels = np.concatenate([top, bottom], axis=0)
        return np.concatenate([_title_band(renderer, title, panels.shape[1]), panels], axis=0)


def _error_panels(
    renderer: OffscreenRenderer,
    grey: CloudLayer,
    green: CloudLayer,
    input_error: np.ndarray | None,
    reconstruction_error: np.ndarray | None,
    error_max: float | None,
    point_size: float,
    full: bool,
) -> list[np.ndarray]:
    """The input and the reconstruction coloured by their errors on one scale, a strip with
    the colour bar, and with ``full`` a panel with the numbers."""
    if input_error is None:
        input_error = nearest_squared_distance(grey.points, green.points)
    if reconstruction_error is None:
        reconstruction_error = nearest_squared_distance(green.points, grey.points)
    input_error = np.asarray(input_error, dtype=np.float32)
    reconstruction_error = np.asarray(reconstruction_error, dtype=np.float32)
    both = np.concatenate([input_error, reconstruction_error])
    top = float(error_max) if error_max is not None else float(np.percentile(both, 99)) if both.size else 1.0
    clim = (0.0, top if top > 0 else 1e-6)

    def coloured(points: np.ndarray, values: np.ndarray, bar: bool = False) -> CloudLayer:
        return CloudLayer(
            points, point_size=point_size, scalars=values, cmap=ERROR_CMAP, clim=clim, scalar_title=ERROR_TITLE, scalar_bar=bar
        )

    missed, spurious = float(input_error.mean()), float(reconstruction_error.mean())
    panels = [
        renderer.render([coloured(grey.points, input_error)], "input: distance to reconstruction", caption=f"mean {missed:.5f}"),
        renderer.render(
            [coloured(green.points, reconstruction_error)], "reconstruction: distance to input", caption=f"mean {spurious:.5f}"
        ),
    ]
    # Drawn once, outside the panels, so that it never covers a wide shape.
    bar = renderer.render([coloured(np.empty((0, 3), np.float32), np.empty(0, np.float32), bar=True)])
    inked = np.flatnonzero((bar < 230).any(axis=(0, 2)))
    left = max(0, int(inked[0]) - max(4, bar.shape[1] // 64)) if inked.size else bar.shape[1]
    panels.append(bar[:, left:])
    if full:
        summary = "\n".join(
            [
                f"Chamfer distance {missed + spurious:.5f}",
                f"= input to reconstruction {missed:.5f}",
                f"+ reconstruction to input {spurious:.5f}",
                "",
                f"worst input point {float(input_error.max()):.4f}",
                f"worst reconstructed point {float(reconstruction_error.max()):.4f}",
                f"colours from 0 to {clim[1]:.4g}",
            ]
        )
        panels.append(renderer.render([], summary))
    return panels


def _title_band(renderer: OffscreenRenderer, title: str, width: int) -> np.ndarray:
    """A strip ``width`` wide with ``title`` centred in the renderer's font; none without a title."""
    if not title:
        return np.zeros((0, width, 3), dtype=np.uint8)
    frame = renderer.render([], title)
    inked = np.flatnonzero((frame < 200).any(axis=(1, 2)))
    height = int(inked[-1]) + 1 + max(4, frame.shape[0] // 64) if inked.size else max(4, frame.shape[0] // 64)
    band = np.full((height, width, 3), frame[0, 0], dtype=np.uint8)
    left = (width - frame.shape[1]) // 2
    band[:, left : left + frame.shape[1]] = frame[:height]
    return band


def shape_grid_image(
    clouds: Sequence[np.ndarray], captions: Sequence[str], columns: int = 6, cell: int = 200, up: str = "y"
) -> np.ndarray:
    """A grid of clouds, each with its caption, drawn with one off-screen renderer.

    Parameters
    ----------
    clouds : sequence of numpy.ndarray
        (n, 3) clouds in the unit sphere.
    captions : sequence of str
        One per cloud (its name); long ones are set smaller, then shortened in the middle.
    columns : int
        Cells per row.
    cell : int
        Side of one square cell in pixels.
    up : str
        The clouds' up axis, ``y`` or ``z``.

    Returns
    -------
    numpy.ndarray
        uint8 (rows * cell, columns * cell, 3), white where no cloud is.
    """
    from vaeviewer.render.thumbnails import render_thumbnails

    rows = max(1, -(-len(clouds) // columns))
    image = np.full((rows * cell, columns * cell, 3), 255, dtype=np.uint8)
    thumbnails = render_thumbnails(clouds, size=cell, up=up, captions=captions)
    for k, thumbnail in enumerate(thumbnails):
        r, c = divmod(k, columns)
        image[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = thumbnail
    return image


def save_png(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an image as PNG atomically.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 (h, w, 3) or (h, w, 4).
    path : str or os.PathLike
        Where to write; must end in ``.png``. Missing folders are made.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OptionError
        For another suffix, or a path that cannot be written.
    """
    import imageio.v3 as iio

    from vaeviewer.errors import OptionError

    target = Path(path)
    if target.suffix.lower() != ".png":
        raise OptionError(f"{target}: the image must be a .png file")
    try:
        with atomic_write(target, ".png") as temp:
            iio.imwrite(temp, image)
    except OSError as error:
        raise OptionError(f"{target}: cannot write: {error.strerror or error}") from None
    return target
