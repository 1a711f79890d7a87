"""PointNet's HDF5 layout (``modelnet40_ply_hdf5_2048``): reading it lazily, and writing it.

A folder holds ``shape_names.txt`` (one class per line; a label is a line
index), ``<split>_files.txt`` (one shard per line) and the shards
``ply_data_<split><k>.h5``, each with ``data`` (n, p, 3) float32 and ``label``
(n, 1) uint8; ``ply_data_<split>_<k>_id2file.json`` optionally names the source
shape of every row. The list files carry the path prefix of the machine that
wrote them (``data/modelnet40_ply_hdf5_2048/...``), so shards are found by
file name in the folder.

Opening reads labels and shapes (array sizes) only; a cloud is read from its
shard when asked for, so a 12,311-shape set opens in milliseconds. Opening
also checks that the file stores what its datasets declare: a truncated shard,
or one whose ``data`` claims 10^12 shapes it never wrote, is refused before
anything of that size is read.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from vaeviewer.data.dataset import ShapeSet, ShapeSplit
from vaeviewer.data.geometry import farthest_point_sample, normalize_unit_sphere, resample_cloud
from vaeviewer.errors import DataFileError, OptionError

__all__ = ["PointNetH5Set", "PointNetH5Split", "write_pointnet_h5"]

_H5_SUFFIXES = (".h5", ".hdf5")
_SPLIT_ORDER = ("train", "val", "test")
# Shapes per batch of farthest-point sampling in load_all: big enough to amortise
# numpy's per-call cost, small enough to stay in cache (measured fastest near 64).
_FPS_BATCH = 64
_NORMALIZE_BATCH = 1024
# Rows read at a time when every shape is checked (broken_shapes).
_SCAN_BYTES = 64 * 2**20
_NAME_SUFFIXES = (".off", ".ply", ".obj", ".pcd", ".xyz", ".txt", ".pts", ".npy", ".h5")


def _natural_key(path: Path) -> list[object]:
    """Sort key that puts ``train2`` before ``train10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _shape_stem(entry: str) -> str:
    """``"chair/chair_0001.pcd"`` -> ``"chair_0001"``: the file name without a known extension."""
    name = entry.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and f".{suffix.lower()}" in _NAME_SUFFIXES else name


@dataclass
class Shard:
    """One array of clouds a split reads rows from: an open .h5 file's ``data`` (or a memory-mapped .npy)."""

    path: Path
    file: h5py.File
    data: h5py.Dataset
    labels: np.ndarray  # int64 (n,), -1 where the shard has no labels
    names: list[str] | None  # from the id2file JSON, when it fits

    def __len__(self) -> int:
        return int(self.data.shape[0])


def _open_shard(path: Path, num_classes: int | None, warnings: list[str]) -> Shard:
    if not path.is_file():
        raise DataFileError(path, "no such file" if not path.exists() else "is a folder, not a file")
    if not h5py.is_hdf5(path):
        raise DataFileError(path, "not an HDF5 file")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataFileError(path, f"cannot open HDF5: {str(error).splitlines()[0][:100]}") from None
    try:
        return _validated_shard(path, handle, num_classes, warnings)
    except BaseException:
        handle.close()
        raise


def _validated_shard(path: Path, handle: h5py.File, num_classes: int | None, warnings: list[str]) -> Shard:
    data = handle.get("data")
    if not isinstance(data, h5py.Dataset):
        raise DataFileError(path, "has no 'data' dataset (expected PointNet's layout)")
    if data.ndim != 3 or data.shape[2] < 3:
        raise DataFileError(path, f"'data' has shape {data.shape}, expected (shapes, points, 3)")
    if data.dtype.kind not in "fiu":
        raise DataFileError(path, f"'data' holds {data.dtype}, not numbers")
    n = data.shape[0]
    if n == 0:
        raise DataFileError(path, "holds no shapes")
    if data.shape[1] < 2:
        raise DataFileError(path, f"'data' has {data.shape[1]} point{'s' * (data.shape[1] != 1)} per shape; "
                            "a shape needs at least 2 distinct points")
    _check_stored(path, "data", data)
    labels = np.full(n, -1, dtype=np.int64)
    label = handle.get("label")
    if label is not None:
        if not isinstance(label, h5py.Dataset) or label.shape not in ((n,), (n, 1)):
            shape = getattr(label, "shape", None)
            raise DataFileError(path, f"'label' has shape {shape}, expected ({n},) or ({n}, 1) like 'data'")
        _check_stored(path, "label", label)
        raw = np.asarray(label[()]).reshape(n)
        if raw.dtype.kind not in "fiu" or (raw.dtype.kind == "f" and not np.all(np.mod(raw, 1) == 0)):
            raise DataFileError(path, f"'label' holds {raw.dtype} values that are not class indices")
        labels = raw.astype(np.int64)
        outside = (labels < 0) | (labels >= num_classes if num_classes is not None else False)
        if outside.any():
            row = int(np.argmax(outside))
            within = f"the {num_classes} classes of shape_names.txt" if num_classes is not None else "class indices"
            raise DataFileError(path, f"label {labels[row]} of shape {row} is outside {within}")
    return Shard(path, handle, data, labels, _read_id2file(path, n, warnings))


def _check_stored(path: Path, name: str, dataset: h5py.Dataset) -> None:
    """Refuse a dataset of which the file holds less than its shape declares.

    HDF5 reads the part of a dataset that was never written (or was cut off with
    the end of the file) as fill values, silently; and a header can declare any
    shape. Checking the stored bytes (contiguous layout) or chunks (chunked
    layout, which compression needs) first costs a look at the chunk index,
    and keeps a ``data`` that claims 10^12 shapes from costing memory or time.
    """
    if dataset.size == 0 or dataset.is_virtual or dataset.external:
        return  # virtual and external datasets keep their data in other files: nothing to count here
    if dataset.chunks is None:
        stored = dataset.id.get_storage_size()
        if stored < dataset.nbytes:
            raise DataFileError(path, f"'{name}' declares shape {dataset.shape} ({dataset.nbytes:,} bytes) but the "
                                f"file stores {stored:,} bytes of it (truncated, or never written)")
        return
    expected = math.prod(-(-size // chunk) for size, chunk in zip(dataset.shape, dataset.chunks))
    stored = dataset.id.get_num_chunks()
    if stored < expected:
        raise DataFileError(path, f"'{name}' declares shape {dataset.shape} but the file stores {stored:,} of its "
                            f"{expected:,} chunks (truncated, or never written)")


def _cloud_problems(clouds: np.ndarray) -> list[tuple[int, str]]:
    """Rows of a (b, p, 3) block that are no usable shape, with what is wrong, in order."""
    finite = np.isfinite(clouds).all(axis=(1, 2))
    # NaN differs from everything, itself included: a non-finite cloud never counts as collapsed.
    spread = (clouds != clouds[:, :1]).any(axis=(1, 2))
    problems = []
    for row in np.flatnonzero(~finite | ~spread):
        if not finite[row]:
            problems.append((int(row), "contains NaN or infinite coordinates"))
        else:
            problems.append((int(row), f"is degenerate: all {clouds.shape[1]} points coincide"))
    return problems


def _read_id2file(path: Path, n: int, warnings: list[str]) -> list[str] | None:
    """Shape names from ``<prefix>_<k>_id2file.json`` next to shard ``<prefix><k>.h5``, if any."""
    entries = _read_shard_list(path, "id2file", n, warnings)
    return None if entries is None else [_shape_stem(entry) for entry in entries]


def _read_shard_list(path: Path, kind: str, n: int, warnings: list[str]) -> list[str] | None:
    """The per-shape list ``<prefix>_<k>_<kind>.json`` (or ``<stem>_<kind>.json``) beside a shard, if any."""
    match = re.fullmatch(r"(.*?)_?(\d+)", path.stem)
    candidates = [path.with_name(f"{match.group(1)}_{match.group(2)}_{kind}.json")] if match else []
    candidates.append(path.with_name(f"{path.stem}_{kind}.json"))
    for candidate in candidates:
        if candidate.is_file():
            try:
                entries = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                warnings.append(f"{candidate}: not valid JSON; shapes named by class and index")
                return None
            if not isinstance(entries, list) or len(entries) != n:
                warnings.append(f"{candidate}: does not list the {n} shapes of {path.name}; ignored")
                return None
            return [str(entry) for entry in entries]
    return None


def _class_names_from_id2name(shards: list[Shard], warnings: list[str]) -> tuple[str, ...] | None:
    """Class names from the ``*_id2name.json`` beside the shards (AnTao97's ShapeNet h5): each shape's class name."""
    names: dict[int, str] = {}
    for shard in shards:
        listed = _read_shard_list(shard.path, "id2name", len(shard), warnings)
        if listed is None:
            return None
        for label, name in zip(shard.labels.tolist(), listed):
            if label >= 0 and names.setdefault(label, name) != name:
                warnings.append(f"{shard.path}: label {label} is both {names[label]!r} and {name!r}; classes by number")
                return None
    if not names:
        return None
    return tuple(names.get(k, f"class_{k}") for k in range(max(names) + 1))


class PointNetH5Split(ShapeSplit):
    """One split of a :class:`PointNetH5Set`: one or more shards, read row by row on demand.

    Made from the split's ``name``, the set's ``class_names`` and the split's open ``shards`` in order.
    """

    def __init__(self, name: str, class_names: tuple[str, ...], shards: list[Shard]) -> None:
        self.name = name
        self.class_names = class_names
        self._shards = shards
        self._ends = np.cumsum([len(shard) for shard in shards])
        self._labels = np.concatenate([shard.labels for shard in shards])
        self._labels.setflags(write=False)

    def __len__(self) -> int:
        return int(self._ends[-1])

    @property
    def labels(self) -> np.ndarray:
        """Class index of every shape, int64 (len,); -1 for a shard without labels."""
        return self._labels

    def _position(self, index: int) -> tuple[Shard, int]:
        """The shard holding shape ``index`` and the row there."""
        index = self._check_index(index)
        shard = int(np.searchsorted(self._ends, index, side="right"))
        start = int(self._ends[shard - 1]) if shard else 0
        return self._shards[shard], index - start

    def _locate(self, index: int) -> tuple[Shard, int]:
        """Like :meth:`_position`, for reading: the shard must still be open."""
        shard, row = self._position(index)
        if not shard.file:  # h5py's own message would be "identifier is not of specified type"
            raise ValueError(f"{shard.path}: read after the data set was closed")
        return shard, row

    def shape_name(self, index: int) -> str:
        """The source shape's name from the id2file JSON, else ``<class>_<index>``."""
        shard, row = self._position(index)
        if shard.names is not None:
            return shard.names[row]
        label = int(self._labels[self._check_index(index)])
        prefix = self.class_names[label] if label >= 0 else "shape"
        return f"{prefix}_{self._check_index(index)}"

    def points(self, index: int, num_points: int | None = None) -> np.ndarray:
        """Cloud ``index``, resampled to ``num_points`` if given, normalised to the unit sphere."""
        _check_num_points(num_points)
        shard, row = self._locate(index)
        cloud = np.asarray(shard.data[row, :, :3], dtype=np.float32)
        problems = _cloud_problems(cloud[None])
        if problems:
            raise DataFileError(shard.path, f"shape {row} {problems[0][1]}")
        if num_points is not None:
            cloud = resample_cloud(cloud, num_points)
        return normalize_unit_sphere(cloud)

    def point_counts(self) -> np.ndarray:
        """Points stored per shape (the same for every shape of a shard), int64 (len,)."""
        return np.concatenate([np.full(len(shard), shard.data.shape[1], dtype=np.int64) for shard in self._shards])

    def broken_shapes(self) -> dict[int, str]:
        """Shapes with NaN or infinite coordinates or with all their points in one place.

        Reads the whole split once, a block of rows at a time (about 64 MB), so
        that memory stays bounded whatever the split's size.
        """
        found: dict[int, str] = {}
        start = 0
        for index, shard in enumerate(self._shards):
            self._locate(int(self._ends[index]) - 1)  # raises if the set was closed
            row_bytes = max(1, shard.data.shape[1] * 3 * shard.data.dtype.itemsize)
            block = max(1, _SCAN_BYTES // row_bytes)
            for first in range(0, len(shard), block):
                clouds = np.asarray(shard.data[first : first + block, :, :3], dtype=np.float32)
                for row, problem in _cloud_problems(clouds):
                    found[start + first + row] = f"{shard.path}: shape {first + row} {problem}"
            start += len(shard)
        return found

    def load_all(self, num_points: int) -> np.ndarray:
        """Every cloud, resampled to ``num_points`` and normalised: float32 (len, num_points, 3).

        Each shard is read in one HDF5 read; farthest-point sampling runs in
        batches, and only when the stored count differs from ``num_points``.
        Equal to stacking :meth:`points` of every index.
        """
        _check_num_points(num_points)
        out = np.empty((len(self), num_points, 3), dtype=np.float32)
        start = 0
        for index, shard in enumerate(self._shards):
            self._locate(int(self._ends[index]) - 1)  # raises if the set was closed
            clouds = np.asarray(shard.data[()], dtype=np.float32)[:, :, :3]
            problems = _cloud_problems(clouds)
            if problems:
                row, problem = problems[0]
                raise DataFileError(shard.path, f"shape {row} {problem}")
            stored = clouds.shape[1]
            target = out[start : start + len(shard)]
            if stored > num_points:
                for first in range(0, len(shard), _FPS_BATCH):
                    batch = clouds[first : first + _FPS_BATCH]
                    chosen = farthest_point_sample(batch, num_points)
                    target[first : first + len(batch)] = np.take_along_axis(batch, chosen[:, :, None], axis=1)
            elif stored < num_points:
                for row, cloud in enumerate(clouds):
                    target[row] = resample_cloud(cloud, num_points)
            else:
                target[...] = clouds
            for first in range(0, len(target), _NORMALIZE_BATCH):
                # In slices: normalising works in float64, twice the size of the clouds.
                chunk = target[first : first + _NORMALIZE_BATCH]
                chunk[...] = normalize_unit_sphere(chunk)
            start += len(shard)
        return out


def _check_num_points(num_points: int | None) -> None:
    if num_points is not None and num_points < 1:
        raise OptionError(f"number of points must be at least 1, got {num_points}")


class PointNetH5Set(ShapeSet):
    """A data set in PointNet's HDF5 layout: a folder of shards, or a single .h5 file.

    Parameters
    ----------
    path : str or pathlib.Path
        A folder with ``shape_names.txt`` and ``<split>_files.txt`` (or, without
        list files, shards whose names contain ``train``/``test``), or one .h5
        file: then it is one split, ``train``/``test`` when its name says so,
        else ``all``, with classes from a ``shape_names.txt`` beside it.

    Raises
    ------
    DataFileError
        When a shard is missing, not HDF5, or not in PointNet's layout (see the message).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format = "pointnet-h5"
        self.warnings: list[str] = []
        self._splits: dict[str, PointNetH5Split] = {}
        self._shards: list[Shard] = []
        if not self.path.exists():
            raise DataFileError(self.path, "no such file or folder")
        folder = self.path if self.path.is_dir() else self.path.parent
        names_file = folder / "shape_names.txt"
        declared = _read_class_names(names_file) if names_file.is_file() else None
        opened: dict[str, list[Shard]] = {}
        try:
            for split, files in self._layout(self.path).items():
                opened[split] = []
                for file in files:
                    shard = _open_shard(file, len(declared) if declared else None, self.warnings)
                    self._shards.append(shard)  # before anything else can fail: close() must see it
                    opened[split].append(shard)
        except BaseException:
            self.close()
            raise
        if declared:
            self.class_names = declared
        else:
            highest = max(int(shard.labels.max()) for shard in self._shards)
            named = _class_names_from_id2name(self._shards, self.warnings)
            self.class_names = named if named and len(named) > highest else tuple(f"class_{k}" for k in range(highest + 1))
        self._splits = {name: PointNetH5Split(name, self.class_names, shards) for name, shards in opened.items()}

    @staticmethod
    def _layout(path: Path) -> dict[str, list[Path]]:
        """Shard files of every split, in order."""
        if path.is_file():
            stem = path.stem.lower()
            split = "train" if "train" in stem else "test" if "test" in stem else "all"
            return {split: [path]}
        lists = sorted(path.glob("*_files.txt"))
        layout: dict[str, list[Path]] = {}
        for list_file in lists:
            split = list_file.name[: -len("_files.txt")]
            files = [_resolve_shard(path, list_file, entry) for entry in _read_lines(list_file)]
            if files:
                layout[split] = files
        if not layout:
            shards = sorted((p for p in path.iterdir() if p.suffix.lower() in _H5_SUFFIXES), key=_natural_key)
            for split in _SPLIT_ORDER:
                # "val" only as a word of its own (val0.h5, data_val.h5), not inside another one ("interval").
                word = re.compile(r"(^|[^a-z])val" if split == "val" else split)
                found = [p for p in shards if word.search(p.name.lower())]
                if found:
                    layout[split] = found
            if not layout and shards:
                layout["all"] = shards
        if not layout:
            raise DataFileError(path, "no .h5 shards found (expected PointNet's layout: ply_data_train0.h5, ...)")
        order = {name: k for k, name in enumerate(_SPLIT_ORDER)}
        return dict(sorted(layout.items(), key=lambda item: order.get(item[0], len(order))))

    def close(self) -> None:
        """Close every shard's HDF5 file; the set cannot be read afterwards."""
        for shard in self._shards:
            shard.file.close()


def _read_lines(path: Path) -> list[str]:
    """The non-blank lines of a text file, stripped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise DataFileError(path, f"cannot read: {error.strerror or error}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _resolve_shard(folder: Path, list_file: Path, entry: str) -> Path:
    """A shard named in a list file: by file name in ``folder`` (the prefix is foreign), else as written."""
    entry = entry.replace("\\", "/")
    candidates = [folder / entry.rsplit("/", 1)[-1]]
    if not entry.startswith("/"):
        candidates.append(folder / entry)  # a shard in a subfolder, named relative to the set
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataFileError(list_file, f"lists {entry.rsplit('/', 1)[-1]}, which is not in {folder}")


def _read_class_names(path: Path) -> tuple[str, ...]:
    names = tuple(_read_lines(path))
    if not names:
        raise DataFileError(path, "lists no class names")
    return names


def write_pointnet_h5(
    folder: str | Path,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    class_names: list[str] | tuple[str, ...],
    shape_names: dict[str, list[str]] | None = None,
) -> Path:
    """Write a data set in PointNet's HDF5 layout, replacing ``folder`` as a whole.

    The files are written into a temporary folder beside ``folder``, which is
    then renamed into place, so a reader never sees half a data set and a crash
    leaves the old one (or nothing).

    Parameters
    ----------
    folder : str or pathlib.Path
        Where the data set goes; its parent is created if needed.
    splits : dict
        ``{split name: (data, labels)}`` with data (n, p, 3) finite numbers
        and labels (n,) class indices.
    class_names : sequence of str
        At most 256 names (labels are stored as uint8, as PointNet does).
    shape_names : dict, optional
        ``{split name: [name of every shape]}``, written as
        ``ply_data_<split>_0_id2file.json``.

    Returns
    -------
    pathlib.Path
        ``folder``, holding ``shape_names.txt``, ``<split>_files.txt`` and
        ``ply_data_<split>0.h5`` for every split.
    """
    folder = Path(folder)
    if not class_names or len(class_names) > 256:
        raise ValueError(f"need 1 to 256 class names, got {len(class_names)}")
    checked = {name: _checked_split(name, data, labels, len(class_names), (shape_names or {}).get(name))
               for name, (data, labels) in splits.items()}
    if not checked:
        raise ValueError("no splits to write")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        (staging / "shape_names.txt").write_text("".join(f"{name}\n" for name in class_names), encoding="utf-8")
        for name, (data, labels) in checked.items():
            shard = f"ply_data_{name}0.h5"
            with h5py.File(staging / shard, "w") as handle:
                handle.create_dataset("data", data=data)
                handle.create_dataset("label", data=labels.reshape(-1, 1))
            (staging / f"{name}_files.txt").write_text(f"{shard}\n", encoding="utf-8")
            if shape_names and name in shape_names:
                names_file = staging / f"ply_data_{name}_0_id2file.json"
                names_file.write_text(json.dumps(list(shape_names[name])), encoding="utf-8")
        _replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _checked_split(
    name: str, data: np.ndarray, labels: np.ndarray, num_classes: int, names: list[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        raise ValueError(f"split name {name!r} is not a plain word")
    data = np.ascontiguousarray(data, dtype=np.float32)
    labels = np.asarray(labels).reshape(-1)
    if data.ndim != 3 or data.shape[2] != 3 or len(data) == 0:
        raise ValueError(f"split {name!r}: data has shape {data.shape}, expected (n>0, points, 3)")
    if len(labels) != len(data):
        raise ValueError(f"split {name!r}: {len(labels)} labels for {len(data)} shapes")
    if not np.isfinite(data).all():
        raise ValueError(f"split {name!r}: data contain NaN or infinite values")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"split {name!r}: labels must lie in [0, {num_classes})")
    if names is not None and len(names) != len(data):
        raise ValueError(f"split {name!r}: {len(names)} shape names for {len(data)} shapes")
    return data, labels.astype(np.uint8)


def _replace_folder(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``, moving an existing ``folder`` out of the way first."""
    if not folder.exists():
        os.replace(staging, folder)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
    os.replace(folder, retired / folder.name)
    os.replace(staging, folder)
    shutil.rmtree(retired, ignore_errors=True)
