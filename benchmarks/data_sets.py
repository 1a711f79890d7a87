"""Data figures: opening a ModelNet40-sized PointNet h5 set, and generating the built-in set."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import load_average

#: Shapes in PointNet's ``modelnet40_ply_hdf5_2048`` (train and test together), 2048 points each.
MODELNET40_SHAPES = 12_311


def _status_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM), 0 where unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def make_h5(folder: str, shapes: int = MODELNET40_SHAPES) -> dict:
    """Write a PointNet h5 set of ``shapes`` x 2048 x 3 float32 (the built-in shapes, repeated and jittered)."""
    from vaeviewer.data import open_dataset
    from vaeviewer.data.pointnet_h5 import write_pointnet_h5

    dataset = open_dataset("builtin")
    split = dataset.split("train")
    source, source_labels = split.load_all(2048), np.asarray(split.labels)
    classes = list(dataset.class_names)
    dataset.close()
    rng = np.random.default_rng(0)
    picks = np.arange(shapes) % len(source)
    data = source[picks] + rng.normal(0.0, 0.002, size=(shapes, 2048, 3)).astype(np.float32)
    labels = source_labels[picks].astype(np.uint8)
    write_pointnet_h5(folder, {"train": (data, labels)}, classes)
    size = sum(p.stat().st_size for p in Path(folder).iterdir())
    return {"bytes": size}


def h5_first_shapes(folder: str, way: str, count: int = 100) -> dict:
    """Open the set in ``folder`` and make its first ``count`` shapes ready to draw: seconds and memory growth.

    ``way`` = ``vaeviewer``: :func:`vaeviewer.data.open_dataset` and
    ``split.points(i)`` (reads only those rows, normalised to the unit sphere).
    ``way`` = ``eager``: what the seed did with its data, the whole array read
    into memory first (``h5py``'s ``data[:]``, like ``np.load``), then the
    shapes normalised. Modules are imported before the clock starts.
    """
    import h5py

    from vaeviewer.data import open_dataset
    from vaeviewer.data.geometry import normalize_unit_sphere

    rss_before = _status_kb("VmRSS")
    began = time.perf_counter()
    if way == "vaeviewer":
        dataset = open_dataset(folder)
        split = dataset.split("train")
        clouds = [split.points(i) for i in range(count)]
    else:
        with h5py.File(Path(folder) / "ply_data_train0.h5", "r") as handle:
            everything = handle["data"][:]
            labels = handle["label"][:]
        clouds = [normalize_unit_sphere(everything[i]) for i in range(count)]
        del labels
    seconds = time.perf_counter() - began
    grown = (_status_kb("VmHWM") - rss_before) / 1024
    assert len(clouds) == count and clouds[-1].shape == (2048, 3)
    return {"seconds": seconds, "memory_growth_mb": grown, "load": load_average()}


def builtin_generation() -> dict:
    """Seconds to generate and write the built-in data set into an empty cache folder."""
    from vaeviewer.data.builtin import CACHE_DIR_ENV, ensure_builtin_dataset

    folder = tempfile.mkdtemp(prefix="vaeviewer-bench-builtin-")
    os.environ[CACHE_DIR_ENV] = folder
    try:
        began = time.perf_counter()
        ensure_builtin_dataset()
        seconds = time.perf_counter() - began
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"seconds": seconds, "load": load_average()}


#: PointFlow's ShapeNetCore.v2.PC15k: 35,708 train shapes of 15,000 points in 55 synset folders.
PC15K_SHAPES = 35_708


def make_pc15k(folder: str, shapes: int = PC15K_SHAPES, points: int = 15_000) -> dict:
    """Write a PC15k-sized tree ``<synset>/{train,test}/<model>.npy`` (one cloud, saved again and again)."""
    import numpy as np

    from vaeviewer.data.shapenet import SYNSETS

    cloud = np.random.default_rng(0).normal(size=(points, 3)).astype(np.float32)
    synsets = list(SYNSETS)
    root = Path(folder)
    for k in range(shapes):
        train = root / synsets[k % len(synsets)] / "train"
        train.mkdir(parents=True, exist_ok=True)
        np.save(train / f"m{k:05d}.npy", cloud)
    for synset in synsets:
        (root / synset / "test").mkdir(parents=True, exist_ok=True)
        np.save(root / synset / "test" / "m0.npy", cloud)
    return {"shapes": shapes, "points": points}


def pc15k_first_shape(folder: str, num_points: int = 2048) -> dict:
    """Seconds to open the tree and have its first train shape resampled to ``num_points`` (what the window shows first)."""
    from vaeviewer.data import open_dataset

    began = time.perf_counter()
    with open_dataset(folder) as dataset:
        opened = time.perf_counter() - began
        dataset.split("train").points(0, num_points)
        seconds = time.perf_counter() - began
        shapes = len(dataset.split("train"))
    return {"seconds": seconds, "open_seconds": opened, "shapes": shapes, "load": load_average()}


def retrieval(folder: str, checkpoint: str, way: str, cache_dir: str) -> dict:
    """Seconds to find the 5 nearest of 12,000 shapes to one query file's shape.

    ``cold``: the split's codes are encoded first (an empty cache); ``cached``: they
    are read from the cache; ``brute``: no model, the Chamfer distance to every shape.
    """
    os.environ["VAEVIEWER_CACHE_DIR"] = cache_dir
    from vaeviewer.data import open_dataset

    with open_dataset(folder) as dataset:
        split = dataset.split("train")
        began = time.perf_counter()
        if way == "brute":
            from vaeviewer.workflows.quality import pairwise_chamfer

            query = split.points(17)
            distances = np.concatenate([
                pairwise_chamfer(query[None], np.stack([split.points(i) for i in range(start, min(start + 500, len(split)))]))[0]
                for start in range(0, len(split), 500)
            ])
            nearest = [int(i) for i in np.argsort(distances)[:5]]
        else:
            from vaeviewer.workflows.models import open_model
            from vaeviewer.workflows.studio import build_index, retrieve

            model, _ = open_model(checkpoint, "cpu")
            began = time.perf_counter()
            index = build_index(model, split, checkpoint=checkpoint, data=folder)
            (found,) = retrieve(model, index, [split.points(17, model.config.num_points)], k=5)
            nearest = [int(index.indices[row]) for row, _ in found]
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "shapes": len(split), "found_17": nearest[0] == 17, "load": load_average()}


def mixture_sampling(folder: str, checkpoint: str, cache_dir: str) -> dict:
    """Seconds to generate 6 samples' codes from the mixture of the split's codes: the first time (the fit
    included), the next time (the fitted mixture kept), and a fit per generation, as the studio did before.
    """
    os.environ["VAEVIEWER_CACHE_DIR"] = cache_dir
    from vaeviewer.data import open_dataset
    from vaeviewer.workflows.models import open_model
    from vaeviewer.workflows.quality import latent_mixture
    from vaeviewer.workflows.studio import build_index, draw_codes

    with open_dataset(folder) as dataset:
        model, _ = open_model(checkpoint, "cpu")
        index = build_index(model, dataset.split("train"), checkpoint=checkpoint, data=folder)
    began = time.perf_counter()
    draw_codes(model, 6, 0, prior="mixture", index=index)
    first = time.perf_counter() - began
    began = time.perf_counter()
    draw_codes(model, 6, 1, prior="mixture", index=index)
    later = time.perf_counter() - began
    began = time.perf_counter()
    latent_mixture(index.latents, components=32, seed=1)
    refit = time.perf_counter() - began
    return {"first_seconds": first, "later_seconds": later, "refit_seconds": refit, "codes": len(index.latents),
            "load": load_average()}
