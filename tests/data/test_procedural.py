"""The procedural shape classes and the primitives they are made of."""

from __future__ import annotations

import numpy as np
import pytest

from vaeviewer.data.geometry import normalize_unit_sphere
from vaeviewer.data.procedural import (
    SHAPE_CLASSES,
    build_shape,
    generate_shape,
    sample_shape,
    shape_rng,
)
from vaeviewer.data.procedural.assembly import Assembly, Solid
from vaeviewer.data.procedural.primitives import (
    box,
    combine,
    ellipsoid,
    revolve,
    rotation,
    slab,
    superellipsoid,
    torus,
    transform,
)
from vaeviewer.data.procedural.sweeps import bar, rounded_path, sweep, tube


def _area(mesh: tuple[np.ndarray, np.ndarray]) -> float:
    vertices, faces = mesh
    tri = vertices[faces]
    return float(0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum())


def _is_closed(mesh: tuple[np.ndarray, np.ndarray]) -> bool:
    """Every edge is shared by exactly two triangles."""
    _, faces = mesh
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return bool(np.all(counts == 2))


def _clouds(class_name: str, count: int, points: int = 512) -> list[np.ndarray]:
    return [sample_shape(class_name, shape_rng(0, "train", class_name, i), points) for i in range(count)]


def _chamfer(a: np.ndarray, b: np.ndarray) -> float:
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return float(d.min(axis=1).mean() + d.min(axis=0).mean())


# --- primitives -------------------------------------------------------------------------------


def test_primitive_areas_match_their_formulas() -> None:
    assert _area(box((1.0, 2.0, 3.0))) == pytest.approx(22.0)
    assert _area(slab([(0, 0), (1, 0), (1, 1), (0, 1)], 0.0, 1.0)) == pytest.approx(6.0)
    cylinder = tube((0, 0, 0), (0, 2, 0), 0.5, segments=64)
    assert _area(cylinder) == pytest.approx(2 * np.pi * 0.5 * 2 + 2 * np.pi * 0.25, rel=0.01)
    assert _area(ellipsoid((1, 1, 1), segments=64, rings=40)) == pytest.approx(4 * np.pi, rel=0.01)
    assert _area(torus(1.0, 0.2, major_segments=64, minor_segments=32)) == pytest.approx(4 * np.pi**2 * 0.2, rel=0.01)
    # A superellipsoid lies between the ellipsoid (4 pi) and the box (24) it is inscribed in.
    assert 4 * np.pi < _area(superellipsoid((1, 1, 1), roundness=0.3)) < 24.0


@pytest.mark.parametrize(
    "mesh",
    [
        box((1, 1, 1)),
        tube((0, 0, 0), (1, 1, 0), 0.1),
        bar((0, 0, 0), (0, 1, 0), 0.1),
        sweep(rounded_path([(0, 0, 0), (0, 1, 0), (1, 1, 0)], 0.3), 0.05),
        revolve([1.0, 1.0, 0.5], [0.0, 1.0, 2.0], close_bottom=True, close_top=True),
        torus(1.0, 0.2),
        torus(1.0, 0.2, arc=(-1.0, 1.0)),
        slab([(0, 0), (2, 0), (1, 1)], 0.0, 0.1),
    ],
    ids=["box", "tube", "bar", "bent-sweep", "revolve", "torus", "torus-arc", "slab"],
)
def test_primitives_are_closed(mesh: tuple[np.ndarray, np.ndarray]) -> None:
    vertices, faces = mesh
    assert vertices.dtype == np.float64 and vertices.shape[1] == 3
    assert faces.dtype == np.int64 and faces.min() >= 0 and faces.max() < len(vertices)
    assert _is_closed(mesh)


def test_rotation_is_right_handed_and_transform_scales_rotates_then_moves() -> None:
    for axis in "xyz":
        matrix = rotation(axis, 0.7)
        assert np.allclose(matrix @ matrix.T, np.eye(3)) and np.isclose(np.linalg.det(matrix), 1.0)
    assert np.allclose(rotation("x", np.pi / 2) @ (0, 1, 0), (0, 0, 1))
    assert np.allclose(rotation("z", np.pi / 2) @ (1, 0, 0), (0, 1, 0))
    with pytest.raises(ValueError):
        rotation("w", 1.0)
    vertices, _ = transform(box((1, 1, 1)), rotation("z", np.pi / 2), (0, 0, 5), scale=(2, 1, 1))
    assert np.allclose(vertices.min(axis=0), (-0.5, -1.0, 4.5))


def test_combine_renumbers_faces() -> None:
    vertices, faces = combine([box((1, 1, 1)), box((1, 1, 1), (3, 0, 0))])
    assert len(vertices) == 16 and faces[12:].min() == 8 and _is_closed((vertices, faces))


def test_sweep_section_follows_the_normal_hint() -> None:
    flat = np.array([[1.0, 0.1], [-1.0, 0.1], [-1.0, -0.1], [1.0, -0.1]])
    vertices, _ = sweep([(0, 0, 0), (0, 1, 0)], 1.0, section=flat, normal=(0, 0, 1))
    extent = vertices.max(axis=0) - vertices.min(axis=0)
    assert extent[2] == pytest.approx(2.0) and extent[0] == pytest.approx(0.2)


def test_rounded_path_keeps_its_ends_and_stays_smooth() -> None:
    path = rounded_path([(0, 0, 0), (0, 1, 0), (1, 1, 0)], 0.3, steps=6)
    assert np.allclose(path[0], 0) and np.allclose(path[-1], (1, 1, 0))
    turns = np.diff(np.arctan2(*np.diff(path[:, :2], axis=0).T[::-1]))
    assert np.abs(turns).max() < np.pi / 4


def test_solids_hide_what_is_buried_in_them() -> None:
    turned = Solid("box", np.zeros(3), np.array([1.0, 0.5, 0.5])).moved(rotation("y", np.pi / 2), (0, 0, 3))
    assert turned.contains(np.array([[0, 0, 3.9], [0.9, 0, 3]])).tolist() == [True, False]
    shape = Assembly()
    shape.add_box((1, 1, 1), (0, 0.5, 0))
    shape.add_box((0.2, 1, 0.2), (0, 1.2, 0))  # a post stuck into the top of the block
    points = shape.sample(2000, np.random.default_rng(0))
    assert len(points) == 2000
    for solid in shape.solids:
        assert not solid.contains(points).any()
    # The block's top under the post, and the post's lower end, are gone; the rest of both stays.
    under_post = (np.abs(points[:, 0]) < 0.098) & (np.abs(points[:, 2]) < 0.098)
    on_top = np.abs(points[:, 1] - 1.0) < 1e-6
    assert (on_top & ~under_post).sum() > 50 and not (on_top & under_post).any()
    assert not (under_post & (points[:, 1] > 0.01) & (points[:, 1] < 0.99)).any()
    assert (points[:, 1] > 1.01).sum() > 50


# --- the classes ------------------------------------------------------------------------------


def test_there_are_ten_classes_in_label_order() -> None:
    assert SHAPE_CLASSES == ("airplane", "bed", "bench", "bottle", "chair",
                             "lamp", "monitor", "mug", "sofa", "table")
    with pytest.raises(ValueError, match="unknown shape class"):
        generate_shape("teapot", np.random.default_rng(0))


@pytest.mark.parametrize("class_name", SHAPE_CLASSES)
def test_every_class_makes_valid_meshes_standing_on_the_floor(class_name: str) -> None:
    for index in range(4):
        vertices, faces = generate_shape(class_name, shape_rng(0, "train", class_name, index))
        assert vertices.dtype == np.float64 and np.isfinite(vertices).all()
        assert faces.dtype == np.int64 and faces.min() >= 0 and faces.max() < len(vertices)
        assert _area((vertices, faces)) > 0
        if class_name != "airplane":
            height = np.ptp(vertices[:, 1])
            assert abs(vertices[:, 1].min()) < 0.02 * height


@pytest.mark.parametrize("class_name", SHAPE_CLASSES)
def test_clouds_are_normalised_and_reproducible(class_name: str) -> None:
    cloud = sample_shape(class_name, shape_rng(3, "test", class_name, 1), 300)
    assert cloud.dtype == np.float32 and cloud.shape == (300, 3) and np.isfinite(cloud).all()
    assert np.linalg.norm(cloud, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    assert np.abs(cloud.mean(axis=0)).max() < 1e-5
    again = sample_shape(class_name, shape_rng(3, "test", class_name, 1), 300)
    assert again.tobytes() == cloud.tobytes()
    other = sample_shape(class_name, shape_rng(3, "test", class_name, 2), 300)
    assert not np.array_equal(other, cloud)


def test_a_shape_does_not_depend_on_how_many_points_are_drawn() -> None:
    small = build_shape("chair", shape_rng(0, "train", "chair", 5)).mesh()
    large = generate_shape("chair", shape_rng(0, "train", "chair", 5))
    assert np.array_equal(small[0], large[0]) and np.array_equal(small[1], large[1])


def test_shape_rng_depends_on_every_key() -> None:
    def draw(*key: object) -> float:
        return shape_rng(*key).random()  # type: ignore[arg-type]

    base = draw(0, "train", "chair", 0)
    assert base == draw(0, "train", "chair", 0)
    assert len({base, draw(1, "train", "chair", 0), draw(0, "test", "chair", 0),
                draw(0, "train", "table", 0), draw(0, "train", "chair", 1)}) == 5
    with pytest.raises(ValueError):
        shape_rng(-1, "train", "chair", 0)


def test_y_is_up_and_the_front_is_plus_z() -> None:
    def extents(cloud: np.ndarray) -> np.ndarray:
        return cloud.max(axis=0) - cloud.min(axis=0)

    for cloud in _clouds("bottle", 6):
        e = extents(cloud)
        assert e[1] > 1.5 * max(e[0], e[2])  # tall and slim
    for cloud in _clouds("airplane", 6):
        e = extents(cloud)
        assert e[1] < 0.5 * min(e[0], e[2])  # flat, spanning X and Z
    for class_name in ("chair", "sofa", "bed"):
        for cloud in _clouds(class_name, 6):
            top = cloud[cloud[:, 1] > np.quantile(cloud[:, 1], 0.9)]
            assert top[:, 2].mean() < -0.05, class_name  # the back (or headboard) is at -Z
    for cloud in _clouds("mug", 8):
        e = extents(cloud)
        assert e[0] > e[2] + 0.1 and cloud[:, 0].max() > -cloud[:, 0].min()  # the handle sticks out at +X


def test_classes_have_distinct_proportions() -> None:
    def aspect(class_name: str) -> float:
        clouds = _clouds(class_name, 8, 256)
        return float(np.mean([np.ptp(c[:, 1]) / max(np.ptp(c[:, 0]), np.ptp(c[:, 2])) for c in clouds]))

    # Height over the larger horizontal extent, on average: bottles > chairs > tables > airplanes.
    assert aspect("bottle") > 1.5 * aspect("chair") > 2.0 * aspect("table") > 3.0 * aspect("airplane")
    assert aspect("bottle") > 3.0 * aspect("table")


@pytest.mark.parametrize("class_name", ["chair", "table", "lamp", "airplane"])
def test_shapes_within_a_class_vary_well_beyond_sampling_noise(class_name: str) -> None:
    clouds = _clouds(class_name, 6, 256)
    between = [_chamfer(a, b) for i, a in enumerate(clouds) for b in clouds[i + 1 :]]
    # The same shape, sampled twice, differs only by sampling noise.
    shape = build_shape(class_name, shape_rng(0, "train", class_name, 0))
    twice = [normalize_unit_sphere(shape.sample(256, np.random.default_rng(s))) for s in (1, 2)]
    noise = _chamfer(*twice)
    assert np.median(between) > 3.0 * noise
    assert min(between) > noise
