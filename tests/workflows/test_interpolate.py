"""Latent paths and the clouds decoded along them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaeviewer.errors import OptionError
from vaeviewer.model import ModelConfig, PointCloudVAE
from vaeviewer.workflows.interpolate import interpolate, latent_path


@pytest.fixture(scope="module")
def model() -> PointCloudVAE:
    torch.manual_seed(0)
    return PointCloudVAE(ModelConfig(num_points=256, latent_dim=8))


def cloud(seed: int, n: int = 256) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.6, 0.6, size=(n, 3)).astype(np.float32)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_paths_start_and_end_exactly_at_the_codes(method: str) -> None:
    z_a, z_b = torch.randn(16, generator=torch.Generator().manual_seed(1)), torch.randn(16) * 3
    path = latent_path(z_a, z_b, 7, method)
    assert path.shape == (7, 16) and path.dtype == z_a.dtype
    assert torch.equal(path[0], z_a) and torch.equal(path[-1], z_b)
    assert len({tuple(row.tolist()) for row in path}) == 7


def test_lerp_is_the_straight_line() -> None:
    z_a, z_b = torch.tensor([1.0, 0.0, 2.0]), torch.tensor([-1.0, 4.0, 0.0])
    path = latent_path(z_a, z_b, 5, "lerp")
    torch.testing.assert_close(path[2], (z_a + z_b) / 2)
    steps = path.diff(dim=0)
    torch.testing.assert_close(steps, steps[:1].expand_as(steps))


def test_slerp_turns_at_constant_speed_and_interpolates_the_norm() -> None:
    generator = torch.Generator().manual_seed(2)
    z_a, z_b = torch.randn(32, generator=generator), 2.5 * torch.randn(32, generator=generator)
    path = latent_path(z_a, z_b, 9, "slerp").double()
    norms = path.norm(dim=1)
    low, high = sorted((z_a.norm().item(), z_b.norm().item()))
    assert ((norms >= low - 1e-5) & (norms <= high + 1e-5)).all()
    expected = torch.linspace(z_a.norm().item(), z_b.norm().item(), 9, dtype=torch.float64)
    torch.testing.assert_close(norms, expected, atol=1e-5, rtol=0)
    units = path / norms[:, None]
    angles = torch.arccos(torch.clamp((units[1:] * units[:-1]).sum(1), -1, 1))
    torch.testing.assert_close(angles, angles[:1].expand_as(angles), atol=1e-4, rtol=0)
    # lerp cuts the corner: its midpoint is shorter than slerp's.
    assert latent_path(z_a, z_b, 3, "lerp")[1].norm() < norms[4] - 1


def test_slerp_of_parallel_or_zero_codes_is_lerp() -> None:
    z = torch.tensor([1.0, 2.0, -0.5])
    for z_a, z_b in ((z, 3 * z), (torch.zeros(3), z), (z, -z)):
        torch.testing.assert_close(latent_path(z_a, z_b, 5, "slerp"), latent_path(z_a, z_b, 5, "lerp"))


@pytest.mark.parametrize("steps, method, fragment", [(1, "lerp", "--steps 1"), (5, "cubic", "--method cubic")])
def test_bad_path_options_are_option_errors(steps: int, method: str, fragment: str) -> None:
    with pytest.raises(OptionError, match=fragment):
        latent_path(torch.zeros(3), torch.ones(3), steps, method)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_runs_between_the_encoder_means(model: PointCloudVAE, method: str) -> None:
    a, b = cloud(3), cloud(4, n=300)  # the two shapes may have different point counts
    model.train()
    result = interpolate(model, a, b, steps=5, method=method)
    assert model.training, "the caller's mode is restored"
    model.eval()
    with torch.no_grad():
        mu_a = model.encode(torch.from_numpy(a)[None])[0][0]
        mu_b = model.encode(torch.from_numpy(b)[None])[0][0]
        ends = model.decode(torch.stack([mu_a, mu_b])).numpy()
    assert result.latents.shape == (5, 8) and result.latents.dtype == np.float32
    np.testing.assert_allclose(result.latents[0], mu_a.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.latents[-1], mu_b.numpy(), rtol=0, atol=1e-6)
    assert result.frames.shape == (5, 256, 3) and result.frames.dtype == np.float32
    np.testing.assert_allclose(result.frames[[0, -1]], ends, rtol=0, atol=1e-5)
    assert all(not np.allclose(result.frames[k], result.frames[k + 1]) for k in range(4))
    np.testing.assert_array_equal(result.ts, np.linspace(0, 1, 5))
    assert result.steps == 5 and result.method == method
    assert np.array_equal(result.input_a, a) and np.array_equal(result.input_b, b)


def test_interpolation_is_deterministic(model: PointCloudVAE) -> None:
    first = interpolate(model, cloud(5), cloud(6), steps=4)
    second = interpolate(model, cloud(5), cloud(6), steps=4)
    assert np.array_equal(first.frames, second.frames)
