"""A corpus of malformed inputs, each written as a real file (or folder) by the tests.

Every :class:`BadInput` makes one broken data source under a folder it is given
and says which file the error must name and a fragment of the problem it must
state. ``huge`` marks the inputs whose headers declare absurd sizes: reading
them must fail without allocating what they claim.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

__all__ = ["BadInput", "CORPUS", "peak_rss_mb", "reset_peak_rss"]

TERA = 10**12


@dataclass(frozen=True)
class BadInput:
    """One malformed input.

    Attributes
    ----------
    name : str
        The test id.
    make : callable
        ``make(folder) -> (path to open, path the message must name)``.
    problem : str
        A fragment of the one-line problem.
    huge : bool
        Its header declares far more data than the file holds.
    """

    name: str
    make: Callable[[Path], tuple[Path, Path]]
    problem: str
    huge: bool = False


def _file(name: str, content: bytes | str) -> Callable[[Path], tuple[Path, Path]]:
    def make(folder: Path) -> tuple[Path, Path]:
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path, path

    return make


def _random_bytes(size: int = 4096, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


# ---------------------------------------------------------------- OFF

_GOOD_OFF_VERTICES = "0 0 0\n1 0 0\n0 1 0\n"


# ---------------------------------------------------------------- PLY

def _ply_ascii(count: int, rows: str) -> str:
    return (f"ply\nformat ascii 1.0\nelement vertex {count}\nproperty float x\nproperty float y\n"
            f"property float z\nend_header\n{rows}")


def _ply_binary(count: int, points: np.ndarray) -> bytes:
    head = (f"ply\nformat binary_little_endian 1.0\nelement vertex {count}\nproperty float x\n"
            "property float y\nproperty float z\nend_header\n").encode()
    return head + np.ascontiguousarray(points, dtype="<f4").tobytes()


# ---------------------------------------------------------------- PCD

def _pcd(points: int, data: str, body: bytes, fields: str = "x y z", width: int | None = None) -> bytes:
    count = len(fields.split())
    head = (
        "VERSION 0.7\n"
        f"FIELDS {fields}\n"
        f"SIZE {' '.join(['4'] * count)}\n"
        f"TYPE {' '.join(['F'] * count)}\n"
        f"COUNT {' '.join(['1'] * count)}\n"
        f"WIDTH {points if width is None else width}\n"
        "HEIGHT 1\n"
        + (f"POINTS {points}\n" if width is None else "")
        + f"DATA {data}\n"
    )
    return head.encode() + body


_CLOUD = np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32)


# ---------------------------------------------------------------- NPY

def _npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_declaring(shape: tuple[int, ...], data: bytes) -> bytes:
    """An .npy header that declares ``shape`` float32, followed by ``data``."""
    header = repr({"descr": "<f4", "fortran_order": False, "shape": shape}).encode()
    total = 10 + len(header) + 1
    header += b" " * ((64 - total % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


# ---------------------------------------------------------------- HDF5

def _h5(name: str, write: Callable[[h5py.File], None]) -> Callable[[Path], tuple[Path, Path]]:
    def make(folder: Path) -> tuple[Path, Path]:
        path = folder / name
        with h5py.File(path, "w") as handle:
            write(handle)
        return path, path

    return make


def _clouds(n: int = 4, points: int = 32) -> np.ndarray:
    return np.random.default_rng(2).normal(size=(n, points, 3)).astype(np.float32)


def _h5_truncated(folder: Path) -> tuple[Path, Path]:
    path = folder / "cut.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("data", data=_clouds(64, 256))
        handle.create_dataset("label", data=np.zeros((64, 1), np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path, path


def _h5_huge(handle: h5py.File) -> None:
    # Declared, never written: the file stays a few kB.
    handle.create_dataset("data", shape=(TERA // 6144, 2048, 3), dtype="<f4", chunks=(1, 2048, 3))
    handle.create_dataset("label", shape=(TERA // 6144, 1), dtype="<i8", chunks=(1024, 1))


def _h5_huge_contiguous(handle: h5py.File) -> None:
    handle.create_dataset("data", shape=(10**7, 2048, 3), dtype="<f4")


def _h5_nan(handle: h5py.File) -> None:
    clouds = _clouds()
    clouds[:, 3, 1] = np.nan
    handle.create_dataset("data", data=clouds)


def _h5_coincident(handle: h5py.File) -> None:
    handle.create_dataset("data", data=np.ones((3, 16, 3), np.float32))


# ---------------------------------------------------------------- folders

def _empty_folder(folder: Path) -> tuple[Path, Path]:
    path = folder / "empty"
    path.mkdir()
    return path, path


def _folder_of_other_files(folder: Path) -> tuple[Path, Path]:
    path = folder / "others"
    path.mkdir()
    (path / "model.stl").write_bytes(b"solid x\nendsolid x\n")
    (path / "notes.doc").write_bytes(b"hello")
    (path / "README.txt").write_text("not a shape")
    return path, path


def _folder_of_broken_files(folder: Path) -> tuple[Path, Path]:
    path = folder / "broken_set"
    (path / "chair").mkdir(parents=True)
    (path / "chair" / "chair_0001.off").write_bytes(_random_bytes(512, 3))
    (path / "chair" / "chair_0002.ply").write_bytes(b"")
    return path, path


def _pointnet_without_shards(folder: Path) -> tuple[Path, Path]:
    path = folder / "pn_empty"
    path.mkdir()
    (path / "shape_names.txt").write_text("chair\ntable\n")
    return path, path


def _pointnet_missing_shard(folder: Path) -> tuple[Path, Path]:
    path = folder / "pn_missing"
    path.mkdir()
    (path / "shape_names.txt").write_text("chair\ntable\n")
    (path / "train_files.txt").write_text("data/modelnet40_ply_hdf5_2048/ply_data_train0.h5\n")
    return path, path / "train_files.txt"


def _pointnet_no_class_names(folder: Path) -> tuple[Path, Path]:
    path = folder / "pn_names"
    path.mkdir()
    (path / "shape_names.txt").write_text("\n\n")
    with h5py.File(path / "ply_data_train0.h5", "w") as handle:
        handle.create_dataset("data", data=_clouds())
    return path, path / "shape_names.txt"


def _pointnet_bad_shard(folder: Path) -> tuple[Path, Path]:
    path = folder / "pn_shard"
    path.mkdir()
    (path / "shape_names.txt").write_text("chair\ntable\n")
    with h5py.File(path / "ply_data_train0.h5", "w") as handle:
        handle.create_dataset("data", data=_clouds())
        handle.create_dataset("label", data=np.zeros((4, 1), np.uint8))
    (path / "ply_data_test0.h5").write_bytes(_random_bytes(2048, 4))
    return path, path / "ply_data_test0.h5"


def _missing(folder: Path) -> tuple[Path, Path]:
    path = folder / "nowhere" / "shapes.h5"
    return path, path


CORPUS: tuple[BadInput, ...] = (
    # OFF
    BadInput("off-empty", _file("empty.off", b""), "empty file"),
    BadInput("off-blank-lines", _file("blank.off", "\n  \n\r\n"), "empty file"),
    BadInput("off-truncated-header", _file("header.off", "OFF\n"), "truncated"),
    BadInput("off-truncated-vertices", _file("cut.off", "OFF\n3 1 0\n0 0 0\n"), "truncated"),
    BadInput("off-letter-in-a-vertex", _file("letter.off", "OFF\n3 1 0\n0 0 0\n1 x 0\n0 1 0\n3 0 1 2\n"),
             "'x' is not a number"),
    BadInput("off-letters-in-the-counts", _file("counts.off", "OFF\nthree 1 0\n0 0 0\n"), "not whole numbers"),
    BadInput("off-face-index-out-of-range", _file("index.off", f"OFF\n3 1 0\n{_GOOD_OFF_VERTICES}3 0 1 9\n"),
             "face index 9 out of range"),
    BadInput("off-negative-face-index", _file("negative.off", f"OFF\n3 1 0\n{_GOOD_OFF_VERTICES}3 0 -1 2\n"),
             "out of range"),
    BadInput("off-absurd-counts", _file("absurd.off", f"OFF\n{TERA} {TERA} 0\n0 0 0\n"), "truncated", huge=True),
    BadInput("off-nan-vertex", _file("nan.off", "OFF\n3 0 0\n0 0 0\nnan 1 0\n0 1 0\n"), "NaN"),
    BadInput("off-infinite-vertex", _file("inf.off", "OFF\n3 0 0\n0 0 0\n1 inf 0\n0 1 0\n"), "infinite"),
    BadInput("off-one-point", _file("one.off", "OFF\n1 0 0\n0.5 0.5 0.5\n"), "only 1 point"),
    BadInput("off-coincident-points", _file("same.off", "OFF\n4 0 0\n" + "1 2 3\n" * 4), "coincide"),
    BadInput("off-zero-area-mesh", _file("flat.off", "OFF\n3 1 0\n0 0 0\n1 1 1\n2 2 2\n3 0 1 2\n"),
             "no surface area"),
    BadInput("off-binary", _file("binary.off", b"OFF BINARY\n\x00\x00\x00\x03"), "binary OFF"),
    BadInput("off-random-bytes", _file("noise.off", _random_bytes()), "not an OFF file"),
    # PLY
    BadInput("ply-empty", _file("empty.ply", b""), "empty file"),
    BadInput("ply-no-end-header", _file("open.ply", "ply\nformat ascii 1.0\nelement vertex 3\n"), "end_header"),
    BadInput("ply-ascii-truncated", _file("cut_ascii.ply", _ply_ascii(4, "0 0 0\n1 0 0\n")), "4 vertices"),
    BadInput("ply-binary-truncated", _file("cut_binary.ply", _ply_binary(50, _CLOUD)[:-100]), "50 vertices"),
    BadInput("ply-absurd-count-binary", _file("absurd_binary.ply", _ply_binary(TERA, _CLOUD)), "vertices",
             huge=True),
    BadInput("ply-absurd-count-ascii", _file("absurd_ascii.ply", _ply_ascii(TERA, "0 0 0\n1 0 0\n")), "vertices",
             huge=True),
    BadInput("ply-letters", _file("letters.ply", _ply_ascii(3, "0 0 0\n1 x 0\n0 1 0\n")), "PLY"),
    BadInput("ply-nan", _file("nan.ply", _ply_ascii(3, "0 0 0\n1 nan 0\n0 1 0\n")), "NaN"),
    BadInput("ply-random-bytes", _file("noise.ply", _random_bytes()), "not a PLY file"),
    # OBJ
    BadInput("obj-empty", _file("empty.obj", b""), "empty file"),
    BadInput("obj-face-index-out-of-range", _file("index.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n"),
             "out of range"),
    BadInput("obj-letters", _file("letters.obj", "v 0 0 0\nv 1 zero 0\nv 0 1 0\nf 1 2 3\n"), "OBJ"),
    BadInput("obj-no-vertices", _file("nothing.obj", "# an object with nothing in it\no thing\n"), "no points"),
    BadInput("obj-random-bytes", _file("noise.obj", _random_bytes()), "no points"),
    # PCD
    BadInput("pcd-empty", _file("empty.pcd", b""), "empty file"),
    BadInput("pcd-truncated-binary", _file("cut.pcd", _pcd(50, "binary", _CLOUD.tobytes()[:300])), "truncated"),
    BadInput("pcd-huge-width-binary", _file("wide.pcd", _pcd(0, "binary", _CLOUD.tobytes(), width=TERA)),
             "truncated", huge=True),
    BadInput("pcd-huge-points-ascii", _file("many.pcd", _pcd(TERA, "ascii", b"0 0 0\n1 1 1\n")), "truncated",
             huge=True),
    BadInput("pcd-huge-points-compressed",
             _file("packed.pcd", _pcd(TERA, "binary_compressed", struct.pack("<II", 8, 2**32 - 1) + b"\x00" * 8)),
             "does not match", huge=True),
    BadInput("pcd-letters", _file("letters.pcd", _pcd(2, "ascii", b"0 0 0\n1 y 1\n")), "'y' is not a number"),
    BadInput("pcd-no-xyz-fields", _file("fields.pcd", _pcd(1, "ascii", b"1 2 3\n", fields="a b c")), "no x/y/z"),
    BadInput("pcd-corrupt-compressed",
             _file("corrupt.pcd", _pcd(2, "binary_compressed", struct.pack("<II", 4, 24) + b"\xff\xff\xff\xff")),
             "corrupt"),
    BadInput("pcd-only-nan-points", _file("nans.pcd", _pcd(2, "ascii", b"nan nan nan\nnan nan nan\n")), "no points"),
    BadInput("pcd-random-bytes", _file("noise.pcd", _random_bytes()), "not a PCD file"),
    # XYZ text
    BadInput("xyz-empty", _file("empty.xyz", b""), "empty file"),
    BadInput("xyz-letter-in-a-row", _file("letter.xyz", "0 0 0\n1 1 1\n2 x 2\n"), "'x' is not a number"),
    BadInput("xyz-two-columns", _file("flat.xyz", "0 0\n1 1\n"), "no rows of 3 numbers"),
    BadInput("xyz-nan", _file("nan.xyz", "0 0 0\nnan 1 1\n"), "NaN"),
    BadInput("xyz-infinite", _file("inf.txt", "0 0 0\n1 -inf 1\n"), "infinite"),
    BadInput("xyz-one-point", _file("one.xyz", "1 2 3\n"), "only 1 point"),
    BadInput("xyz-coincident-points", _file("same.pts", "1 2 3\n1 2 3\n1 2 3\n"), "coincide"),
    BadInput("txt-random-bytes", _file("noise.txt", _random_bytes()), "no rows of 3 numbers"),
    # NPY
    BadInput("npy-empty", _file("empty.npy", b""), "empty file"),
    BadInput("npy-truncated", _file("cut.npy", _npy(np.zeros((100, 3), np.float32))[:300]), "truncated"),
    BadInput("npy-absurd-shape", _file("absurd.npy", _npy_declaring((TERA, 3), b"\x00" * 36)), "truncated", huge=True),
    BadInput("npy-wrong-shape", _file("wide.npy", _npy(np.zeros((5, 2), np.float32))), "is not (n, 3)"),
    BadInput("npy-strings", _file("words.npy", _npy(np.array([["a", "b", "c"]] * 3))), "not numeric"),
    BadInput("npy-nan", _file("nan.npy", _npy(np.array([[0, 0, 0], [np.nan, 1, 1]], np.float32))), "NaN"),
    BadInput("npy-one-point", _file("one.npy", _npy(np.ones((1, 3), np.float32))), "only 1 point"),
    BadInput("npy-zero-rows", _file("zero.npy", _npy(np.zeros((0, 3), np.float32))), "no points"),
    BadInput("npy-random-bytes", _file("noise.npy", _random_bytes()), "not a NumPy"),
    # HDF5
    BadInput("h5-empty", _file("empty.h5", b""), "not an HDF5 file"),
    BadInput("h5-random-bytes", _file("noise.h5", _random_bytes()), "not an HDF5 file"),
    BadInput("h5-truncated", _h5_truncated, "HDF5"),
    BadInput("h5-no-data", _h5("nodata.h5", lambda h: h.create_dataset("label", data=np.zeros(4, np.uint8))),
             "no 'data'"),
    BadInput("h5-data-is-a-group", _h5("group.h5", lambda h: h.create_group("data")), "no 'data'"),
    BadInput("h5-data-2d", _h5("flat.h5", lambda h: h.create_dataset("data", data=np.zeros((4, 32), np.float32))),
             "expected (shapes, points, 3)"),
    BadInput("h5-data-2-columns", _h5("xy.h5", lambda h: h.create_dataset("data", data=_clouds()[..., :2])),
             "expected (shapes, points, 3)"),
    BadInput("h5-data-strings", _h5("words.h5", lambda h: h.create_dataset("data", data=np.full((2, 4, 3), b"ab"))),
             "not numbers"),
    BadInput("h5-zero-shapes", _h5("none.h5", lambda h: h.create_dataset("data", data=np.zeros((0, 32, 3), "f4"))),
             "no shapes"),
    BadInput("h5-zero-points", _h5("nopoints.h5", lambda h: h.create_dataset("data", data=np.zeros((4, 0, 3), "f4"))),
             "0 points"),
    BadInput("h5-one-point-per-shape", _h5("one.h5", lambda h: h.create_dataset("data", data=_clouds(4, 1))),
             "1 point"),
    BadInput("h5-coincident-points", _h5("same.h5", _h5_coincident), "coincide"),
    BadInput("h5-label-count-mismatch",
             _h5("labels.h5", lambda h: (h.create_dataset("data", data=_clouds()),
                                         h.create_dataset("label", data=np.zeros((3, 1), np.uint8)))),
             "'label' has shape (3, 1)"),
    BadInput("h5-fractional-labels",
             _h5("fraction.h5", lambda h: (h.create_dataset("data", data=_clouds()),
                                           h.create_dataset("label", data=np.full(4, 0.5)))),
             "not class indices"),
    BadInput("h5-negative-label",
             _h5("minus.h5", lambda h: (h.create_dataset("data", data=_clouds()),
                                        h.create_dataset("label", data=np.full(4, -3)))),
             "label -3"),
    BadInput("h5-nan", _h5("nan.h5", _h5_nan), "NaN"),
    BadInput("h5-huge-declared-shape", _h5("huge.h5", _h5_huge), "the file stores 0 of", huge=True),
    BadInput("h5-huge-contiguous-shape", _h5("huge_contiguous.h5", _h5_huge_contiguous), "the file stores 0 bytes",
             huge=True),
    # folders and paths
    BadInput("folder-empty", _empty_folder, "no shape files found"),
    BadInput("folder-of-other-files", _folder_of_other_files, "no shape files found"),
    BadInput("folder-of-broken-files", _folder_of_broken_files, "not an OFF file"),
    BadInput("pointnet-folder-without-shards", _pointnet_without_shards, "no .h5 shards"),
    BadInput("pointnet-list-names-a-missing-shard", _pointnet_missing_shard, "ply_data_train0.h5"),
    BadInput("pointnet-empty-shape-names", _pointnet_no_class_names, "no class names"),
    BadInput("pointnet-one-broken-shard", _pointnet_bad_shard, "not an HDF5 file"),
    BadInput("unknown-extension", _file("mesh.stl", b"solid x\nendsolid x\n"), "unsupported file type '.stl'"),
    BadInput("no-extension", _file("shape", "0 0 0\n1 1 1\n"), "(no extension)"),
    BadInput("compressed-extension", _file("chair.off.gz", b"\x1f\x8b\x08\x00"), "'.gz'"),
    BadInput("missing-path", _missing, "no such file"),
)


# ---------------------------------------------------------------- memory

def reset_peak_rss() -> None:
    """Start a new peak of the resident set (Linux: writing 5 to clear_refs resets VmHWM).

    Free memory that malloc keeps (training calls ``keep_freed_memory`` in this
    process) is resident already, so a new allocation served from it would not
    raise the peak: it is handed back to the system first (``malloc_trim``).
    """
    import ctypes
    import ctypes.util

    ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as stream:
        stream.write("5")


def peak_rss_mb() -> float:
    """The process's peak resident set since :func:`reset_peak_rss`, in MB (VmHWM)."""
    with open("/proc/self/status") as stream:
        for line in stream:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
