"""Reading single shape files: OFF, PLY, OBJ, PCD, XYZ text and NPY, and their failures."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from vaeviewer.data.pcd import lzf_decompress
from vaeviewer.data.shape_files import (
    DEFAULT_SURFACE_POINTS,
    SHAPE_FILE_EXTENSIONS,
    ShapeFile,
    peek_point_count,
    read_shape_file,
    shape_file_points,
)
from vaeviewer.errors import DataFileError, OptionError

TETRA_VERTICES = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
TETRA_FACES = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def error_of(path: Path) -> str:
    """The message of the DataFileError that reading ``path`` raises (it must name the file)."""
    with pytest.raises(DataFileError) as caught:
        read_shape_file(path)
    assert caught.value.path == str(path)
    assert "\n" not in str(caught.value)
    return caught.value.problem


# ---------------------------------------------------------------- OFF

def test_off_plain_mesh(tmp_path: Path) -> None:
    shape = read_shape_file(write(tmp_path / "a.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"))
    assert isinstance(shape, ShapeFile) and shape.format == "off" and shape.is_mesh
    assert shape.vertices.dtype == np.float32 and shape.vertices.shape == (3, 3)
    assert shape.faces.dtype == np.int64 and shape.faces.tolist() == [[0, 1, 2]]


def test_off_modelnet_broken_header_and_crlf(tmp_path: Path) -> None:
    broken = read_shape_file(write(tmp_path / "bathtub_0001.off", "OFF3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"))
    assert broken.faces.tolist() == [[0, 1, 2]]
    crlf = read_shape_file(write(tmp_path / "c.off", "OFF\r\n3 1 0 \r\n0 0 0 \r\n1 0 0 \r\n0 1 0 \r\n3 0 1 2 \r\n"))
    assert crlf.vertices.shape == (3, 3) and crlf.faces.tolist() == [[0, 1, 2]]
    assert peek_point_count(tmp_path / "bathtub_0001.off") == 3


def test_off_quads_mixed_faces_comments_and_colours(tmp_path: Path) -> None:
    text = (
        "# made by hand\nCOFF\n\n5 3 0   # counts\n"
        "0 0 0 255 0 0 255\n1 0 0 255 0 0 255\n1 1 0 255 0 0 255\n0 1 0 255 0 0 255\n0 0 1 255 0 0 255 # apex\n"
        "4 0 1 2 3 0.5 0.5 0.5\n3 0 1 4 0.1 0.2 0.3\n2 0 4\n"
    )
    shape = read_shape_file(write(tmp_path / "q.off", text))
    assert shape.vertices.tolist()[4] == [0, 0, 1]
    assert sorted(map(tuple, shape.faces.tolist())) == [(0, 1, 2), (0, 1, 4), (0, 2, 3)]


def test_off_without_faces_is_a_point_cloud(tmp_path: Path) -> None:
    shape = read_shape_file(write(tmp_path / "p.off", "OFF\n3 0 0\n0 0 0\n1 0 0\n0 1 0\n"))
    assert shape.faces is None and not shape.is_mesh


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("OFF\n3 1 0\n0 0 0\n1 x 0\n0 1 0\n3 0 1 2\n", "line 4: 'x' is not a number"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", "face index 7 out of range"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 -1\n", "face index -1 out of range"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2.5\n", "face indices must be whole numbers"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n", "truncated"),
        ("OFF\n3 1 0\n0 0\n1 0 0\n0 1 0\n3 0 1 2\n", "line 3: a vertex needs 3 coordinates"),
        ("OFF\nthree 1 0\n", "not whole numbers"),
        ("PLY\n3 1 0\n", "not an OFF file"),
        ("OFF\n", "truncated"),
        ("OFF BINARY\n", "binary OFF is not supported"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1\n", "fewer than its 3 vertices"),
        ("OFF\n3 1 0\n0 0 0\n1 nan 0\n0 1 0\n3 0 1 2\n", "contains NaN or infinite coordinates"),
        ("OFF\n2 0 0\n1 1 1\n1 1 1\n", "all 2 points coincide"),
    ],
)
def test_off_failures(tmp_path: Path, content: str, problem: str) -> None:
    assert problem in error_of(write(tmp_path / "bad.off", content))


def test_off_absurd_vertex_count_fails_without_allocating(tmp_path: Path) -> None:
    path = write(tmp_path / "huge.off", "OFF\n1000000000000 1 0\n" + "0 0 0\n" * 100)
    tracemalloc.start()
    try:
        problem = error_of(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "truncated: header declares 1000000000000 vertices" in problem
    assert peak < 1_000_000
    assert peek_point_count(path) == 10**12  # the header says so; reading is what checks it


def test_empty_and_blank_files(tmp_path: Path) -> None:
    for name in ["e.off", "e.pcd", "e.xyz", "e.ply", "e.obj", "e.npy"]:
        assert error_of(write(tmp_path / name, "")) == "empty file"
    assert error_of(write(tmp_path / "blank.off", "\n  \r\n")) == "empty file"


# ---------------------------------------------------------------- PLY and OBJ

@pytest.mark.parametrize("encoding", ["ascii", "binary"])
def test_ply_mesh(tmp_path: Path, encoding: str) -> None:
    import trimesh

    mesh = trimesh.Trimesh(TETRA_VERTICES, TETRA_FACES, process=False)
    path = write(tmp_path / "t.ply", trimesh.exchange.ply.export_ply(mesh, encoding=encoding))
    shape = read_shape_file(path)
    assert shape.format == "ply" and shape.faces.tolist() == TETRA_FACES.tolist()
    np.testing.assert_array_equal(shape.vertices, TETRA_VERTICES)
    assert peek_point_count(path) == 4


def test_ply_point_cloud_with_zero_faces(tmp_path: Path) -> None:
    header = ("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
              "element face 0\nproperty list uchar int vertex_indices\nend_header\n")
    shape = read_shape_file(write(tmp_path / "p.ply", header + "0 0 0\n1 0 0\n0 1 0\n"))
    assert shape.faces is None and shape.vertices.shape == (3, 3)


def test_ply_failures(tmp_path: Path) -> None:
    import trimesh

    mesh = trimesh.Trimesh(TETRA_VERTICES, TETRA_FACES, process=False)
    binary = trimesh.exchange.ply.export_ply(mesh, encoding="binary")
    ascii_ = trimesh.exchange.ply.export_ply(mesh, encoding="ascii")
    assert "cannot read PLY" in error_of(write(tmp_path / "cut.ply", binary[: len(binary) - 20]))
    huge = ascii_.replace(b"element vertex 4", b"element vertex 100000000000")
    assert "header declares 100000000000 vertices" in error_of(write(tmp_path / "huge.ply", huge))
    out_of_range = ascii_.replace(b"3 1 2 3", b"3 1 2 9")
    assert "face index out of range" in error_of(write(tmp_path / "oor.ply", out_of_range))
    assert "not a PLY file" in error_of(write(tmp_path / "junk.ply", "hello\n"))


def test_obj_scene_parts_are_concatenated_and_missing_mtl_ignored(tmp_path: Path) -> None:
    text = ("mtllib missing.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\n"
            "g part_a\nusemtl red\nf 1 2 3\ng part_b\nusemtl blue\nf 1 2 4\nf 2 3 4 1\n")
    shape = read_shape_file(write(tmp_path / "m.obj", text))
    assert shape.format == "obj" and len(shape.faces) == 4
    corners = {tuple(shape.vertices[i]) for i in np.unique(shape.faces)}
    assert corners == {(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)}
    assert peek_point_count(tmp_path / "m.obj") == 4


def test_obj_vertices_only_is_a_cloud_and_failures(tmp_path: Path) -> None:
    cloud = read_shape_file(write(tmp_path / "v.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n"))
    assert cloud.faces is None and cloud.vertices.shape == (3, 3)
    assert "face index out of range" in error_of(write(tmp_path / "o.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n"))
    assert "cannot read OBJ" in error_of(write(tmp_path / "x.obj", "v 0 0 0\nv 1 x 0\nv 0 1 0\nf 1 2 3\n"))
    assert error_of(write(tmp_path / "n.obj", "# nothing here\n")) == "contains no points"


# ---------------------------------------------------------------- PCD

def _cloud(n: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)


@pytest.mark.parametrize("data", ["ascii", "binary", "binary_compressed"])
def test_pcd_xyz(tmp_path: Path, data: str, make_pcd) -> None:
    cloud = _cloud()
    path = write(tmp_path / "c.pcd", make_pcd({"x": cloud[:, 0], "y": cloud[:, 1], "z": cloud[:, 2]}, data))
    shape = read_shape_file(path)
    assert shape.format == "pcd" and shape.faces is None
    np.testing.assert_array_equal(shape.vertices, cloud)
    assert peek_point_count(path) == 20


@pytest.mark.parametrize("data", ["ascii", "binary", "binary_compressed"])
def test_pcd_with_other_fields_padding_and_counts(tmp_path: Path, data: str, make_pcd) -> None:
    cloud = _cloud(30, 1)
    columns = {
        "rgb": np.arange(30, dtype=np.uint32),
        "normal": np.ones((30, 3), np.float32),
        "z": cloud[:, 2].astype(np.float64),
        "_": np.zeros((30, 2), np.uint8),
        "x": cloud[:, 0],
        "y": cloud[:, 1],
    }
    types = {"rgb": "<u4", "z": "<f8", "_": "u1"}
    shape = read_shape_file(write(tmp_path / "f.pcd", make_pcd(columns, data, types)))
    np.testing.assert_array_equal(shape.vertices, cloud)


def test_pcd_drops_nan_points_of_organised_clouds(tmp_path: Path, make_pcd) -> None:
    cloud = _cloud(10)
    cloud[[2, 7]] = np.nan
    path = write(tmp_path / "o.pcd", make_pcd({"x": cloud[:, 0], "y": cloud[:, 1], "z": cloud[:, 2]}, "binary"))
    assert read_shape_file(path).vertices.shape == (8, 3)


def test_pcd_failures(tmp_path: Path, make_pcd) -> None:
    cloud = _cloud(50)
    binary = make_pcd({"x": cloud[:, 0], "y": cloud[:, 1], "z": cloud[:, 2]}, "binary")
    assert "truncated" in error_of(write(tmp_path / "t.pcd", binary[:-7]))
    huge = binary.replace(b"POINTS 50", b"POINTS 1000000000000")
    assert "header declares 1000000000000 points" in error_of(write(tmp_path / "h.pcd", huge))
    ascii_ = make_pcd({"x": cloud[:, 0], "y": cloud[:, 1], "z": cloud[:, 2]}, "ascii")
    assert "truncated" in error_of(write(tmp_path / "ta.pcd", ascii_[: len(ascii_) // 2]))
    head, body = ascii_.split(b"DATA ascii\n")
    rows = body.split(b"\n")
    rows[1] = b"0.5 1.0x 2"
    letters = head + b"DATA ascii\n" + b"\n".join(rows)
    assert "data line 2: '1.0x' is not a number" in error_of(write(tmp_path / "l.pcd", letters))
    no_z = make_pcd({"x": cloud[:, 0], "y": cloud[:, 1]}, "ascii")
    assert "no z field" in error_of(write(tmp_path / "nz.pcd", no_z))
    assert "unknown PCD DATA type" in error_of(write(tmp_path / "u.pcd", binary.replace(b"DATA binary", b"DATA zip")))
    assert "no DATA line" in error_of(write(tmp_path / "d.pcd", b"VERSION 0.7\nFIELDS x y z\n"))
    assert "not a PCD file" in error_of(write(tmp_path / "g.pcd", b"\x00\x01garbage\n"))
    compressed = make_pcd({"x": cloud[:, 0], "y": cloud[:, 1], "z": cloud[:, 2]}, "binary_compressed")
    assert "truncated" in error_of(write(tmp_path / "tc.pcd", compressed[:-5]))


def test_lzf_round_trip_and_corrupt_streams(make_lzf) -> None:
    data = bytes(np.random.default_rng(0).integers(0, 4, 5000, dtype=np.uint8)) + b"abc" * 400
    assert lzf_decompress(make_lzf(data), len(data)) == data
    # Literal "abc", then a back reference of 6 bytes at distance 3 (overlapping).
    assert lzf_decompress(bytes([2]) + b"abc" + bytes([4 << 5, 2]), 9) == b"abcabcabc"
    with pytest.raises(ValueError):  # a back reference before the start of the data
        lzf_decompress(bytes([1 << 5, 5]), 3)
    with pytest.raises(ValueError):  # a literal run past the end of the stream
        lzf_decompress(bytes([9]) + b"abc", 10)
    with pytest.raises(ValueError, match="declared"):
        lzf_decompress(bytes([2]) + b"abc", 4)
    with pytest.raises(ValueError, match="declared"):  # more bytes than declared
        lzf_decompress(bytes([2]) + b"abc", 2)


# ---------------------------------------------------------------- XYZ text

def test_xyz_whitespace_comma_headers_comments_and_extra_columns(tmp_path: Path) -> None:
    plain = read_shape_file(write(tmp_path / "a.xyz", "0 0 0\n1 0 0\n0 1 0\n"))
    assert plain.format == "xyz" and plain.vertices.shape == (3, 3)
    text = "x,y,z,nx,ny,nz\n0,0,0,1,0,0\n1,0,0,1,0,0\n# note\n0,1,0,1,0,0\n"
    comma = read_shape_file(write(tmp_path / "b.txt", text))
    assert comma.vertices.tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    pts = read_shape_file(write(tmp_path / "c.pts", "3\n0 0 0\n1 0 0 7\n0 1 0\n"))
    assert pts.vertices.tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert peek_point_count(tmp_path / "c.pts") == 3


def test_xyz_failures(tmp_path: Path) -> None:
    assert "line 3: 'abc' is not a number" in error_of(write(tmp_path / "a.xyz", "0 0 0\n1 0 0\n0 abc 0\n"))
    assert "line 2 has 2 columns" in error_of(write(tmp_path / "b.xyz", "0 0 0\n1 0\n0 1 0\n"))
    assert "no rows of 3 numbers" in error_of(write(tmp_path / "c.xyz", "hello\nworld\n"))
    assert "contains NaN or infinite" in error_of(write(tmp_path / "d.xyz", "0 0 0\ninf 0 0\n"))


# ---------------------------------------------------------------- NPY

def test_npy_arrays(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.eye(4, 3))
    assert read_shape_file(tmp_path / "a.npy").vertices.tolist() == np.eye(4, 3).tolist()
    np.save(tmp_path / "b.npy", np.arange(24, dtype=np.int16).reshape(4, 6))
    assert read_shape_file(tmp_path / "b.npy").vertices[:, 2].tolist() == [2, 8, 14, 20]
    assert peek_point_count(tmp_path / "b.npy") == 4


class _Alarm:
    """Unpickling this would create a file: proof that an object array was never unpickled."""

    def __init__(self, flag: str) -> None:
        self.flag = flag

    def __reduce__(self) -> tuple:
        return (Path.touch, (Path(self.flag),))


def test_npy_object_array_is_refused_never_unpickled(tmp_path: Path) -> None:
    flag = tmp_path / "unpickled"
    objects = np.empty((2, 3), dtype=object)
    objects[:] = _Alarm(str(flag))
    np.save(tmp_path / "o.npy", objects, allow_pickle=True)
    assert error_of(tmp_path / "o.npy") == "refused: object arrays need pickle"
    assert not flag.exists()


def test_npy_failures(tmp_path: Path) -> None:
    np.save(tmp_path / "flat.npy", np.zeros(9))
    assert "is not (n, 3)" in error_of(tmp_path / "flat.npy")
    np.save(tmp_path / "bool.npy", np.ones((4, 3), bool))
    assert "not numeric" in error_of(tmp_path / "bool.npy")
    np.savez(tmp_path / "z.npz", a=np.zeros((3, 3)))
    assert ".npz archive" in error_of((tmp_path / "z.npz").rename(tmp_path / "z.npy"))
    assert error_of(write(tmp_path / "t.npy", b"not numpy at all")) == "not a NumPy .npy file"
    np.save(tmp_path / "cut.npy", np.zeros((1000, 3)))
    write(tmp_path / "cut.npy", (tmp_path / "cut.npy").read_bytes()[:500])
    assert "truncated" in error_of(tmp_path / "cut.npy")


# ---------------------------------------------------------------- generic failures and degenerate shapes

def test_path_failures(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.off") == "no such file"
    folder = tmp_path / "dir.off"
    folder.mkdir()
    assert error_of(folder) == "is a folder, not a file"
    problem = error_of(write(tmp_path / "x.foo", "1 2 3\n"))
    assert problem.startswith("unsupported file type '.foo' (supported: .off, .ply")
    with pytest.raises(DataFileError, match="no such file"):
        peek_point_count(tmp_path / "nope.pcd")


def test_one_point_and_coincident_points_are_refused(tmp_path: Path) -> None:
    assert "has only 1 point; needs at least 2 distinct points" in error_of(write(tmp_path / "a.xyz", "1 2 3\n"))
    assert "all 3 points coincide" in error_of(write(tmp_path / "b.xyz", "1 2 3\n1 2 3\n1 2 3\n"))
    assert error_of(write(tmp_path / "c.xyz", "# just a comment\n")) == "no rows of 3 numbers found"


def test_extensions_are_case_insensitive(tmp_path: Path) -> None:
    assert read_shape_file(write(tmp_path / "A.XYZ", "0 0 0\n1 1 1\n")).format == "xyz"
    assert set(SHAPE_FILE_EXTENSIONS) == {".off", ".ply", ".obj", ".pcd", ".xyz", ".txt", ".pts", ".npy"}


# ---------------------------------------------------------------- shape_file_points

def test_mesh_points_are_sampled_on_the_surface_deterministically(tmp_path: Path) -> None:
    path = write(tmp_path / "t.off", "OFF\n4 1 0\n0 0 5\n4 0 5\n4 2 5\n0 2 5\n4 0 1 2 3\n")
    shape = read_shape_file(path)
    default = shape_file_points(shape)
    assert default.shape == (DEFAULT_SURFACE_POINTS, 3) and default.dtype == np.float32
    assert np.abs(default[:, 2]).max() < 1e-6, "a flat mesh stays flat after normalising"
    assert np.linalg.norm(default, axis=1).max() == pytest.approx(1.0, abs=1e-6)
    a, b = shape_file_points(shape, 100, seed=3), shape_file_points(shape, 100, seed=3)
    assert a.shape == (100, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, shape_file_points(shape, 100, seed=4))


def test_cloud_points_are_kept_or_resampled(tmp_path: Path) -> None:
    shape = read_shape_file(write(tmp_path / "c.xyz", "".join(f"{i} {i % 3} {i % 5}\n" for i in range(50))))
    whole = shape_file_points(shape)
    assert whole.shape == (50, 3)
    np.testing.assert_allclose(whole.mean(axis=0), 0.0, atol=1e-6)
    assert shape_file_points(shape, 10).shape == (10, 3)
    assert shape_file_points(shape, 80, seed=1).shape == (80, 3)
    with pytest.raises(OptionError):
        shape_file_points(shape, 0)


def test_zero_area_mesh_is_a_data_error(tmp_path: Path) -> None:
    shape = read_shape_file(write(tmp_path / "flat.off", "OFF\n3 1 0\n0 0 0\n1 1 1\n2 2 2\n3 0 1 2\n"))
    with pytest.raises(DataFileError, match="no surface area"):
        shape_file_points(shape, 10)


# ---------------------------------------------------------------- the real files in ../shared

def test_every_real_file_gives_a_finite_unit_cloud(real_files: list[Path]) -> None:
    assert len(real_files) == 33
    for path in real_files:
        shape = read_shape_file(path)
        cloud = shape_file_points(shape, 512, seed=0)
        assert cloud.shape == (512, 3) and np.isfinite(cloud).all(), path
        assert np.linalg.norm(cloud, axis=1).max() == pytest.approx(1.0, abs=1e-5), path
        np.testing.assert_allclose(cloud.mean(axis=0), 0.0, atol=1e-5, err_msg=str(path))
        if shape.format in ("off", "pcd", "ply"):
            assert peek_point_count(path) == len(shape.vertices), path


def test_real_files_formats_and_counts(real_files: list[Path]) -> None:
    by_name = {f"{path.parent.name}/{path.name}": path for path in real_files}
    declared = {"bathtub_0001.off": (3514, 3546), "bathtub_0002.off": (700, 664), "bathtub_0003.off": (14963, 19985)}
    for name, (vertices, faces) in declared.items():
        shape = read_shape_file(by_name[f"modelnet40_zeaggler/{name}"])
        assert shape.vertices.shape == (vertices, 3) and shape.faces.shape == (faces, 3)
    crlf = read_shape_file(by_name["modelnet40_3dvisa/airplane_0004.off"])
    assert crlf.vertices.shape == (16092, 3) and crlf.faces.shape == (35779, 3)
    ply = read_shape_file(by_name["modelnet40_ply2048_ashj9/flower_pot.ply"])
    pcd = read_shape_file(by_name["modelnet40_ply2048_ashj9/flower_pot.pcd"])
    assert ply.faces is None and ply.vertices.shape == (2048, 3)
    np.testing.assert_allclose(ply.vertices, pcd.vertices, atol=1e-5)
    assert read_shape_file(by_name["modelnet10_pcd_molivas/table_0393.pcd"]).vertices.shape == (1024, 3)
    assert read_shape_file(by_name["shapenet_pcn_partial/car.pcd"]).vertices.shape == (1511, 3)
    obj = read_shape_file(by_name["shapenet_go_mesh/model_normalized.obj"])
    assert obj.is_mesh and obj.faces.shape == (624, 3)


def test_real_large_off_reads_quickly(real_files: list[Path]) -> None:
    path = next(p for p in real_files if p.name == "chair_0059.off")
    start = time.perf_counter()
    shape = read_shape_file(path)
    assert shape.vertices.shape == (44828, 3) and shape.faces.shape == (71101, 3)
    assert time.perf_counter() - start < 5.0  # about 0.2 s; a generous bound against pathologies


def test_a_binary_ply_with_per_face_texture_coordinates_and_an_absent_texture_reads_as_stored(tmp_path: Path, capfd) -> None:
    """As trimesh's own fuze.ply: a header naming a texture image that is not there, UVs per face corner."""
    import struct

    rng = np.random.default_rng(0)
    vertices = rng.normal(size=(50, 3)).astype("<f4")
    faces = rng.integers(0, 50, size=(80, 3))
    head = ("ply\nformat binary_little_endian 1.0\ncomment TextureFile uv.jpg\n"
            f"element vertex {len(vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
            f"element face {len(faces)}\nproperty list uchar int vertex_indices\nproperty list uchar float texcoord\n"
            "end_header\n").encode()
    body = vertices.tobytes() + b"".join(
        struct.pack("<B3i", 3, *face) + struct.pack("<B6f", 6, *rng.random(6)) for face in faces)
    path = write(tmp_path / "fuze.ply", head + body)
    capfd.readouterr()
    shape = read_shape_file(path)
    out, err = capfd.readouterr()
    assert "Traceback" not in err + out and "uv.jpg" not in err + out
    np.testing.assert_array_equal(shape.vertices, vertices)  # as stored: not split per texture coordinate
    assert shape.faces is not None and len(shape.faces) == 80
