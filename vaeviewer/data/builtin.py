"""The built-in data set: procedural shapes, generated on first use and cached on disk.

A fresh machine has nothing to train on, so vaeviewer ships a generator
(:mod:`vaeviewer.data.procedural`) instead of a download: ten classes, 100
training and 25 test shapes each, 2048 points per shape, in PointNet's HDF5
layout so that the ordinary reader opens it. It takes a few seconds to make
and is kept in the user's cache folder, keyed by :data:`BUILTIN_VERSION` and
the seed, so a new generator never meets an old cache.

This module imports numpy and platformdirs only; h5py is loaded when the set
is written.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import platformdirs

from vaeviewer.data.procedural import SHAPE_CLASSES, generate_builtin_dataset

__all__ = [
    "BUILTIN_CLASSES",
    "BUILTIN_POINTS",
    "BUILTIN_SEED",
    "BUILTIN_TEST_PER_CLASS",
    "BUILTIN_TRAIN_PER_CLASS",
    "BUILTIN_VERSION",
    "CACHE_DIR_ENV",
    "builtin_cache_dir",
    "builtin_shape_names",
    "ensure_builtin_dataset",
]

BUILTIN_CLASSES: tuple[str, ...] = SHAPE_CLASSES
"""Class names of the built-in set, in label order."""

BUILTIN_SEED = 0
"""Seed of the set that the application uses."""

BUILTIN_VERSION = 1
"""Version of the generator; bump it whenever its output changes, so caches are remade."""

BUILTIN_POINTS = 2048
"""Points per shape, as in PointNet's ModelNet40 files."""

BUILTIN_TRAIN_PER_CLASS = 100
"""Training shapes per class."""

BUILTIN_TEST_PER_CLASS = 25
"""Test shapes per class."""

CACHE_DIR_ENV = "VAEVIEWER_CACHE_DIR"
"""Environment variable that, when set, replaces the user cache folder (tests use it)."""

_SPLITS = ("train", "test")


def _cache_root() -> Path:
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("vaeviewer"))


def builtin_cache_dir(seed: int = BUILTIN_SEED) -> Path:
    """Where the built-in set of ``seed`` lives (whether or not it has been generated yet).

    Parameters
    ----------
    seed : int
        Seed of the set.

    Returns
    -------
    pathlib.Path
        ``<cache>/builtin-v<BUILTIN_VERSION>-seed<seed>``, where ``<cache>`` is
        ``$VAEVIEWER_CACHE_DIR`` if set, else the user cache folder of vaeviewer.
    """
    return _cache_root() / f"builtin-v{BUILTIN_VERSION}-seed{seed}"


def builtin_shape_names(train_per_class: int, test_per_class: int) -> dict[str, list[str]]:
    """Names of the generated shapes, ``chair_0000`` ..., numbered on from train into test.

    Parameters
    ----------
    train_per_class, test_per_class : int
        Shapes per class in each split.

    Returns
    -------
    dict
        ``{"train": [...], "test": [...]}`` in the order of the generated arrays
        (class by class).
    """
    first = {"train": 0, "test": train_per_class}
    counts = {"train": train_per_class, "test": test_per_class}
    return {
        split: [f"{name}_{first[split] + i:04d}" for name in BUILTIN_CLASSES for i in range(counts[split])]
        for split in _SPLITS
    }


def _is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds every file the writer makes (it writes them all, then renames)."""
    expected = ["shape_names.txt"]
    for split in _SPLITS:
        expected += [f"{split}_files.txt", f"ply_data_{split}0.h5"]
    return all((folder / name).is_file() for name in expected)


def ensure_builtin_dataset(
    seed: int = BUILTIN_SEED,
    cache_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """The folder of the built-in data set, generating and writing it first if needed.

    The set is written to a private folder beside the target and renamed into
    place in one step, so a reader never sees half of it. When two processes
    generate at once, the first rename wins and the other keeps that folder
    and discards its own copy.

    Parameters
    ----------
    seed : int
        Seed of the set, >= 0.
    cache_dir : str or pathlib.Path, optional
        Folder for the set itself; :func:`builtin_cache_dir` by default.
    progress : callable, optional
        Called as ``progress(done, total)`` after each shape while generating.

    Returns
    -------
    pathlib.Path
        A folder in PointNet's HDF5 layout (``shape_names.txt``,
        ``train_files.txt``, ``ply_data_train0.h5``, ...), readable with
        :class:`~vaeviewer.data.pointnet_h5.PointNetH5Set`.
    """
    folder = Path(cache_dir) if cache_dir is not None else builtin_cache_dir(seed)
    if _is_complete(folder):
        return folder
    from vaeviewer.data.pointnet_h5 import write_pointnet_h5  # h5py: only when writing

    splits = generate_builtin_dataset(
        seed=seed,
        points=BUILTIN_POINTS,
        train_per_class=BUILTIN_TRAIN_PER_CLASS,
        test_per_class=BUILTIN_TEST_PER_CLASS,
        progress=progress,
    )
    names = builtin_shape_names(BUILTIN_TRAIN_PER_CLASS, BUILTIN_TEST_PER_CLASS)
    staging = folder.with_name(f".{folder.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.new")
    try:
        write_pointnet_h5(staging, splits, list(BUILTIN_CLASSES), names)
        if folder.exists() and not _is_complete(folder):
            # A broken leftover (a deleted file, an interrupted copy): set it aside.
            _discard(folder)
        try:
            # Unlike os.replace, a rename onto an existing non-empty folder fails:
            # whoever got there first keeps their (identical) set.
            os.rename(staging, folder)
        except OSError:
            if not _is_complete(folder):
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def _discard(folder: Path) -> None:
    """Remove ``folder``, first renaming it so that no one reads it while it goes."""
    doomed = folder.with_name(f".{folder.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.old")
    try:
        os.rename(folder, doomed)
    except FileNotFoundError:
        return  # someone else removed it already
    shutil.rmtree(doomed, ignore_errors=True)
