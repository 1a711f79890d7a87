"""The data-set browser's list: one item per shape, with a thumbnail drawn only once it is seen.

:class:`ShapeListModel` holds nothing per shape but the split's indices (one
numpy array), so a split of ten thousand shapes costs nothing up front. When
the view paints an item it asks for its picture; :class:`ThumbnailLoader`
answers with the picture if it holds it, else queues the shape and answers a
placeholder. The queue is served in two stages:

1. a worker thread (:func:`lookup_thumbnails`, a Qt-free generator) makes the
   cache key, reads cached PNG files and loads the clouds of the shapes that
   have none;
2. the GUI thread draws those clouds (VTK must stay on one thread) from a
   timer, a few milliseconds of drawing per tick, so that the window never
   stops answering while a screenful of new thumbnails is drawn.

Pictures are kept as ``QPixmap`` in a bounded least-recently-used table; shapes
scrolled out of sight before their turn are dropped from the queue.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.workers import TaskRunner
from vaeviewer.render.thumbnails import ThumbnailCache, ThumbnailKey

__all__ = ["ShapeListModel", "ThumbnailLoader", "lookup_thumbnails", "SHAPE_INDEX_ROLE", "THUMBNAIL_SIZE"]

#: Side of a thumbnail in pixels.
THUMBNAIL_SIZE = 96
#: Item data role holding the shape's index in the split (an int).
SHAPE_INDEX_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: Drawing budget of one timer tick on the GUI thread, in seconds.
RENDER_SLICE_S = 0.020
#: Pictures kept in memory; a few screenfuls.
PIXMAP_CACHE_SIZE = 600


# ---- the worker's side: Qt-free -----------------------------------------------------------------


class RequestQueue:
    """Shapes waiting for a cache look-up, first asked first served; shared by two threads.

    The GUI thread :meth:`push`-es and :meth:`retain`-s, the worker :meth:`take`-s.
    """

    def __init__(self) -> None:
        self._items: OrderedDict[int, None] = OrderedDict()
        self._condition = threading.Condition()
        self._stopped = False

    def push(self, index: int) -> None:
        """Queue shape ``index`` (no effect when queued already)."""
        with self._condition:
            self._items[int(index)] = None
            self._condition.notify()

    def retain(self, keep: set[int]) -> list[int]:
        """Drop the queued shapes not in ``keep``; the dropped ones."""
        with self._condition:
            dropped = [index for index in self._items if index not in keep]
            for index in dropped:
                del self._items[index]
            return dropped

    def take(self, timeout: float = 0.25) -> int | None:
        """The next shape, waiting up to ``timeout`` seconds; None when none came or stopped."""
        with self._condition:
            if not self._items and not self._stopped:
                self._condition.wait(timeout)
            if self._stopped or not self._items:
                return None
            index, _ = self._items.popitem(last=False)
            return index

    def stop(self) -> None:
        """Make :meth:`take` return None from now on (the worker then ends)."""
        with self._condition:
            self._stopped = True
            self._items.clear()
            self._condition.notify_all()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped

    def __len__(self) -> int:
        with self._condition:
            return len(self._items)


@dataclass(frozen=True)
class KeyReady:
    """The cache key of the split is known."""

    key: ThumbnailKey


@dataclass(frozen=True)
class ThumbnailFound:
    """Shape ``index``'s picture was on disk: uint8 (size, size, 3)."""

    index: int
    image: np.ndarray


@dataclass(frozen=True)
class CloudLoaded:
    """Shape ``index`` has no picture yet; its cloud, to be drawn on the GUI thread."""

    index: int
    cloud: np.ndarray


@dataclass(frozen=True)
class ShapeFailed:
    """Shape ``index`` could not be read (a broken file): a one-line message."""

    index: int
    message: str


def lookup_thumbnails(cache: ThumbnailCache, dataset_path: Path, split: Any, requests: RequestQueue) -> Iterator[object]:
    """Serve ``requests`` until stopped: cached pictures, or the clouds to draw.

    Touches files only (the cache's look-ups and the split's reader), never VTK,
    so it may run on any thread.

    Parameters
    ----------
    cache : ThumbnailCache
        Whose :meth:`~ThumbnailCache.split_key` and :meth:`~ThumbnailCache.lookup` are used.
    dataset_path : pathlib.Path
        The data set's file or folder (names the cache's folder).
    split : vaeviewer.data.ShapeSplit
        The split whose shapes are asked for.
    requests : RequestQueue
        Indices to serve; :meth:`RequestQueue.stop` ends the generator.

    Yields
    ------
    KeyReady, then ThumbnailFound, CloudLoaded or ShapeFailed per request.
    """
    key = cache.split_key(dataset_path, split.name)
    yield KeyReady(key)
    while not requests.stopped:
        index = requests.take()
        if index is None:
            continue
        image = cache.lookup(key, index)
        if image is not None:
            yield ThumbnailFound(index, image)
            continue
        try:
            cloud = np.asarray(split.points(index), dtype=np.float32)
        except VaeviewerError as error:
            yield ShapeFailed(index, str(error))
        except Exception as error:  # noqa: BLE001 (the set closed under us, a reader's bug): one item, not the run
            if requests.stopped:
                return
            yield ShapeFailed(index, f"{type(error).__name__}: {error}")
        else:
            yield CloudLoaded(index, cloud)


# ---- the GUI side ------------------------------------------------------------------------------


def _placeholder(size: int, broken: bool = False) -> QPixmap:
    """A pale square (a cross on it for a shape that could not be read)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(244, 244, 246))
    painter = QPainter(pixmap)
    painter.setPen(QPen(QColor(205, 205, 210), 1))
    painter.drawRect(0, 0, size - 1, size - 1)
    if broken:
        painter.setPen(QPen(QColor(200, 60, 60), 2))
        margin = size // 3
        painter.drawLine(margin, margin, size - margin, size - margin)
        painter.drawLine(margin, size - margin, size - margin, margin)
    painter.end()
    return pixmap


def _to_pixmap(image: np.ndarray) -> QPixmap:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    qimage = QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(qimage.copy())  # copy: the QImage must not outlive the numpy buffer


class ThumbnailLoader(QObject):
    """Thumbnails of the shapes of one split, fetched on request and kept in memory.

    Parameters
    ----------
    size : int
        Side of a thumbnail in pixels.
    root : str or pathlib.Path, optional
        Folder of the disk cache; the user cache folder by default.
    parent : QObject, optional

    Signals
    -------
    ready(int)
        Shape ``index``'s picture (or its broken-shape mark) is now in :meth:`pixmap`.
    failed(str)
        The look-ups stopped on an error (an unreadable cache folder); shapes then show the
        broken-shape mark.

    Attributes
    ----------
    renders : int
        Pictures drawn (not found on disk) since the loader was made.
    disk_hits : int
        Pictures read from the disk cache since the loader was made.
    """

    ready = Signal(int)
    failed = Signal(str)

    def __init__(self, size: int = THUMBNAIL_SIZE, root: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.size = int(size)
        self._root = Path(root) if root is not None else None
        self.placeholder = _placeholder(self.size)
        self._broken = _placeholder(self.size, broken=True)
        self.renders = 0
        self.disk_hits = 0
        self._cache: ThumbnailCache | None = None
        self._key: ThumbnailKey | None = None
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._requested: set[int] = set()  # asked for and not yet answered (queued, looked up, or to draw)
        self._to_draw: deque[tuple[int, np.ndarray]] = deque()
        self._requests: RequestQueue | None = None
        self._dead = False  # the look-ups of the current split ended on an error
        self._tasks = TaskRunner(self)
        self._timer = QTimer(self)
        self._timer.setObjectName("thumbnail render timer")
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._draw_some)

    # ---- public -----------------------------------------------------------------------------

    def reset(self, dataset_path: Path | None, split: Any, up: str) -> None:
        """Serve the shapes of ``split`` from now on; drop all pending work and pictures.

        ``dataset_path`` None (no data set) leaves the loader idle.
        """
        self._cancel_lookups()
        self._pixmaps.clear()
        self._requested.clear()
        self._to_draw.clear()
        self._timer.stop()
        self._key = None
        self._dead = False
        if self._cache is not None and self._cache.up != up:
            self._cache.close()  # on the GUI thread, which drew with it
            self._cache = None
        if self._cache is None:
            self._cache = ThumbnailCache(self._root, self.size, up)
        if dataset_path is None or split is None:
            return
        requests = self._requests = RequestQueue()
        cache = self._cache
        # Cancelling a split's look-ups drops what they still send: items reach the loader for the split shown only.
        self._tasks.start(lambda: lookup_thumbnails(cache, dataset_path, split, requests), stop=requests.stop,
                          on_item=self._on_item, on_failed=self.failed.emit, on_done=self._on_lookups_ended)

    def pixmap(self, index: int) -> QPixmap | None:
        """Shape ``index``'s picture, or None (then it is queued and :attr:`ready` follows)."""
        pixmap = self._pixmaps.get(index)
        if pixmap is not None:
            self._pixmaps.move_to_end(index)
            return pixmap
        if self._dead:
            return self._broken
        if index not in self._requested and self._requests is not None:
            self._requested.add(index)
            self._requests.push(index)
        return None

    def has_pixmap(self, index: int) -> bool:
        """Whether shape ``index``'s picture is held (without asking for it)."""
        return index in self._pixmaps

    def retain(self, indices: Iterable[int]) -> None:
        """Forget the pending shapes not in ``indices`` (those scrolled out of sight).

        A shape the worker is busy with still arrives, and is kept if it was found on disk.
        """
        keep = set(int(i) for i in indices)
        if self._requests is not None:
            self._requests.retain(keep)
        self._requested &= keep
        if self._to_draw:
            self._to_draw = deque(item for item in self._to_draw if item[0] in keep)

    @property
    def pending(self) -> int:
        """Shapes asked for whose picture has not arrived."""
        return len(self._requested)

    def shutdown(self) -> None:
        """Stop the timer and the worker (waiting for it) and release the off-screen renderer."""
        self._timer.stop()
        self._cancel_lookups()
        self._tasks.shutdown()
        self._requested.clear()
        self._to_draw.clear()
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    # ---- private ----------------------------------------------------------------------------

    def _cancel_lookups(self) -> None:
        """Cancel the look-ups of the split shown; they end within one ``take()`` timeout."""
        self._tasks.cancel_all()
        self._requests = None

    def _on_lookups_ended(self) -> None:
        # Ended without being cancelled: an error. Mark what was asked for instead of waiting forever.
        self._dead = True
        self._requests = None
        if self._key is None:
            self._to_draw.clear()
        waiting = {index for index, _ in self._to_draw}
        for index in list(self._requested - waiting):
            self._deliver(index, self._broken)

    def _on_item(self, item: object) -> None:
        if isinstance(item, KeyReady):
            self._key = item.key
            if self._to_draw:
                self._timer.start()
        elif isinstance(item, ThumbnailFound):
            self.disk_hits += 1
            self._deliver(item.index, _to_pixmap(item.image))
        elif isinstance(item, CloudLoaded):
            if item.index in self._requested:  # else dropped while it was loading
                self._to_draw.append((item.index, item.cloud))
                if self._key is not None:
                    self._timer.start()
        elif isinstance(item, ShapeFailed):
            self._deliver(item.index, self._broken)

    def _deliver(self, index: int, pixmap: QPixmap) -> None:
        self._requested.discard(index)
        self._pixmaps[index] = pixmap
        self._pixmaps.move_to_end(index)
        while len(self._pixmaps) > PIXMAP_CACHE_SIZE:
            self._pixmaps.popitem(last=False)
        self.ready.emit(index)

    def _draw_some(self) -> None:
        """Draw queued clouds for at most :data:`RENDER_SLICE_S`, then give the event loop back."""
        if self._cache is None or self._key is None:
            self._timer.stop()
            return
        start = time.perf_counter()
        while self._to_draw and time.perf_counter() - start < RENDER_SLICE_S:
            index, cloud = self._to_draw.popleft()
            image = self._cache.get_or_render(self._key, index, lambda cloud=cloud: cloud)
            self.renders += 1
            self._deliver(index, _to_pixmap(image))
        if not self._to_draw:
            self._timer.stop()


class ShapeListModel(QAbstractListModel):
    """The shapes of a split that pass the panel's filter, as list items with thumbnails.

    Holds only the shapes' indices; captions and pictures are made when the view asks.

    Parameters
    ----------
    loader : ThumbnailLoader
        Gives the pictures.
    parent : QObject, optional
    """

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._indices = np.zeros(0, dtype=np.int64)
        self._labels = np.zeros(0, dtype=np.int64)
        self._class_names: tuple[str, ...] = ()
        self._names: Any = None
        self._marks: dict[int, str] = {}
        loader.ready.connect(self._on_ready)

    def set_split(self, split: Any, indices: np.ndarray) -> None:
        """Show shapes ``indices`` (ascending) of ``split`` (None: nothing)."""
        self.beginResetModel()
        if split is None:
            self._labels, self._class_names, self._names = np.zeros(0, dtype=np.int64), (), None
        else:
            self._labels, self._class_names, self._names = np.asarray(split.labels), tuple(split.class_names), split
        self._indices = np.asarray(indices, dtype=np.int64)
        self.endResetModel()

    def set_marks(self, marks: dict[int, str]) -> None:
        """Tags shown after the caption, e.g. ``{3: "A", 7: "B"}`` for the interpolation's ends."""
        changed = set(marks) ^ set(self._marks) | {i for i in marks if self._marks.get(i) != marks[i]}
        self._marks = dict(marks)
        for index in changed:
            row = self.row_of(index)
            if row >= 0:
                model_index = self.index(row)
                self.dataChanged.emit(model_index, model_index, [Qt.ItemDataRole.DisplayRole])

    @property
    def indices(self) -> np.ndarray:
        """The shown shapes' indices in the split, ascending."""
        return self._indices

    def shape_index(self, row: int) -> int:
        """The split index of the item in ``row``."""
        return int(self._indices[row])

    def row_of(self, index: int) -> int:
        """The row of shape ``index``, or -1 when it is filtered out."""
        row = int(np.searchsorted(self._indices, index))
        return row if row < len(self._indices) and self._indices[row] == index else -1

    def class_name(self, index: int) -> str:
        """The class of shape ``index`` (``unknown`` without a label)."""
        label = int(self._labels[index])
        return self._class_names[label] if 0 <= label < len(self._class_names) else "unknown"

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        """Number of shown shapes."""
        return 0 if parent.isValid() else len(self._indices)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Caption, thumbnail, tooltip or shape index of an item."""
        if not index.isValid() or not 0 <= index.row() < len(self._indices):
            return None
        shape = int(self._indices[index.row()])
        if role == Qt.ItemDataRole.DisplayRole:
            mark = self._marks.get(shape)
            return f"{self.class_name(shape)} {shape}" + (f" · {mark}" if mark else "")
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._loader.pixmap(shape)
            return pixmap if pixmap is not None else self._loader.placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            name = self._names.shape_name(shape) if self._names is not None else ""
            return f"{self.class_name(shape)} {shape}" + (f" ({name})" if name and name != str(shape) else "")
        if role == SHAPE_INDEX_ROLE:
            return shape
        return None

    def _on_ready(self, index: int) -> None:
        row = self.row_of(index)
        if row >= 0:
            model_index = self.index(row)
            self.dataChanged.emit(model_index, model_index, [Qt.ItemDataRole.DecorationRole])
