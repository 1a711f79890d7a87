"""How large a block of intermediate values the model's blocked computations build at once.

The Chamfer search (:func:`vaeviewer.model.losses.nearest_neighbors`) and the
encoder's fused last layer (:mod:`vaeviewer.model.pooled_layer`) never build
their whole (B, N, M) or (B, C, N) tensor; they work through it in blocks.

* On a CPU a block should stay in the processor's cache between the product
  that writes it and the reduction that reads it: 8 MB blocks searched twice
  as fast as 64 MB ones on a 2-core Xeon (BENCHMARKS.md).
* On a GPU there is no such cache to fit, and every block costs a few kernel
  launches of fixed overhead, so blocks are larger: at B = 32, N = 2048 the
  search runs in 8 blocks instead of 64, and the fused layer in 2 products
  instead of 32, still far below the memory of the whole tensor.
"""

from __future__ import annotations

import torch

__all__ = ["CPU_BLOCK_BYTES", "GPU_BLOCK_BYTES", "block_bytes"]

#: Largest block on a CPU (and any device other than a GPU).
CPU_BLOCK_BYTES = 8 * 2**20

#: Largest block on a CUDA device.
GPU_BLOCK_BYTES = 64 * 2**20


def block_bytes(device: torch.device) -> int:
    """The block budget, in bytes, for computations on ``device``."""
    return GPU_BLOCK_BYTES if device.type == "cuda" else CPU_BLOCK_BYTES
