"""A shape under construction: its mesh parts, and the solids that hide surface inside them.

Parts made of simple primitives overlap: a cushion sinks into a sofa's base, a
leg's end sits inside a seat. Sampling the joined mesh would put points on
those buried faces too, which blurs the cloud (a sofa becomes a box of noise).
So solid parts are also recorded as a :class:`Solid`, a volume with an
inside test, and :meth:`Assembly.sample` drops the points that lie strictly
inside any of them. What is left is an area-weighted sample of the visible
surface, like a sample of a watertight mesh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vaeviewer.data.geometry import sample_surface
from vaeviewer.data.procedural.primitives import Mesh, box, combine, superellipsoid, transform
from vaeviewer.data.procedural.sweeps import tube

__all__ = ["Assembly", "Solid"]

# Points closer than this to a solid's boundary count as outside it, so a part's
# own surface, and faces that merely touch a solid, survive.
_BOUNDARY = 1e-3

_IDENTITY = np.eye(3)


@dataclass(frozen=True)
class Solid:
    """A convex volume: a box, a superellipsoid or a cylinder, possibly turned.

    Attributes
    ----------
    kind : str
        ``"box"``, ``"superellipsoid"`` or ``"cylinder"`` (axis along its local Y).
    center : numpy.ndarray
        Centre, (3,).
    half : numpy.ndarray
        Half-extents along the local axes, (3,); for a cylinder (r, h/2, r).
    rotation : numpy.ndarray
        (3, 3) matrix from local to world axes.
    roundness : float
        Exponent of a superellipsoid (see :func:`~.primitives.superellipsoid`).
    """

    kind: str
    center: np.ndarray
    half: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: _IDENTITY)
    roundness: float = 1.0

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Which of ``points`` (n, 3) lie inside, farther than a hair from the boundary.

        Returns
        -------
        numpy.ndarray
            bool (n,).
        """
        local = (points - self.center) @ self.rotation
        shrunk = np.maximum(self.half - _BOUNDARY, 1e-9)
        if self.kind == "box":
            return np.all(np.abs(local) < shrunk, axis=1)
        scaled = np.abs(local / shrunk)
        if self.kind == "cylinder":
            return (scaled[:, 0] ** 2 + scaled[:, 2] ** 2 < 1.0) & (scaled[:, 1] < 1.0)
        return (scaled ** (2.0 / self.roundness)).sum(axis=1) < 1.0

    def moved(self, rotation: np.ndarray | None = None, translation: Sequence[float] | None = None) -> Solid:
        """This solid rotated about the origin, then translated, like :func:`~.primitives.transform`."""
        turn = _IDENTITY if rotation is None else np.asarray(rotation, dtype=np.float64)
        shift = np.zeros(3) if translation is None else np.asarray(translation, dtype=np.float64)
        return Solid(self.kind, turn @ self.center + shift, self.half, turn @ self.rotation,
                     self.roundness)


class Assembly:
    """Mesh parts of one shape, with the solids among them.

    Generators add parts with :meth:`add` (a surface only) or :meth:`add_box`
    and :meth:`add_cushion` (a surface that also hides what is inside it).
    """

    def __init__(self) -> None:
        self.parts: list[Mesh] = []
        self.solids: list[Solid] = []

    def add(self, mesh: Mesh, solid: Solid | None = None) -> None:
        """Add a part, and optionally the volume it encloses."""
        self.parts.append(mesh)
        if solid is not None:
            self.solids.append(solid)

    def extend(self, meshes: Sequence[Mesh]) -> None:
        """Add parts that hide nothing (thin or open surfaces)."""
        self.parts.extend(meshes)

    def merge(
        self,
        other: Assembly,
        rotation: np.ndarray | None = None,
        translation: Sequence[float] | None = None,
    ) -> None:
        """Add every part and solid of ``other``, rotated about the origin, then translated."""
        self.parts.extend(transform(part, rotation, translation) for part in other.parts)
        self.solids.extend(solid.moved(rotation, translation) for solid in other.solids)

    def add_box(self, size: Sequence[float], center: Sequence[float]) -> None:
        """Add a solid axis-aligned box (see :func:`~.primitives.box`)."""
        self.add(box(size, center),
                 Solid("box", np.asarray(center, np.float64), 0.5 * np.asarray(size, np.float64)))

    def add_cushion(
        self,
        radii: Sequence[float],
        center: Sequence[float],
        roundness: float = 0.3,
        rotation: np.ndarray | None = None,
        segments: int = 20,
        rings: int = 12,
    ) -> None:
        """Add a solid rounded box (see :func:`~.primitives.superellipsoid`), optionally turned.

        The rotation turns the cushion about its own centre.
        """
        centre = np.asarray(center, dtype=np.float64)
        mesh = superellipsoid(radii, (0.0, 0.0, 0.0), roundness, segments, rings)
        solid = Solid("superellipsoid", np.zeros(3), np.asarray(radii, np.float64), roundness=roundness)
        self.add(transform(mesh, rotation, centre), solid.moved(rotation, centre))

    def add_cylinder(
        self, start: Sequence[float], end: Sequence[float], radius: float, segments: int = 16
    ) -> None:
        """Add a solid closed cylinder from ``start`` to ``end`` (see :func:`~.primitives.tube`)."""
        a, b = np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64)
        axis = (b - a) / np.linalg.norm(b - a)
        # Any right-handed frame whose local Y is the axis will do: the solid is round.
        helper = np.zeros(3)
        helper[int(np.argmin(np.abs(axis)))] = 1.0
        side = np.cross(axis, helper)
        side /= np.linalg.norm(side)
        frame = np.stack([side, axis, np.cross(side, axis)], axis=1)
        half = np.array([radius, 0.5 * np.linalg.norm(b - a), radius])
        self.add(tube(a, b, radius, segments=segments), Solid("cylinder", 0.5 * (a + b), half, frame))

    def mesh(self) -> Mesh:
        """All parts joined into one mesh, buried faces included."""
        return combine(self.parts)

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` points on the visible surface, area-weighted.

        Draws points on the joined mesh and keeps those inside no solid, drawing
        again until there are enough; the survivors are still uniform on what
        is left of the surface.

        Returns
        -------
        numpy.ndarray
            float32 (count, 3), in the shape's own units.
        """
        vertices, faces = self.mesh()
        kept: list[np.ndarray] = []
        total = 0
        draw = int(count * 1.6) + 64
        for _ in range(20):
            points = sample_surface(vertices, faces, draw, rng)
            hidden = np.zeros(len(points), dtype=bool)
            for solid in self.solids:
                hidden |= solid.contains(points)
            kept.append(points[~hidden])
            total += len(kept[-1])
            if total >= count:
                return np.concatenate(kept)[:count]
        raise ValueError("almost all of the shape's surface is buried inside its solids")
