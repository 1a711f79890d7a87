"""Opening any supported data source by its path: :func:`open_dataset`."""

from __future__ import annotations

from pathlib import Path

from vaeviewer.data.arrays import NumpyArraySet, is_array_folder, is_cloud_array
from vaeviewer.data.dataset import ShapeSet
from vaeviewer.data.file_tree import FileTreeSet, SingleFileSet
from vaeviewer.data.pointnet_h5 import PointNetH5Set
from vaeviewer.data.shape_files import SHAPE_FILE_EXTENSIONS
from vaeviewer.data.shapenet import ShapeNet55Set, is_shapenet55_folder
from vaeviewer.errors import DataFileError

__all__ = ["open_dataset", "BUILTIN"]

BUILTIN = "builtin"
"""The name that stands for the built-in procedural data set."""

_H5_SUFFIXES = (".h5", ".hdf5")


def _is_pointnet_folder(folder: Path) -> bool:
    if (folder / "shape_names.txt").is_file():
        return True
    return any(path.suffix.lower() in _H5_SUFFIXES and path.is_file() for path in folder.iterdir())


def open_dataset(path: str | Path) -> ShapeSet:
    """Open a data set, choosing the reader from what ``path`` is.

    Parameters
    ----------
    path : str or pathlib.Path
        ``"builtin"`` for the built-in data set (generated on first use; write
        ``./builtin`` for a folder of that name); an ``.h5``/``.hdf5`` file or
        a folder holding ``shape_names.txt`` or ``.h5`` files (PointNet's
        layout); any other folder (a tree of shape files); or one shape file.

    Returns
    -------
    ShapeSet
        Open until :meth:`~vaeviewer.data.dataset.ShapeSet.close` (or the end
        of a ``with`` block).

    Raises
    ------
    DataFileError
        When the path does not exist or is not a data set of a supported kind.
    """
    if str(path) == BUILTIN:
        from vaeviewer.data.builtin import ensure_builtin_dataset  # generates on first use: only if asked

        dataset = PointNetH5Set(ensure_builtin_dataset())
        dataset.format = "builtin"
        return dataset
    path = Path(path).expanduser()
    if not path.exists():
        raise DataFileError(path, "no such file or folder")
    if path.is_dir():
        try:
            is_pointnet = _is_pointnet_folder(path)
        except OSError as error:
            raise DataFileError(path, f"cannot list the folder: {error.strerror or error}") from None
        if is_pointnet:
            return PointNetH5Set(path)
        if is_shapenet55_folder(path):
            return ShapeNet55Set(path)
        return NumpyArraySet(path) if is_array_folder(path) else FileTreeSet(path)
    suffix = path.suffix.lower()
    if suffix in _H5_SUFFIXES:
        return PointNetH5Set(path)
    if suffix == ".npy" and is_cloud_array(path):
        return NumpyArraySet(path)
    if suffix in SHAPE_FILE_EXTENSIONS:
        return SingleFileSet(path)
    shown = suffix or "(no extension)"
    supported = ", ".join((*_H5_SUFFIXES, *SHAPE_FILE_EXTENSIONS))
    raise DataFileError(path, f"unsupported file type '{shown}' (supported: {supported}, or a folder)")
