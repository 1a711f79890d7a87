"""Reading one shape file (mesh or point cloud) of any supported format.

=========  ==========================================  ===========================
extension  format                                      read by
=========  ==========================================  ===========================
``.off``   OFF mesh (ModelNet), ascii                  :mod:`vaeviewer.data.off`
``.ply``   PLY mesh or cloud, ascii or binary          trimesh, header checked here
``.obj``   Wavefront OBJ (a multi-part Scene merged)   trimesh
``.pcd``   PCL point cloud, ascii/binary/compressed    :mod:`vaeviewer.data.pcd`
``.xyz``,  text columns x y z [...], whitespace or     here
``.txt``,  comma separated, header lines skipped
``.pts``
``.npy``   NumPy array (n, >=3), never unpickled       here
=========  ==========================================  ===========================

Every failure is a :class:`~vaeviewer.errors.DataFileError` with a one-line
reason. A shape must have at least two distinct points: a single point, or
points that all coincide, has no extent to scale to the unit sphere and would
train on a degenerate cloud, so it is refused when the file is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaeviewer.data.geometry import normalize_unit_sphere, resample_cloud, sample_surface, triangulate_faces
from vaeviewer.data.off import parse_off, peek_off_vertex_count
from vaeviewer.data.pcd import parse_pcd, peek_pcd_point_count
from vaeviewer.data.text_rows import first_bad_row
from vaeviewer.errors import DataFileError, OptionError

__all__ = [
    "SHAPE_FILE_EXTENSIONS",
    "DEFAULT_SURFACE_POINTS",
    "ShapeFile",
    "read_shape_file",
    "shape_file_points",
    "peek_point_count",
]

SHAPE_FILE_EXTENSIONS: tuple[str, ...] = (".off", ".ply", ".obj", ".pcd", ".xyz", ".txt", ".pts", ".npy")
"""File extensions :func:`read_shape_file` reads (compared in lower case)."""

DEFAULT_SURFACE_POINTS = 2048
"""Points sampled on a mesh's surface when no number is asked for."""

_FORMATS = {".off": "off", ".ply": "ply", ".obj": "obj", ".pcd": "pcd",
            ".xyz": "xyz", ".txt": "xyz", ".pts": "xyz", ".npy": "npy"}
_NPY_MAGIC = b"\x93NUMPY"
_PLY_HEADER_BYTES = 65536
_PLY_TYPE_BYTES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
                   "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}


@dataclass(frozen=True, eq=False)
class ShapeFile:
    """The content of one shape file.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    format : str
        ``off``, ``ply``, ``obj``, ``pcd``, ``xyz`` or ``npy``.
    vertices : numpy.ndarray
        float32 (n, 3), finite, at least two distinct points.
    faces : numpy.ndarray or None
        int64 (m, 3) triangles indexing ``vertices``, or None for a point cloud.
    """

    path: Path
    format: str
    vertices: np.ndarray
    faces: np.ndarray | None

    @property
    def is_mesh(self) -> bool:
        """Whether the file is a triangle mesh (else a point cloud)."""
        return self.faces is not None


def _short(error: BaseException) -> str:
    """The first line of an exception's message, shortened for a one-line error."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 100 else text[:97] + "..."


def _checked_path(path: str | Path) -> tuple[Path, str]:
    """The path and its format; raises for a missing file, a folder or an unknown extension."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, "no such file")
    if path.is_dir():
        raise DataFileError(path, "is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        shown = suffix or "(no extension)"
        raise DataFileError(path, f"unsupported file type '{shown}' (supported: {', '.join(SHAPE_FILE_EXTENSIONS)})")
    return path, _FORMATS[suffix]


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataFileError(path, f"cannot read: {error.strerror or _short(error)}") from None
    if not data.strip():
        raise DataFileError(path, "empty file")
    return data


@dataclass(frozen=True)
class _PlyHeader:
    """What a PLY header declares: its encoding and, per element, a count and the least bytes of one row."""

    encoding: str  # ascii, binary_little_endian or binary_big_endian
    elements: tuple[tuple[str, int, int], ...]
    data_offset: int

    def count(self, name: str) -> int | None:
        """The declared count of element ``name`` (``vertex``, ``face``), None when absent."""
        return next((count for element, count, _ in self.elements if element == name), None)


def _ply_header(path: Path, head: bytes) -> _PlyHeader:
    """Parse a PLY header (the first bytes of the file)."""
    if not head.startswith(b"ply"):
        raise DataFileError(path, "not a PLY file (it does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        raise DataFileError(path, "PLY header has no end_header")
    newline = head.find(b"\n", end)
    data_offset = newline + 1 if newline >= 0 else len(head)
    encoding = ""
    elements: list[list] = []
    for line in head[:end].decode("latin-1").splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "format" and len(words) >= 2:
            encoding = words[1]
        elif words[0] == "element":
            if len(words) < 3 or not words[2].isdigit():
                raise DataFileError(path, f"PLY header: {line.strip()[:40]!r} has no whole-number count")
            elements.append([words[1], int(words[2]), 0])
        elif words[0] == "property" and elements:
            # A scalar adds its size; a list at least its length field (an empty list).
            kind = words[2] if words[1:2] == ["list"] and len(words) > 2 else words[1] if len(words) > 1 else ""
            elements[-1][2] += _PLY_TYPE_BYTES.get(kind, 0)
    return _PlyHeader(encoding, tuple((name, count, size) for name, count, size in elements), data_offset)


def _check_ply_size(path: Path, header: _PlyHeader, size: int) -> None:
    """Refuse a PLY file shorter than its header's counts, before a reader allocates for them."""
    vertices, faces = header.count("vertex") or 0, header.count("face") or 0
    declared = f"{vertices} vertices" + (f" and {faces} faces" if faces else "")
    available = size - header.data_offset
    if header.encoding.startswith("binary"):
        needed = sum(count * row for _, count, row in header.elements)
        if available < needed:
            raise DataFileError(path, f"truncated: header declares {declared} ({needed:,} bytes at least), "
                                f"{available:,} bytes follow")
    elif header.encoding == "ascii" and available < 2 * vertices:
        # Every ascii row takes a line, and a line at least two bytes: cheaper than counting lines.
        raise DataFileError(path, f"truncated: header declares {declared}, {available:,} bytes follow")


def _read_with_trimesh(path: Path, file_type: str) -> tuple[np.ndarray, np.ndarray | None]:
    import trimesh  # 0.4 s to import: only when a PLY or OBJ is read

    try:
        # No materials: only the geometry is used, and a texture image the header names may be absent
        # (trimesh then logs a traceback). Not split per texture coordinate: the vertices stay as stored.
        options = {"skip_materials": True, "fix_texture": False} if file_type == "ply" else {}
        loaded = trimesh.load(path, file_type=file_type, process=False, **options)
        if isinstance(loaded, trimesh.Scene):
            # A multi-part OBJ (one part per material, even when the .mtl is missing).
            loaded = loaded.to_geometry() if loaded.geometry else None
    except IndexError as error:  # trimesh's OBJ reader indexes the vertices with the raw face indices
        raise DataFileError(path, f"face index out of range ({_short(error)})") from None
    # trimesh raises anything from ValueError to KeyError on a broken file.
    except Exception as error:  # noqa: BLE001
        raise DataFileError(path, f"cannot read {file_type.upper()}: {_short(error)}") from None
    if loaded is None or not hasattr(loaded, "vertices"):
        raise DataFileError(path, "contains no points")
    vertices = np.asarray(loaded.vertices, dtype=np.float64).reshape(-1, 3)
    faces = getattr(loaded, "faces", None)
    faces = None if faces is None or len(faces) == 0 else np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    return vertices, faces


def _read_ply(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    with open(path, "rb") as stream:
        head = stream.read(_PLY_HEADER_BYTES)
    header = _ply_header(path, head)
    declared = header.count("vertex")
    if declared is None:
        raise DataFileError(path, "PLY has no vertex element")
    _check_ply_size(path, header, path.stat().st_size)
    vertices, faces = _read_with_trimesh(path, "ply")
    # trimesh reads an ascii PLY that declares more vertices than it holds as garbage, silently.
    if len(vertices) != declared:
        raise DataFileError(path, f"truncated or malformed: header declares {declared} vertices, {len(vertices)} read")
    return vertices, faces


def _parse_xyz(path: Path, data: bytes) -> np.ndarray:
    """Rows of at least three numbers; leading header lines and comment lines skipped."""
    lines = data.decode("latin-1").replace(",", " ").replace(";", " ").splitlines()
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith(("#", "//", "%")):
            continue
        if not rows and not _is_data_row(tokens):
            continue  # a header: column names, or the point count of a .pts file
        rows.append(tokens)
        numbers.append(number)
    if not rows:
        raise DataFileError(path, "no rows of 3 numbers found")
    try:
        widths = {len(row) for row in rows}
        if len(widths) == 1:
            return np.array(rows, dtype=np.float64)[:, :3]
        return np.array([row[:3] for row in rows], dtype=np.float64)
    except ValueError:
        pass  # find the culprit below
    raise first_bad_row(path, ((f"line {number}", row) for number, row in zip(numbers, rows)),
                        lambda count: None if count >= 3 else f"has {count} columns, needs at least 3")


def _is_data_row(tokens: list[str]) -> bool:
    if len(tokens) < 3:
        return False
    try:
        [float(token) for token in tokens[:3]]
    except ValueError:
        return False
    return True


def npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a .npy file, from its header alone."""
    with open(path, "rb") as stream:
        magic = stream.read(6)
        if magic != _NPY_MAGIC:
            if magic.startswith(b"PK"):
                raise DataFileError(path, "is an .npz archive, expected a .npy array")
            raise DataFileError(path, "not a NumPy .npy file")
        stream.seek(0)
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        except (ValueError, SyntaxError, EOFError) as error:
            raise DataFileError(path, f"broken .npy header: {_short(error)}") from None
        return shape, dtype, stream.tell()


def _read_npy(path: Path) -> np.ndarray:
    shape, dtype, offset = npy_header(path)
    if dtype.hasobject:
        # Loading an object array runs pickle, i.e. arbitrary code from the file.
        raise DataFileError(path, "refused: object arrays need pickle")
    if dtype.kind not in "fiu":
        raise DataFileError(path, f"array of {dtype} is not numeric coordinates")
    if len(shape) == 3 and shape[0] == 1:
        shape = shape[1:]  # one cloud in a batch of one: (1, N, 3)
    if len(shape) != 2 or shape[1] < 3:
        raise DataFileError(path, f"array shape {shape} is not (n, 3) or (n, >=3)")
    expected = int(np.prod(shape)) * dtype.itemsize
    if path.stat().st_size - offset < expected:
        raise DataFileError(path, f"truncated: array {shape} needs {expected} bytes")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise DataFileError(path, f"cannot read .npy: {_short(error)}") from None
    return np.asarray(array.reshape(shape)[:, :3], dtype=np.float64)


def _checked_vertices(path: Path, vertices: np.ndarray) -> np.ndarray:
    """float32 (n, 3) vertices, refused when empty, non-finite or without extent."""
    points = np.ascontiguousarray(vertices, dtype=np.float32)
    if len(points) == 0:
        raise DataFileError(path, "contains no points")
    if not np.isfinite(points).all():
        raise DataFileError(path, "contains NaN or infinite coordinates")
    if len(points) == 1:
        raise DataFileError(path, "has only 1 point; needs at least 2 distinct points")
    if not (points != points[0]).any():
        raise DataFileError(path, f"all {len(points)} points coincide; needs at least 2 distinct points")
    return points


def _read_vertices_and_faces(path: Path, file_format: str) -> tuple[np.ndarray, np.ndarray | None]:
    if path.stat().st_size == 0:
        raise DataFileError(path, "empty file")
    if file_format == "ply":
        return _read_ply(path)
    if file_format == "obj":
        return _read_with_trimesh(path, "obj")
    if file_format == "npy":
        return _read_npy(path), None
    data = _read_bytes(path)
    if file_format == "off":
        return parse_off(path, data)
    if file_format == "pcd":
        return parse_pcd(path, data), None
    return _parse_xyz(path, data), None


def read_shape_file(path: str | Path) -> ShapeFile:
    """Read a mesh or point-cloud file.

    Parameters
    ----------
    path : str or pathlib.Path
        A file with one of :data:`SHAPE_FILE_EXTENSIONS`.

    Returns
    -------
    ShapeFile
        Its vertices (float32) and, for a mesh, its triangles (int64).

    Raises
    ------
    DataFileError
        When the file is missing, a folder, of an unknown type, empty, truncated,
        malformed, has NaN or infinite coordinates, a face index out of range,
        or fewer than two distinct points.
    """
    path, file_format = _checked_path(path)
    try:
        vertices, faces = _read_vertices_and_faces(path, file_format)
    except OSError as error:  # permissions, a file removed meanwhile, an I/O error
        raise DataFileError(path, f"cannot read: {error.strerror or _short(error)}") from None
    vertices = _checked_vertices(path, vertices)
    if faces is not None:
        faces = triangulate_faces(faces)
        if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise DataFileError(path, f"face index out of range (the file has {len(vertices)} vertices)")
        faces = faces if len(faces) else None
    return ShapeFile(path=path, format=file_format, vertices=vertices, faces=faces)


def shape_file_points(shape_file: ShapeFile, num_points: int | None = None, seed: int = 0) -> np.ndarray:
    """The cloud of a shape file, centred and scaled to the unit sphere.

    Parameters
    ----------
    shape_file : ShapeFile
        A file read by :func:`read_shape_file`.
    num_points : int, optional
        Points wanted. A mesh is sampled on its surface (area-weighted) with this
        many points, :data:`DEFAULT_SURFACE_POINTS` when None; a cloud is
        resampled (:func:`~vaeviewer.data.geometry.resample_cloud`) to it, or
        kept whole when None.
    seed : int
        Seeds the random numbers of surface sampling and of repeating points,
        so that the same seed gives the same cloud.

    Returns
    -------
    numpy.ndarray
        float32 (n, 3) with its mean at the origin and its farthest point at distance 1.
    """
    if num_points is not None and num_points < 1:
        raise OptionError(f"number of points must be at least 1, got {num_points}")
    rng = np.random.default_rng(seed)
    if shape_file.faces is not None:
        try:
            points = sample_surface(shape_file.vertices, shape_file.faces, num_points or DEFAULT_SURFACE_POINTS, rng)
        except ValueError:
            raise DataFileError(shape_file.path, "mesh has no surface area (all its faces are degenerate)") from None
    elif num_points is not None:
        points = resample_cloud(shape_file.vertices, num_points, rng)
    else:
        points = shape_file.vertices
    return normalize_unit_sphere(points)


def peek_point_count(path: str | Path) -> int:
    """Number of points (vertices, for a mesh) a file holds, read as cheaply as its format allows.

    OFF, PLY and PCD: the header only; NPY: the array header; OBJ: the ``v``
    lines are counted; XYZ text: the file is read.

    Parameters
    ----------
    path : str or pathlib.Path
        A shape file.

    Returns
    -------
    int
        The count. Raises :class:`~vaeviewer.errors.DataFileError` when it cannot be read.
    """
    path, file_format = _checked_path(path)
    try:
        if path.stat().st_size == 0:
            raise DataFileError(path, "empty file")
        if file_format == "off":
            return peek_off_vertex_count(path)
        if file_format == "pcd":
            return peek_pcd_point_count(path)
        if file_format == "npy":
            shape = npy_header(path)[0]
            return int(shape[1]) if len(shape) == 3 and shape[0] == 1 else (int(shape[0]) if shape else 0)
        if file_format == "ply":
            with open(path, "rb") as stream:
                return _ply_header(path, stream.read(_PLY_HEADER_BYTES)).count("vertex") or 0
        if file_format == "obj":
            with open(path, "rb") as stream:
                return sum(1 for line in stream if line.startswith((b"v ", b"v\t")))
    except OSError as error:
        raise DataFileError(path, f"cannot read: {error.strerror or _short(error)}") from None
    return len(_parse_xyz(path, _read_bytes(path)))
