"""Normalisation, surface sampling, farthest-point sampling and resampling."""

from __future__ import annotations

import numpy as np
import pytest

from vaeviewer.data.geometry import (
    farthest_point_sample,
    normalize_unit_sphere,
    resample_cloud,
    sample_surface,
    triangulate_faces,
)


def test_normalize_centres_and_scales_to_unit_sphere() -> None:
    cloud = np.random.default_rng(0).normal(size=(100, 3)) * 40.0 + 500.0
    out = normalize_unit_sphere(cloud)
    assert out.dtype == np.float32 and out.shape == (100, 3)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-6)
    assert np.linalg.norm(out, axis=1).max() == pytest.approx(1.0, abs=1e-6)


def test_normalize_batch_matches_one_by_one() -> None:
    clouds = np.random.default_rng(1).normal(size=(4, 50, 3)) * [1.0, 10.0, 100.0]
    batch = normalize_unit_sphere(clouds)
    assert batch.shape == (4, 50, 3)
    for cloud, normalised in zip(clouds, batch):
        np.testing.assert_allclose(normalised, normalize_unit_sphere(cloud), atol=1e-6)


def test_normalize_coincident_points_are_centred_not_nan() -> None:
    out = normalize_unit_sphere(np.full((5, 3), 7.0))
    assert np.array_equal(out, np.zeros((5, 3), np.float32))
    batch = normalize_unit_sphere(np.stack([np.full((5, 3), 7.0), np.eye(5, 3)]))
    assert np.isfinite(batch).all() and np.linalg.norm(batch[1], axis=1).max() == pytest.approx(1.0)


def test_triangulate_quads_and_mixed_polygons() -> None:
    quads = triangulate_faces(np.array([[0, 1, 2, 3]]))
    assert quads.tolist() == [[0, 1, 2], [0, 2, 3]]
    mixed = triangulate_faces([np.array([0, 1, 2]), np.array([0, 1, 2, 3, 4]), np.array([0, 1])])
    assert mixed.dtype == np.int64
    assert sorted(map(tuple, mixed.tolist())) == [(0, 1, 2), (0, 1, 2), (0, 2, 3), (0, 3, 4)]
    assert triangulate_faces([]).shape == (0, 3)


def test_sample_surface_stays_on_the_mesh_and_weights_by_area() -> None:
    # Two triangles in the plane z = 0: the right one has 3x the area of the left one.
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [5, 0, 0], [2, 1, 0]], dtype=np.float64)
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    points = sample_surface(vertices, faces, 4000, np.random.default_rng(0))
    assert points.dtype == np.float32 and points.shape == (4000, 3)
    assert np.all(points[:, 2] == 0.0)
    left = points[:, 0] <= 1.0
    inside_left = points[left, 0] + points[left, 1] <= 1.0 + 1e-6
    inside_right = (points[~left, 0] - 2.0) / 3.0 + points[~left, 1] <= 1.0 + 1e-6
    assert inside_left.all() and inside_right.all()
    assert left.mean() == pytest.approx(0.25, abs=0.03)


def test_sample_surface_is_reproducible_and_rejects_zero_area() -> None:
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float64)
    faces = np.array([[0, 1, 2]])
    a = sample_surface(vertices, faces, 10, np.random.default_rng(3))
    b = sample_surface(vertices, faces, 10, np.random.default_rng(3))
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="no surface area"):
        sample_surface(np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2]]), faces, 10, np.random.default_rng(0))


def test_farthest_point_sample_picks_extremes_first() -> None:
    line = np.array([[x, 0.0, 0.0] for x in [0.0, 0.5, 1.0, 4.0, 9.0, 10.0]])
    chosen = farthest_point_sample(line, 3)
    assert chosen.dtype == np.int64
    assert chosen.tolist() == [0, 5, 3]
    assert len(set(farthest_point_sample(line, 6).tolist())) == 6
    with pytest.raises(ValueError, match="cannot choose 7 of 6"):
        farthest_point_sample(line, 7)


def test_farthest_point_sample_batch_is_bit_identical_to_single() -> None:
    clouds = np.random.default_rng(2).random((9, 300, 3), dtype=np.float32)
    batch = farthest_point_sample(clouds, 40)
    assert batch.shape == (9, 40)
    for cloud, chosen in zip(clouds, batch):
        assert np.array_equal(farthest_point_sample(cloud, 40), chosen)


def test_resample_cloud_down_up_and_same() -> None:
    cloud = np.random.default_rng(4).random((100, 3)).astype(np.float32)
    down = resample_cloud(cloud, 10)
    assert down.shape == (10, 3) and np.array_equal(down, cloud[farthest_point_sample(cloud, 10)])
    up = resample_cloud(cloud, 250)
    assert up.shape == (250, 3) and np.array_equal(up[:100], cloud)
    assert np.array_equal(up, resample_cloud(cloud, 250)), "repeats must be reproducible"
    assert resample_cloud(cloud, 100) is cloud
    with pytest.raises(ValueError):
        resample_cloud(cloud[:0], 5)
    with pytest.raises(ValueError):
        resample_cloud(cloud, 0)
