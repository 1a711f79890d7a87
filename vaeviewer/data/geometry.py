"""Geometry on point clouds and triangle meshes, in numpy.

Normalisation to the unit sphere, area-weighted surface sampling of meshes,
farthest-point sampling, and resampling a cloud to a fixed number of points.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "normalize_unit_sphere",
    "sample_surface",
    "farthest_point_sample",
    "resample_cloud",
    "triangulate_faces",
]


def normalize_unit_sphere(points: np.ndarray) -> np.ndarray:
    """Centre a cloud on its mean and scale it so its farthest point lies on the unit sphere.

    This is the convention of PointNet's ``modelnet40_ply_hdf5_2048`` data.

    Parameters
    ----------
    points : numpy.ndarray
        (n, 3) coordinates of one cloud, or (b, n, 3) for a batch of clouds
        that are each normalised on their own; all finite.

    Returns
    -------
    numpy.ndarray
        float32 of the same shape. A cloud whose points all coincide is centred and left unscaled.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[-2] == 0:
        return pts.astype(np.float32)
    centred = pts - pts.mean(axis=-2, keepdims=True)
    radius = np.sqrt((centred**2).sum(axis=-1).max(axis=-1))[..., None, None]
    # A degenerate cloud keeps radius 1 so that it is centred, not turned into NaN.
    centred /= np.where(radius > 0.0, radius, 1.0)
    return centred.astype(np.float32)


def triangulate_faces(faces: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """Fan-triangulate polygons (triangles, quads, n-gons) into triangles.

    Parameters
    ----------
    faces : list of numpy.ndarray or numpy.ndarray
        Vertex indices of each polygon: a list of 1-D arrays of any lengths, or
        a 2-D array of polygons of one size. Polygons of fewer than 3 vertices
        are dropped.

    Returns
    -------
    numpy.ndarray
        int64 (m, 3) triangles.
    """
    if isinstance(faces, np.ndarray) and faces.ndim == 2:
        if faces.shape[1] == 3:
            return faces.astype(np.int64, copy=False)
        polys = [faces]
    else:
        by_size: dict[int, list[np.ndarray]] = {}
        for face in faces:
            by_size.setdefault(len(face), []).append(np.asarray(face))
        polys = [np.stack(group) for size, group in by_size.items() if size >= 3]
    tris = []
    for poly in polys:
        k = poly.shape[1]
        for j in range(1, k - 1):
            tris.append(np.stack([poly[:, 0], poly[:, j], poly[:, j + 1]], axis=1))
    if not tris:
        return np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(tris).astype(np.int64, copy=False)


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Sample ``count`` points uniformly on a triangle mesh's surface (area-weighted).

    Parameters
    ----------
    vertices : numpy.ndarray
        (v, 3) vertex coordinates.
    faces : numpy.ndarray
        (f, 3) vertex indices of triangles.
    count : int
        Number of points to draw.
    rng : numpy.random.Generator
        Source of randomness, so that sampling is reproducible.

    Returns
    -------
    numpy.ndarray
        float32 (count, 3). Raises ``ValueError`` if the mesh has no area.
    """
    v = np.asarray(vertices, dtype=np.float64)
    tri = v[np.asarray(faces, dtype=np.int64)]
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    areas = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    total = float(areas.sum())
    if not np.isfinite(total) or total <= 0.0:
        raise ValueError("mesh has no surface area")
    chosen = rng.choice(len(areas), size=count, p=areas / total)
    # Uniform barycentric coordinates: fold the unit square onto the triangle.
    u = rng.random((count, 1))
    w = rng.random((count, 1))
    outside = (u + w) > 1.0
    u = np.where(outside, 1.0 - u, u)
    w = np.where(outside, 1.0 - w, w)
    pts = a[chosen] + u * (b[chosen] - a[chosen]) + w * (c[chosen] - a[chosen])
    return pts.astype(np.float32)


def farthest_point_sample(points: np.ndarray, count: int, start: int = 0) -> np.ndarray:
    """Indices of ``count`` points chosen by farthest-point sampling.

    Deterministic: starts from point ``start`` and repeatedly takes the point
    farthest from those already chosen (the first one on ties).

    Parameters
    ----------
    points : numpy.ndarray
        One cloud (n, 3) or a batch of clouds (b, n, 3).
    count : int
        Number of points to choose, at most n.
    start : int
        Index of the first point chosen.

    Returns
    -------
    numpy.ndarray
        int64 (count,) for one cloud, (b, count) for a batch. A cloud gets the
        same indices whether it is sampled alone or inside a batch.
    """
    pts = np.asarray(points, dtype=np.float32)
    single = pts.ndim == 2
    if single:
        pts = pts[None]
    b, n, _ = pts.shape
    if count > n:
        raise ValueError(f"cannot choose {count} of {n} points")
    # One contiguous (b, n) plane per axis and in-place arithmetic: about 4x faster
    # than broadcasting (b, n, 3) differences, and the per-element order of
    # operations does not depend on the batch size, so results are bit-identical.
    x, y, z = (np.ascontiguousarray(pts[..., axis]) for axis in range(3))
    chosen = np.empty((b, count), dtype=np.int64)
    rows = np.arange(b)
    nearest = np.full((b, n), np.inf, dtype=np.float32)
    dist = np.empty((b, n), dtype=np.float32)
    term = np.empty((b, n), dtype=np.float32)
    current = np.full(b, start, dtype=np.int64)
    for k in range(count):
        chosen[:, k] = current
        centre = pts[rows, current]
        np.subtract(x, centre[:, 0:1], out=dist)
        np.multiply(dist, dist, out=dist)
        for plane, axis in ((y, 1), (z, 2)):
            np.subtract(plane, centre[:, axis : axis + 1], out=term)
            np.multiply(term, term, out=term)
            dist += term
        np.minimum(nearest, dist, out=nearest)
        current = nearest.argmax(axis=1)
    return chosen[0] if single else chosen


def resample_cloud(points: np.ndarray, count: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Return exactly ``count`` points of a cloud.

    More points than ``count``: farthest-point sampling, which keeps the shape's
    extremities. Fewer: all points, then random repeats.

    Parameters
    ----------
    points : numpy.ndarray
        (n, 3) coordinates, n >= 1.
    count : int
        Number of points wanted, >= 1.
    rng : numpy.random.Generator, optional
        Chooses the repeats; seeded with 0 by default, so the result is reproducible.

    Returns
    -------
    numpy.ndarray
        float32 (count, 3); the input itself when it already has ``count`` float32 points.
    """
    pts = np.asarray(points, dtype=np.float32)
    n = len(pts)
    if count < 1:
        raise ValueError(f"cannot resample to {count} points")
    if n == count:
        return pts
    if n == 0:
        raise ValueError("cloud has no points")
    if n > count:
        return pts[farthest_point_sample(pts, count)]
    rng = rng if rng is not None else np.random.default_rng(0)
    extra = rng.choice(n, size=count - n, replace=True)
    return np.concatenate([pts, pts[extra]])
