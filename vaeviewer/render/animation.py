"""Frames of an interpolation animation, rendered one at a time.

numpy and VTK only (no torch): the caller hands in the decoded clouds as
arrays. Two layouts:

``single``
    The morphing cloud alone, in green, titled with its path parameter.
``triptych``
    Shape A | the morph | shape B, as in the original work's figures: the
    two inputs in grey, the morph in green.

Optionally the camera orbits once around the up axis over the whole clip,
and the clip plays forward then backward (ping-pong) so that it loops
without a jump.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from vaeviewer.render.figures import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.offscreen import OffscreenRenderer
from vaeviewer.render.scene import CloudLayer

__all__ = ["LAYOUTS", "animation_size", "interpolation_frames", "playback_order"]

#: Layouts :func:`interpolation_frames` draws.
LAYOUTS = ("single", "triptych")


def playback_order(steps: int, pingpong: bool = False) -> list[int]:
    """Which interpolation step each frame of the clip shows.

    Parameters
    ----------
    steps : int
        Steps of the interpolation.
    pingpong : bool
        Play forward, then backward without repeating either end (a looping
        player shows the ends once per cycle, not twice).

    Returns
    -------
    list of int
        ``0 .. steps-1``, followed with ``pingpong`` by ``steps-2 .. 1``:
        ``steps`` frames, or ``2 * steps - 2`` (at least ``steps``) with ping-pong.

    Examples
    --------
    >>> playback_order(4, pingpong=True)
    [0, 1, 2, 3, 2, 1]
    """
    forward = list(range(steps))
    return forward + forward[-2:0:-1] if pingpong else forward


def animation_size(layout: str, size: int) -> tuple[int, int]:
    """(width, height) in pixels of the frames of ``layout`` with square panels of ``size``."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; one of {', '.join(LAYOUTS)}")
    return (3 * size if layout == "triptych" else size, size)


def _point_size(size: int) -> float:
    # 5 px spheres suit 2048 points in a 512 px panel (the stills use it); keep
    # that proportion in smaller panels so the points do not merge into a blob.
    return max(2.0, 5.0 * size / 512)


def interpolation_frames(
    clouds: np.ndarray | Sequence[np.ndarray],
    *,
    ts: Sequence[float] | np.ndarray | None = None,
    input_a: np.ndarray | None = None,
    input_b: np.ndarray | None = None,
    labels: tuple[str, str] = ("A", "B"),
    layout: str = "single",
    size: int = 512,
    orbit: bool = False,
    pingpong: bool = False,
    up: str = "y",
    titles: Sequence[str] | None = None,
) -> Iterator[np.ndarray]:
    """Render the frames of an interpolation clip, one at a time.

    All frames come from one off-screen renderer, created on the first
    ``next()`` and closed when the generator finishes or is closed; VTK is
    touched only by the thread that iterates. At any time the generator
    holds one frame (and, for a triptych without orbit, the two still side
    panels).

    Parameters
    ----------
    clouds : numpy.ndarray or sequence of numpy.ndarray
        The decoded clouds, (steps, n, 3), in path order.
    ts : sequence of float, optional
        The path parameter of every step, for the titles ("t = 0.42");
        evenly spaced from 0 to 1 if omitted.
    input_a, input_b : numpy.ndarray, optional
        The two input shapes, (n, 3); required by the triptych.
    labels : tuple of str
        Titles of the triptych's side panels.
    layout : {"single", "triptych"}
        See the module's description.
    size : int
        Height of the frames, and width of each panel, in pixels.
    orbit : bool
        Turn the camera once around the up axis over the whole clip (the
        last frame stops one step short of 360 degrees, so the loop is seamless).
    pingpong : bool
        Play forward then backward; see :func:`playback_order`.
    up : {"y", "z"}
        The clouds' up axis.
    titles : sequence of str, optional
        A title for every step instead of ``t = ...`` (a sweep's amounts: ``pc1 +1.50σ``).

    Yields
    ------
    numpy.ndarray
        uint8 (size, width, 3) frames, width from :func:`animation_size`.
    """
    animation_size(layout, size)  # checks the layout before anything is drawn
    steps = len(clouds)
    if steps == 0:
        return
    if ts is None:
        ts = np.linspace(0.0, 1.0, steps) if steps > 1 else np.zeros(1)
    if len(ts) != steps:
        raise ValueError(f"{len(ts)} parameters for {steps} clouds")
    if titles is not None and len(titles) != steps:
        raise ValueError(f"{len(titles)} titles for {steps} clouds")
    if layout == "triptych" and (input_a is None or input_b is None):
        raise ValueError("the triptych layout needs input_a and input_b")
    order = playback_order(steps, pingpong)
    point_size = _point_size(size)
    with OffscreenRenderer((size, size), up=up) as renderer:
        sides: tuple[np.ndarray, np.ndarray] | None = None
        for position, step in enumerate(order):
            azimuth = 360.0 * position / len(order) if orbit else 0.0
            title = titles[step] if titles is not None else f"t = {ts[step]:.2f}"
            morph = renderer.render([CloudLayer(clouds[step], RECONSTRUCTION_GREEN, point_size)], title, azimuth)
            if layout == "single":
                yield morph
                continue
            if sides is None or orbit:
                # Still side panels are drawn once; orbiting ones turn with the middle.
                sides = (
                    renderer.render([CloudLayer(input_a, INPUT_GREY, point_size)], labels[0], azimuth),
                    renderer.render([CloudLayer(input_b, INPUT_GREY, point_size)], labels[1], azimuth),
                )
            yield np.concatenate([sides[0], morph, sides[1]], axis=1)
