"""What the window is looking at: the open data set, split, model, chosen shapes and view settings.

:class:`ViewerSession` is Qt-free: it holds the truth and announces each change
through an :class:`Event`; the window's panels are built from it, reflect it
and send the user's intent back to it. It is used from one thread (the GUI
thread); long work (training, encoding a whole split) reads from it but never
changes it from another thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaeviewer.errors import OptionError

__all__ = ["Event", "KeptShape", "ViewerSession", "PAIR_SLOTS"]

#: The two ends of an interpolation.
PAIR_SLOTS = ("a", "b")


class Event:
    """A list of callbacks called, in order, with the arguments of :meth:`emit`."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        """Call ``callback`` on every :meth:`emit` from now on."""
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` (no error when it was not connected)."""
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        """Call every connected callback with ``args``."""
        for callback in list(self._callbacks):
            callback(*args)


@dataclass(frozen=True)
class KeptShape:
    """A shape made in the window (a generated sample, an edited shape, a query file), not one of the data set's.

    Attributes
    ----------
    label : str
        What it is, as the window names it: ``sample 3, seed 5``.
    cloud : numpy.ndarray
        float32 (n, 3), in the model's frame (centred, in the unit sphere).
    """

    label: str
    cloud: np.ndarray

    def points(self, num_points: int | None = None) -> np.ndarray:
        """The cloud, resampled to ``num_points`` when given and different (farthest points, or repeats)."""
        if num_points is None or len(self.cloud) == num_points:
            return self.cloud
        from vaeviewer.data.geometry import resample_cloud

        return resample_cloud(self.cloud, int(num_points), np.random.default_rng(0)).astype(np.float32)


class _SessionEvents:
    """The events of a :class:`ViewerSession`."""

    def __init__(self) -> None:
        #: A data set was opened (no arguments); the split and selection changed with it.
        self.dataset = Event()
        #: Another split was chosen (its name).
        self.split = Event()
        #: A model was opened or replaced (no arguments).
        self.model = Event()
        #: Another shape of the split was chosen (its index, or -1 for none).
        self.selection = Event()
        #: An end of the interpolation was set (``"a"`` or ``"b"``, the index; -1 for a kept shape).
        self.pair = Event()
        #: The up axis of the clouds changed (``"y"`` or ``"z"``).
        self.up = Event()


class ViewerSession:
    """The state the window shows.

    Attributes
    ----------
    events : _SessionEvents
        ``dataset``, ``split``, ``model``, ``selection``, ``pair`` and ``up`` events.
    data_path : str
        Path of the open data set (or ``"builtin"``); empty before one is opened.
    dataset : vaeviewer.data.ShapeSet or None
    split : vaeviewer.data.ShapeSplit or None
    checkpoint_path : str
        Path of the open checkpoint; empty before one is opened.
    model : vaeviewer.model.PointCloudVAE or None
        In eval mode on the CPU.
    checkpoint : vaeviewer.model.Checkpoint or None
    selection : int
        Index in ``split`` of the chosen shape, -1 for none.
    pair : dict
        ``{"a": index, "b": index}``, the ends of the interpolation (-1 when unset or a kept shape).
    kept_ends : dict
        ``{"a": KeptShape or None, "b": ...}``: an end that is a shape made in the window rather
        than one of the split's (see :meth:`set_pair_shape`).
    up : str
        ``y`` or ``z``: the open data set's (:attr:`vaeviewer.data.ShapeSet.up`) unless the user chose one.
    up_reason : str
        Why ``up`` is what it is, in words.
    browsed : numpy.ndarray or None
        The shapes the browser shows (its class filter and search), ascending; None: the whole split.
    up_chosen : dict
        The up axis the user chose per data set (``data_path`` -> ``y`` or ``z``); the window keeps it
        in its settings.
    """

    def __init__(self) -> None:
        self.events = _SessionEvents()
        self.data_path = ""
        self.dataset: Any = None
        self.split: Any = None
        self.checkpoint_path = ""
        self.model: Any = None
        self.checkpoint: Any = None
        self.selection = -1
        self.pair = {"a": -1, "b": -1}
        self.kept_ends: dict[str, KeptShape | None] = {"a": None, "b": None}
        self.up = "y"
        self.up_reason = ""
        self.up_chosen: dict[str, str] = {}
        self.browsed: np.ndarray | None = None
        self._cloud_cache: dict[tuple[str, int, int], np.ndarray] = {}

    # ---- data -------------------------------------------------------------------------------

    def open_data(self, path: str | Path) -> None:
        """Open the data set at ``path`` (or ``"builtin"``) and choose its test split.

        Raises
        ------
        DataFileError, OptionError
            When it cannot be read; the session keeps the data set it had.
        """
        from vaeviewer.data import open_dataset

        text = str(path)
        if text == "builtin":
            dataset = open_dataset("builtin")
            dataset_path = "builtin"
        else:
            dataset = open_dataset(text)
            dataset_path = str(Path(text).resolve())
        try:
            # Readers are lazy; read the first shape now, so that a broken single file is refused
            # here, with the data set that was open still shown.
            first = dataset.default_split()
            if len(first):
                first.points(0)
            detected = dataset.up  # measured, where no convention tells, before the set becomes the session's
        except BaseException:
            dataset.close()
            raise
        old, self.dataset = self.dataset, dataset
        self.data_path = dataset_path
        # The data set's up axis, unless the user chose one for it; listeners see it with the data set.
        up_before = self.up
        self.up = self.up_chosen.get(dataset_path, detected.axis)
        self.up_reason = "chosen in View > Up axis" if dataset_path in self.up_chosen else detected.reason
        self.split = dataset.default_split()
        self.browsed = None
        self._cloud_cache.clear()
        self.selection = 0 if len(self.split) else -1
        self.pair = {"a": -1, "b": -1}
        self.kept_ends = {"a": None, "b": None}
        if len(self.split) >= 2:
            self.pair = {"a": 0, "b": 1}
        try:
            self.events.dataset.emit()
            self.events.selection.emit(self.selection)
            if self.up != up_before:
                self.events.up.emit(self.up)
        finally:
            # Only now: the listeners have given up their background work on the old set (a latent map
            # encoding it, thumbnails), which would otherwise fail reading a closed file mid-way.
            if old is not None:
                old.close()

    @property
    def data_folder(self) -> Path | None:
        """The data set's files (the built-in set's cache folder for ``builtin``), or None."""
        if not self.data_path:
            return None
        if self.data_path == "builtin":
            from vaeviewer.data.builtin import ensure_builtin_dataset

            return Path(ensure_builtin_dataset())
        return Path(self.data_path)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The data set's class names (empty before one is opened)."""
        return tuple(self.dataset.class_names) if self.dataset is not None else ()

    def set_split(self, name: str) -> None:
        """Show split ``name`` of the open data set; the selection goes to its first shape."""
        if self.dataset is None:
            raise OptionError("no data set is open")
        if name not in self.dataset.split_names:
            raise OptionError(f"split {name!r}: the data set has {', '.join(self.dataset.split_names)}")
        if self.split is not None and self.split.name == name:
            return
        self.split = self.dataset.split(name)
        self.browsed = None
        self.selection = 0 if len(self.split) else -1
        self.pair = {"a": 0 if len(self.split) else -1, "b": 1 if len(self.split) >= 2 else -1}
        self.kept_ends = {"a": None, "b": None}
        self.events.split.emit(name)
        self.events.selection.emit(self.selection)

    def select(self, index: int) -> None:
        """Choose shape ``index`` of the split (wrapped into range); -1 chooses none."""
        if self.split is None or not len(self.split):
            index = -1
        elif index != -1:
            index = int(index) % len(self.split)
        if index == self.selection:
            return
        self.selection = index
        self.events.selection.emit(index)

    def set_browsed(self, indices: Sequence[int] | np.ndarray | None) -> None:
        """The shapes the browser shows now, ascending (None: the whole split); :meth:`step_selection` walks them."""
        self.browsed = None if indices is None else np.asarray(indices, dtype=np.int64)

    def step_selection(self, delta: int) -> None:
        """Choose the shape ``delta`` places after the current one among those the browser shows, wrapping round.

        From a shape the browser does not show (chosen elsewhere: the map, a table), a step goes to the
        next (or previous) shown one.
        """
        if self.split is None or not len(self.split):
            return
        order = self.browsed if self.browsed is not None else np.arange(len(self.split))
        if not len(order) or not delta:
            return
        current = max(self.selection, 0)
        place = int(np.searchsorted(order, current))
        if place < len(order) and order[place] == current:
            target = place + int(delta)
        else:  # between two shown shapes: the first step lands on the neighbour in its direction
            target = place + int(delta) - (1 if delta > 0 else 0)
        self.select(int(order[target % len(order)]))

    def set_pair(self, slot: str, index: int) -> None:
        """Make shape ``index`` end ``slot`` (``"a"`` or ``"b"``) of the interpolation."""
        if slot not in PAIR_SLOTS:
            raise ValueError(f"slot must be 'a' or 'b', got {slot!r}")
        if self.split is None or not 0 <= index < len(self.split):
            raise OptionError(f"shape {index} is not in the split")
        self.pair[slot] = int(index)
        self.kept_ends[slot] = None
        self.events.pair.emit(slot, int(index))

    def set_pair_shape(self, slot: str, shape: KeptShape) -> None:
        """Make a shape made in the window (a sample, an edit) end ``slot`` of the interpolation."""
        if slot not in PAIR_SLOTS:
            raise ValueError(f"slot must be 'a' or 'b', got {slot!r}")
        self.pair[slot] = -1
        self.kept_ends[slot] = shape
        self.events.pair.emit(slot, -1)

    def swap_pair(self) -> None:
        """Make A the old B and B the old A (shapes of the split and kept shapes alike)."""
        self.pair = {"a": self.pair["b"], "b": self.pair["a"]}
        self.kept_ends = {"a": self.kept_ends["b"], "b": self.kept_ends["a"]}
        for slot in PAIR_SLOTS:
            self.events.pair.emit(slot, self.pair[slot])

    def has_pair_end(self, slot: str) -> bool:
        """Whether end ``slot`` is set: a shape of the split or a kept shape."""
        index = self.pair[slot]
        return self.kept_ends[slot] is not None or (self.split is not None and 0 <= index < len(self.split))

    def pair_cloud(self, slot: str, num_points: int | None = None) -> np.ndarray:
        """End ``slot`` as a float32 (n, 3) cloud, resampled to ``num_points`` when given."""
        kept = self.kept_ends[slot]
        return self.cloud(self.pair[slot], num_points) if kept is None else kept.points(num_points)

    def pair_label(self, slot: str) -> str:
        """What end ``slot`` is: the shape's label, or the kept shape's (empty when unset)."""
        kept = self.kept_ends[slot]
        return kept.label if kept is not None else self.shape_label(self.pair[slot])

    def set_up(self, up: str, *, remember: bool = True) -> None:
        """Set the clouds' up axis for every view (``"y"`` or ``"z"``).

        With ``remember``, it is the user's choice for the open data set: kept in
        :attr:`up_chosen` and used again whenever that data set is opened.
        """
        if up not in ("y", "z"):
            raise OptionError(f"up axis {up!r}: y or z")
        if remember and self.data_path:
            self.up_chosen[self.data_path] = up
            self.up_reason = "chosen in View > Up axis"
        if up != self.up:
            self.up = up
            self.events.up.emit(up)

    def cloud(self, index: int, num_points: int | None = None) -> np.ndarray:
        """Shape ``index`` of the split as a float32 (n, 3) cloud in the unit sphere.

        ``num_points`` resamples it (the model's size); a few recent clouds are kept.
        """
        if self.split is None:
            raise OptionError("no data set is open")
        key = (self.split.name, int(index), int(num_points or 0))
        cloud = self._cloud_cache.get(key)
        if cloud is None:
            cloud = np.asarray(self.split.points(int(index), num_points), dtype=np.float32)
            if len(self._cloud_cache) >= 64:
                self._cloud_cache.pop(next(iter(self._cloud_cache)))
            self._cloud_cache[key] = cloud
        return cloud

    def shape_label(self, index: int) -> str:
        """``"chair 12 (chair_0012)"``: the class, index and name of a shape of the split."""
        if self.split is None or not 0 <= index < len(self.split):
            return ""
        label = int(self.split.labels[index])
        names = self.split.class_names
        cls = names[label] if 0 <= label < len(names) else "unknown"
        name = self.split.shape_name(index)
        return f"{cls} {index}" + (f" ({name})" if name and name != str(index) else "")

    # ---- model ------------------------------------------------------------------------------

    def open_checkpoint(self, path: str | Path | None) -> None:
        """Load a checkpoint and make it the session's model.

        ``path`` may be a file, the name of a bundled model, or None for the
        bundled model that suits the open data set best.

        Raises
        ------
        CheckpointError, OptionError
            When it cannot be used; the session keeps the model it had.
        """
        from vaeviewer.workflows.models import choose_checkpoint, open_model

        chosen = choose_checkpoint(path, self.class_names)
        model, checkpoint = open_model(chosen, "cpu")
        self.model, self.checkpoint = model, checkpoint
        self.checkpoint_path = str(chosen.resolve())
        self.events.model.emit()

    def suggested_checkpoint(self) -> Path | None:
        """The bundled model to switch to for the open data set, when a bundled one is open and another suits it better."""
        from vaeviewer.workflows.models import bundled_models, choose_checkpoint

        bundled = {path.resolve() for path in bundled_models().values()}
        current = Path(self.checkpoint_path).resolve() if self.checkpoint_path else None
        if current is None or current not in bundled:
            return None  # the user's own model stays
        best = choose_checkpoint(None, self.class_names).resolve()
        return best if best != current else None

    @property
    def num_points(self) -> int | None:
        """Points per cloud of the model, or None without one."""
        return self.model.config.num_points if self.model is not None else None

    def close(self) -> None:
        """Close the data set's files."""
        if self.dataset is not None:
            self.dataset.close()
        self.dataset = self.split = None
        self._cloud_cache.clear()
