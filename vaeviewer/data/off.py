"""Reading Object File Format (OFF) meshes, the format of raw ModelNet.

Why a parser of our own rather than trimesh's: trimesh 4 does read ModelNet's
broken ``OFF3514 3546 0`` header and CRLF files, but it silently drops every
face of a file that has a ``#`` comment after a vertex, and it reports a
truncated file or a letter in a number as a bare numpy error
(``cannot reshape array of size 6 into shape (3,3)``). This parser is line
based, like every OFF writer we know of: a vertex line may carry extra columns
(colours in COFF, normals in NOFF), a face line may carry a colour after its
indices, and every problem comes out as a one-line
:class:`~vaeviewer.errors.DataFileError` that names the line. Declared counts
are checked against the lines the file holds before anything is allocated, so
a header that claims 10^12 vertices costs nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from vaeviewer.data.geometry import triangulate_faces
from vaeviewer.errors import DataFileError

__all__ = ["parse_off", "peek_off_vertex_count"]

# OFF and its variants: ST (texture), C (colour), N (normal), 4 (4-D), n (n-D).
_KEYWORD = re.compile(r"^(ST)?C?N?(4)?(n)?OFF")
_PEEK_BYTES = 65536


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with comments cut off, each with its 1-based line number."""
    lines = text.splitlines()
    if "#" in text:
        lines = [line.split("#", 1)[0] for line in lines]
    return [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]


def _parse_header(path: Path, lines: list[tuple[int, str]]) -> tuple[int, int, int]:
    """Vertex count, face count and the index of the first vertex line in ``lines``."""
    if not lines:
        raise DataFileError(path, "empty file")
    first = lines[0][1].split()
    match = _KEYWORD.match(first[0])
    if match is None:
        raise DataFileError(path, f"not an OFF file (first line starts with {first[0][:20]!r})")
    if match.group(2) or match.group(3):
        raise DataFileError(path, "4-D and n-D OFF files are not supported")
    # ModelNet's known defect glues the counts to the keyword: "OFF3514 3546 0".
    counts = ([first[0][match.end() :]] if len(first[0]) > match.end() else []) + first[1:]
    if counts and counts[0].upper() == "BINARY":
        raise DataFileError(path, "binary OFF is not supported")
    body = 1
    if not counts:
        if len(lines) < 2:
            raise DataFileError(path, "truncated: no vertex and face counts after 'OFF'")
        counts = lines[1][1].split()
        body = 2
    if len(counts) < 2:
        raise DataFileError(path, "header needs a vertex count and a face count")
    try:
        num_vertices, num_faces = int(counts[0]), int(counts[1])
    except ValueError:
        raise DataFileError(path, f"header counts {' '.join(counts[:3])!r} are not whole numbers") from None
    if num_vertices < 0 or num_faces < 0:
        raise DataFileError(path, "header declares a negative number of vertices or faces")
    return num_vertices, num_faces, body


def _parse_floats(path: Path, lines: list[tuple[int, str]]) -> np.ndarray:
    """First three numbers of each vertex line, float64 (n, 3)."""
    rows = [line.split() for _, line in lines]
    widths = {len(row) for row in rows}
    try:
        if len(widths) == 1 and min(widths) >= 3:
            table = np.array(rows, dtype=np.float64)
            return table[:, :3]
        return np.array([row[:3] for row in rows], dtype=np.float64).reshape(len(rows), 3)
    except ValueError:
        pass  # find the culprit below, for the message
    for (number, _), row in zip(lines, rows):
        if len(row) < 3:
            raise DataFileError(path, f"line {number}: a vertex needs 3 coordinates, found {len(row)}")
        for token in row[:3]:
            try:
                float(token)
            except ValueError:
                raise DataFileError(path, f"line {number}: {token[:20]!r} is not a number") from None
    raise DataFileError(path, "vertex lines cannot be read")  # unreachable in practice


def _parse_faces(path: Path, lines: list[tuple[int, str]], num_vertices: int) -> np.ndarray:
    """Face lines as triangles (fan-triangulated), int64 (m, 3), indices checked."""
    rows = [line.split() for _, line in lines]
    polygons: list[np.ndarray] = []
    sizes = {row[0] for row in rows}
    if len(sizes) == 1:
        # The common case (all triangles, or all quads): one vectorised conversion.
        try:
            size = int(rows[0][0])
            if size >= 0 and all(len(row) > size for row in rows):
                table = np.array([row[1 : size + 1] for row in rows], dtype=np.int64).reshape(len(rows), size)
                _check_indices(path, lines, table, num_vertices)
                return triangulate_faces(table) if size >= 3 else np.zeros((0, 3), dtype=np.int64)
        except ValueError:
            pass  # fall through to the line-by-line reading, which names the line
    for (number, _), row in zip(lines, rows):
        try:
            size = int(row[0])
            if size < 0 or len(row) <= size:
                raise DataFileError(path, f"line {number}: face lists fewer than its {row[0]} vertices")
            polygon = np.array([int(token) for token in row[1 : size + 1]], dtype=np.int64)
        except ValueError:
            raise DataFileError(path, f"line {number}: face indices must be whole numbers") from None
        _check_indices(path, [(number, "")], polygon[None], num_vertices)
        polygons.append(polygon)
    return triangulate_faces(polygons)


def _check_indices(path: Path, lines: list[tuple[int, str]], table: np.ndarray, num_vertices: int) -> None:
    if table.size == 0:
        return
    bad = (table < 0) | (table >= num_vertices)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        where, index = lines[row][0], table[row, column]
        raise DataFileError(path, f"line {where}: face index {index} out of range (the file has {num_vertices} vertices)")


def parse_off(path: Path, data: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """Vertices and triangles of an ascii OFF file.

    Parameters
    ----------
    path : pathlib.Path
        The file, named in error messages.
    data : bytes
        Its content.

    Returns
    -------
    vertices : numpy.ndarray
        float64 (v, 3), the first three columns of each vertex line.
    faces : numpy.ndarray or None
        int64 (f, 3) triangles (quads and n-gons fan-triangulated; faces of
        fewer than 3 vertices dropped), or None when the file has no faces:
        then it is a point cloud.
    """
    # latin-1 never fails; everything OFF needs is ascii, so a binary file fails on the keyword.
    lines = _content_lines(data.decode("latin-1"))
    num_vertices, num_faces, body = _parse_header(path, lines)
    available = len(lines) - body
    if num_vertices + num_faces > available:
        raise DataFileError(
            path,
            f"truncated: header declares {num_vertices} vertices and {num_faces} faces "
            f"but only {available} lines follow",
        )
    vertices = _parse_floats(path, lines[body : body + num_vertices])
    if num_faces == 0:
        return vertices, None
    faces = _parse_faces(path, lines[body + num_vertices : body + num_vertices + num_faces], num_vertices)
    return vertices, (faces if len(faces) else None)


def peek_off_vertex_count(path: Path) -> int:
    """The number of vertices the OFF file ``path`` declares, reading only its start.

    Raises :class:`~vaeviewer.errors.DataFileError` when the header cannot be read.
    """
    with open(path, "rb") as stream:
        head = stream.read(_PEEK_BYTES)
        more = stream.read(1) != b""
    lines = _content_lines(head.decode("latin-1"))
    if more and len(lines) < 3:
        # Comments longer than the peek window: rare enough to read everything.
        lines = _content_lines(Path(path).read_bytes().decode("latin-1"))
    return _parse_header(path, lines[:3])[0]
