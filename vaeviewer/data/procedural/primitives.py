"""Closed triangle-mesh primitives that the procedural shape classes are built from.

Every primitive returns a :data:`Mesh`: a pair ``(vertices, faces)`` of float64
(v, 3) coordinates and int64 (f, 3) vertex indices. Parts are placed with
:func:`transform` and joined with :func:`combine`; the joined mesh is sampled
once, area-weighted, so each part gets points in proportion to its area.

Most surfaces here are grids of vertices (rings along a path or a profile),
triangulated by one cached index pattern, so building a part costs a handful of
vectorised numpy calls however fine it is. Winding is not kept consistent: the
meshes are only ever sampled, never shaded.

Coordinates follow the data set's convention: Y is up, +Z is the front.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

__all__ = [
    "Mesh",
    "box",
    "combine",
    "ellipsoid",
    "revolve",
    "rotation",
    "rounded_path",
    "slab",
    "superellipsoid",
    "sweep",
    "torus",
    "transform",
    "tube",
]

Mesh = tuple[np.ndarray, np.ndarray]
"""A triangle mesh: float64 (v, 3) vertices and int64 (f, 3) vertex indices."""

_UNIT_BOX_VERTICES = np.array(
    [[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], dtype=np.float64
)
# Vertex i of the unit box has bits (x, y, z) = (i >> 2, i >> 1, i) & 1.
_UNIT_BOX_FACES = np.array(
    [
        [0, 1, 3], [0, 3, 2],  # x = -0.5
        [4, 6, 7], [4, 7, 5],  # x = +0.5
        [0, 4, 5], [0, 5, 1],  # y = -0.5
        [2, 3, 7], [2, 7, 6],  # y = +0.5
        [0, 2, 6], [0, 6, 4],  # z = -0.5
        [1, 5, 7], [1, 7, 3],  # z = +0.5
    ],
    dtype=np.int64,
)


@functools.lru_cache(maxsize=512)
def _grid_faces(rows: int, cols: int, wrap: bool) -> np.ndarray:
    """Triangles of a ``rows`` x ``cols`` vertex grid stored row by row.

    With ``wrap`` the last column joins the first (a ring). Cached and
    read-only: the same pattern serves every part of the same resolution.
    """
    spans = cols if wrap else cols - 1
    r = np.arange(rows - 1)[:, None]
    c = np.arange(spans)[None, :]
    c_next = (c + 1) % cols
    a = r * cols + c
    b = r * cols + c_next
    d = (r + 1) * cols + c_next
    e = (r + 1) * cols + c
    faces = np.stack([np.stack([a, b, d], -1), np.stack([a, d, e], -1)], axis=2).reshape(-1, 3)
    faces = faces.astype(np.int64)
    faces.flags.writeable = False
    return faces


def _ring_cap(first: int, count: int, centre: int) -> np.ndarray:
    """Fan of triangles closing the ring of ``count`` vertices from ``first`` on a centre vertex."""
    i = np.arange(count)
    return np.stack(
        [np.full(count, centre), first + i, first + (i + 1) % count], axis=1
    ).astype(np.int64)


def _grid_mesh(
    grid: np.ndarray, wrap: bool, cap_start: bool = False, cap_end: bool = False
) -> Mesh:
    """Mesh of a (rows, cols, 3) vertex grid, optionally closing its first and last rows."""
    rows, cols, _ = grid.shape
    vertices = grid.reshape(-1, 3)
    faces = [_grid_faces(rows, cols, wrap)]
    centres = []
    if cap_start:
        centres.append(grid[0].mean(axis=0))
        faces.append(_ring_cap(0, cols, rows * cols))
    if cap_end:
        centres.append(grid[-1].mean(axis=0))
        faces.append(_ring_cap((rows - 1) * cols, cols, rows * cols + len(centres) - 1))
    if centres:
        vertices = np.concatenate([vertices, np.array(centres)])
    return vertices, np.concatenate(faces)


def rotation(axis: str, angle: float) -> np.ndarray:
    """Matrix of a right-handed rotation by ``angle`` radians about ``"x"``, ``"y"`` or ``"z"``.

    Parameters
    ----------
    axis : str
        ``"x"``, ``"y"`` or ``"z"``.
    angle : float
        Angle in radians; positive turns counter-clockwise looking down the axis.

    Returns
    -------
    numpy.ndarray
        float64 (3, 3), to multiply column vectors (``points @ matrix.T``).
    """
    c, s = np.cos(angle), np.sin(angle)
    if axis == "x":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    if axis == "y":
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    if axis == "z":
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    raise ValueError(f"unknown axis {axis!r}: expected 'x', 'y' or 'z'")


def transform(
    mesh: Mesh,
    rotation: np.ndarray | None = None,
    translation: Sequence[float] | np.ndarray | None = None,
    scale: Sequence[float] | np.ndarray | float | None = None,
) -> Mesh:
    """Scale, then rotate, then translate a mesh.

    Parameters
    ----------
    mesh : Mesh
        The part to move.
    rotation : numpy.ndarray, optional
        (3, 3) matrix, e.g. from :func:`rotation`.
    translation : sequence of float, optional
        Offset added last.
    scale : float or sequence of float, optional
        Factor per axis, applied first (about the origin).

    Returns
    -------
    Mesh
        A new mesh sharing the faces array.
    """
    vertices, faces = mesh
    v = vertices
    if scale is not None:
        v = v * np.asarray(scale, dtype=np.float64)
    if rotation is not None:
        v = v @ np.asarray(rotation, dtype=np.float64).T
    if translation is not None:
        v = v + np.asarray(translation, dtype=np.float64)
    return v, faces


def combine(parts: Sequence[Mesh]) -> Mesh:
    """Join meshes into one, renumbering each part's faces after the vertices before it.

    Parameters
    ----------
    parts : sequence of Mesh
        At least one part.

    Returns
    -------
    Mesh
        Concatenated vertices (float64) and faces (int64).
    """
    if not parts:
        raise ValueError("combine needs at least one part")
    offsets = np.cumsum([0] + [len(v) for v, _ in parts[:-1]])
    vertices = np.concatenate([v for v, _ in parts]).astype(np.float64, copy=False)
    faces = np.concatenate([f + off for (_, f), off in zip(parts, offsets)])
    return vertices, faces.astype(np.int64, copy=False)


def box(size: Sequence[float], center: Sequence[float] = (0.0, 0.0, 0.0)) -> Mesh:
    """Axis-aligned box of ``size`` (x, y, z) centred on ``center``: 8 vertices, 12 triangles.

    Parameters
    ----------
    size : sequence of float
        Edge lengths along x, y and z.
    center : sequence of float
        Centre of the box.

    Returns
    -------
    Mesh
    """
    vertices = _UNIT_BOX_VERTICES * np.asarray(size, dtype=np.float64) + np.asarray(center)
    return vertices, _UNIT_BOX_FACES


def _circle_section(segments: int) -> np.ndarray:
    angles = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _path_frames(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal and binormal at every point of a path, by parallel transport.

    Parallel transport keeps the cross-section from twisting along the path,
    which a fixed reference vector would do wherever the path turns near it.
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
    helper = np.zeros(3)
    helper[int(np.argmin(np.abs(first)))] = 1.0
    normal = np.cross(first, helper)
    normal /= np.linalg.norm(normal)
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

    Returns
    -------
    Mesh
    """
    points = np.asarray(path, dtype=np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise ValueError("a swept path needs at least two points")
    outline = _circle_section(segments) if section is None else np.asarray(section, np.float64)
    radii = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(points),))
    normals, binormals = _path_frames(points)
    grid = (
        points[:, None, :]
        + radii[:, None, None]
        * (outline[None, :, 0, None] * normals[:, None, :] + outline[None, :, 1, None] * binormals[:, None, :])
    )
    return _grid_mesh(grid, wrap=True, cap_start=caps, cap_end=caps)


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


def revolve(
    radii: Sequence[float] | np.ndarray,
    heights: Sequence[float] | np.ndarray,
    segments: int = 24,
    close_bottom: bool = False,
    close_top: bool = False,
) -> Mesh:
    """Surface of revolution about the Y axis of the profile ``(radii[i], heights[i])``.

    Parameters
    ----------
    radii, heights : array-like
        The profile, from its first to its last point; a radius of 0 meets the axis.
    segments : int
        Vertices around each ring.
    close_bottom, close_top : bool
        Close the first / last ring with a disc (for a profile that ends off the axis).

    Returns
    -------
    Mesh
    """
    r = np.asarray(radii, dtype=np.float64)
    y = np.asarray(heights, dtype=np.float64)
    circle = _circle_section(segments)
    grid = np.stack(
        [r[:, None] * circle[None, :, 0], np.broadcast_to(y[:, None], (len(y), segments)),
         r[:, None] * circle[None, :, 1]],
        axis=-1,
    )
    return _grid_mesh(grid, wrap=True, cap_start=close_bottom, cap_end=close_top)


def ellipsoid(
    radii: Sequence[float],
    center: Sequence[float] = (0.0, 0.0, 0.0),
    segments: int = 16,
    rings: int = 10,
) -> Mesh:
    """Ellipsoid with semi-axes ``radii`` (x, y, z) centred on ``center``.

    Parameters
    ----------
    radii : sequence of float
        Semi-axes along x, y and z.
    center : sequence of float
        Centre.
    segments, rings : int
        Vertices around each ring, and rings from pole to pole.

    Returns
    -------
    Mesh
    """
    phi = np.linspace(-0.5 * np.pi, 0.5 * np.pi, rings)
    mesh = revolve(np.cos(phi), np.sin(phi), segments=segments)
    return transform(mesh, translation=center, scale=radii)


def superellipsoid(
    radii: Sequence[float],
    center: Sequence[float] = (0.0, 0.0, 0.0),
    roundness: float = 0.3,
    segments: int = 20,
    rings: int = 12,
) -> Mesh:
    """Rounded box (cushion, mattress, pillow): a superellipsoid.

    Parameters
    ----------
    radii : sequence of float
        Half-extents along x, y and z.
    center : sequence of float
        Centre.
    roundness : float
        Exponent in (0, 1]: near 0 a box with sharp edges, 1 an ellipsoid.
    segments, rings : int
        Vertices around, and from bottom to top.

    Returns
    -------
    Mesh
    """
    phi = np.linspace(-0.5 * np.pi, 0.5 * np.pi, rings)[:, None]
    theta = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)[None, :]

    def signed_power(value: np.ndarray) -> np.ndarray:
        return np.sign(value) * np.abs(value) ** roundness

    cos_phi = signed_power(np.cos(phi))
    grid = np.stack(
        [
            cos_phi * signed_power(np.cos(theta)),
            np.broadcast_to(signed_power(np.sin(phi)), (rings, segments)),
            cos_phi * signed_power(np.sin(theta)),
        ],
        axis=-1,
    )
    grid = grid * np.asarray(radii, dtype=np.float64) + np.asarray(center, dtype=np.float64)
    return _grid_mesh(grid, wrap=True)


def torus(
    major_radius: float,
    minor_radius: float,
    center: Sequence[float] = (0.0, 0.0, 0.0),
    arc: tuple[float, float] = (0.0, 2.0 * np.pi),
    major_segments: int = 24,
    minor_segments: int = 10,
) -> Mesh:
    """Torus, or an arc of one, in the XY plane (its axis along Z).

    Parameters
    ----------
    major_radius : float
        Distance from the centre to the middle of the tube.
    minor_radius : float
        Radius of the tube.
    center : sequence of float
        Centre of the ring.
    arc : tuple of float
        Start and end angle in radians, measured from +X towards +Y; a full
        turn gives a closed ring, less an open arc (a mug's handle).
    major_segments, minor_segments : int
        Rings along the arc, and vertices around the tube.

    Returns
    -------
    Mesh
    """
    start, end = arc
    full = np.isclose(end - start, 2.0 * np.pi)
    u = np.linspace(start, end, major_segments, endpoint=not full)[:, None]
    v = np.linspace(0.0, 2.0 * np.pi, minor_segments, endpoint=False)[None, :]
    ring = major_radius + minor_radius * np.cos(v)
    side = np.broadcast_to(minor_radius * np.sin(v), (len(u), v.shape[1]))
    grid = np.stack([ring * np.cos(u), ring * np.sin(u), side], axis=-1)
    grid = grid + np.asarray(center, dtype=np.float64)
    if full:
        # A closed ring: one more row of quads joins the last ring back to the first.
        rows, cols, _ = grid.shape
        faces = _grid_faces(rows + 1, cols, True) % (rows * cols)
        return grid.reshape(-1, 3), faces
    return _grid_mesh(grid, wrap=True, cap_start=True, cap_end=True)


def slab(polygon: Sequence[Sequence[float]] | np.ndarray, bottom: float, top: float) -> Mesh:
    """Prism: a polygon in the XZ plane extruded from ``y = bottom`` to ``y = top``.

    Parameters
    ----------
    polygon : array-like
        (k, 2) outline as (x, z) points, star-shaped about its vertex mean
        (every convex polygon is), in either order.
    bottom, top : float
        Heights of the two faces.

    Returns
    -------
    Mesh
    """
    outline = np.asarray(polygon, dtype=np.float64)
    k = len(outline)
    grid = np.empty((2, k, 3))
    grid[:, :, 0] = outline[:, 0]
    grid[:, :, 2] = outline[:, 1]
    grid[0, :, 1] = bottom
    grid[1, :, 1] = top
    return _grid_mesh(grid, wrap=True, cap_start=True, cap_end=True)


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
