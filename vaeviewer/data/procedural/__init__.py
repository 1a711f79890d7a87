"""Procedurally generated 3D shapes: the built-in data set that needs no download.

Ten classes (airplane, bed, bench, bottle, chair, lamp, monitor, mug, sofa,
table), each a family of triangle meshes made of simple closed parts with
continuous proportions and a few discrete style choices, sampled by area into
point clouds. Y is up, shapes stand on their lowest point, and face +Z.

Only numpy is needed.
"""

from vaeviewer.data.procedural.generator import (
    SHAPE_CLASSES,
    SHAPE_GENERATORS,
    build_shape,
    generate_builtin_dataset,
    generate_shape,
    sample_shape,
    shape_rng,
)

__all__ = [
    "SHAPE_CLASSES",
    "SHAPE_GENERATORS",
    "build_shape",
    "generate_builtin_dataset",
    "generate_shape",
    "sample_shape",
    "shape_rng",
]
