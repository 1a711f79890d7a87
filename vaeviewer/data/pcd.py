"""Reading Point Cloud Library (PCD) files: ascii, binary and binary_compressed.

No lightweight library reads PCD (open3d, the usual choice, is 400 MB), so this
module does, after the PCD v0.7 specification: a text header of ``VERSION``,
``FIELDS``, ``SIZE``, ``TYPE``, ``COUNT``, ``WIDTH``, ``HEIGHT``,
``VIEWPOINT``, ``POINTS`` and ``DATA`` lines, then the points. Only ``x``,
``y`` and ``z`` are kept. ``binary_compressed`` data are LZF-compressed and
stored field by field; the small LZF decompressor is here too.

Points whose x, y or z is NaN are dropped: that is how PCL marks the invalid
pixels of organised (depth-camera) clouds, so they are not an error in PCD.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from vaeviewer.data.text_rows import first_bad_row
from vaeviewer.errors import DataFileError

__all__ = ["parse_pcd", "peek_pcd_point_count", "lzf_decompress"]

_MAX_HEADER_BYTES = 65536
_TYPES = {("F", 4): "<f4", ("F", 8): "<f8", ("I", 1): "i1", ("I", 2): "<i2", ("I", 4): "<i4", ("I", 8): "<i8",
          ("U", 1): "u1", ("U", 2): "<u2", ("U", 4): "<u4", ("U", 8): "<u8"}


class _Header:
    """The fields of a PCD header that reading needs."""

    def __init__(self, path: Path, entries: dict[str, list[str]], data_offset: int) -> None:
        self.data_offset = data_offset
        self.fields = entries.get("FIELDS", [])
        if not self.fields:
            raise DataFileError(path, "PCD header has no FIELDS line")
        missing = [axis for axis in "xyz" if axis not in self.fields]
        if missing:
            raise DataFileError(path, f"PCD has no {'/'.join(missing)} field (fields: {' '.join(self.fields)})")
        n = len(self.fields)
        sizes = entries.get("SIZE", [])
        types = entries.get("TYPE", ["F"] * n)
        counts = entries.get("COUNT", ["1"] * n)
        if not (len(sizes) == len(types) == len(counts) == n):
            raise DataFileError(path, "PCD header: FIELDS, SIZE, TYPE and COUNT have different lengths")
        try:
            self.counts = [int(c) for c in counts]
            self.dtypes = [np.dtype(_TYPES[(t.upper(), int(s))]) for t, s in zip(types, sizes)]
        except (KeyError, ValueError):
            problem = f"PCD header: unsupported SIZE/TYPE {' '.join(sizes)} / {' '.join(types)}"
            raise DataFileError(path, problem) from None
        if min(self.counts) < 1:
            raise DataFileError(path, "PCD header: COUNT must be at least 1")
        try:
            if "POINTS" in entries:
                self.points = int(entries["POINTS"][0])
            else:
                self.points = int(entries["WIDTH"][0]) * int(entries.get("HEIGHT", ["1"])[0])
        except (KeyError, IndexError, ValueError):
            raise DataFileError(path, "PCD header: no valid POINTS (or WIDTH and HEIGHT)") from None
        if self.points < 0:
            raise DataFileError(path, "PCD header: negative POINTS")
        self.data = (entries.get("DATA") or [""])[0].lower()

    def column(self, axis: str) -> int:
        """Index of the first value of field ``axis`` in a point's values."""
        index = self.fields.index(axis)
        return sum(self.counts[:index])


def _read_header(path: Path, data: bytes) -> _Header:
    entries: dict[str, list[str]] = {}
    position = 0
    while position < min(len(data), _MAX_HEADER_BYTES):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        line = data[position:end].decode("latin-1").strip()
        position = end + 1
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        if key.upper() not in {"VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT",
                               "VIEWPOINT", "POINTS", "DATA"}:
            raise DataFileError(path, f"not a PCD file (unexpected header line {line[:30]!r})")
        entries[key.upper()] = values
        if key.upper() == "DATA":
            return _Header(path, entries, position)
    raise DataFileError(path, "not a PCD file (no DATA line in its header)")


def _parse_ascii(path: Path, header: _Header, body: bytes) -> np.ndarray:
    lines = [line for line in body.decode("latin-1").splitlines() if line.strip()]
    if len(lines) < header.points:
        raise DataFileError(path, f"truncated: header declares {header.points} points, data has {len(lines)} lines")
    lines = lines[: header.points]
    width = sum(header.counts)
    columns = [header.column(axis) for axis in "xyz"]
    try:
        table = np.array(" ".join(lines).split(), dtype=np.float64)
        if table.size == len(lines) * width:
            return table.reshape(len(lines), width)[:, columns]
    except ValueError:
        pass  # find the culprit below
    raise first_bad_row(path, ((f"data line {k + 1}", line.split()) for k, line in enumerate(lines)),
                        lambda count: None if count == width else f"has {count} values, the header says {width}")


def _parse_binary(path: Path, header: _Header, body: bytes) -> np.ndarray:
    # Unique names: PCL pads with fields all called "_".
    dtype = np.dtype([(f"f{i}", dt, (count,)) for i, (dt, count) in enumerate(zip(header.dtypes, header.counts))])
    needed = header.points * dtype.itemsize
    if len(body) < needed:
        problem = f"truncated: header declares {header.points} points ({needed} bytes), {len(body)} bytes follow"
        raise DataFileError(path, problem)
    records = np.frombuffer(body, dtype=dtype, count=header.points)
    return np.stack([records[f"f{header.fields.index(axis)}"][:, 0] for axis in "xyz"], axis=1).astype(np.float64)


def _parse_compressed(path: Path, header: _Header, body: bytes) -> np.ndarray:
    if len(body) < 8:
        raise DataFileError(path, "truncated: binary_compressed data has no size words")
    compressed_size, raw_size = struct.unpack("<II", body[:8])
    point_bytes = sum(dt.itemsize * count for dt, count in zip(header.dtypes, header.counts))
    if raw_size != header.points * point_bytes:
        raise DataFileError(path, f"binary_compressed size {raw_size} does not match {header.points} points")
    if len(body) - 8 < compressed_size:
        raise DataFileError(path, f"truncated: {compressed_size} compressed bytes declared, {len(body) - 8} follow")
    try:
        raw = lzf_decompress(body[8 : 8 + compressed_size], raw_size)
    except ValueError as error:
        raise DataFileError(path, f"corrupt binary_compressed data: {error}") from None
    # Field-major layout: all x values, then all y values, ...
    axes = []
    for axis in "xyz":
        index = header.fields.index(axis)
        start = header.points * sum(dt.itemsize * c for dt, c in zip(header.dtypes[:index], header.counts[:index]))
        count = header.points * header.counts[index]
        values = np.frombuffer(raw, dtype=header.dtypes[index], count=count, offset=start)
        axes.append(values.reshape(header.points, header.counts[index])[:, 0])
    return np.stack(axes, axis=1).astype(np.float64)


def lzf_decompress(data: bytes, size: int) -> bytes:
    """Decompress LZF data (liblzf's format, used by PCD's ``binary_compressed``) to exactly ``size`` bytes.

    liblzf itself, through python-neo-lzf. Raises ``ValueError`` on a corrupt
    stream or one that does not decompress to ``size`` bytes.
    """
    import lzf

    if size == 0:
        return b""
    out = lzf.decompress(bytes(data), size)  # None: the stream does not fit ``size`` bytes
    if out is None or len(out) != size:
        raise ValueError(f"does not decompress to the declared {size} bytes")
    return bytes(out)


def parse_pcd(path: Path, data: bytes) -> np.ndarray:
    """The x, y, z of every valid point of the PCD file ``path`` whose content is ``data``, as float64 (n, 3).

    Points with a NaN coordinate are left out; errors name ``path``.
    """
    header = _read_header(path, data)
    body = data[header.data_offset :]
    readers = {"ascii": _parse_ascii, "binary": _parse_binary, "binary_compressed": _parse_compressed}
    if header.data not in readers:
        expected = "expected ascii, binary or binary_compressed"
        raise DataFileError(path, f"unknown PCD DATA type {header.data!r} ({expected})")
    points = readers[header.data](path, header, body)
    return points[~np.isnan(points).any(axis=1)]


def peek_pcd_point_count(path: Path) -> int:
    """The POINTS the PCD file ``path`` declares (invalid NaN points included), reading only its header."""
    with open(path, "rb") as stream:
        head = stream.read(_MAX_HEADER_BYTES)
    return _read_header(path, head).points
