"""Folders of shape files (ModelNet's raw OFF tree and the like), and a single shape file.

A file at ``<class>/<train|test>/<file>`` takes its class and split from its
path: that is ModelNet's own layout (``chair/train/chair_0001.off``) and that
of many conversions of it (PCD, PLY). Any other folder is one split ``all``
whose classes come from ModelNet-style file stems (``night_stand_0001`` ->
``night_stand``) or else from the folder holding the file.

Nothing is read when a folder is opened; a cloud is read, sampled and cached
when it is first asked for. Broken files show up then, as
:class:`~vaeviewer.errors.DataFileError`; :meth:`FileTreeSplit.drop_unreadable`
reads them all up front and leaves the broken ones out.
"""

from __future__ import annotations

import os
import re
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from vaeviewer.data.dataset import ShapeSet, ShapeSplit
from vaeviewer.data.shape_files import (
    SHAPE_FILE_EXTENSIONS,
    ShapeFile,
    peek_point_count,
    read_shape_file,
    shape_file_points,
)
from vaeviewer.errors import DataFileError

__all__ = ["FileTreeSet", "FileTreeSplit", "SingleFileSet", "class_from_stem"]

_SPLIT_FOLDERS = ("train", "val", "test")
# Greedy on the class, so that only the last _<digits> is the shape number.
_MODELNET_STEM = re.compile(r"^(.+)_(\d+)$")
# Text files that sit beside shapes but are not shapes: ModelNet's README.txt,
# PointNet's list files (shape_names, *_files), PointNet++'s split lists
# (modelnet40_train.txt), licences.
_NOT_SHAPES = re.compile(
    r"^(readme.*|license.*|licence.*|copying|.*shape_names|.*_files|filelist.*|.*_(train|test|val))$", re.IGNORECASE
)
_CACHE_BYTES = 128 * 2**20


def class_from_stem(stem: str) -> str | None:
    """The class of a ModelNet-style file stem: ``"night_stand_0001"`` -> ``"night_stand"``.

    Parameters
    ----------
    stem : str
        A file name without its extension.

    Returns
    -------
    str or None
        The part before the final ``_<digits>``, or None when the stem has no such ending.
    """
    match = _MODELNET_STEM.match(stem)
    return match.group(1) if match else None


def _find_shape_files(root: Path) -> list[Path]:
    """Shape files under ``root``, sorted by relative path; hidden and macOS-metadata entries skipped."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith((".", "__MACOSX"))]
        for name in files:
            path = Path(folder, name)
            if name.startswith(".") or path.suffix.lower() not in SHAPE_FILE_EXTENSIONS:
                continue
            if path.suffix.lower() == ".txt" and _NOT_SHAPES.match(path.stem):
                continue
            found.append(path)
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def _display_names(files: list[Path], root: Path) -> list[str]:
    """File stems, or relative paths where stems collide (``a/chair.ply``, ``a/chair.pcd``)."""
    stems = [path.stem for path in files]
    counts: dict[str, int] = {}
    for stem in stems:
        counts[stem] = counts.get(stem, 0) + 1
    return [stem if counts[stem] == 1 else path.relative_to(root).as_posix()
            for stem, path in zip(stems, files)]


class FileTreeSplit(ShapeSplit):
    """A split made of shape files, each read when first asked for.

    Parameters
    ----------
    name : str
        The split's name.
    class_names : tuple of str
        The set's classes.
    files : list of pathlib.Path
        The shape files, in order.
    labels : numpy.ndarray
        int64 class index of each file.
    root : pathlib.Path
        The folder the set was opened from (names and seeds are relative to it).
    warnings : list of str
        The set's warnings, to which problems found here are appended.
    """

    def __init__(
        self, name: str, class_names: tuple[str, ...], files: list[Path], labels: np.ndarray,
        root: Path, warnings: list[str],
    ) -> None:
        self.name = name
        self.class_names = class_names
        self._files = list(files)
        self._labels = np.array(labels, dtype=np.int64)
        self._labels.setflags(write=False)
        self._root = root
        self._warnings = warnings
        self._names = _display_names(self._files, root)
        # Sampled clouds by (file, num_points), least recently used first, bounded in bytes.
        self._cache: OrderedDict[tuple[Path, int | None], np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        # The file read last, parsed: asking for its cloud at another size (the command line checks a
        # shape before loading the model, then samples it at the model's size) parses it once.
        self._last_read: tuple[Path, ShapeFile] | None = None

    def __len__(self) -> int:
        return len(self._files)

    @property
    def labels(self) -> np.ndarray:
        """Class index of every shape, int64 (len,)."""
        return self._labels

    @property
    def files(self) -> tuple[Path, ...]:
        """The shape files, in order."""
        return tuple(self._files)

    def shape_name(self, index: int) -> str:
        """The file's stem (its path relative to the set's folder where two files share a stem)."""
        return self._names[self._check_index(index)]

    def points(self, index: int, num_points: int | None = None) -> np.ndarray:
        """Read file ``index``; see :func:`~vaeviewer.data.shape_files.shape_file_points`.

        The sampling seed derives from the file's path, so a shape gives the same
        cloud every time, whatever its index.
        """
        path = self._files[self._check_index(index)]
        key = (path, num_points)
        cached = self._cache.get(key)
        if cached is None:
            relative = path.relative_to(self._root).as_posix() if path != self._root else path.name
            cached = shape_file_points(self._read(path), num_points, seed=zlib.crc32(relative.encode()))
            self._remember(key, cached)
        else:
            self._cache.move_to_end(key)
        return cached.copy()  # callers may augment in place; the cache must not change

    def _read(self, path: Path) -> ShapeFile:
        if self._last_read is None or self._last_read[0] != path:
            self._last_read = None  # only one parsed file is held: let the previous one go first
            self._last_read = (path, read_shape_file(path))
        return self._last_read[1]

    def _remember(self, key: tuple[Path, int | None], cloud: np.ndarray) -> None:
        self._cache[key] = cloud
        self._cached_bytes += cloud.nbytes
        while self._cached_bytes > _CACHE_BYTES and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached_bytes -= dropped.nbytes

    def point_counts(self) -> np.ndarray:
        """Points (mesh vertices) per file from the headers where the format has one.

        A file whose count cannot be read counts 0, with a warning.
        """
        counts = np.zeros(len(self), dtype=np.int64)
        for index, path in enumerate(self._files):
            try:
                counts[index] = peek_point_count(path)
            except DataFileError as error:
                self._warnings.append(str(error))
        return counts

    def drop_unreadable(self, num_points: int | None = None) -> list[str]:
        """Read every file now and leave out those that cannot be read.

        Parameters
        ----------
        num_points : int, optional
            Points per cloud, as later asked of :meth:`points` (the clouds stay cached).

        Returns
        -------
        list of str
            One warning per file left out (also added to the set's warnings).
        """
        keep, problems = [], []
        for index in range(len(self._files)):
            try:
                self.points(index, num_points)
                keep.append(index)
            except DataFileError as error:
                problems.append(f"{error} (skipped)")
        if problems:
            self._files = [self._files[i] for i in keep]
            self._labels = self._labels[keep]
            self._labels.setflags(write=False)
            self._names = _display_names(self._files, self._root)
            self._warnings.extend(problems)
        return problems


class FileTreeSet(ShapeSet):
    """A folder of shape files, searched recursively.

    Parameters
    ----------
    path : str or pathlib.Path
        The folder.

    Raises
    ------
    DataFileError
        When it is not a folder or holds no shape file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        if not self.path.exists():
            raise DataFileError(self.path, "no such file or folder")
        if not self.path.is_dir():
            raise DataFileError(self.path, "is a file, not a folder")
        files = _find_shape_files(self.path)
        if not files:
            raise DataFileError(self.path, f"no shape files found (looked for {', '.join(SHAPE_FILE_EXTENSIONS)})")
        split_of = [path.parent.name.lower() for path in files]
        by_path = all(len(path.relative_to(self.path).parts) >= 3 and split in _SPLIT_FOLDERS
                      for path, split in zip(files, split_of))
        if by_path:
            classes = [path.parent.parent.name for path in files]
            splits = [name for name in _SPLIT_FOLDERS if name in split_of]
            self.format = "modelnet-off" if all(path.suffix.lower() == ".off" for path in files) else "file-tree"
        else:
            classes = [class_from_stem(path.stem) or path.parent.name for path in files]
            split_of = ["all"] * len(files)
            splits = ["all"]
            self.format = "file-tree"
        if classes and all(re.fullmatch(r"\d{8}", name) for name in classes):
            # ShapeNet's folders are synset ids (PointFlow's PC15k): shown by name, the id kept beside it.
            from vaeviewer.data.shapenet import synset_name

            self.class_ids = {synset_name(synset): synset for synset in sorted(set(classes))}
            classes = [synset_name(name) for name in classes]
        self.class_names = tuple(sorted(set(classes)))
        index = {name: k for k, name in enumerate(self.class_names)}
        self._splits = {}
        for split in splits:
            members = [k for k, name in enumerate(split_of) if name == split]
            self._splits[split] = FileTreeSplit(
                split, self.class_names, [files[k] for k in members],
                np.array([index[classes[k]] for k in members], dtype=np.int64), self.path, self.warnings,
            )


class SingleFileSet(ShapeSet):
    """One shape file as a data set: split ``all`` with one shape.

    Its class comes from a ModelNet-style stem (``chair_0001`` -> ``chair``),
    else it is ``unknown``. The file is checked (exists, supported type, header)
    but read only when its cloud is asked for.

    Parameters
    ----------
    path : str or pathlib.Path
        The shape file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format = "single-file"
        self.warnings: list[str] = []
        peek_point_count(self.path)  # raises for a missing, unsupported or headless file
        self.class_names = (class_from_stem(self.path.stem) or "unknown",)
        self._splits = {
            "all": FileTreeSplit("all", self.class_names, [self.path], np.zeros(1, dtype=np.int64), self.path, self.warnings)
        }
