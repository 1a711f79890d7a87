"""The VAE can learn: it overfits a handful of fixed clouds quickly."""

from __future__ import annotations

import math

import torch

from vaeviewer.model import ModelConfig, PointCloudVAE, chamfer_distance, kl_divergence


def _four_shapes(num_points: int, generator: torch.Generator) -> torch.Tensor:
    """A sphere, a cube surface, a torus and a flat disc, each (num_points, 3)."""
    u = torch.rand(num_points, generator=generator)
    v = torch.rand(num_points, generator=generator)
    sphere = torch.nn.functional.normalize(torch.randn(num_points, 3, generator=generator), dim=1)
    cube = torch.rand(num_points, 3, generator=generator) * 2 - 1
    face = torch.randint(0, 3, (num_points,), generator=generator)
    cube[torch.arange(num_points), face] = torch.sign(cube[torch.arange(num_points), face])
    theta, phi = 2 * math.pi * u, 2 * math.pi * v
    torus = torch.stack(
        [(0.7 + 0.25 * phi.cos()) * theta.cos(), (0.7 + 0.25 * phi.cos()) * theta.sin(),
         0.25 * phi.sin()], dim=1
    )
    radius = u.sqrt()
    disc = torch.stack([radius * theta.cos(), 0.1 * torch.ones_like(u), radius * theta.sin()], 1)
    return torch.stack([sphere, cube * 0.6, torus, disc])


def test_vae_overfits_four_clouds() -> None:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    config = ModelConfig(num_points=128, latent_dim=16)
    clouds = _four_shapes(config.num_points, generator)
    model = PointCloudVAE(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            value = chamfer_distance(model.reconstruct(clouds), clouds).mean().item()
        model.train()
        return value

    before = evaluate()
    for _ in range(150):
        out = model(clouds, generator=generator)
        kl = kl_divergence(out.mu, out.logvar, config.prior_std)
        loss = (chamfer_distance(out.reconstruction, clouds) + 1e-4 * kl).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = evaluate()
    assert after < before / 5, f"Chamfer went from {before:.4f} to {after:.4f}"
