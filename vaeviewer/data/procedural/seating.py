"""Shape generators for things people sit on: chairs, benches and sofas.

Each generator draws its proportions and a few style choices from ``rng`` and
returns an :class:`~.assembly.Assembly` standing on ``y = 0``, Y up, its front
towards +Z (so a back rest lies at -Z). Sizes are in metres, to keep the
proportions honest; clouds are scaled to the unit sphere afterwards.

Each ``generate_<class>(rng)`` draws every random choice from ``rng`` (a
``numpy.random.Generator``) and returns the shape as an :class:`~.assembly.Assembly`.
"""

from __future__ import annotations

import numpy as np

from vaeviewer.data.procedural.assembly import Assembly
from vaeviewer.data.procedural.primitives import ellipsoid, rotation
from vaeviewer.data.procedural.sweeps import bar, rounded_path, sweep, tube

__all__ = ["generate_bench", "generate_chair", "generate_sofa"]


def _lean_back(shape: Assembly, rest: Assembly, pivot: tuple[float, float, float], tilt: float) -> None:
    """Add an upright back rest to ``shape``, leaned back (towards -Z) by ``tilt`` about ``pivot``."""
    # A positive turn about +X carries +Y towards +Z; leaning back needs the opposite.
    turn = rotation("x", -tilt)
    centre = np.asarray(pivot, dtype=np.float64)
    shape.merge(rest, turn, centre - turn @ centre)


def _back_rest(
    rng: np.random.Generator, width: float, bottom: float, height: float, z: float, style: str
) -> Assembly:
    """An upright back rest from ``y = bottom`` up by ``height``, centred on x = 0 at depth ``z``.

    ``style`` is ``"solid"`` (a board or a padded panel), ``"slats"`` (vertical,
    flat or round, between two posts) or ``"rails"`` (horizontal, between posts).
    """
    rest = Assembly()
    thickness = rng.uniform(0.02, 0.05)
    top = bottom + height
    if style == "solid":
        if rng.random() < 0.4:
            rest.add_cushion((0.5 * width, 0.5 * height, 1.2 * thickness),
                             (0.0, bottom + 0.5 * height, z), roundness=0.35)
        else:
            rest.add_box((width, height, thickness), (0.0, bottom + 0.5 * height, z))
        return rest
    post = rng.uniform(0.025, 0.045)
    rail = rng.uniform(0.04, 0.09)
    x_post = 0.5 * (width - post)
    rest.add_box((post, height, thickness), (-x_post, bottom + 0.5 * height, z))
    rest.add_box((post, height, thickness), (x_post, bottom + 0.5 * height, z))
    rest.add_box((width, rail, thickness), (0.0, top - 0.5 * rail, z))
    inner = width - 2.0 * post
    if style == "slats":
        count = int(rng.integers(2, 6)) if width < 1.0 else int(rng.integers(4, 10))
        slat_width = min(rng.uniform(0.02, 0.07), 0.6 * inner / count)
        round_slats = rng.random() < 0.35
        span_bottom = bottom + rng.uniform(0.0, 0.3) * height
        slat_height = top - rail - span_bottom
        for x in np.linspace(-0.5 * inner, 0.5 * inner, count + 2)[1:-1]:
            if round_slats:
                rest.add(tube((x, span_bottom, z), (x, top - rail, z), 0.35 * slat_width, segments=8))
            else:
                rest.add_box((slat_width, slat_height, 0.6 * thickness), (x, span_bottom + 0.5 * slat_height, z))
    else:
        count = int(rng.integers(1, 4))
        for y in np.linspace(bottom + 0.15 * height, top - rail, count + 1)[:-1]:
            rest.add_box((inner, 0.8 * rail, 0.7 * thickness), (0.0, y + 0.4 * rail, z))
    return rest


def _chair_base(rng: np.random.Generator, shape: Assembly, width: float, depth: float, seat_bottom: float) -> None:
    """Add whatever holds the seat up: four legs, a pedestal on a star base, or sled runners."""
    style = str(rng.choice(("legs", "pedestal", "sled"), p=(0.55, 0.25, 0.2)))
    if style == "legs":
        thickness = rng.uniform(0.025, 0.05)
        round_legs = rng.random() < 0.4
        inset = rng.uniform(0.0, 0.05) + 0.5 * thickness
        splay = rng.uniform(0.0, 0.06)
        ends = []
        for sx in (-1.0, 1.0):
            for sz in (-1.0, 1.0):
                top = np.array([sx * (0.5 * width - inset), seat_bottom + 0.01, sz * (0.5 * depth - inset)])
                bottom = np.array([top[0] + sx * splay, 0.0, top[2] + sz * splay])
                ends.append((top, bottom))
                shape.add(bar(top, bottom, thickness, round_section=round_legs))
        if rng.random() < 0.45:
            # Stretchers low between the front and back leg of each side.
            f = rng.uniform(0.55, 0.8)
            for i in (0, 2):
                (t0, b0), (t1, b1) = ends[i], ends[i + 1]
                shape.add(tube(t0 + f * (b0 - t0), t1 + f * (b1 - t1), 0.3 * thickness, segments=6))
    elif style == "pedestal":
        hub = rng.uniform(0.05, 0.09)
        arms = int(rng.choice((4, 5), p=(0.3, 0.7)))
        reach = rng.uniform(0.25, 0.34)
        casters = rng.random() < 0.7
        # Arm tips rest on casters, or on the floor.
        lift = 0.06 if casters else 0.015
        shape.add(tube((0.0, hub, 0.0), (0.0, seat_bottom, 0.0), rng.uniform(0.02, 0.035), segments=10))
        shape.add_box((0.18, 0.05, 0.18), (0.0, seat_bottom - 0.02, 0.0))
        angle0 = rng.uniform(0.0, 2.0 * np.pi)
        for k in range(arms):
            a = angle0 + 2.0 * np.pi * k / arms
            tip = np.array([reach * np.cos(a), lift, reach * np.sin(a)])
            shape.add(tube((0.0, hub, 0.0), tip, 0.025, 0.015, segments=6))
            if casters:
                shape.add(ellipsoid((0.025, 0.025, 0.025), tip - (0.0, 0.035, 0.0), 8, 6))
    else:  # sled: a bent tube along each side, running on the floor
        radius = rng.uniform(0.01, 0.018)
        x = 0.5 * width - rng.uniform(0.02, 0.06)
        front, back = 0.5 * depth - 0.03, -0.5 * depth + 0.03
        overhang = rng.uniform(0.0, 0.08)
        for sx in (-1.0, 1.0):
            corners = [(sx * x, seat_bottom, front - 0.05), (sx * x, radius, front + overhang),
                       (sx * x, radius, back - overhang), (sx * x, seat_bottom, back + 0.05)]
            shape.add(sweep(rounded_path(corners, 0.06, 5), radius, segments=8))
        shape.add_box((2 * x, 0.02, 0.04), (0.0, seat_bottom - 0.01, front - 0.05))
        shape.add_box((2 * x, 0.02, 0.04), (0.0, seat_bottom - 0.01, back + 0.05))


def generate_chair(rng: np.random.Generator) -> Assembly:
    """A chair: seat, back rest and base, with optional arm rests.

    Style choices: four (straight or splayed, square or round) legs with or
    without stretchers, a pedestal on a 4- or 5-arm star base with or without
    casters, or sled runners; a solid, padded, slatted or railed back of
    varying height and tilt; a board or a padded seat; arm rests on posts or
    as side panels.
    """
    shape = Assembly()
    width = rng.uniform(0.42, 0.6)
    depth = width * rng.uniform(0.85, 1.15)
    seat_top = rng.uniform(0.4, 0.5)
    seat_thickness = rng.uniform(0.03, 0.08)
    seat_bottom = seat_top - seat_thickness
    _chair_base(rng, shape, width, depth, seat_bottom)
    seat_centre = (0.0, seat_bottom + 0.5 * seat_thickness, 0.0)
    if rng.random() < 0.3:
        shape.add_cushion((0.5 * width, 0.5 * seat_thickness + 0.01, 0.5 * depth), seat_centre)
    else:
        shape.add_box((width, seat_thickness, depth), seat_centre)

    back_style = str(rng.choice(("solid", "slats", "rails"), p=(0.45, 0.35, 0.2)))
    back_height = rng.uniform(0.3, 0.65)
    back_z = -0.5 * depth + 0.025
    rest = _back_rest(rng, width * rng.uniform(0.8, 1.0), seat_top - 0.01, back_height, back_z, back_style)
    _lean_back(shape, rest, (0.0, seat_top, back_z), rng.uniform(0.0, 0.3))

    if rng.random() < 0.35:
        arm_height = rng.uniform(0.17, 0.26)
        arm_length = depth * rng.uniform(0.65, 0.95)
        arm_width = rng.uniform(0.035, 0.07)
        arm_z = -0.5 * depth + 0.5 * arm_length
        panel = rng.random() < 0.3
        for sx in (-1.0, 1.0):
            if panel:
                x = sx * (0.5 * width + 0.5 * arm_width)
                shape.add_box((arm_width, arm_height + seat_thickness, arm_length),
                              (x, seat_bottom + 0.5 * (arm_height + seat_thickness), arm_z))
            else:
                x = sx * (0.5 * width - 0.5 * arm_width)
                shape.add_box((arm_width, 0.03, arm_length), (x, seat_top + arm_height, arm_z))
                post_z = arm_z + 0.5 * arm_length - 0.04
                shape.add_box((0.03, arm_height, 0.03), (x, seat_top + 0.5 * arm_height, post_z))
    return shape


def generate_bench(rng: np.random.Generator) -> Assembly:
    """A bench: a long, shallow seat of one board or several, on legs, panels or A-frames.

    Style choices: solid or slatted seat; four (six when long) legs, two
    panel ends or a pair of tubular A-frames; an optional slatted, railed or
    solid back, with optional arm rests.
    """
    shape = Assembly()
    length = rng.uniform(1.1, 2.0)
    depth = rng.uniform(0.3, 0.42)
    seat_top = rng.uniform(0.4, 0.48)
    thickness = rng.uniform(0.03, 0.06)
    seat_bottom = seat_top - thickness
    if rng.random() < 0.5:
        shape.add_box((length, thickness, depth), (0.0, seat_top - 0.5 * thickness, 0.0))
    else:
        boards = int(rng.integers(3, 6))
        gap = rng.uniform(0.01, 0.03)
        board = (depth - gap * (boards - 1)) / boards
        for i in range(boards):
            z = -0.5 * depth + 0.5 * board + i * (board + gap)
            shape.add_box((length, thickness, board), (0.0, seat_top - 0.5 * thickness, z))

    support = str(rng.choice(("legs", "panels", "aframe"), p=(0.45, 0.3, 0.25)))
    end_x = 0.5 * length - rng.uniform(0.05, 0.2)
    if support == "legs":
        thickness_leg = rng.uniform(0.035, 0.06)
        xs = [-end_x, end_x] + ([0.0] if length > 1.6 else [])
        round_legs = rng.random() < 0.3
        for x in xs:
            for sz in (-1.0, 1.0):
                z = sz * (0.5 * depth - 0.5 * thickness_leg - 0.02)
                shape.add(bar((x, seat_bottom + 0.01, z), (x, 0.0, z), thickness_leg,
                              round_section=round_legs))
        if rng.random() < 0.5:
            shape.add_box((2 * end_x, 0.05, 0.03), (0.0, rng.uniform(0.1, 0.25), 0.0))
    elif support == "panels":
        panel = rng.uniform(0.03, 0.07)
        for sx in (-1.0, 1.0):
            shape.add_box((panel, seat_bottom + 0.01, depth * rng.uniform(0.8, 1.0)),
                          (sx * end_x, 0.5 * (seat_bottom + 0.01), 0.0))
    else:
        radius = rng.uniform(0.012, 0.02)
        spread = 0.5 * depth
        for sx in (-1.0, 1.0):
            frame = [(sx * end_x, 0.0, -spread), (sx * end_x, seat_bottom, 0.0), (sx * end_x, 0.0, spread)]
            shape.add(sweep(np.array(frame), radius, segments=6))
            shape.add_box((0.04, 0.03, depth), (sx * end_x, seat_bottom - 0.015, 0.0))

    if rng.random() < 0.55:
        back_height = rng.uniform(0.3, 0.5)
        back_z = -0.5 * depth + 0.02
        back_style = str(rng.choice(("solid", "slats", "rails"), p=(0.3, 0.3, 0.4)))
        rest = _back_rest(rng, length, seat_top - 0.01, back_height, back_z, back_style)
        _lean_back(shape, rest, (0.0, seat_top, back_z), rng.uniform(0.05, 0.3))
        if rng.random() < 0.5:
            arm_height = rng.uniform(0.18, 0.25)
            for sx in (-1.0, 1.0):
                x = sx * (0.5 * length - 0.03)
                shape.add_box((0.05, 0.03, depth), (x, seat_top + arm_height, 0.0))
                shape.add_box((0.03, arm_height, 0.03), (x, seat_top + 0.5 * arm_height, 0.5 * depth - 0.04))
    return shape


def generate_sofa(rng: np.random.Generator) -> Assembly:
    """A sofa: a base, 1-3 seat cushions, a back with matching cushions, and arms.

    Style choices: number of seats; box, rolled, slim or no arms; separate
    back cushions or one long one; short legs or a skirt to the floor;
    seat depth, arm and back heights.
    """
    shape = Assembly()
    seats = int(rng.choice((1, 2, 3), p=(0.2, 0.4, 0.4)))
    seat_width = rng.uniform(0.5, 0.68)
    inner = seats * seat_width
    depth = rng.uniform(0.8, 1.0)
    legs = rng.random() < 0.6
    leg_height = rng.uniform(0.05, 0.14) if legs else 0.0
    base_top = leg_height + rng.uniform(0.16, 0.26)
    cushion = rng.uniform(0.1, 0.18)
    back_thickness = rng.uniform(0.15, 0.25)
    back_top = base_top + cushion + rng.uniform(0.3, 0.5)
    arm_style = str(rng.choice(("box", "rolled", "slim", "none"), p=(0.35, 0.3, 0.2, 0.15)))
    arm_width = {"box": rng.uniform(0.12, 0.25), "rolled": rng.uniform(0.14, 0.22),
                 "slim": rng.uniform(0.05, 0.09), "none": 0.0}[arm_style]
    arm_top = base_top + cushion + rng.uniform(0.05, 0.25)
    total = inner + 2.0 * arm_width

    shape.add_box((inner, base_top - leg_height, depth), (0.0, 0.5 * (base_top + leg_height), 0.0))
    shape.add_box((total, back_top - leg_height, back_thickness),
                  (0.0, 0.5 * (back_top + leg_height), -0.5 * depth + 0.5 * back_thickness))
    # Cushions sink a little into what they rest on, so the faces they cover are buried.
    sink = 0.015
    cushion_depth = depth - back_thickness + sink
    cushion_z = 0.5 * depth - 0.5 * cushion_depth
    for i in range(seats):
        x = -0.5 * inner + (i + 0.5) * seat_width
        shape.add_cushion((0.5 * seat_width - 0.005, 0.5 * cushion + sink, 0.5 * cushion_depth),
                          (x, base_top + 0.5 * cushion - sink, cushion_z), roundness=0.25)
    pad = rng.uniform(0.12, 0.2)
    pad_bottom = base_top + cushion - sink
    pad_height = back_top - pad_bottom - rng.uniform(0.0, 0.06)
    lean = rotation("x", -rng.uniform(0.05, 0.2))
    widths = [seat_width] * seats if rng.random() < 0.7 else [inner]
    x = -0.5 * inner
    for w in widths:
        centre = np.array([x + 0.5 * w, pad_bottom, -0.5 * depth + back_thickness + 0.5 * pad - sink])
        # Lean about the pad's bottom edge: rotate its centre offset, not just the pad.
        offset = lean @ np.array([0.0, 0.5 * pad_height, 0.0])
        shape.add_cushion((0.5 * w - 0.005, 0.5 * pad_height, 0.5 * pad), centre + offset,
                          roundness=0.3, rotation=lean)
        x += w

    if arm_style != "none":
        for sx in (-1.0, 1.0):
            x = sx * (0.5 * inner + 0.5 * arm_width)
            if arm_style == "rolled":
                roll = 0.5 * arm_width + 0.02
                shape.add_box((arm_width, arm_top - roll - leg_height, depth),
                              (x, 0.5 * (arm_top - roll + leg_height), 0.0))
                shape.add_cylinder((x + sx * 0.02, arm_top - roll, -0.5 * depth),
                                   (x + sx * 0.02, arm_top - roll, 0.5 * depth), roll)
            else:
                shape.add_box((arm_width, arm_top - leg_height, depth), (x, 0.5 * (arm_top + leg_height), 0.0))
    if legs:
        thickness = rng.uniform(0.03, 0.05)
        round_legs = rng.random() < 0.5
        for sx in (-1.0, 1.0):
            for sz in (-1.0, 1.0):
                x, z = sx * (0.5 * total - 0.06), sz * (0.5 * depth - 0.06)
                shape.add(bar((x, leg_height + 0.01, z), (x, 0.0, z), thickness, round_section=round_legs))
    return shape
