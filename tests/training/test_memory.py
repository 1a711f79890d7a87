"""Freed training buffers are reused, not unmapped and faulted in again every step."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import torch
if sys.argv[1] == "keep":
    from vaeviewer.training.memory import keep_freed_memory
    assert keep_freed_memory() and keep_freed_memory()
from vaeviewer.model import ModelConfig, PointCloudVAE, chamfer_distance
torch.manual_seed(0)
model = PointCloudVAE(ModelConfig(num_points=512, latent_dim=16))
optimizer = torch.optim.Adam(model.parameters())
clouds = torch.rand(32, 512, 3)
def step():
    # The encoder written out keeps 32 x 1024 x 512 activations: 64 MB buffers, made and freed every step.
    mu, _ = model.encoder.forward_reference(clouds)
    loss = chamfer_distance(model.decode(mu), clouds).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
step(); step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_large_buffers_are_reused_after_keep_freed_memory() -> None:
    faults = {
        mode: int(subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                                 timeout=60).stdout)
        for mode in ("keep", "default")
    }
    assert faults["default"] > 5 * 64 * 2**20 // 4096, faults  # the big buffers are mapped and faulted in again
    assert faults["keep"] < faults["default"] / 5, faults
