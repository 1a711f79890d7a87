"""Training the way the seed project did it: the baseline of the training figures.

The seed (a PyTorch point-cloud VAE on ModelNet40) trained with

* a ``torch.utils.data.Dataset`` whose ``__getitem__`` ran farthest-point
  sampling in numpy (a Python loop of N steps over the stored cloud) and then
  normalised the cloud to the unit sphere, for every shape of every epoch,
  served by a ``DataLoader`` (shuffle, batch 32);
* a Chamfer distance through the full ``torch.cdist`` matrix;
* the network run eagerly, module by module: 1x1 ``Conv1d`` on (B, C, N)
  tensors, batch norm, ReLU, ``max`` over the points.

To compare data paths and losses rather than architectures, the network here is
vaeviewer's own :class:`~vaeviewer.model.PointCloudVAE` (same layers and sizes),
with its encoder run as written (:meth:`PointNetEncoder.forward_reference`); the
optimizer, KL term and latent classifier are the same as in ``vaeviewer train``.
Only the data pipeline, the encoder's execution and the Chamfer loss differ.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


def seed_farthest_point_sample(cloud: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Farthest-point sampling as the seed wrote it: a numpy loop over ``count`` picks from a random start."""
    n = len(cloud)
    chosen = np.zeros(count, dtype=np.int64)
    nearest = np.full(n, 1e10)
    current = int(rng.integers(0, n))
    for k in range(count):
        chosen[k] = current
        squared = np.sum((cloud - cloud[current]) ** 2, axis=-1)
        closer = squared < nearest
        nearest[closer] = squared[closer]
        current = int(np.argmax(nearest))
    return cloud[chosen]


def seed_normalize(cloud: np.ndarray) -> np.ndarray:
    """Centre on the mean and scale the farthest point to the unit sphere (the seed's ``pc_normalize``)."""
    cloud = cloud - cloud.mean(axis=0)
    return cloud / np.max(np.sqrt(np.sum(cloud**2, axis=1)))


class SeedDataset(Dataset):
    """Stored clouds (n, P, 3), sampled to ``num_points`` by FPS and normalised on every access."""

    def __init__(self, clouds: np.ndarray, labels: np.ndarray, num_points: int, seed: int = 0) -> None:
        self.clouds = clouds
        self.labels = labels
        self.num_points = num_points
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.clouds)

    def __getitem__(self, index: int):
        cloud = seed_farthest_point_sample(self.clouds[index], self.num_points, self.rng)
        return seed_normalize(cloud).astype(np.float32), int(self.labels[index])


def seed_training_steps(num_points: int, batch: int, steps: int, warmup: int, workers: int = 0,
                        device: str = "cpu") -> dict:
    """Seconds per training step the seed's way, data loading included (mean over ``steps``).

    The mean, not the median: with loader workers, batches arrive in waves
    (every worker finishes one at about the same time), so most steps wait for
    nothing and a few wait for a whole wave.

    Parameters
    ----------
    num_points : int
        Points per cloud after sampling (the stored clouds of the built-in set have 2048).
    batch : int
        Clouds per step.
    steps, warmup : int
        Timed steps, and untimed steps before them.
    workers : int
        ``DataLoader`` worker processes (the seed used 10, on a larger machine).
    device : str
        Where the network runs (``cpu`` or ``cuda``); the data pipeline runs on the CPU, as the seed's did.
    """
    import time

    from vaeviewer.data import open_dataset
    from vaeviewer.model import ModelConfig, PointCloudVAE, classifier_nll, kl_divergence
    from vaeviewer.model.losses import chamfer_distance_cdist
    from vaeviewer.model.vae import LOGVAR_RANGE

    dataset = open_dataset("builtin")
    split = dataset.split("train")
    total = batch * (steps + warmup)
    clouds = split.load_all(2048)[:total]
    labels = np.asarray(split.labels)[:total]
    dataset.close()
    loader = DataLoader(
        SeedDataset(clouds, labels, num_points), batch_size=batch, shuffle=True, drop_last=True,
        num_workers=workers, generator=torch.Generator().manual_seed(0),
    )
    torch.manual_seed(0)
    dev = torch.device(device)
    model = PointCloudVAE(ModelConfig(num_points=num_points, num_classes=10)).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    model.train()
    times: list[float] = []
    data_times: list[float] = []
    began = time.perf_counter()
    for x, y in loader:
        x, y = x.to(dev), y.to(dev)
        loaded = time.perf_counter()
        mu, logvar = model.encoder.forward_reference(x)
        logvar = logvar.clamp(*LOGVAR_RANGE)
        z = model.reparameterize(mu, logvar)
        reconstruction = model.decode(z)
        log_probs = model.classifier(mu.detach())
        loss = (
            chamfer_distance_cdist(reconstruction, x).mean()
            + 1e-5 * kl_divergence(mu, logvar, 0.2).mean()
            + classifier_nll(log_probs, y)
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        ended = time.perf_counter()
        times.append(ended - began)
        data_times.append(loaded - began)
        began = time.perf_counter()
    timed, data_timed = times[warmup:], data_times[warmup:]
    seconds = float(np.mean(timed))
    return {
        "seconds_per_step": seconds,
        "samples_per_second": batch / seconds,
        "data_seconds_per_step": float(np.mean(data_timed)),
        "steps": len(timed),
        "workers": workers,
    }
