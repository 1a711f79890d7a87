"""Export the interpolation between two shapes as an animated GIF or an MP4.

:func:`export_interpolation` is a generator of :class:`ExportProgress` events:
the command line drives it with a progress bar, the window will run it in a
worker thread and cancel it with a :class:`~vaeviewer.tasks.TaskControl`.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vaeviewer.errors import OptionError
from vaeviewer.render.animation import LAYOUTS, interpolation_frames, playback_order
from vaeviewer.render.writers import AnimationWriter, check_animation_path, open_animation_writer
from vaeviewer.tasks import TaskControl
from vaeviewer.workflows.interpolate import Interpolation, check_path_options, interpolate

if TYPE_CHECKING:
    from vaeviewer.model import PointCloudVAE

__all__ = ["EXPORT_STAGES", "ExportProgress", "check_export_options", "export_interpolation", "write_interpolation"]

#: Stages of an export, in the order they come; it ends with ``done`` or ``cancelled``.
EXPORT_STAGES = ("decoding", "rendering", "paused", "writing", "done", "cancelled")

#: Panel sizes in pixels we accept: smaller shows nothing, larger is surely a typo.
_SIZE_RANGE = (16, 4096)


@dataclass(frozen=True)
class ExportProgress:
    """Where an export stands.

    Attributes
    ----------
    frame : int
        Frames rendered and written so far.
    total : int
        Frames the file will have.
    stage : str
        One of :data:`EXPORT_STAGES`: ``decoding`` (before the model runs),
        ``rendering`` (after each frame), ``paused`` (before waiting for a
        resume), ``writing`` (before the file is finished and moved into
        place), then ``done`` or ``cancelled`` (nothing was written).
    path : pathlib.Path or None
        The written file, on ``done``.
    """

    frame: int
    total: int
    stage: str
    path: Path | None = None


def check_export_options(
    out_path: str | os.PathLike[str],
    *,
    steps: int = 12,
    fps: float = 10,
    size: int = 512,
    method: str = "lerp",
    layout: str = "single",
    up: str = "y",
) -> Path:
    """Check the options of :func:`export_interpolation` without doing any work.

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Raises
    ------
    OptionError
        Naming the first option that is wrong.
    """
    check_path_options(steps, method)
    target = check_animation_path(out_path, fps)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not _SIZE_RANGE[0] <= size <= _SIZE_RANGE[1]:
        raise OptionError(f"--size {size}: frames must be {_SIZE_RANGE[0]} to {_SIZE_RANGE[1]} pixels high")
    if layout not in LAYOUTS:
        raise OptionError(f"--layout {layout}: unknown layout; one of {', '.join(LAYOUTS)}")
    if up not in ("y", "z"):
        raise OptionError(f"--up {up}: the up axis is y or z")
    return target


def export_interpolation(
    model: PointCloudVAE,
    cloud_a: np.ndarray,
    cloud_b: np.ndarray,
    out_path: str | os.PathLike[str],
    *,
    steps: int = 12,
    fps: float = 10,
    size: int = 512,
    method: str = "lerp",
    layout: str = "single",
    orbit: bool = False,
    pingpong: bool = False,
    up: str = "y",
    labels: tuple[str, str] = ("A", "B"),
    control: TaskControl | None = None,
) -> Iterator[ExportProgress]:
    """Animate the decoded path from shape A to shape B into a GIF or MP4 file.

    The options are checked at once (before the first ``next()``); the work
    happens as the returned generator is iterated. Between frames it honours
    ``control``: a pause blocks it, a stop removes the temporary file and
    ends with a ``cancelled`` event. Closing the generator early, or an
    error, also leaves nothing behind.

    Parameters
    ----------
    model : PointCloudVAE
        The model; see :func:`~vaeviewer.workflows.interpolate.interpolate`.
    cloud_a, cloud_b : numpy.ndarray
        The two shapes, float (n, 3), normalised like the model's data.
    out_path : str or path-like
        ``.gif`` (loops forever) or ``.mp4`` (H.264); replaced atomically.
    steps : int
        Interpolation steps, both shapes included (at least 2).
    fps : float
        Frames per second (at most 50 for a GIF).
    size : int
        Frame height and panel width in pixels.
    method : {"lerp", "slerp"}
        How to walk between the latent means; see
        :func:`~vaeviewer.workflows.interpolate.latent_path`.
    layout : {"single", "triptych"}
        The morph alone, or A | morph | B; see :mod:`vaeviewer.render.animation`.
    orbit : bool
        Turn the camera once around the shapes over the clip.
    pingpong : bool
        Play forward then backward: ``2 * steps - 2`` frames instead of ``steps``.
    up : {"y", "z"}
        The clouds' up axis: ``y`` for the built-in set, ShapeNet and
        PointNet's h5 files, ``z`` for raw ModelNet ``.off`` meshes.
    labels : tuple of str
        Titles of the triptych's side panels.
    control : TaskControl, optional
        Stop and pause requests, checked between frames.

    Returns
    -------
    iterator of ExportProgress
        The last event has stage ``done`` (with ``path``) or ``cancelled``.

    Raises
    ------
    OptionError
        For a wrong option (at once), or a target that cannot be written
        (at the first ``next()``, or when the disk fills up while writing).
    """
    target = check_export_options(out_path, steps=steps, fps=fps, size=size, method=method, layout=layout, up=up)
    return _export(
        model, cloud_a, cloud_b, target, steps=steps, fps=fps, size=size, method=method, layout=layout,
        orbit=orbit, pingpong=pingpong, up=up, labels=labels, control=control or TaskControl(),
    )


def _export(
    model: PointCloudVAE, cloud_a: np.ndarray, cloud_b: np.ndarray, target: Path, *, steps: int, fps: float,
    size: int, method: str, layout: str, orbit: bool, pingpong: bool, up: str, labels: tuple[str, str],
    control: TaskControl,
) -> Iterator[ExportProgress]:
    total = len(playback_order(steps, pingpong))
    # Opened first: an unwritable target fails at once, before any progress is shown.
    writer = open_animation_writer(target, fps)
    try:
        yield ExportProgress(0, total, "decoding")
        result = interpolate(model, cloud_a, cloud_b, steps, method)
        yield from write_interpolation(result, writer, size=size, layout=layout, orbit=orbit, pingpong=pingpong,
                                       up=up, labels=labels, control=control)
    finally:
        writer.close()  # removes the temporary file unless committed


def write_interpolation(
    result: Interpolation,
    writer: AnimationWriter,
    *,
    size: int = 512,
    layout: str = "single",
    orbit: bool = False,
    pingpong: bool = False,
    up: str = "y",
    labels: tuple[str, str] = ("A", "B"),
    control: TaskControl | None = None,
) -> Iterator[ExportProgress]:
    """Render an already decoded path frame by frame into ``writer`` and commit the file.

    The second half of :func:`export_interpolation`, for a caller that decodes
    elsewhere (the window decodes on a worker thread, then renders here, one
    frame per event-loop turn). Yields an event per frame, then ``writing`` and
    ``done`` (the file is in place) or ``cancelled`` (``control`` asked to stop;
    the temporary file is gone). However it ends, ``writer`` is closed, which
    removes its temporary file unless committed. Renders with VTK: iterate it on
    one thread.
    """
    control = control or TaskControl()
    total = len(playback_order(result.steps, pingpong))
    frames: Generator[np.ndarray, None, None] | None = None
    try:
        frames = interpolation_frames(
            result.frames, ts=result.ts, input_a=result.input_a, input_b=result.input_b, labels=labels,
            layout=layout, size=size, orbit=orbit, pingpong=pingpong, up=up, titles=result.titles,
        )
        for done in range(total):
            if control.is_paused and not control.should_stop:
                yield ExportProgress(done, total, "paused")
                while not control.wait_while_paused(0.1):
                    pass
            if control.should_stop:
                writer.abort()
                yield ExportProgress(done, total, "cancelled")
                return
            writer.append(next(frames))
            yield ExportProgress(done + 1, total, "rendering")
        yield ExportProgress(total, total, "writing")
        if control.should_stop:
            writer.abort()
            yield ExportProgress(total, total, "cancelled")
            return
        yield ExportProgress(total, total, "done", writer.commit())
    finally:
        # Also runs when the caller closes the generator early or an error escapes.
        if frames is not None:
            frames.close()  # releases the renderer
        writer.close()
