"""Encoding a split to its latent means and flattening them to a 2-D map."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaeviewer.data import ShapeSplit
from vaeviewer.errors import OptionError
from vaeviewer.model import ModelConfig, PointCloudVAE
from vaeviewer.tasks import TaskControl
from vaeviewer.workflows.latent_map import (
    EncodedSplit,
    EncodeProgress,
    LatentMap,
    ProjectionStarted,
    encode_split,
    explained_variance_ratio,
    latent_map,
    project,
    project_stoppable,
)


class BlobSplit(ShapeSplit):
    """A small split of random blobs, three classes; counts the shapes read."""

    def __init__(self, count: int = 23, num_points: int = 128) -> None:
        self.name = "blobs"
        self.class_names = ("a", "b", "c")
        self._count = count
        self._num_points = num_points
        self.reads = 0

    def __len__(self) -> int:
        return self._count

    @property
    def labels(self) -> np.ndarray:
        return np.arange(self._count, dtype=np.int64) % 3

    def shape_name(self, index: int) -> str:
        return f"blob_{index}"

    def points(self, index: int, num_points: int | None = None) -> np.ndarray:
        self.reads += 1
        rng = np.random.default_rng(index)
        scale = 0.3 + 0.2 * (index % 3)
        return (rng.normal(size=(num_points or self._num_points, 3)) * scale).astype(np.float32)

    def point_counts(self) -> np.ndarray:
        return np.full(self._count, self._num_points, dtype=np.int64)


@pytest.fixture(scope="module")
def model() -> PointCloudVAE:
    torch.manual_seed(0)
    return PointCloudVAE(ModelConfig(num_points=128, latent_dim=16))


def run(generator) -> list:
    return list(generator)


def test_codes_are_the_encoder_means_whatever_the_batch(model: PointCloudVAE) -> None:
    split = BlobSplit()
    model.train()  # the encoder must switch to eval mode itself, and switch back
    items = run(encode_split(model, split, batch_size=5))
    assert model.training
    progress = [item for item in items[:-1]]
    assert all(isinstance(item, EncodeProgress) for item in progress)
    assert [(p.done, p.total) for p in progress] == [(0, 23), (5, 23), (10, 23), (15, 23), (20, 23), (23, 23)]
    result = items[-1]
    assert isinstance(result, EncodedSplit) and not result.stopped and result.split == "blobs"
    assert result.latents.dtype == np.float32 and result.latents.shape == (23, 16)
    np.testing.assert_array_equal(result.indices, np.arange(23))
    np.testing.assert_array_equal(result.labels, split.labels)
    model.eval()
    with torch.no_grad():
        clouds = torch.from_numpy(np.stack([split.points(i, 128) for i in range(23)]))
        expected = model.encode(clouds)[0].numpy()
    model.train()
    np.testing.assert_allclose(result.latents, expected, rtol=1e-4, atol=1e-5)
    whole = run(encode_split(model, split, batch_size=64))[-1]
    np.testing.assert_allclose(whole.latents, result.latents, rtol=1e-4, atol=1e-5)
    model.eval()


def test_a_stop_request_ends_the_encoding_early(model: PointCloudVAE) -> None:
    split, control = BlobSplit(count=40), TaskControl()
    seen = []
    for item in encode_split(model, split, batch_size=4, control=control):
        seen.append(item)
        if isinstance(item, EncodeProgress) and item.done == 8:
            control.stop()
    result = seen[-1]
    assert isinstance(result, EncodedSplit) and result.stopped
    assert len(result.indices) == 8 and result.latents.shape == (8, 16)
    assert split.reads == 8
    # The whole map stops too, without projecting.
    control = TaskControl()
    control.stop()
    items = run(latent_map(model, BlobSplit(), "pca", control=control))
    assert not any(isinstance(item, (ProjectionStarted, LatentMap)) for item in items)


def test_bad_options_are_user_errors(model: PointCloudVAE) -> None:
    with pytest.raises(OptionError):
        run(encode_split(model, BlobSplit(), batch_size=0))
    with pytest.raises(OptionError):
        project(np.zeros((4, 3), np.float32), "umap")


def clustered_codes(n: int = 60, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dim)) * 4
    return (centres[np.arange(n) % 3] + rng.normal(size=(n, dim)) * np.linspace(2, 0.2, dim)).astype(np.float32)


def test_pca_map_is_the_plane_of_largest_variance() -> None:
    codes = clustered_codes()
    coords = project(codes, "pca")
    assert coords.shape == (60, 2) and coords.dtype == np.float32
    np.testing.assert_array_equal(project(codes, "pca"), coords)
    variance = coords.var(axis=0)
    assert variance[0] >= variance[1] > 0
    np.testing.assert_allclose(coords.mean(axis=0), 0, atol=1e-4)
    # No other direction in the codes' space spreads them more than the first axis.
    centred = codes - codes.mean(axis=0)
    for direction in np.random.default_rng(1).normal(size=(20, 16)):
        assert (centred @ (direction / np.linalg.norm(direction))).var() <= variance[0] * (1 + 1e-4)
    first, second = explained_variance_ratio(codes)
    assert 1 >= first >= second > 0
    np.testing.assert_allclose(variance / centred.var(axis=0).sum(), (first, second), rtol=1e-3)


def test_tiny_sets_are_mapped_without_error() -> None:
    assert project(np.zeros((0, 8), np.float32), "tsne").shape == (0, 2)
    assert project(np.ones((1, 8), np.float32), "pca").shape == (1, 2)
    assert project(np.random.default_rng(0).normal(size=(4, 8)), "tsne").shape == (4, 2)


def test_tsne_is_deterministic_for_a_seed_and_stoppable_in_its_own_process() -> None:
    codes = clustered_codes(60)
    coords = project(codes, "tsne", seed=3)
    assert coords.shape == (60, 2) and coords.dtype == np.float32
    np.testing.assert_array_equal(project(codes, "tsne", seed=3), coords)
    # Neighbourhoods are kept: the three clusters stay apart.
    labels = np.arange(60) % 3
    centres = np.stack([coords[labels == k].mean(axis=0) for k in range(3)])
    spread = max(np.linalg.norm(coords[labels == k] - centres[k], axis=1).mean() for k in range(3))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > spread
    # The process the window uses gives the same map, and stops when asked.
    np.testing.assert_allclose(project_stoppable(codes, "tsne", 3, TaskControl()), coords, atol=1e-5)
    stopped = TaskControl()
    stopped.stop()
    assert project_stoppable(codes, "tsne", 3, stopped) is None


def test_the_map_reuses_codes_it_is_given(model: PointCloudVAE) -> None:
    split = BlobSplit()
    items = run(latent_map(model, split, "pca"))
    assert isinstance(items[-2], ProjectionStarted) and items[-2].shapes == 23
    first = items[-1]
    assert isinstance(first, LatentMap) and first.coords.shape == (23, 2) and len(first.explained) == 2
    reads = split.reads
    again = run(latent_map(model, split, "tsne", encoded=first.encoded, control=TaskControl()))
    assert split.reads == reads
    assert [type(item) for item in again] == [ProjectionStarted, LatentMap]
    assert again[-1].method == "tsne" and again[-1].coords.shape == (23, 2) and again[-1].explained == ()
    assert again[-1].encoded is first.encoded


def test_importing_the_workflow_loads_no_torch_or_qt() -> None:
    import subprocess
    import sys

    code = "import sys, vaeviewer.workflows.latent_map; print(sorted({'torch', 'PySide6'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_point_of_the_map_goes_back_to_a_code() -> None:
    """PCA's map is inverted exactly on its plane; t-SNE's by the nearest shapes' codes, a dot giving its own."""
    from vaeviewer.workflows.latent_map import EncodedSplit, LatentMap, MapInverse, project

    rng = np.random.default_rng(0)
    plane = rng.normal(size=(2, 16))
    latents = (rng.normal(size=(60, 2)) * (3.0, 1.0)) @ plane + 0.5  # codes that lie in a plane
    encoded = EncodedSplit(split="test", indices=np.arange(60), latents=latents.astype(np.float32),
                           labels=np.zeros(60, dtype=np.int64), skipped=(), stopped=False)
    coords = project(latents, "pca")
    inverse = MapInverse(LatentMap(encoded, "pca", coords))
    assert "PCA's inverse" in inverse.how
    for row in (0, 17, 42):
        np.testing.assert_allclose(inverse.code(*coords[row]), latents[row], atol=1e-4)
    between = inverse.code(*(coords[3] + coords[4]) / 2)
    np.testing.assert_allclose(between, (latents[3] + latents[4]) / 2, atol=1e-4)  # linear along the plane

    fake = LatentMap(encoded, "tsne", coords * 10)
    nearest = MapInverse(fake, k=4)
    assert "no inverse" in nearest.how
    np.testing.assert_allclose(nearest.code(*fake.coords[7]), latents[7], atol=1e-6)
    far = nearest.code(1e4, 1e4)
    assert far.shape == (16,) and np.isfinite(far).all()
