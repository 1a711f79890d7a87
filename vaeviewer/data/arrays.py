"""Clouds stored as NumPy arrays: a ``.npy`` of shape (K, N, 3), and folders of them, as the original work keeps its data.

The original work (github.com/Suraj-000/Variational_Autoencoder_pytorch) trains on
a folder holding ``data_train_889.npy`` and ``data_test_100.npy``: arrays of shape
(K, N, 3), K clouds of N points (889 and 100 are the sizes of ModelNet10's chair
splits). Such a folder opens as a data set with ``train`` and ``test`` splits
(``val`` too, and several files to one split are read in name order); a single
(K, N, 3) file opens as the split ``all``. The arrays are memory-mapped and read
a cloud at a time, like PointNet's h5 shards, and never unpickled. The clouds
have no labels: their one class is named after the folder (or the file).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from vaeviewer.data.dataset import ShapeSet
from vaeviewer.data.pointnet_h5 import PointNetH5Split, Shard
from vaeviewer.data.shape_files import npy_header
from vaeviewer.errors import DataFileError

__all__ = ["ARRAY_FILE", "NumpyArraySet", "is_array_folder", "is_cloud_array"]

#: The original work's file names: ``data_<split>_<count>.npy``.
ARRAY_FILE = re.compile(r"^data_(train|test|val)(?:_.*)?\.npy$", re.IGNORECASE)


class _Mapped:
    """What a shard keeps open: here a memory map, released with the set."""

    def __init__(self, array: np.memmap) -> None:
        self.array = array

    def close(self) -> None:
        mapping = getattr(self.array, "_mmap", None)
        if mapping is not None:
            mapping.close()


def is_array_folder(folder: Path) -> bool:
    """Whether ``folder`` holds the original work's ``data_train_*.npy`` / ``data_test_*.npy`` arrays."""
    return any(ARRAY_FILE.match(path.name) and path.is_file() for path in folder.iterdir())


def is_cloud_array(path: Path) -> bool:
    """Whether the ``.npy`` file ``path`` holds several clouds: shape (K, N, >=3) with K > 1 (header only).

    False for a file that is no readable array: the single-file reader then says what is wrong with it.
    """
    try:
        if path.stat().st_size == 0:
            return False
        shape = npy_header(path)[0]
    except (OSError, DataFileError):
        return False
    return len(shape) == 3 and shape[0] > 1


def _map(path: Path) -> Shard:
    shape, dtype, offset = npy_header(path)
    if dtype.hasobject:
        raise DataFileError(path, "refused: object arrays need pickle")
    if dtype.kind not in "fiu":
        raise DataFileError(path, f"array of {dtype} is not numeric coordinates")
    if len(shape) != 3 or shape[2] < 3 or shape[1] < 1:
        raise DataFileError(path, f"array shape {shape} is not (clouds, points, 3)")
    needed = int(np.prod(shape)) * dtype.itemsize
    if path.stat().st_size - offset < needed:
        raise DataFileError(path, f"truncated: array {shape} needs {needed} bytes")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as error:
        raise DataFileError(path, f"cannot read .npy: {str(error).splitlines()[0][:100]}") from None
    return Shard(path=path, file=_Mapped(array), data=array, labels=np.zeros(shape[0], dtype=np.int64), names=None)


class NumpyArraySet(ShapeSet):
    """A data set of cloud arrays: a folder of ``data_<split>_*.npy`` files, or one (K, N, 3) ``.npy``.

    Parameters
    ----------
    path : str or pathlib.Path

    Raises
    ------
    DataFileError
        For a folder without such arrays, or an array that is not (clouds, points, 3) numbers.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format = "npy-arrays"
        self.warnings: list[str] = []
        if self.path.is_dir():
            groups: dict[str, list[Path]] = {}
            for file in sorted(self.path.iterdir()):
                match = ARRAY_FILE.match(file.name)
                if match and file.is_file():
                    groups.setdefault(match.group(1).lower(), []).append(file)
            if not groups:
                raise DataFileError(self.path, "no data_train_*.npy or data_test_*.npy arrays in this folder")
            order = {"train": 0, "val": 1, "test": 2}
            files = {name: groups[name] for name in sorted(groups, key=order.__getitem__)}
            self.class_names = (self.path.name or "shapes",)
        else:
            files = {"all": [self.path]}
            self.class_names = (self.path.stem,)
        self._shards: list[Shard] = []
        self._splits = {}
        try:
            for name, paths in files.items():
                shards = [_map(file) for file in paths]
                self._shards += shards
                self._splits[name] = PointNetH5Split(name, self.class_names, shards)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the memory maps; the set cannot be read afterwards."""
        for shard in self._shards:
            shard.file.close()
