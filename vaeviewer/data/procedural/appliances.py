"""Shape generators for lamps and monitors.

Y is up, shapes stand on ``y = 0`` and face +Z (a desk lamp reaches towards
+Z, a monitor's screen looks towards +Z). Sizes are in metres; clouds are
scaled to the unit sphere afterwards.

Each ``generate_<class>(rng)`` draws every random choice from ``rng`` (a
``numpy.random.Generator``) and returns the shape as an :class:`~.assembly.Assembly`.
"""

from __future__ import annotations

import numpy as np

from vaeviewer.data.procedural.assembly import Assembly
from vaeviewer.data.procedural.primitives import Mesh, box, ellipsoid, revolve, rotation, transform
from vaeviewer.data.procedural.sweeps import sweep, tube

__all__ = ["generate_lamp", "generate_monitor"]


def _shade(rng: np.random.Generator, radius: float, height: float) -> Mesh:
    """An open lampshade with its mouth at y = 0 and its top at y = ``height``.

    A cone (narrower at the top), a drum, or a dome.
    """
    style = str(rng.choice(("cone", "drum", "dome"), p=(0.45, 0.3, 0.25)))
    if style == "cone":
        top = radius * rng.uniform(0.35, 0.75)
        return revolve([radius, top, 0.02], [0.0, height, height], segments=24)
    if style == "drum":
        return revolve([radius, radius, 0.02], [0.0, height, height], segments=24)
    angle = np.linspace(0.0, 0.5 * np.pi, 7)
    return revolve(radius * np.cos(angle), height * np.sin(angle), segments=24)


def _base_disc(rng: np.random.Generator, radius: float) -> Mesh:
    """A round, slightly domed lamp base on the floor."""
    height = rng.uniform(0.02, 0.05)
    return revolve([0.0, radius, radius, 0.6 * radius, 0.0],
                   [0.0, 0.0, 0.5 * height, height, height], segments=24)


def _desk_lamp(rng: np.random.Generator) -> list[Mesh]:
    """An articulated desk lamp: base, two arm segments and a cone shade reaching forward."""
    base = rng.uniform(0.07, 0.11)
    parts = [_base_disc(rng, base)]
    rod = rng.uniform(0.007, 0.013)
    shoulder = np.array([0.0, 0.04, -0.3 * base])
    lower = rng.uniform(0.28, 0.42)
    lean = rng.uniform(-0.35, 0.25)  # from vertical; negative leans backwards
    elbow = shoulder + lower * np.array([0.0, np.cos(lean), np.sin(lean)])
    upper = rng.uniform(0.25, 0.4)
    reach = rng.uniform(-0.5, 0.35)  # from horizontal; negative points downwards
    head = elbow + upper * np.array([0.0, np.sin(reach), np.cos(reach)])
    for a, b in ((shoulder, elbow), (elbow, head)):
        parts.append(tube(a, b, rod, segments=8))
        parts.append(tube(a + (0.025, 0, 0), b + (0.025, 0, 0), 0.6 * rod, segments=6))
    parts.append(ellipsoid((0.025, 0.025, 0.025), elbow, 10, 7))
    # The shade hangs from the head and points forwards and down.
    aim = rng.uniform(0.5, 1.3)
    direction = np.array([0.0, -np.sin(aim), np.cos(aim)])
    mouth = rng.uniform(0.06, 0.1)
    length = rng.uniform(0.09, 0.16)
    parts.append(tube(head, head + length * direction, 0.025, mouth, segments=20, caps=False))
    parts.append(ellipsoid((0.03, 0.03, 0.03), head, 10, 7))
    return parts


def _floor_lamp(rng: np.random.Generator) -> list[Mesh]:
    """A floor lamp: a tall pole on a disc or tripod, a big shade at the top."""
    height = rng.uniform(1.2, 1.7)
    shade_height = rng.uniform(0.2, 0.35)
    shade_radius = rng.uniform(0.15, 0.25)
    parts: list[Mesh] = []
    if rng.random() < 0.65:
        parts.append(_base_disc(rng, rng.uniform(0.13, 0.2)))
        parts.append(tube((0.0, 0.0, 0.0), (0.0, height, 0.0), rng.uniform(0.01, 0.018), segments=8))
    else:
        spread = rng.uniform(0.2, 0.35)
        apex = (0.0, height, 0.0)
        for k in range(3):
            a = rng.uniform(-0.1, 0.1) + 2.0 * np.pi * k / 3 + 0.5 * np.pi
            parts.append(tube((spread * np.cos(a), 0.0, spread * np.sin(a)), apex, 0.012, segments=6))
    shade = _shade(rng, shade_radius, shade_height)
    parts.append(transform(shade, translation=(0.0, height - 0.5 * shade_height, 0.0)))
    return parts


def _table_lamp(rng: np.random.Generator) -> list[Mesh]:
    """A table lamp: a turned or vase-like body, a short stem, a wide shade."""
    body_height = rng.uniform(0.22, 0.4)
    body_radius = rng.uniform(0.06, 0.12)
    t = np.linspace(0.0, 1.0, 9)
    # A belly whose widest point moves up or down the body.
    peak = rng.uniform(0.25, 0.75)
    profile = body_radius * (0.35 + 0.65 * np.exp(-((t - peak) / rng.uniform(0.2, 0.5)) ** 2))
    parts = [revolve(np.concatenate([[0.0], profile, [0.0]]),
                     np.concatenate([[0.0], t * body_height, [body_height]]), segments=20)]
    stem = rng.uniform(0.05, 0.15)
    parts.append(tube((0.0, body_height, 0.0), (0.0, body_height + stem, 0.0), 0.01, segments=6))
    shade_radius = body_radius + rng.uniform(0.05, 0.12)
    shade_height = rng.uniform(0.14, 0.24)
    shade = _shade(rng, shade_radius, shade_height)
    parts.append(transform(shade, translation=(0.0, body_height + stem - 0.3 * shade_height, 0.0)))
    return parts


def _arc_lamp(rng: np.random.Generator) -> list[Mesh]:
    """An arc floor lamp: a heavy base, a pole curving up and forwards, a dome hanging from it."""
    height = rng.uniform(1.5, 2.0)
    reach = rng.uniform(0.7, 1.2)
    parts: list[Mesh] = []
    if rng.random() < 0.5:
        parts.append(_base_disc(rng, rng.uniform(0.15, 0.22)))
    else:
        side = rng.uniform(0.25, 0.35)
        parts.append(box((side, 0.05, side), (0.0, 0.025, 0.0)))
    s = np.linspace(0.0, 0.5 * np.pi, 16)
    # A quarter ellipse from the base to the top, then down a little to the shade.
    path = np.stack([np.zeros_like(s), 0.05 + (height - 0.05) * np.sin(s),
                     reach * (1.0 - np.cos(s))], axis=1)
    path = np.concatenate([path, [[0.0, height - 0.05, reach + 0.15], [0.0, height - 0.25, reach + 0.25]]])
    parts.append(sweep(path, rng.uniform(0.01, 0.016), segments=8))
    radius = rng.uniform(0.15, 0.25)
    angle = np.linspace(0.0, 0.5 * np.pi, 7)
    dome = revolve(radius * np.cos(angle), 0.6 * radius * np.sin(angle), segments=24)
    parts.append(transform(dome, translation=(0.0, height - 0.25 - 0.6 * radius, reach + 0.25)))
    return parts


def generate_lamp(rng: np.random.Generator) -> Assembly:
    """A lamp: an articulated desk lamp, a floor lamp, a table lamp or an arc lamp.

    Style choices: kind of lamp; cone, drum or dome shade of varying size;
    disc or tripod base; arm lengths and angles; body profile.
    """
    kind = str(rng.choice(("desk", "floor", "table", "arc"), p=(0.3, 0.3, 0.25, 0.15)))
    builders = {"desk": _desk_lamp, "floor": _floor_lamp, "table": _table_lamp, "arc": _arc_lamp}
    shape = Assembly()
    # Lamps are thin rods and open shades: nothing buries much surface.
    shape.extend(builders[kind](rng))
    return shape


def _add_screen(
    rng: np.random.Generator, shape: Assembly, width: float, height: float, thickness: float, centre_y: float
) -> None:
    """Add the panel: flat, or curved around a vertical axis in front of it."""
    if rng.random() < 0.25:
        radius = width * rng.uniform(1.0, 2.0)
        half_angle = 0.5 * width / radius
        s = np.linspace(-half_angle, half_angle, 12)
        # The concave side faces the viewer: the edges come forwards (+Z).
        path = np.stack([radius * np.sin(s), np.full_like(s, centre_y),
                         radius * (1.0 - np.cos(s))], axis=1)
        section = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]]) * (thickness, height)
        shape.add(sweep(path, 1.0, section=section, normal=(0.0, 0.0, 1.0)))
    else:
        shape.add_box((width, height, thickness), (0.0, centre_y, 0.0))


def generate_monitor(rng: np.random.Generator) -> Assembly:
    """A computer monitor or a CRT on a stand, its screen facing +Z.

    Style choices: aspect ratio (4:3 to 21:9); flat or curved panel; a
    housing bulge behind it; a neck on a plate, a disc or V-shaped feet, or
    two feet at its ends; or a deep CRT body.
    """
    if rng.random() < 0.12:
        return _crt(rng)
    aspect = float(rng.choice((16 / 9, 16 / 10, 21 / 9, 4 / 3), p=(0.45, 0.25, 0.15, 0.15)))
    width = rng.uniform(0.45, 0.8)
    height = width / aspect
    thickness = rng.uniform(0.015, 0.035)
    bottom = rng.uniform(0.07, 0.2)
    centre_y = bottom + 0.5 * height
    shape = Assembly()
    _add_screen(rng, shape, width, height, thickness, centre_y)
    back_z = -0.5 * thickness
    if rng.random() < 0.6:
        bulge = rng.uniform(0.02, 0.06)
        shape.add_box((width * rng.uniform(0.5, 0.85), height * rng.uniform(0.4, 0.8), bulge + 0.005),
                      (0.0, centre_y, back_z - 0.5 * bulge + 0.0025))
        back_z -= bulge

    stand = str(rng.choice(("plate", "disc", "feet", "ends"), p=(0.35, 0.2, 0.25, 0.2)))
    if stand == "ends":
        for sx in (-1.0, 1.0):
            x = sx * width * rng.uniform(0.3, 0.42)
            foot = rng.uniform(0.12, 0.2)
            shape.add_box((0.03, bottom + 0.05, 0.02), (x, 0.5 * (bottom + 0.05), 0.0))
            shape.add_box((0.04, 0.015, foot), (x, 0.0075, 0.0))
        return shape
    neck_width = rng.uniform(0.04, 0.1)
    neck_depth = rng.uniform(0.02, 0.04)
    neck_top = centre_y + rng.uniform(-0.1, 0.05) * height
    neck_z = back_z - 0.5 * neck_depth
    foot_z = neck_z + rng.uniform(0.0, 0.08)
    shape.add(sweep(np.array([(0.0, 0.0, foot_z), (0.0, neck_top, neck_z)]), 1.0,
                       section=np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])
                       * (neck_width, neck_depth), normal=(1.0, 0.0, 0.0)))
    if stand == "plate":
        plate = (rng.uniform(0.18, 0.32), rng.uniform(0.012, 0.025), rng.uniform(0.14, 0.22))
        shape.add_box(plate, (0.0, 0.5 * plate[1], foot_z + 0.3 * plate[2]))
    elif stand == "disc":
        radius = rng.uniform(0.09, 0.14)
        disc = revolve([0.0, radius, radius, 0.0], [0.0, 0.0, 0.015, 0.015], segments=24)
        shape.add(transform(disc, translation=(0.0, 0.0, foot_z + 0.5 * radius)))
    else:
        length = rng.uniform(0.15, 0.25)
        spread = rng.uniform(0.4, 0.8)
        for sign in (-1.0, 1.0):
            foot = box((0.03, 0.015, length), (0.0, 0.0075, 0.5 * length))
            shape.add(transform(foot, rotation("y", sign * spread), (0.0, 0.0, foot_z)))
    return shape


def _crt(rng: np.random.Generator) -> Assembly:
    """An old cathode-ray monitor: a 4:3 face on a deep, tapering body, on a low foot."""
    width = rng.uniform(0.35, 0.5)
    height = 0.75 * width
    depth = width * rng.uniform(0.7, 1.0)
    bottom = rng.uniform(0.04, 0.08)
    centre_y = bottom + 0.5 * height
    section = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]]) * (width, height)
    body = sweep(np.array([(0.0, centre_y, 0.0), (0.0, centre_y, -0.3 * depth),
                           (0.0, centre_y + 0.02, -depth)]), (1.0, 0.95, 0.55), section=section,
                 normal=(1.0, 0.0, 0.0))
    foot = box((0.6 * width, bottom, 0.5 * depth), (0.0, 0.5 * bottom, -0.4 * depth))
    shape = Assembly()
    shape.extend([body, foot])
    return shape
