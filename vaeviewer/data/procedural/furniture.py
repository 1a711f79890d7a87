"""Shape generators for tables and beds.

Y is up, shapes stand on ``y = 0`` and face +Z (a bed's head is at -Z).
Sizes are in metres; clouds are scaled to the unit sphere afterwards.

Each ``generate_<class>(rng)`` draws every random choice from ``rng`` (a
``numpy.random.Generator``) and returns the shape as an :class:`~.assembly.Assembly`.
"""

from __future__ import annotations

import numpy as np

from vaeviewer.data.procedural.assembly import Assembly, Solid
from vaeviewer.data.procedural.primitives import revolve, transform
from vaeviewer.data.procedural.sweeps import bar

__all__ = ["generate_bed", "generate_table"]


def _oval_top(shape: Assembly, radius_x: float, radius_z: float, bottom: float, thickness: float) -> None:
    """Add a round (or, with unequal radii, oval) table top: a flat, solid cylinder."""
    disc = revolve([1.0, 1.0], [0.0, thickness], segments=36, close_bottom=True, close_top=True)
    half = np.array([radius_x, 0.5 * thickness, radius_z])
    shape.add(transform(disc, translation=(0.0, bottom, 0.0), scale=(radius_x, 1.0, radius_z)),
              Solid("cylinder", np.array([0.0, bottom + 0.5 * thickness, 0.0]), half))


def _pedestal(rng: np.random.Generator, shape: Assembly, top: float, reach: float) -> None:
    """Add a turned central column from the floor to ``top``, on a disc or a cross of feet."""
    column = rng.uniform(0.04, 0.08)
    if rng.random() < 0.5:
        foot = reach * rng.uniform(0.35, 0.6)
        shape.add(revolve([0.0, foot, foot, 0.7 * foot, 0.0], [0.0, 0.0, 0.02, 0.05, 0.05], segments=28))
    else:
        feet = int(rng.choice((3, 4)))
        foot = reach * rng.uniform(0.6, 0.9)
        angle0 = rng.uniform(0.0, np.pi)
        for k in range(feet):
            a = angle0 + 2.0 * np.pi * k / feet
            shape.add(bar((0.0, 0.08, 0.0), (foot * np.cos(a), 0.02, foot * np.sin(a)), 0.07, 0.04))
    # A column that may swell in the middle, like a turned baluster.
    swell = rng.uniform(1.0, 1.6)
    s = np.linspace(0.0, 1.0, 7)
    radii = column * (1.0 + (swell - 1.0) * np.sin(np.pi * s) ** 2)
    shape.add(revolve(radii, 0.03 + s * (top - 0.02), segments=14, close_bottom=True, close_top=True))


def generate_table(rng: np.random.Generator) -> Assembly:
    """A table: a rectangular, round or oval top on legs, a pedestal or trestles.

    Style choices: top shape and thickness; four straight or tapered, square
    or round legs, with or without an apron; a turned pedestal on a disc or
    on 3-4 feet; two trestle ends joined by a stretcher; height from coffee
    table to high table.
    """
    shape = Assembly()
    top_shape = str(rng.choice(("rect", "round", "oval"), p=(0.5, 0.3, 0.2)))
    height = rng.uniform(0.5, 0.9)
    thickness = rng.uniform(0.025, 0.06)
    under = height - thickness
    if top_shape == "rect":
        width = rng.uniform(0.8, 1.8)
        depth = rng.uniform(0.55, min(1.0, width))
        shape.add_box((width, thickness, depth), (0.0, height - 0.5 * thickness, 0.0))
        support = str(rng.choice(("legs", "trestle"), p=(0.75, 0.25)))
    else:
        width = rng.uniform(0.7, 1.3) if top_shape == "round" else rng.uniform(1.1, 1.8)
        depth = width if top_shape == "round" else width * rng.uniform(0.55, 0.8)
        _oval_top(shape, 0.5 * width, 0.5 * depth, under, thickness)
        support = str(rng.choice(("legs", "pedestal"), p=(0.4, 0.6)))

    if support == "legs":
        leg = rng.uniform(0.035, 0.07)
        foot = leg * (rng.uniform(0.5, 0.8) if rng.random() < 0.4 else 1.0)
        round_legs = rng.random() < 0.4
        inset = rng.uniform(0.03, 0.1)
        if top_shape == "rect":
            half_x, half_z = 0.5 * width - inset - 0.5 * leg, 0.5 * depth - inset - 0.5 * leg
        else:
            # On the diagonals of the ellipse, well inside its rim.
            half_x, half_z = 0.32 * width, 0.32 * depth
        for sx in (-1.0, 1.0):
            for sz in (-1.0, 1.0):
                shape.add(bar((sx * half_x, 0.0, sz * half_z), (sx * half_x, under + 0.01, sz * half_z),
                              foot, leg, round_section=round_legs))
        if rng.random() < 0.5:
            apron = rng.uniform(0.05, 0.12)
            y = under - 0.5 * apron + 0.005
            shape.add_box((2 * half_x, apron, 0.02), (0.0, y, half_z))
            shape.add_box((2 * half_x, apron, 0.02), (0.0, y, -half_z))
            shape.add_box((0.02, apron, 2 * half_z), (half_x, y, 0.0))
            shape.add_box((0.02, apron, 2 * half_z), (-half_x, y, 0.0))
    elif support == "pedestal":
        _pedestal(rng, shape, under, 0.5 * min(width, depth))
    else:  # trestle: an upright at each end on a foot, under a cleat, a stretcher between
        end_x = 0.5 * width - rng.uniform(0.1, 0.25)
        post = rng.uniform(0.05, 0.1)
        foot_depth = depth * rng.uniform(0.7, 0.95)
        for sx in (-1.0, 1.0):
            shape.add_box((post, under, post * rng.uniform(1.0, 3.0)), (sx * end_x, 0.5 * under, 0.0))
            shape.add_box((post, 0.06, foot_depth), (sx * end_x, 0.03, 0.0))
            shape.add_box((post, 0.05, foot_depth), (sx * end_x, under - 0.025 + 0.005, 0.0))
        shape.add_box((2 * end_x, 0.06, 0.04), (0.0, rng.uniform(0.15, 0.5) * under, 0.0))
    return shape


def _headboard(rng: np.random.Generator, shape: Assembly, width: float, top: float,
               frame_top: float, board: float, z: float) -> None:
    """Add a headboard up to ``top`` at depth ``z``: a panel, posts and slats, or a padded panel."""
    style = str(rng.choice(("panel", "slats", "padded"), p=(0.4, 0.3, 0.3)))
    if style == "panel":
        shape.add_box((width + 0.04, top, board), (0.0, 0.5 * top, z))
    elif style == "padded":
        shape.add_box((width, frame_top, board), (0.0, 0.5 * frame_top, z))
        pad = top - frame_top
        shape.add_cushion((0.5 * width + 0.04, 0.5 * pad, board), (0.0, frame_top + 0.5 * pad, z))
    else:
        post = rng.uniform(0.05, 0.09)
        for sx in (-1.0, 1.0):
            shape.add_box((post, top, post), (sx * 0.5 * (width + post), 0.5 * top, z))
        shape.add_box((width, 0.06, board), (0.0, top - 0.03, z))
        count = int(rng.integers(4, 10))
        for x in np.linspace(-0.5 * width, 0.5 * width, count + 2)[1:-1]:
            shape.add_box((0.03, top - frame_top, 0.5 * board), (x, 0.5 * (top + frame_top), z))


def generate_bed(rng: np.random.Generator) -> Assembly:
    """A bed: frame, mattress and pillows, with optional headboard and footboard.

    Style choices: single to king width; a platform to the floor or a frame
    on legs; a panel, slatted or padded headboard of varying height, or none;
    an optional footboard; one or two pillows; an optional blanket over the
    foot end.
    """
    shape = Assembly()
    width = rng.uniform(0.9, 1.9)
    length = rng.uniform(1.95, 2.2)
    on_legs = rng.random() < 0.55
    leg_height = rng.uniform(0.08, 0.22) if on_legs else 0.0
    frame_top = leg_height + rng.uniform(0.12, 0.25)
    mattress = rng.uniform(0.15, 0.28)
    sink = 0.02
    mattress_top = frame_top + mattress - sink
    shape.add_box((width, frame_top - leg_height, length), (0.0, 0.5 * (frame_top + leg_height), 0.0))
    shape.add_cushion((0.5 * width - 0.02, 0.5 * mattress, 0.5 * length - 0.02),
                      (0.0, frame_top - sink + 0.5 * mattress, 0.0), roundness=0.2)
    if on_legs:
        leg = rng.uniform(0.04, 0.08)
        for sx in (-1.0, 1.0):
            for sz in (-1.0, 1.0):
                x, z = sx * (0.5 * width - 0.5 * leg), sz * (0.5 * length - 0.5 * leg)
                shape.add_box((leg, leg_height + 0.01, leg), (x, 0.5 * (leg_height + 0.01), z))

    board = rng.uniform(0.04, 0.08)
    if rng.random() < 0.85:
        _headboard(rng, shape, width, mattress_top + rng.uniform(0.25, 0.8), frame_top, board,
                   -0.5 * length - 0.5 * board)
    if rng.random() < 0.4:
        foot_top = mattress_top + rng.uniform(-0.05, 0.3)
        shape.add_box((width + 0.04, foot_top, board), (0.0, 0.5 * foot_top, 0.5 * length + 0.5 * board))

    pillows = 2 if width > 1.3 else 1
    pillow_width = (width - 0.15) / pillows - 0.05
    pillow_height = rng.uniform(0.08, 0.15)
    pillow_depth = rng.uniform(0.17, 0.25)
    pillow_z = -0.5 * length + 0.05 + pillow_depth
    for i in range(pillows):
        x = (i - 0.5 * (pillows - 1)) * (pillow_width + 0.05)
        shape.add_cushion((0.5 * pillow_width, 0.5 * pillow_height, pillow_depth),
                          (x, mattress_top + 0.35 * pillow_height, pillow_z), roundness=0.5,
                          segments=14, rings=8)
    if rng.random() < 0.4:
        blanket = length * rng.uniform(0.4, 0.7)
        shape.add_box((width + 0.02, mattress + 0.02, blanket),
                      (0.0, frame_top - sink + 0.5 * mattress + 0.01, 0.5 * length - 0.5 * blanket + 0.01))
    return shape
