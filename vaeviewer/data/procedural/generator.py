"""The procedural classes, one mesh per call, and the whole built-in data set.

Each shape gets its own random generator, seeded from
``(seed, split, class, index)``, so a shape depends on nothing but those four:
not on the order of generation, nor on how many other shapes are made.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping

import numpy as np

from vaeviewer.data.geometry import normalize_unit_sphere
from vaeviewer.data.procedural.appliances import generate_lamp, generate_monitor
from vaeviewer.data.procedural.assembly import Assembly
from vaeviewer.data.procedural.furniture import generate_bed, generate_table
from vaeviewer.data.procedural.primitives import Mesh
from vaeviewer.data.procedural.seating import generate_bench, generate_chair, generate_sofa
from vaeviewer.data.procedural.vehicles import generate_airplane
from vaeviewer.data.procedural.vessels import generate_bottle, generate_mug

__all__ = [
    "SHAPE_CLASSES",
    "SHAPE_GENERATORS",
    "build_shape",
    "generate_builtin_dataset",
    "generate_shape",
    "sample_shape",
    "shape_rng",
]

SHAPE_GENERATORS: Mapping[str, Callable[[np.random.Generator], Assembly]] = {
    "airplane": generate_airplane,
    "bed": generate_bed,
    "bench": generate_bench,
    "bottle": generate_bottle,
    "chair": generate_chair,
    "lamp": generate_lamp,
    "monitor": generate_monitor,
    "mug": generate_mug,
    "sofa": generate_sofa,
    "table": generate_table,
}
"""Builder of every procedural class, by class name: ``rng -> Assembly``."""

SHAPE_CLASSES: tuple[str, ...] = tuple(SHAPE_GENERATORS)
"""Names of the procedural classes, in label order (alphabetical, as in ModelNet)."""


def _stable_code(text: str) -> int:
    # crc32 rather than hash(): Python salts str hashes per process.
    return zlib.crc32(text.encode("utf-8"))


def shape_rng(seed: int, split: str, class_name: str, index: int) -> np.random.Generator:
    """The random generator of one shape, a pure function of its four keys.

    Parameters
    ----------
    seed : int
        Seed of the whole data set, >= 0.
    split : str
        ``"train"`` or ``"test"`` (any name works).
    class_name : str
        One of :data:`SHAPE_CLASSES`.
    index : int
        Position of the shape in its class within the split, >= 0.

    Returns
    -------
    numpy.random.Generator
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    entropy = [int(seed), _stable_code(split), _stable_code(class_name), int(index)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def build_shape(class_name: str, rng: np.random.Generator) -> Assembly:
    """One random shape of a class, as parts and solids (see :class:`~.assembly.Assembly`).

    Parameters
    ----------
    class_name : str
        One of :data:`SHAPE_CLASSES`.
    rng : numpy.random.Generator
        Source of every random choice.

    Returns
    -------
    Assembly
        Y up, standing on ``y = 0``, front towards +Z, in the class's own units.
    """
    try:
        builder = SHAPE_GENERATORS[class_name]
    except KeyError:
        known = ", ".join(SHAPE_CLASSES)
        raise ValueError(f"unknown shape class {class_name!r}; known: {known}") from None
    return builder(rng)


def generate_shape(class_name: str, rng: np.random.Generator) -> Mesh:
    """One random triangle mesh of a class (the parts of :func:`build_shape` joined), Y up, on ``y = 0``, front to +Z.

    Returns
    -------
    Mesh
        float64 (v, 3) vertices and int64 (f, 3) triangles, not normalised. Parts
        are simply joined, so faces buried inside other parts are included.
    """
    return build_shape(class_name, rng).mesh()


def sample_shape(class_name: str, rng: np.random.Generator, points: int = 2048) -> np.ndarray:
    """A point cloud of one random shape, sampled by area on its visible surface.

    The shape's parameters are drawn from ``rng`` before the sample points, so
    the same generator state gives the same shape whatever ``points`` is.
    Points on faces buried inside other parts are left out (see
    :meth:`~.assembly.Assembly.sample`).

    Parameters
    ----------
    class_name : str
        One of :data:`SHAPE_CLASSES`.
    rng : numpy.random.Generator
        Source of the shape and of its sample points.
    points : int
        Number of points.

    Returns
    -------
    numpy.ndarray
        float32 (points, 3), centred on its mean, farthest point at distance 1.
    """
    return normalize_unit_sphere(build_shape(class_name, rng).sample(points, rng))


def generate_builtin_dataset(
    seed: int = 0,
    points: int = 2048,
    train_per_class: int = 100,
    test_per_class: int = 25,
    classes: tuple[str, ...] = SHAPE_CLASSES,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Generate the built-in data set: every class, a train and a test split.

    Shapes are stored class by class (all shapes of label 0, then label 1, ...).

    Parameters
    ----------
    seed : int
        Seed of the data set, >= 0; the same seed gives byte-identical arrays.
    points : int
        Points per cloud.
    train_per_class, test_per_class : int
        Shapes per class in each split.
    classes : tuple of str
        Classes to generate, in label order; labels index this tuple.
    progress : callable, optional
        Called as ``progress(done, total)`` after every shape.

    Returns
    -------
    dict
        ``{"train": (data, labels), "test": (data, labels)}`` with data float32
        (n, points, 3) and labels int64 (n,).
    """
    if points <= 0:
        raise ValueError(f"points must be positive, got {points}")
    counts = {"train": int(train_per_class), "test": int(test_per_class)}
    total = len(classes) * sum(counts.values())
    done = 0
    splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, per_class in counts.items():
        data = np.empty((len(classes) * per_class, points, 3), dtype=np.float32)
        labels = np.repeat(np.arange(len(classes), dtype=np.int64), per_class)
        for label, class_name in enumerate(classes):
            for index in range(per_class):
                rng = shape_rng(seed, split, class_name, index)
                data[label * per_class + index] = sample_shape(class_name, rng, points)
                done += 1
                if progress is not None:
                    progress(done, total)
        splits[split] = (data, labels)
    return splits
