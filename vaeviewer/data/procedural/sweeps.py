"""Tubes, bars and bent rods: a cross-section swept along a path.

Legs, rails, handles, lamp arms and curved panels are all one outline carried
from point to point of a polyline; :func:`rounded_path` turns a polyline of
corners into a smoothly bent one first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vaeviewer.data.procedural.primitives import Mesh, circle_section, grid_mesh

__all__ = ["bar", "rounded_path", "sweep", "tube"]


def _path_frames(path: np.ndarray, normal: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Normal and binormal at every point of a path, by parallel transport.

    Parallel transport keeps the cross-section from twisting along the path,
    which a fixed reference vector would do wherever the path turns near it.
    ``normal``, if given, fixes the starting normal (made square to the path).
    """
    segment = np.diff(path, axis=0)
    segment /= np.linalg.norm(segment, axis=1, keepdims=True)
    tangents = np.empty_like(path)
    tangents[0], tangents[-1] = segment[0], segment[-1]
    # Inner points take the bisector, so rings sit square to both neighbours.
    inner = segment[:-1] + segment[1:]
    norms = np.linalg.norm(inner, axis=1, keepdims=True)
    tangents[1:-1] = np.where(norms > 1e-9, inner / np.maximum(norms, 1e-12), segment[1:])
    first = tangents[0]
    if normal is not None:
        normal = np.asarray(normal, dtype=np.float64)
        normal = normal - np.dot(normal, first) * first
    if normal is None or np.linalg.norm(normal) < 1e-9:
        helper = np.zeros(3)
        helper[int(np.argmin(np.abs(first)))] = 1.0
        normal = np.cross(first, helper)
    normal = normal / np.linalg.norm(normal)
    normals = np.empty_like(path)
    for i, tangent in enumerate(tangents):
        normal = normal - np.dot(normal, tangent) * tangent
        normal /= np.linalg.norm(normal)
        normals[i] = normal
    return normals, np.cross(tangents, normals)


def sweep(
    path: Sequence[Sequence[float]] | np.ndarray,
    radius: float | Sequence[float] | np.ndarray,
    segments: int = 10,
    section: np.ndarray | None = None,
    caps: bool = True,
    normal: Sequence[float] | None = None,
) -> Mesh:
    """Tube swept along a polyline: a circle (or any convex section) carried point to point.

    Parameters
    ----------
    path : array-like
        (n, 3) points, n >= 2, with no two consecutive points equal.
    radius : float or array-like
        Radius of the section, one for the whole path or one per point.
    segments : int
        Vertices around a circular section.
    section : numpy.ndarray, optional
        (k, 2) convex outline, in units of ``radius``, in the (normal, binormal)
        plane, used instead of a circle (e.g. a rectangle for a flat bar).
    caps : bool
        Close both ends with a fan.
    normal : sequence of float, optional
        Where the section's first axis points at the start of the path (made
        square to the path); matters only for a section that is not round.

    Returns
    -------
    Mesh
    """
    points = np.asarray(path, dtype=np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise ValueError("a swept path needs at least two points")
    outline = circle_section(segments) if section is None else np.asarray(section, np.float64)
    radii = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(points),))
    normals, binormals = _path_frames(points, None if normal is None else np.asarray(normal))
    grid = (
        points[:, None, :]
        + radii[:, None, None]
        * (outline[None, :, 0, None] * normals[:, None, :] + outline[None, :, 1, None] * binormals[:, None, :])
    )
    return grid_mesh(grid, wrap=True, cap_start=caps, cap_end=caps)


def tube(
    start: Sequence[float],
    end: Sequence[float],
    radius: float,
    radius_end: float | None = None,
    segments: int = 10,
    caps: bool = True,
) -> Mesh:
    """Cylinder or frustum (cone when one radius is 0) from ``start`` to ``end``.

    Parameters
    ----------
    start, end : sequence of float
        Centres of the two ends.
    radius : float
        Radius at ``start``.
    radius_end : float, optional
        Radius at ``end``; ``radius`` if omitted.
    segments : int
        Vertices around each end.
    caps : bool
        Close both ends.

    Returns
    -------
    Mesh
    """
    radii = (radius, radius if radius_end is None else radius_end)
    return sweep(np.array([start, end], dtype=np.float64), radii, segments=segments, caps=caps)


_SQUARE = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])


def bar(
    start: Sequence[float],
    end: Sequence[float],
    width: float,
    width_end: float | None = None,
    round_section: bool = False,
) -> Mesh:
    """A straight leg, post or rail: a square bar (sides facing X) or a cylinder, maybe tapered.

    Parameters
    ----------
    start, end : sequence of float
        Centres of the two ends.
    width : float
        Side of the square, or diameter, at ``start``.
    width_end : float, optional
        The same at ``end``; ``width`` if omitted.
    round_section : bool
        A cylinder rather than a square bar.

    Returns
    -------
    Mesh
    """
    widths = (width, width if width_end is None else width_end)
    path = np.array([start, end], dtype=np.float64)
    if round_section:
        return sweep(path, (0.5 * widths[0], 0.5 * widths[1]), segments=8)
    return sweep(path, widths, section=_SQUARE, normal=(1.0, 0.0, 0.0))


def rounded_path(
    corners: Sequence[Sequence[float]] | np.ndarray, radius: float, steps: int = 5
) -> np.ndarray:
    """A polyline with each inner corner replaced by a circular-ish fillet.

    Parameters
    ----------
    corners : array-like
        (n, 3) corner points.
    radius : float
        How far before and after each inner corner the fillet starts,
        clipped to half of the shorter neighbouring edge.
    steps : int
        Points on each fillet.

    Returns
    -------
    numpy.ndarray
        float64 (m, 3) points, for :func:`sweep`.
    """
    pts = np.asarray(corners, dtype=np.float64)
    out = [pts[0]]
    t = np.linspace(0.0, 1.0, steps)[:, None]
    for prev, corner, nxt in zip(pts[:-2], pts[1:-1], pts[2:]):
        to_prev, to_next = prev - corner, nxt - corner
        len_prev, len_next = np.linalg.norm(to_prev), np.linalg.norm(to_next)
        cut = min(radius, 0.5 * len_prev, 0.5 * len_next)
        a = corner + to_prev / len_prev * cut
        b = corner + to_next / len_next * cut
        # A quadratic Bezier through the corner is close to a circular fillet and needs no trig.
        out.extend((1 - t) ** 2 * a + 2 * (1 - t) * t * corner + t**2 * b)
    out.append(pts[-1])
    return np.array(out)
