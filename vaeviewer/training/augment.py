"""Augmentation of training batches.

The augmentations (named by ``--augment``, parsed by
:func:`vaeviewer.training.settings.parse_augmentations`) are the ones point-cloud self-supervision and classification
papers train with (PointNet, PointNet++, DGCNN, OcCo):

``rotate-y``, ``rotate-z``
    a rotation by a uniform angle about the up axis (y or z: the data set's);
``scale``
    anisotropic scaling, each axis by a factor from U(2/3, 3/2), as DGCNN;
``jitter``
    Gaussian noise of standard deviation 0.01 clipped at 0.05, as PointNet;
``dropout``
    random input dropout, as PointNet++: a fraction from U(0, 0.875) of the
    points is replaced by the cloud's first point (a max-pooling encoder does
    not see duplicates, and the batch keeps its shape).

Rotation and scaling change the shape the model must reconstruct, so they apply
to the encoder's input and to the Chamfer target alike. Jitter and dropout
corrupt only the input: the target stays the clean cloud, which makes the
autoencoder a denoising one (it must reconstruct what it did not see), as
OcCo's and Point-MAE's completion objectives do.

Every draw comes from torch's global generator on the batch's device, which
the run seeds and saves in its checkpoints, so a resumed run augments exactly
as an uninterrupted one would.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["augment_batch"]

_SCALE_RANGE = (2.0 / 3.0, 3.0 / 2.0)
_JITTER_STD, _JITTER_CLIP = 0.01, 0.05
_MAX_DROPOUT = 0.875


def augment_batch(clouds: Tensor, augmentations: tuple[str, ...]) -> tuple[Tensor, Tensor]:
    """The encoder's input and the reconstruction's target for a batch of clouds (B, N, 3).

    Without augmentations both are ``clouds`` itself.
    """
    if not augmentations:
        return clouds, clouds
    batch, count, _ = clouds.shape
    device, dtype = clouds.device, clouds.dtype
    target = clouds
    for name in augmentations:
        if name.startswith("rotate-"):
            target = target @ _rotations_about(1 if name == "rotate-y" else 2, batch, device, dtype)
        elif name == "scale":
            low, high = _SCALE_RANGE
            factors = low + (high - low) * torch.rand((batch, 1, 3), device=device, dtype=dtype)
            target = target * factors
    seen = target
    if "jitter" in augmentations:
        noise = (_JITTER_STD * torch.randn(seen.shape, device=device, dtype=dtype)).clamp(-_JITTER_CLIP, _JITTER_CLIP)
        seen = seen + noise
    if "dropout" in augmentations:
        fraction = _MAX_DROPOUT * torch.rand((batch, 1), device=device)
        dropped = torch.rand((batch, count), device=device) < fraction
        dropped[:, 0] = False  # the point that stands in for the dropped ones
        seen = torch.where(dropped[..., None], seen[:, :1, :], seen)
    return seen, target


def _rotations_about(axis: int, batch: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """(B, 3, 3) matrices of uniform random rotations about one coordinate axis, for row vectors."""
    angle = 2 * math.pi * torch.rand(batch, device=device, dtype=dtype)
    cos, sin = torch.cos(angle), torch.sin(angle)
    matrices = torch.zeros((batch, 3, 3), device=device, dtype=dtype)
    first, second = [a for a in range(3) if a != axis]
    matrices[:, axis, axis] = 1
    matrices[:, first, first] = cos
    matrices[:, second, second] = cos
    matrices[:, first, second] = sin
    matrices[:, second, first] = -sin
    return matrices
