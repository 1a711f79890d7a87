"""Decodings drawn from one cloud's posterior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaeviewer.errors import OptionError
from vaeviewer.model import ModelConfig, PointCloudVAE, chamfer_distance
from vaeviewer.workflows.reconstruct import sample_posterior


@pytest.fixture(scope="module")
def model() -> PointCloudVAE:
    torch.manual_seed(0)
    return PointCloudVAE(ModelConfig(num_points=128, latent_dim=8, num_classes=3)).eval()


@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    return np.random.default_rng(0).uniform(-0.6, 0.6, size=(128, 3)).astype(np.float32)


def test_samples_differ_from_each_other_and_from_the_mean(model: PointCloudVAE, cloud: np.ndarray) -> None:
    drawn = sample_posterior(model, cloud, 4, seed=3)
    assert drawn.clouds.shape == (4, 128, 3) and drawn.clouds.dtype == np.float32
    with torch.no_grad():
        mean = model.reconstruct(torch.from_numpy(cloud)[None])[0].numpy()
    for k in range(4):
        assert not np.allclose(drawn.clouds[k], mean, atol=1e-5)
        for j in range(k):
            assert not np.allclose(drawn.clouds[k], drawn.clouds[j], atol=1e-5)


def test_a_seed_draws_the_same_clouds_and_leaves_the_global_rng_alone(model: PointCloudVAE, cloud: np.ndarray) -> None:
    torch.manual_seed(42)
    before = torch.random.get_rng_state()
    first = sample_posterior(model, cloud, 3, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = sample_posterior(model, cloud, 3, seed=7)
    other = sample_posterior(model, cloud, 3, seed=8)
    np.testing.assert_array_equal(first.clouds, again.clouds)
    assert not np.allclose(first.clouds, other.clouds)
    assert first.seed == 7


def test_chamfer_of_every_sample_is_its_distance_to_the_input(model: PointCloudVAE, cloud: np.ndarray) -> None:
    drawn = sample_posterior(model, cloud, 2, seed=0)
    for k in range(2):
        expected = chamfer_distance(torch.from_numpy(cloud)[None], torch.from_numpy(drawn.clouds[k])[None])
        assert drawn.chamfer[k] == pytest.approx(float(expected.mean()), rel=1e-5)


def test_no_samples_is_a_user_error(model: PointCloudVAE, cloud: np.ndarray) -> None:
    with pytest.raises(OptionError):
        sample_posterior(model, cloud, 0)
