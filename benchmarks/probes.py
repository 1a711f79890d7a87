"""Measurements that each run in a fresh subprocess, so that peak memory and allocator state are their own.

Run as ``python -m benchmarks.probes NAME [ARGS]``; prints one JSON object.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chamfer(variant: str, batch: int, points: int, repeats: int) -> dict:
    """Forward + backward of one Chamfer implementation: median seconds and peak extra memory."""
    import torch

    from vaeviewer.model import chamfer_distance
    from vaeviewer.model.losses import chamfer_distance_cdist

    function = chamfer_distance if variant == "chunked" else chamfer_distance_cdist
    torch.manual_seed(0)
    a = torch.rand(batch, points, 3, requires_grad=True)
    b = torch.rand(batch, points, 3, requires_grad=True)
    baseline = _rss_mb()
    times = []
    for _ in range(repeats + 1):
        began = time.perf_counter()
        function(a, b).mean().backward()
        times.append(time.perf_counter() - began)
    return {"seconds": statistics.median(times[1:]), "peak_extra_mb": _rss_mb() - baseline}


def train_step(points: int, batch: int, steps: int, keep: bool) -> dict:
    """Samples per second of full training steps (forward, backward, Adam), with user and system time."""
    import torch

    from vaeviewer.model import ModelConfig, PointCloudVAE, chamfer_distance, classifier_nll, kl_divergence

    if keep:
        from vaeviewer.training.memory import keep_freed_memory

        keep_freed_memory()
    torch.manual_seed(0)
    model = PointCloudVAE(ModelConfig(num_points=points, num_classes=10))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    clouds = torch.rand(batch, points, 3)
    labels = torch.randint(0, 10, (batch,))

    def step() -> None:
        out = model(clouds)
        loss = chamfer_distance(out.reconstruction, clouds).mean() + 1e-5 * kl_divergence(out.mu, out.logvar, 0.2).mean()
        loss = loss + classifier_nll(out.log_probs, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()
    step()
    before = resource.getrusage(resource.RUSAGE_SELF)
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "samples_per_second": batch / statistics.median(times),
        "user_seconds_per_step": (after.ru_utime - before.ru_utime) / steps,
        "system_seconds_per_step": (after.ru_stime - before.ru_stime) / steps,
        "page_faults_per_step": (after.ru_minflt - before.ru_minflt) / steps,
        "peak_rss_mb": _rss_mb(),
    }


PROBES = {"chamfer": chamfer, "train_step": train_step}

if __name__ == "__main__":
    name, *raw = sys.argv[1:]
    kwargs = json.loads(raw[0]) if raw else {}
    print(json.dumps(PROBES[name](**kwargs)))
