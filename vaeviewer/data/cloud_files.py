"""Writing clouds out: PLY, NPY, PCD or XYZ by the file's suffix, whole or not at all.

What the window and the commands show (a reconstruction, a decoded frame, a
sample) is saved as a cloud any tool of the field reads: binary PLY and PCD
(float32 x, y, z), NumPy ``.npy`` (float32 (N, 3), no pickle) or XYZ text. The
text formats carry a comment saying which frame the points are in; a file is
written to a temporary name and renamed, so an error (a full disk) leaves no
partial file and the old one, if any, untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaeviewer.errors import DataFileError, OptionError
from vaeviewer.files import atomic_write

__all__ = ["CLOUD_SUFFIXES", "save_cloud", "check_cloud_path"]

#: The suffixes :func:`save_cloud` writes.
CLOUD_SUFFIXES = (".ply", ".npy", ".pcd", ".xyz")


def check_cloud_path(path: str | Path) -> Path:
    """``path`` as a Path, refused with a one-line :class:`OptionError` if its suffix is not a cloud format."""
    target = Path(path)
    if target.suffix.lower() not in CLOUD_SUFFIXES:
        shown = target.suffix or "(no suffix)"
        raise OptionError(f"{target}: unknown cloud format '{shown}' (one of {', '.join(CLOUD_SUFFIXES)})")
    if target.is_dir():
        raise OptionError(f"{target}: is a folder, not a file")
    return target


def _comment_lines(comment: str) -> list[str]:
    return [line.strip() for line in comment.splitlines() if line.strip()]


def _ply(points: np.ndarray, comment: str) -> bytes:
    lines = ["ply", "format binary_little_endian 1.0", *(f"comment {line}" for line in _comment_lines(comment)),
             f"element vertex {len(points)}", "property float x", "property float y", "property float z", "end_header"]
    return ("\n".join(lines) + "\n").encode("ascii", "replace") + points.astype("<f4").tobytes()


def _pcd(points: np.ndarray, comment: str) -> bytes:
    lines = [*(f"# {line}" for line in _comment_lines(comment)), "VERSION 0.7", "FIELDS x y z", "SIZE 4 4 4",
             "TYPE F F F", "COUNT 1 1 1", f"WIDTH {len(points)}", "HEIGHT 1", "VIEWPOINT 0 0 0 1 0 0 0",
             f"POINTS {len(points)}", "DATA binary"]
    return ("\n".join(lines) + "\n").encode("ascii", "replace") + points.astype("<f4").tobytes()


def _xyz(points: np.ndarray, comment: str) -> bytes:
    header = "".join(f"# {line}\n" for line in _comment_lines(comment))
    rows = "\n".join(f"{x:.7g} {y:.7g} {z:.7g}" for x, y, z in points.astype(np.float64))
    return (header + rows + "\n").encode("ascii", "replace")


def save_cloud(path: str | Path, points: np.ndarray, comment: str = "") -> Path:
    """Write ``points`` (n, 3) to ``path`` in the format of its suffix; ``comment`` goes into PLY, PCD and XYZ headers.

    Raises
    ------
    OptionError
        For an unknown suffix or a folder.
    DataFileError
        When the points are not (n, 3) finite numbers, or the file cannot be written (naming the file).
    """
    target = check_cloud_path(path)
    cloud = np.asarray(points, dtype=np.float32)
    if cloud.ndim != 2 or cloud.shape[1] != 3 or not len(cloud):
        raise DataFileError(target, f"cannot write a cloud of shape {cloud.shape}: needs (n, 3)")
    if not np.isfinite(cloud).all():
        raise DataFileError(target, "cannot write a cloud with NaN or infinite coordinates")
    suffix = target.suffix.lower()
    try:
        with atomic_write(target, suffix) as temporary:
            if suffix == ".npy":
                with open(temporary, "wb") as stream:
                    np.save(stream, cloud, allow_pickle=False)
            else:
                writer = {".ply": _ply, ".pcd": _pcd, ".xyz": _xyz}[suffix]
                temporary.write_bytes(writer(cloud, comment))
    except OSError as error:
        raise DataFileError(target, f"cannot write: {error.strerror or error}") from None
    return target
