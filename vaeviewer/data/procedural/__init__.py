"""Procedurally generated 3D shapes: the built-in data set that needs no download.

Ten classes (airplane, bed, bench, bottle, chair, lamp, monitor, mug, sofa,
table), each a family of triangle meshes made of simple closed parts with
continuous proportions and a few discrete style choices, sampled by area into
point clouds. Y is up, shapes stand on their lowest point, and face +Z.

Only numpy is needed.
"""

from vaeviewer.data.procedural import generator
from vaeviewer.data.procedural.generator import *  # noqa: F403  (listed once: in generator.__all__)

__all__ = generator.__all__
