"""Closed triangle-mesh primitives that the procedural shape classes are built from.

Every primitive returns a :data:`Mesh`: a pair ``(vertices, faces)`` of float64
(v, 3) coordinates and int64 (f, 3) vertex indices. Parts are placed with
:func:`transform` and joined with :func:`combine`; the joined mesh is sampled
once, area-weighted, so each part gets points in proportion to its area.
Swept tubes and bars are in :mod:`~vaeviewer.data.procedural.sweeps`.

Most surfaces here are grids of vertices (rings along a path or a profile,
:func:`grid_mesh`), triangulated by one cached index pattern, so building a
part costs a handful of vectorised numpy calls however fine it is. Winding is not kept consistent: the
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
    "circle_section",
    "combine",
    "ellipsoid",
    "grid_mesh",
    "revolve",
    "rotation",
    "slab",
    "superellipsoid",
    "torus",
    "transform",
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


def grid_mesh(
    grid: np.ndarray, wrap: bool, cap_start: bool = False, cap_end: bool = False
) -> Mesh:
    """Mesh of a (rows, cols, 3) vertex grid (rings along a path or a profile).

    Parameters
    ----------
    grid : numpy.ndarray
        (rows, cols, 3) vertices; row ``r`` joins row ``r + 1``.
    wrap : bool
        Join the last column to the first (each row is a closed ring).
    cap_start, cap_end : bool
        Close the first / last row with a fan around its mean.

    Returns
    -------
    Mesh
    """
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


def circle_section(segments: int) -> np.ndarray:
    """``segments`` points evenly around the unit circle, float64 (segments, 2)."""
    angles = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


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
    circle = circle_section(segments)
    grid = np.stack(
        [r[:, None] * circle[None, :, 0], np.broadcast_to(y[:, None], (len(y), segments)),
         r[:, None] * circle[None, :, 1]],
        axis=-1,
    )
    return grid_mesh(grid, wrap=True, cap_start=close_bottom, cap_end=close_top)


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
    return grid_mesh(grid, wrap=True)


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
    return grid_mesh(grid, wrap=True, cap_start=True, cap_end=True)


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
    return grid_mesh(grid, wrap=True, cap_start=True, cap_end=True)
