"""Shapes from files: readers per format, data-set layouts, normalisation and sampling.

Everything here is numpy and h5py; trimesh (for PLY and OBJ) is imported only
when such a file is read. Start with :func:`open_dataset`, which returns a
:class:`ShapeSet` whatever the layout, or :func:`read_shape_file` for one file.
"""

from vaeviewer.data.dataset import ShapeSet, ShapeSplit
from vaeviewer.data.file_tree import FileTreeSet, SingleFileSet
from vaeviewer.data.geometry import farthest_point_sample, normalize_unit_sphere, resample_cloud, sample_surface
from vaeviewer.data.open import open_dataset
from vaeviewer.data.pointnet_h5 import PointNetH5Set, write_pointnet_h5
from vaeviewer.data.shape_files import SHAPE_FILE_EXTENSIONS, ShapeFile, read_shape_file

__all__ = [
    "ShapeSet",
    "ShapeSplit",
    "ShapeFile",
    "read_shape_file",
    "open_dataset",
    "PointNetH5Set",
    "write_pointnet_h5",
    "FileTreeSet",
    "SingleFileSet",
    "normalize_unit_sphere",
    "farthest_point_sample",
    "resample_cloud",
    "sample_surface",
    "SHAPE_FILE_EXTENSIONS",
]
