"""Shape generators for vessels: bottles and mugs, surfaces of revolution about Y.

Both stand on ``y = 0`` with Y up; a mug's handle points towards +X. Sizes
are relative (a bottle is 1 tall); clouds are scaled to the unit sphere
afterwards, so only proportions matter.

Each ``generate_<class>(rng)`` draws every random choice from ``rng`` (a
``numpy.random.Generator``) and returns the shape as an :class:`~.assembly.Assembly`.
"""

from __future__ import annotations

import numpy as np

from vaeviewer.data.procedural.assembly import Assembly
from vaeviewer.data.procedural.primitives import revolve, torus
from vaeviewer.data.procedural.sweeps import rounded_path, sweep

__all__ = ["generate_bottle", "generate_mug"]


def _bottle_body(rng: np.random.Generator, radius: float, top: float) -> tuple[np.ndarray, np.ndarray]:
    """Profile (radii, heights) of a bottle's body from a chamfered foot up to ``top``."""
    style = str(rng.choice(("straight", "waisted", "barrel", "tapered"), p=(0.35, 0.25, 0.2, 0.2)))
    t = np.linspace(0.0, 1.0, 9)
    if style == "straight":
        shape = np.ones_like(t)
    elif style == "waisted":
        shape = 1.0 - rng.uniform(0.08, 0.2) * np.sin(np.pi * t) ** 2
    elif style == "barrel":
        shape = 1.0 + rng.uniform(0.06, 0.15) * np.sin(np.pi * t) - 0.1
    else:  # wider at the foot or at the top
        shape = 1.0 + rng.uniform(-0.2, 0.2) * (t - 0.5)
    chamfer = radius * rng.uniform(0.03, 0.08)
    radii = np.concatenate([[0.0, radius * shape[0] - chamfer], radius * shape])
    heights = np.concatenate([[0.0, 0.0], chamfer + t * (top - chamfer)])
    return radii, heights


def generate_bottle(rng: np.random.Generator) -> Assembly:
    """A bottle: body, shoulder, neck and lip (or cap), revolved about Y.

    Style choices: straight, waisted, barrel or tapered body, or a round
    flask; a shoulder that is domed, conical or concave (continuously, by the
    exponent of its curve); neck width and length; a lip ring or a screw cap.
    """
    radius = rng.uniform(0.1, 0.22)
    neck_radius = radius * rng.uniform(0.22, 0.45)
    neck_length = rng.uniform(0.08, 0.28)
    # The finish above the neck: a tall screw cap, or a thin lip ring.
    finish = rng.uniform(0.05, 0.08) if rng.random() < 0.4 else rng.uniform(0.015, 0.03)
    neck_bottom = 1.0 - finish - neck_length

    if rng.random() < 0.2:
        # A round flask: a sphere cut by the neck.
        sphere = min(rng.uniform(0.2, 0.3), 0.5 * neck_bottom)
        end = np.pi - np.arcsin(min(neck_radius / sphere, 0.95))
        angle = np.linspace(0.0, end, 14)
        radii = sphere * np.sin(angle)
        heights = sphere * (1.0 - np.cos(angle))
        # Stretch the sphere up to meet the neck, which keeps the neck where it was drawn.
        heights = heights * neck_bottom / heights[-1]
        radii[-1] = neck_radius
    else:
        shoulder = rng.uniform(0.1, 0.3) * neck_bottom
        radii, heights = _bottle_body(rng, radius, neck_bottom - shoulder)
        # Exponent > 1: a dome; 1: a cone; < 1: a concave, wine-bottle shoulder.
        exponent = rng.uniform(0.6, 2.5)
        t = np.linspace(0.0, 1.0, 10)[1:]
        curve = (1.0 - t**exponent) ** (1.0 / exponent)
        radii = np.concatenate([radii, neck_radius + (radii[-1] - neck_radius) * curve])
        heights = np.concatenate([heights, heights[-1] + shoulder * t])

    flare = rng.uniform(0.95, 1.1)
    neck_r = [neck_radius, neck_radius * flare]
    neck_y = [neck_bottom + 0.01, 1.0 - finish]
    finish_radius = neck_radius * flare * rng.uniform(1.1, 1.25)
    finish_r = [finish_radius, finish_radius, 0.0]
    finish_y = [1.0 - finish, 1.0, 1.0]
    radii = np.concatenate([radii, neck_r, finish_r])
    heights = np.concatenate([heights, neck_y, finish_y])
    shape = Assembly()
    shape.add(revolve(radii, heights, segments=24))
    return shape


def generate_mug(rng: np.random.Generator) -> Assembly:
    """A mug: an open cup with a wall thickness, and a handle on its side.

    Style choices: height-to-width ratio; straight, tapered or bellied wall;
    a round handle (an arc of a torus), a D-shaped or a tall ear handle, with
    a round or flat section.
    """
    radius = 0.5
    height = 2.0 * radius * rng.uniform(0.75, 1.4)
    top_radius = radius * rng.uniform(0.85, 1.2)
    belly = rng.uniform(0.0, 0.12) if rng.random() < 0.3 else 0.0
    wall = radius * rng.uniform(0.05, 0.09)

    t = np.linspace(0.0, 1.0, 7)
    outer = radius + (top_radius - radius) * t + belly * radius * np.sin(np.pi * t)
    floor = wall * 1.5
    radii = np.concatenate([[0.0], outer, (outer - wall)[::-1][:-1], [outer[0] - wall, 0.0]])
    heights = np.concatenate([[0.0], t * height, (floor + t * (height - floor))[::-1][:-1], [floor, floor]])
    shape = Assembly()
    shape.add(revolve(radii, heights, segments=32))

    def wall_radius(y: float) -> float:
        return float(np.interp(y / height, t, outer))

    centre_y = 0.5 * height + rng.uniform(-0.06, 0.04) * height
    reach = radius * rng.uniform(0.4, 0.75)
    thickness = radius * rng.uniform(0.09, 0.15)
    # Tall handles stop short of the foot and the rim.
    half = min(0.5 * height * rng.uniform(0.5, 0.8), centre_y - thickness - 0.04 * height,
               height - centre_y - thickness - 0.04 * height)
    attach = min(wall_radius(centre_y - half), wall_radius(centre_y + half)) - 0.5 * wall
    style = str(rng.choice(("round", "d", "ear"), p=(0.45, 0.35, 0.2)))
    if style == "round":
        # An arc through both attachment points and out to ``reach`` beyond the wall.
        bulge = reach + 0.5 * wall
        angle = 2.0 * np.arctan2(bulge, half)
        major = half / np.sin(angle)
        centre_x = attach + bulge - major
        shape.add(torus(major, thickness, (centre_x, centre_y, 0.0), (-angle, angle),
                        major_segments=20, minor_segments=10))
    else:
        out = attach + reach + 0.5 * wall
        if style == "d":
            corners = [(attach, centre_y + half, 0.0), (out, centre_y + half, 0.0),
                       (out, centre_y - half, 0.0), (attach, centre_y - half, 0.0)]
            path = rounded_path(corners, 0.6 * reach, steps=6)
        else:
            # Tall and leaning outwards at the top, like a cup's ear.
            s = np.linspace(-0.5 * np.pi, 0.5 * np.pi, 16)
            path = np.stack([attach + (reach + 0.5 * wall) * np.cos(s) * (1.0 + 0.25 * np.sin(s)),
                             centre_y + half * np.sin(s), np.zeros_like(s)], axis=1)
        section = None
        if rng.random() < 0.5:
            # A flat strap: wide along the section's first axis, which ``normal`` points
            # along Z, across the handle's plane.
            angle = np.linspace(0.0, 2.0 * np.pi, 10, endpoint=False)
            section = np.stack([1.3 * np.cos(angle), 0.55 * np.sin(angle)], axis=1)
        shape.add(sweep(path, thickness, segments=10, section=section, normal=(0.0, 0.0, 1.0)))
    return shape
