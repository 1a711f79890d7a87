"""Which axis is up in a data set: from its layout's convention, or measured from its shapes.

Point-cloud data sets disagree. ModelNet's meshes stand on the x-y plane (Z up),
and so do clouds sampled from them as they are (the ModelNet10 h5 set this
project benchmarks on); PointNet's own ``modelnet40_ply_hdf5_2048`` turned them
Y up; ShapeNet and everything sampled from it (PointFlow's PC15k, Point-BERT's
ShapeNet-55, ShapeNetCore's ``model_normalized.obj``) are Y up, as are the
built-in shapes. So the same layout (PointNet's h5) comes both ways, and only
a raw ModelNet tree, a ShapeNet layout or the built-in set tells by itself.
Elsewhere the shapes are measured: a bed or a table is thinnest along its up
axis, a chair or a lamp longest, so each shape of a known class votes, and
shapes of other classes vote for their thinner side at half weight. The answer
comes with its reason, which the window and ``inspect`` show, and the user can
override it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["FLAT_CLASSES", "MODELNET40_CLASSES", "TALL_CLASSES", "UpAxis", "detect_up", "measure_up"]

#: ModelNet40's classes (ModelNet10's are among them), as PointNet's ``shape_names.txt`` lists them.
MODELNET40_CLASSES = frozenset((
    "airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl", "car", "chair", "cone", "cup", "curtain",
    "desk", "door", "dresser", "flower_pot", "glass_box", "guitar", "keyboard", "lamp", "laptop", "mantel",
    "monitor", "night_stand", "person", "piano", "plant", "radio", "range_hood", "sink", "sofa", "stairs", "stool",
    "table", "tent", "toilet", "tv_stand", "vase", "wardrobe", "xbox",
))
#: Classes whose shapes lie flat: thinnest along the up axis.
FLAT_CLASSES = frozenset(("airplane", "bathtub", "bed", "bench", "car", "desk", "keyboard", "laptop", "monitor",
                          "piano", "sofa", "table", "tv_stand"))
#: Classes whose shapes stand tall: longest along the up axis.
TALL_CLASSES = frozenset(("bookshelf", "bottle", "chair", "cone", "curtain", "door", "dresser", "flower_pot",
                          "glass_box", "lamp", "night_stand", "person", "plant", "stool", "vase", "wardrobe"))
#: Shapes read to measure the up axis, spread over the split.
MEASURED_SHAPES = 48
#: The share of the weighted votes an axis needs to be called up.
_AGREEMENT = 0.7


@dataclass(frozen=True)
class UpAxis:
    """A data set's up axis (``y`` or ``z``) and why: ``convention`` or ``measured`` (``how``), in words (``reason``)."""

    axis: str
    how: str
    reason: str


def detect_up(dataset) -> UpAxis:
    """The up axis of a :class:`~vaeviewer.data.ShapeSet`: its layout's convention, else measured."""
    fmt = dataset.format
    if fmt == "builtin":
        return UpAxis("y", "convention", "the built-in shapes are made Y up")
    if dataset.class_ids or fmt == "shapenet-55":
        return UpAxis("y", "convention", "ShapeNet's layouts are Y up")
    names = set(dataset.class_names)
    if fmt == "modelnet-off" and names and names <= MODELNET40_CLASSES:
        return UpAxis("z", "convention", "ModelNet's meshes are Z up")
    if any(Path(name).stem == "model_normalized" for name in _first_shape_names(dataset)):
        return UpAxis("y", "convention", "ShapeNetCore's model_normalized files are Y up")
    return measure_up(dataset)


def measure_up(dataset) -> UpAxis:
    """The axis the set's shapes stand along, measured on up to :data:`MEASURED_SHAPES` of them.

    Each shape votes: a shape of a class that lies flat (beds, tables, sofas) for the shorter of
    its y and z extents, one of a class that stands tall (chairs, lamps, bottles) for the longer,
    any other for the shorter, at half weight. Y up when the votes do not clearly agree.
    """
    votes = {"y": 0.0, "z": 0.0}
    measured = known = 0
    for name in dataset.split_names:
        split = dataset.split(name)
        if not len(split):
            continue
        class_names = tuple(split.class_names)
        labels = np.asarray(split.labels)
        for index in np.unique(np.linspace(0, len(split) - 1, MEASURED_SHAPES).astype(int)):
            try:
                cloud = np.asarray(split.points(int(index), 512), dtype=np.float64)
            except Exception:  # noqa: BLE001 (a broken file says nothing about the axis; it is reported elsewhere)
                continue
            y, z = (cloud.max(axis=0) - cloud.min(axis=0))[1:]
            label = int(labels[index])
            kind = class_names[label] if 0 <= label < len(class_names) else ""
            shorter, longer = ("y", "z") if y < z else ("z", "y")
            if kind in TALL_CLASSES:
                votes[longer] += 1.0
            else:
                votes[shorter] += 1.0 if kind in FLAT_CLASSES else 0.5
            measured += 1
            known += kind in TALL_CLASSES or kind in FLAT_CLASSES
        break
    if not measured:
        return UpAxis("y", "measured", "a guess: no shape could be read; Y up, the most common")
    total = votes["y"] + votes["z"]
    axis = max(votes, key=votes.get)
    share = votes[axis] / total
    counts = f"{share:.0%} of the weighted votes of {measured} shapes"
    if share >= _AGREEMENT and 2 * known >= measured:
        return UpAxis(axis, "measured", f"measured: the shapes stand along {axis} ({counts}: flat classes are "
                      "thinnest along the up axis, tall ones longest)")
    if share >= _AGREEMENT:
        return UpAxis(axis, "measured", f"a guess: the shapes, of classes it does not know, are thinnest along "
                      f"{axis} ({counts})")
    return UpAxis("y", "measured", f"a guess: the shapes do not tell ({counts} for {axis}); Y up, the most common")


def _first_shape_names(dataset, count: int = 16) -> list[str]:
    for name in dataset.split_names:
        split = dataset.split(name)
        if len(split):
            return [split.shape_name(i) for i in range(min(count, len(split)))]
    return []
