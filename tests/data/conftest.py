"""Writers of small test files (PCD, OFF, PointNet h5) for the data-reader tests."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import h5py
import numpy as np
import pytest


def lzf_compress(data: bytes) -> bytes:
    """A small greedy LZF compressor (liblzf's format), to make binary_compressed PCD files."""
    out = bytearray()
    literal = bytearray()
    last_seen: dict[bytes, int] = {}
    i = 0

    def flush() -> None:
        while literal:
            chunk = literal[:32]
            out.append(len(chunk) - 1)
            out.extend(chunk)
            del literal[:32]

    while i < len(data):
        key = data[i : i + 3]
        ref = last_seen.get(key) if len(key) == 3 else None
        if len(key) == 3:
            last_seen[key] = i
        if ref is not None and i - ref - 1 < 8192:
            length = 3
            while i + length < len(data) and length < 264 and data[ref + length] == data[i + length]:
                length += 1
            flush()
            distance, extra = i - ref - 1, length - 2
            if extra < 7:
                out.append((extra << 5) | (distance >> 8))
            else:
                out.append((7 << 5) | (distance >> 8))
                out.append(extra - 7)
            out.append(distance & 0xFF)
            i += length
        else:
            literal.append(data[i])
            i += 1
    flush()
    return bytes(out)


def pcd_bytes(
    columns: dict[str, np.ndarray],
    data: str = "ascii",
    types: dict[str, str] | None = None,
) -> bytes:
    """A PCD v0.7 file with the given fields (each an (n,) or (n, count) array).

    ``types`` maps a field to a numpy dtype string such as ``"<f4"`` or ``"u1"``
    (default float32). Field names may repeat via a trailing ``#k`` (stripped), so
    PCL's padding fields ``_`` can be written.
    """
    types = types or {}
    names = list(columns)
    arrays = [np.asarray(columns[name]).reshape(len(columns[name]), -1) for name in names]
    dtypes = [np.dtype(types.get(name, "<f4")) for name in names]
    n = len(arrays[0])
    kind = {"f": "F", "i": "I", "u": "U"}
    header = [
        "# .PCD v0.7 - Point Cloud Data file format",
        "VERSION 0.7",
        "FIELDS " + " ".join(name.split("#")[0] for name in names),
        "SIZE " + " ".join(str(dt.itemsize) for dt in dtypes),
        "TYPE " + " ".join(kind[dt.kind] for dt in dtypes),
        "COUNT " + " ".join(str(a.shape[1]) for a in arrays),
        f"WIDTH {n}",
        "HEIGHT 1",
        "VIEWPOINT 0 0 0 1 0 0 0",
        f"POINTS {n}",
        f"DATA {data}",
    ]
    head = ("\n".join(header) + "\n").encode()
    if data == "ascii":
        rows = [" ".join(" ".join(repr(float(v)) if dt.kind == "f" else str(int(v)) for v in a[i])
                         for a, dt in zip(arrays, dtypes)) for i in range(n)]
        return head + ("\n".join(rows) + "\n").encode()
    if data == "binary":
        record = np.dtype([(f"f{k}", dt, (a.shape[1],)) for k, (a, dt) in enumerate(zip(arrays, dtypes))])
        table = np.empty(n, dtype=record)
        for k, a in enumerate(arrays):
            table[f"f{k}"] = a
        return head + table.tobytes()
    raw = b"".join(np.ascontiguousarray(a, dtype=dt).tobytes() for a, dt in zip(arrays, dtypes))
    packed = lzf_compress(raw)
    return head + struct.pack("<II", len(packed), len(raw)) + packed


def write_h5(path: Path, data: np.ndarray | None, label: np.ndarray | None = None) -> Path:
    """An .h5 file with ``data`` and ``label`` datasets (either may be None)."""
    with h5py.File(path, "w") as handle:
        if data is not None:
            handle.create_dataset("data", data=data)
        if label is not None:
            handle.create_dataset("label", data=label)
    return path


def random_clouds(n: int, points: int, seed: int = 0) -> np.ndarray:
    """``n`` random float32 clouds of ``points`` points, not normalised (offset and scaled)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, points, 3)) * 5.0 + 10.0).astype(np.float32)


@pytest.fixture
def pointnet_folder(tmp_path: Path) -> Path:
    """A PointNet-layout folder: 3 classes, train (2 shards: 6 + 4 shapes) and test (5), 64 points.

    The list files carry a foreign prefix; train's labels are (n, 1) uint8,
    test's are (n,) int64; shard ``ply_data_train0.h5`` has an id2file JSON.
    """
    folder = tmp_path / "pn"
    folder.mkdir()
    (folder / "shape_names.txt").write_text("cone\ncube\nsphere\n")
    write_h5(folder / "ply_data_train0.h5", random_clouds(6, 64, 1), np.array([[0], [1], [2], [0], [1], [2]], np.uint8))
    write_h5(folder / "ply_data_train1.h5", random_clouds(4, 64, 2), np.array([[2], [2], [1], [0]], np.uint8))
    write_h5(folder / "ply_data_test0.h5", random_clouds(5, 64, 3), np.array([0, 1, 2, 1, 0], np.int64))
    (folder / "train_files.txt").write_text(
        "data/modelnet40_ply_hdf5_2048/ply_data_train0.h5\r\ndata/modelnet40_ply_hdf5_2048/ply_data_train1.h5\r\n"
    )
    (folder / "test_files.txt").write_text("/home/someone/pointnet/data/ply_data_test0.h5\n")
    names = ["cone/cone_0001.off", "cube/cube_0001.off", "sphere/sphere_0001.off",
             "cone/cone_0002.off", "cube/cube_0002.off", "sphere/sphere_0002.off"]
    (folder / "ply_data_train_0_id2file.json").write_text(json.dumps(names))
    return folder


@pytest.fixture
def make_pcd():
    """:func:`pcd_bytes`, as a fixture (test modules do not import conftest)."""
    return pcd_bytes


@pytest.fixture
def make_lzf():
    """:func:`lzf_compress`, as a fixture."""
    return lzf_compress


@pytest.fixture
def make_h5():
    """:func:`write_h5`, as a fixture."""
    return write_h5


@pytest.fixture
def make_clouds():
    """:func:`random_clouds`, as a fixture."""
    return random_clouds
