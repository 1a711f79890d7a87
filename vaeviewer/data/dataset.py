"""The interface every data source offers: a set of shapes in named splits.

Readers of each layout (PointNet h5, ModelNet OFF trees, folders of files, a
single file, the built-in set) implement :class:`ShapeSplit` and
:class:`ShapeSet`. Everything above the data package (training, rendering, the
window) talks only to these two classes.
"""

from __future__ import annotations

import abc
import functools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vaeviewer.errors import OptionError

if TYPE_CHECKING:
    from vaeviewer.data.up_axis import UpAxis

__all__ = ["ShapeSet", "ShapeSplit", "SubsetSplit"]


class ShapeSplit(abc.ABC):
    """One split (``train``, ``test`` or ``all``) of a data set, read lazily.

    Attributes
    ----------
    name : str
        The split's name.
    class_names : tuple of str
        Names of the classes; a label is an index into this tuple.
    """

    name: str
    class_names: tuple[str, ...]

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of shapes in the split."""

    @property
    @abc.abstractmethod
    def labels(self) -> np.ndarray:
        """Class index of every shape, int64 of shape (len,); -1 where unknown."""

    @abc.abstractmethod
    def shape_name(self, index: int) -> str:
        """A human name for shape ``index`` (file stem, or ``<class>_<index>``)."""

    @abc.abstractmethod
    def points(self, index: int, num_points: int | None = None) -> np.ndarray:
        """Cloud ``index`` as float32 (n, 3), centred and scaled to the unit sphere.

        Meshes are sampled on their surface (area-weighted). With ``num_points``
        the cloud is resampled to exactly that many points (farthest-point
        sampling when there are more, repetition when fewer), deterministically.
        Raises :class:`~vaeviewer.errors.DataFileError` for a broken shape.
        """

    @abc.abstractmethod
    def point_counts(self) -> np.ndarray:
        """Stored points (vertices for meshes) of every shape, int64 (len,), cheaply."""

    def broken_shapes(self) -> dict[int, str]:
        """Shapes that cannot be used, found by reading the split once: ``{index: one-line problem}``.

        Where that would mean reading and sampling every file of a folder (minutes
        for a raw ModelNet tree), a split finds nothing here: its broken files show
        when read (see :meth:`drop_unreadable`).
        """
        return {}

    def drop_unreadable(self, num_points: int | None = None) -> list[str]:
        """Read every shape now and leave out those that cannot be read; one warning per shape left out.

        Call it before a verb reads the whole split (training, scoring), which then
        never meets a broken file halfway. Only a folder of files can hold one its
        opening did not see (its split overrides this, and renumbers its shapes);
        a split read from arrays has nothing to leave out.
        """
        return []

    def load_all(self, num_points: int) -> np.ndarray:
        """Every cloud of the split resampled to ``num_points``: float32 (len, num_points, 3)."""
        out = np.empty((len(self), num_points, 3), dtype=np.float32)
        for i in range(len(self)):
            out[i] = self.points(i, num_points)
        return out

    def _check_index(self, index: int) -> int:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"shape index {index} out of range: split {self.name!r} has {n} shapes")
        return index % n


class SubsetSplit(ShapeSplit):
    """Some shapes of another split, by index, under a name of their own (a run's held-out part, ...).

    Shape ``i`` is shape ``indices[i]`` of ``parent``; names, labels and clouds are the parent's.
    """

    def __init__(self, parent: ShapeSplit, indices: np.ndarray, name: str) -> None:
        self.parent = parent
        self.indices = np.asarray(indices, dtype=np.int64)
        self.name = name
        self.class_names = parent.class_names

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.parent.labels)[self.indices]

    def shape_name(self, index: int) -> str:
        return self.parent.shape_name(int(self.indices[self._check_index(index)]))

    def points(self, index: int, num_points: int | None = None) -> np.ndarray:
        return self.parent.points(int(self.indices[self._check_index(index)]), num_points)

    def point_counts(self) -> np.ndarray:
        return np.asarray(self.parent.point_counts())[self.indices]


class ShapeSet(abc.ABC):
    """A data set: where it lives, its format, its classes and its splits.

    Attributes
    ----------
    path : pathlib.Path
        The file or folder it was opened from.
    format : str
        A short name of the layout: ``pointnet-h5``, ``modelnet-off``,
        ``file-tree``, ``single-file`` or ``builtin``.
    class_names : tuple of str
        Names of all classes, shared by every split.
    warnings : list of str
        Problems found while opening (files skipped, ...), one line each.

    Subclasses fill ``_splits`` (name to split, in display order).
    """

    path: Path
    format: str
    class_names: tuple[str, ...]
    warnings: list[str]

    _splits: dict[str, ShapeSplit]
    #: Each class's id where the layout names classes by id (ShapeNet's synsets): name -> id; empty otherwise.
    class_ids: dict[str, str] = {}  # a read-only default: sets that have ids assign their own

    @property
    def split_names(self) -> tuple[str, ...]:
        """Names of the splits, e.g. ``("train", "test")`` or ``("all",)``."""
        return tuple(self._splits)

    def split(self, name: str) -> ShapeSplit:
        """The split called ``name``; raises :class:`~vaeviewer.errors.OptionError` if absent."""
        if name not in self._splits:
            raise OptionError(f"{self.path} has no split {name!r} (it has {', '.join(self._splits)})")
        return self._splits[name]

    @functools.cached_property
    def up(self) -> UpAxis:
        """The set's up axis and why (:func:`~vaeviewer.data.up_axis.detect_up`), found once."""
        from vaeviewer.data.up_axis import detect_up

        return detect_up(self)

    def training_split(self, name: str = "train") -> ShapeSplit:
        """The split a run trains on: ``name``, or the only split of a one-split set (a folder of files: ``all``)."""
        names = self.split_names
        return self.split(names[0] if name not in names and len(names) == 1 else name)

    def default_split(self, preferred: str = "test") -> ShapeSplit:
        """``preferred`` if the set has it, else its first split."""
        names = self.split_names
        return self.split(preferred if preferred in names else names[0])

    def close(self) -> None:  # noqa: B027 (a hook: only readers that hold files override it)
        """Release open file handles; the default holds none."""

    def __enter__(self) -> ShapeSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
