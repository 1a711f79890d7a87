"""Small pictures of many shapes: rendered with one off-screen renderer, cached as PNG files on disk.

The data-set browser shows a thumbnail per shape. Rendering one takes a few
milliseconds once a renderer exists (making its OpenGL context takes far longer), so
:func:`render_thumbnails` and :class:`ThumbnailCache` draw every picture with
one reused :class:`~vaeviewer.render.offscreen.OffscreenRenderer`, and the
cache keeps the pictures under the user's cache folder so that a data set opens
with its thumbnails at once the second time.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaeviewer.files import atomic_write, remove_quietly
from vaeviewer.render.colors import INPUT_GREY
from vaeviewer.render.offscreen import OffscreenRenderer
from vaeviewer.render.scene import UP_AXES, CloudLayer

__all__ = [
    "THUMBNAIL_STYLE_VERSION",
    "ThumbnailCache",
    "ThumbnailKey",
    "ThumbnailRenderer",
    "dataset_fingerprint",
    "render_thumbnails",
    "thumbnail_cache_dir",
]

THUMBNAIL_STYLE_VERSION = 1
"""Version of the thumbnails' look (camera, colours, point size); bump it when it changes,
so that cached pictures of the old look are drawn again."""


class ThumbnailRenderer:
    """Square pictures of clouds, one after the other, from one off-screen renderer.

    Grey shaded points seen from the isometric preset, on white. VTK rendering
    must stay on the thread that created the renderer.

    Parameters
    ----------
    size : int
        Side of a picture in pixels.
    up : str
        The clouds' up axis, ``y`` or ``z``.
    """

    def __init__(self, size: int = 128, up: str = "y") -> None:
        self.size = int(size)
        # About 2.5 px at 128: dense enough to read a shape of 2048 points, and spheres still.
        self._point_size = max(1.5, self.size / 50)
        self._renderer = OffscreenRenderer((self.size, self.size), up=up)

    def render(self, cloud: np.ndarray, caption: str = "") -> np.ndarray:
        """The picture of one (n, 3) cloud in the unit sphere, with ``caption`` at the top.

        Returns
        -------
        numpy.ndarray
            uint8 (size, size, 3).
        """
        return self._renderer.render([CloudLayer(cloud, INPUT_GREY, self._point_size)], caption)

    def close(self) -> None:
        """Release the renderer."""
        self._renderer.close()

    def __enter__(self) -> ThumbnailRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_thumbnails(
    clouds: Iterable[np.ndarray], size: int = 128, up: str = "y", captions: Sequence[str] | None = None
) -> list[np.ndarray]:
    """Pictures of many clouds, drawn with one off-screen renderer.

    Parameters
    ----------
    clouds : iterable of numpy.ndarray
        (n, 3) clouds in the unit sphere.
    size : int
        Side of a picture in pixels.
    up : str
        The clouds' up axis, ``y`` or ``z``.
    captions : sequence of str, optional
        Text at the top of each picture.

    Returns
    -------
    list of numpy.ndarray
        uint8 (size, size, 3), one per cloud.
    """
    clouds = list(clouds)
    if not clouds:
        return []
    with ThumbnailRenderer(size, up) as renderer:
        return [renderer.render(cloud, captions[k] if captions else "") for k, cloud in enumerate(clouds)]


def thumbnail_cache_dir() -> Path:
    """Where thumbnails are kept: ``<cache>/thumbnails``.

    ``<cache>`` is ``$VAEVIEWER_CACHE_DIR`` when set, else the user cache folder
    of vaeviewer (the folder of the built-in data set too).
    """
    from vaeviewer.data.builtin import CACHE_DIR_ENV

    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override) / "thumbnails"
    import platformdirs

    return Path(platformdirs.user_cache_dir("vaeviewer")) / "thumbnails"


def dataset_fingerprint(path: str | os.PathLike[str]) -> str:
    """A digest of a data set's files: changes when one is added, removed, resized or touched.

    Reads no file's content: the relative name, size and modification time of every file
    (hidden ones aside) under ``path``, or of ``path`` itself when it is a file. A tree of
    twelve thousand files takes a few tens of milliseconds.

    Parameters
    ----------
    path : str or os.PathLike
        A data set's file or folder.

    Returns
    -------
    str
        Hex digest.
    """
    root = Path(path).resolve()
    digest = hashlib.sha256(str(root).encode())
    entries: list[tuple[str, int, int]] = []
    if root.is_file():
        stat = root.stat()
        entries.append((root.name, stat.st_size, stat.st_mtime_ns))
    else:
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                full = os.path.join(folder, name)
                try:
                    stat = os.stat(full)
                except OSError:
                    continue  # vanished while we looked: the next look sees the change
                entries.append((os.path.relpath(full, root), stat.st_size, stat.st_mtime_ns))
    for name, size, mtime in sorted(entries):
        digest.update(f"\0{name}\0{size}\0{mtime}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ThumbnailKey:
    """Names the thumbnails of one split of one data set as its files are now.

    Made by :meth:`ThumbnailCache.split_key`; pass it back to the cache's other methods.

    Attributes
    ----------
    folder : pathlib.Path
        Folder of the split's thumbnails, under the cache's root.
    digest : str
        Digest of the data set's path and files, the split, the picture size, up axis and
        :data:`THUMBNAIL_STYLE_VERSION`: equal keys name the same pictures (use it to key
        pictures kept in memory).
    """

    folder: Path
    digest: str


class ThumbnailCache:
    """Thumbnails of data-set shapes, drawn once and kept as PNG files.

    Files live in ``<root>/<data set name>-<hash of its path>/<digest of its
    files>/<split>/<size>px-<up>-v<style version>/<index>.png``. The digest (see
    :func:`dataset_fingerprint`) changes with any file of the data set, so a
    changed data set gets new pictures, and the old ones are removed when the
    first new key is made. A file that cannot be read or is not a picture of
    the right size is drawn again; a cache that cannot be written still returns
    the pictures.

    Threads: :meth:`split_key`, :meth:`lookup`, :meth:`store` and :meth:`path`
    touch only files and may run on any thread (the window's browser runs them
    on a worker); files are written under a unique name and renamed into place,
    so no reader sees half a file. Rendering (:meth:`get_or_render`,
    :meth:`get_many` on a miss) uses VTK, which must stay on one thread: the
    first thread that renders owns the renderer (the GUI thread in the app), and
    a render from another thread raises :class:`RuntimeError`.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder of the thumbnails; :func:`thumbnail_cache_dir` by default.
    size : int
        Side of a thumbnail in pixels.
    up : str
        The clouds' up axis, ``y`` or ``z``.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, size: int = 128, up: str = "y") -> None:
        if up not in UP_AXES:
            raise ValueError(f"up axis must be 'y' or 'z', got {up!r}")
        self.root = Path(root) if root is not None else thumbnail_cache_dir()
        self.size = int(size)
        self.up = up
        self._renderer: ThumbnailRenderer | None = None
        self._render_thread: int | None = None
        self._lock = threading.Lock()

    def split_key(self, dataset_path: str | os.PathLike[str], split: str) -> ThumbnailKey:
        """The key of split ``split`` of the data set at ``dataset_path``, as its files are now.

        Make it when the data set is opened: it looks at every file's size and time (see
        :func:`dataset_fingerprint`). Pictures of an older state of the data set are removed.
        """
        path = Path(dataset_path).resolve()
        name = _safe_name(path.stem or "data")[:40]
        where = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        data = dataset_fingerprint(path)[:16]
        look = f"{self.size}px-{self.up}-v{THUMBNAIL_STYLE_VERSION}"
        folder = self.root / f"{name}-{where}" / data / _safe_name(split) / look
        self._remove_stale(folder.parent.parent)
        digest = hashlib.sha256(repr((str(path), data, split, look)).encode()).hexdigest()[:20]
        return ThumbnailKey(folder, digest)

    def path(self, key: ThumbnailKey, index: int) -> Path:
        """The file of shape ``index``'s thumbnail (whether or not it exists)."""
        return key.folder / f"{int(index)}.png"

    def lookup(self, key: ThumbnailKey, index: int) -> np.ndarray | None:
        """The cached thumbnail of shape ``index``, or None when absent or unreadable.

        An unreadable file is removed, so that the next :meth:`store` replaces it.
        """
        import imageio.v3 as iio

        path = self.path(key, index)
        try:
            # One decoder, named: left to guess, imageio tries every plugin on a broken file.
            image = iio.imread(path, plugin="pillow", extension=".png")
        except FileNotFoundError:
            return None
        except Exception:  # a truncated or foreign file: any decoder error means "draw it again"
            remove_quietly(path)
            return None
        if image.shape != (self.size, self.size, 3) or image.dtype != np.uint8:
            remove_quietly(path)
            return None
        return image

    def store(self, key: ThumbnailKey, index: int, image: np.ndarray) -> bool:
        """Write the thumbnail of shape ``index``; whether it could be written.

        The file appears whole or not at all. A cache that cannot be written (full disk,
        read-only folder) is not an error: the picture is simply drawn again next time.
        """
        import imageio.v3 as iio

        try:
            with atomic_write(self.path(key, index), ".png", durable=False) as temp:
                iio.imwrite(temp, np.asarray(image, dtype=np.uint8), plugin="pillow", extension=".png")
            return True
        except OSError:
            return False

    def get_or_render(self, key: ThumbnailKey, index: int, cloud_loader: Callable[[], np.ndarray]) -> np.ndarray:
        """The thumbnail of shape ``index``, from disk, or drawn and stored.

        Parameters
        ----------
        key : ThumbnailKey
            From :meth:`split_key`.
        index : int
            Shape index in the split.
        cloud_loader : callable
            Returns the (n, 3) cloud; called only on a miss. Its errors propagate.

        Returns
        -------
        numpy.ndarray
            uint8 (size, size, 3).
        """
        image = self.lookup(key, index)
        if image is None:
            image = self._render(cloud_loader())
            self.store(key, index, image)
        return image

    def get_many(
        self, key: ThumbnailKey, indices: Iterable[int], cloud_loader: Callable[[int], np.ndarray]
    ) -> list[np.ndarray]:
        """The thumbnails of several shapes, drawing the missing ones with one off-screen renderer.

        Parameters
        ----------
        key : ThumbnailKey
            From :meth:`split_key`.
        indices : iterable of int
            Shape indices in the split.
        cloud_loader : callable
            ``cloud_loader(index)`` returns shape ``index``'s (n, 3) cloud; called for misses only.

        Returns
        -------
        list of numpy.ndarray
            uint8 (size, size, 3), in the order of ``indices``.
        """
        return [self.get_or_render(key, index, lambda index=index: cloud_loader(index)) for index in indices]

    def _render(self, cloud: np.ndarray) -> np.ndarray:
        with self._lock:
            thread = threading.get_ident()
            if self._render_thread is None:
                self._render_thread = thread
            elif self._render_thread != thread:
                raise RuntimeError("thumbnails must be rendered on the thread that rendered the first one "
                                   "(VTK is single-threaded)")
            if self._renderer is None:
                self._renderer = ThumbnailRenderer(self.size, self.up)
        return self._renderer.render(cloud)

    def _remove_stale(self, data_folder: Path) -> None:
        """Remove the folders of the data set's other fingerprints: pictures of files since changed."""
        if data_folder.is_dir():
            return
        try:
            stale = [p for p in data_folder.parent.iterdir() if p.is_dir() and p.name != data_folder.name]
        except OSError:
            return  # no pictures of this data set yet
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Release the renderer (on the thread that rendered); the files stay."""
        with self._lock:
            renderer, self._renderer, self._render_thread = self._renderer, None, None
        if renderer is not None:
            renderer.close()

    def __enter__(self) -> ThumbnailCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _safe_name(text: str) -> str:
    """``text`` as one file name on any system: letters, digits, ``_.-`` only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip(".") or "_"

