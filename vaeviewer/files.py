"""Files that appear whole or not at all: the one way vaeviewer writes a file in place.

Every file the product writes where a reader may look (checkpoints,
``history.csv``, ``run.json``, pictures, thumbnails, animations) is written
under a temporary name in the target's folder and renamed over the target
once complete: a reader sees the old file or the new one, and a crash, a full
disk or a cancel leaves the target as it was. The temporary name holds the
process id and a counter of the process, so two threads (the training loop
and the window's thumbnails) or two processes never write to one temporary
file; :func:`~vaeviewer.model.checkpoint.remove_stale_temporaries` recognises
the names of processes that died mid-write.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write", "remove_quietly", "sync_folder", "temporary_name"]

# itertools.count's next() is atomic under the GIL: no two callers get one number.
_COUNTER = itertools.count()


def temporary_name(path: str | os.PathLike[str], suffix: str = "") -> Path:
    """A fresh hidden name beside ``path``: ``.<name>.tmp-<pid>-<n><suffix>``.

    ``suffix`` keeps a file type that a writer infers from the name (``.png``, ``.mp4``).
    """
    target = Path(path)
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{next(_COUNTER)}{suffix}")


def remove_quietly(path: Path) -> None:
    """Remove a file if it is there; a failure to remove it is not the caller's problem."""
    try:
        path.unlink()
    except OSError:
        pass


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; elsewhere a no-op)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; there the rename is as durable as it gets
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike[str], suffix: str = "", *, durable: bool = True) -> Iterator[Path]:
    """Write ``path`` whole or not at all: the block writes the temporary path it is given.

    When the block ends normally the temporary file is (with ``durable``)
    flushed to disk and renamed over ``path``; when it raises, the temporary
    file is removed and ``path`` is untouched. Missing parent folders are made.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    suffix : str
        Ending of the temporary name, for writers that choose a format by it.
    durable : bool
        Flush the file and the folder to disk (a checkpoint, a run's history);
        off for files that are cheap to make again (thumbnails).

    Yields
    ------
    pathlib.Path
        Where to write.

    Raises
    ------
    OSError
        From making the folder, or from the block, the flush or the rename.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temporary_name(target, suffix)
    try:
        yield temp
        if durable:
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(temp, target)
    finally:
        remove_quietly(temp)  # gone already after the rename; there after a failure
    if durable:
        sync_folder(target.parent)
