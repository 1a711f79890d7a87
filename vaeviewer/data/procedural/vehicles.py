"""Shape generator for airplanes.

Y is up, the nose points towards +Z and the wings span X. The fuselage is
1 long; clouds are scaled to the unit sphere afterwards.

Each ``generate_<class>(rng)`` draws every random choice from ``rng`` (a
``numpy.random.Generator``) and returns the shape as an :class:`~.assembly.Assembly`.
"""

from __future__ import annotations

import numpy as np

from vaeviewer.data.procedural.assembly import Assembly, Solid
from vaeviewer.data.procedural.primitives import (
    Mesh,
    box,
    revolve,
    rotation,
    slab,
    transform,
)

__all__ = ["generate_airplane"]

# Revolving about Y and then turning +Y onto +Z lays a profile along the fuselage axis.
_ALONG_Z = rotation("x", 0.5 * np.pi)


def _fuselage(rng: np.random.Generator, radius: float, pointed: bool) -> tuple[Mesh, Solid]:
    """A fuselage from z = -0.5 (tail) to z = 0.5 (nose), its tail cone swept upwards.

    Also returns the solid cylinder of its cabin, which hides the wing roots.
    """
    tail = rng.uniform(0.2, 0.32)
    nose = rng.uniform(0.25, 0.4) if pointed else rng.uniform(0.07, 0.15)
    s = np.linspace(0.0, 1.0, 6)
    tail_z = -0.5 + tail * s
    tail_r = radius * (0.15 + 0.85 * np.sin(0.5 * np.pi * s) ** 0.8)
    nose_z = 0.5 - nose + nose * s
    nose_r = radius * ((1.0 - s) ** 0.8 if pointed else np.sqrt(np.clip(1.0 - s**2, 0.0, 1.0)))
    radii = np.concatenate([[0.0], tail_r, nose_r])
    heights = np.concatenate([[-0.5], tail_z, nose_z])
    vertices, faces = transform(revolve(radii, heights, segments=16), _ALONG_Z)
    # Airliners' tails rise so the bottom of the cone clears the runway on rotation.
    rise = np.clip((tail_z[-1] - vertices[:, 2]) / tail, 0.0, 1.0)
    vertices = vertices + np.outer(rise, (0.0, 0.7 * radius, 0.0))
    cabin_z = (tail_z[-1], nose_z[0])
    cabin = Solid("cylinder", np.array([0.0, 0.0, 0.5 * sum(cabin_z)]),
                  np.array([radius, 0.5 * (cabin_z[1] - cabin_z[0]), radius]), _ALONG_Z)
    return (vertices, faces), cabin


def _wing_pair(
    root_z: float,
    root_chord: float,
    half_span: float,
    sweep_angle: float,
    taper: float,
    thickness: float,
    dihedral: float,
    y: float,
) -> list[Mesh]:
    """Left and right wings from the centre line: tapered, swept, tilted up by ``dihedral``."""
    tip_z = root_z - half_span * np.tan(sweep_angle)
    outline = [(0.0, root_z), (half_span, tip_z), (half_span, tip_z - taper * root_chord),
               (0.0, root_z - root_chord)]
    wing = slab(outline, -0.5 * thickness, 0.5 * thickness)
    right = transform(wing, rotation("z", dihedral), (0.0, y, 0.0))
    left = transform(wing, rotation("z", -dihedral), (0.0, y, 0.0), scale=(-1.0, 1.0, 1.0))
    return [right, left]


def _fin(root_z: float, root_chord: float, height: float, sweep_angle: float, thickness: float) -> Mesh:
    """A vertical fin rising from y = 0 at the centre line."""
    tip_z = root_z - height * np.tan(sweep_angle)
    outline = [(0.0, root_z), (height, tip_z), (height, tip_z - 0.6 * root_chord),
               (0.0, root_z - root_chord)]
    # Built flat in XZ (x up the fin), then stood up: +X turns onto +Y.
    return transform(slab(outline, -0.5 * thickness, 0.5 * thickness), rotation("z", 0.5 * np.pi))


def _nacelle(length: float, radius: float, centre: tuple[float, float, float]) -> Mesh:
    """A jet engine pod along Z, open-looking intake at the front."""
    radii = [0.6 * radius, radius, radius, 0.75 * radius, 0.0]
    heights = np.array([-0.5, -0.45, 0.2, 0.5, 0.5]) * length
    return transform(revolve(radii, heights, segments=12, close_bottom=True), _ALONG_Z, centre)


def generate_airplane(rng: np.random.Generator) -> Assembly:
    """An airplane: fuselage, wings, tail, and engines.

    Style choices: an airliner (low swept wings, 2 or 4 engines under them);
    a business jet (T-tail, engines on the rear fuselage); a light plane
    (high straight wing, propeller); a fighter (pointed nose, delta-like
    wing, one or two fins). Continuous: span, sweep, taper, dihedral,
    fuselage girth, tail size.
    """
    kind = str(rng.choice(("airliner", "bizjet", "light", "fighter"), p=(0.4, 0.2, 0.2, 0.2)))
    fighter = kind == "fighter"
    radius = rng.uniform(0.045, 0.075) if not fighter else rng.uniform(0.05, 0.08)
    fuselage, cabin = _fuselage(rng, radius, pointed=fighter)
    parts = [fuselage]

    if kind == "airliner":
        span, sweep, taper = rng.uniform(0.85, 1.25), rng.uniform(0.4, 0.65), rng.uniform(0.2, 0.4)
        chord, wing_z, wing_y = rng.uniform(0.17, 0.26), rng.uniform(0.08, 0.2), -0.55 * radius
        dihedral = rng.uniform(0.03, 0.12)
    elif kind == "bizjet":
        span, sweep, taper = rng.uniform(0.75, 1.0), rng.uniform(0.3, 0.55), rng.uniform(0.3, 0.5)
        chord, wing_z, wing_y = rng.uniform(0.15, 0.22), rng.uniform(0.05, 0.15), -0.6 * radius
        dihedral = rng.uniform(0.03, 0.1)
    elif kind == "light":
        span, sweep, taper = rng.uniform(1.1, 1.5), rng.uniform(0.0, 0.08), rng.uniform(0.6, 1.0)
        chord, wing_z, wing_y = rng.uniform(0.12, 0.18), rng.uniform(0.15, 0.28), 0.9 * radius
        dihedral = rng.uniform(0.0, 0.05)
    else:
        span, sweep, taper = rng.uniform(0.55, 0.8), rng.uniform(0.6, 1.0), rng.uniform(0.1, 0.3)
        chord, wing_z, wing_y = rng.uniform(0.35, 0.5), rng.uniform(0.05, 0.15), 0.0
        dihedral = rng.uniform(-0.05, 0.02)
    thickness = rng.uniform(0.012, 0.022)
    parts += _wing_pair(wing_z, chord, 0.5 * span, sweep, taper, thickness, dihedral, wing_y)

    fin_height = rng.uniform(0.12, 0.2) * (0.8 if fighter else 1.0)
    fin_chord = rng.uniform(0.12, 0.2)
    fin_sweep = rng.uniform(0.5, 0.9)
    fin_root_z = -0.5 + fin_chord + 0.02
    twin = fighter and rng.random() < 0.6
    if twin:
        for sx in (-1.0, 1.0):
            fin = _fin(fin_root_z, fin_chord, fin_height, fin_sweep, 0.008)
            cant = rotation("z", -sx * rng.uniform(0.15, 0.35))
            parts.append(transform(fin, cant, (sx * 0.7 * radius, 0.6 * radius, 0.0)))
    else:
        parts.append(transform(_fin(fin_root_z, fin_chord, fin_height, fin_sweep, 0.01),
                               translation=(0.0, 0.5 * radius, 0.0)))
    t_tail = kind == "bizjet" or (kind == "light" and rng.random() < 0.3)
    tail_y = 0.5 * radius + fin_height if t_tail else 0.6 * radius
    tail_root_z = fin_root_z - (fin_height * np.tan(fin_sweep) if t_tail else 0.0) + 0.02
    tail_span = span * rng.uniform(0.3, 0.42)
    parts += _wing_pair(tail_root_z, fin_chord * rng.uniform(0.7, 1.0), 0.5 * tail_span,
                        fin_sweep * 0.8, rng.uniform(0.4, 0.7), 0.008, rng.uniform(0.0, 0.1), tail_y)

    if kind == "airliner":
        count = int(rng.choice((2, 4), p=(0.7, 0.3)))
        engine_r = rng.uniform(0.025, 0.04) * (0.8 if count == 4 else 1.0)
        engine_len = rng.uniform(0.12, 0.18)
        stations = (0.33,) if count == 2 else (0.28, 0.58)
        for fraction in stations:
            x = fraction * 0.5 * span
            z = wing_z - x * np.tan(sweep) + 0.5 * engine_len - 0.02
            y = wing_y + x * np.tan(dihedral) - engine_r - 0.015
            for sx in (-1.0, 1.0):
                parts.append(_nacelle(engine_len, engine_r, (sx * x, y, z)))
                parts.append(box((0.008, 0.03, 0.5 * engine_len), (sx * x, y + engine_r, z - 0.05)))
    elif kind == "bizjet":
        engine_r = rng.uniform(0.025, 0.035)
        engine_len = rng.uniform(0.12, 0.16)
        for sx in (-1.0, 1.0):
            x = sx * (radius + engine_r + 0.015)
            parts.append(_nacelle(engine_len, engine_r, (x, 0.4 * radius, -0.28)))
            parts.append(box((abs(x), 0.01, 0.06), (0.5 * x, 0.4 * radius, -0.28)))
    elif kind == "light":
        blade = rng.uniform(0.1, 0.16)
        hub = (0.0, 0.0, 0.5)
        parts.append(transform(revolve([radius * 0.5, 0.0], [0.0, 0.06], segments=10,
                                       close_bottom=True), _ALONG_Z, hub))
        for angle in np.linspace(0.0, np.pi, int(rng.choice((2, 3))), endpoint=False):
            prop = box((0.02, 2.0 * blade, 0.008), (0.0, 0.0, 0.0))
            parts.append(transform(prop, rotation("z", angle + rng.uniform(0.0, np.pi)), (0.0, 0.0, 0.51)))
    shape = Assembly()
    shape.extend(parts)
    shape.solids.append(cabin)
    return shape
