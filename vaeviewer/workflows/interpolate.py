"""Walks through latent space between two shapes, decoded into clouds.

The path runs between the *encoder means* of the two shapes, not between
sampled codes, so the same two shapes always give the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vaeviewer.errors import OptionError
from vaeviewer.workflows.lazy import without_grad

if TYPE_CHECKING:
    from torch import Tensor

    from vaeviewer.model import PointCloudVAE

__all__ = ["INTERPOLATION_METHODS", "Interpolation", "check_path_options", "interpolate", "latent_path"]

#: Ways to walk from one code to the other; see :func:`latent_path`.
INTERPOLATION_METHODS = ("lerp", "slerp")

# Below this sine of the angle between the two codes, the great circle through
# them is ill-defined (parallel or opposite codes): slerp falls back to lerp.
_PARALLEL_SINE = 1e-6

# Codes decoded per forward pass: bounds memory for long paths of large clouds.
_DECODE_BATCH = 32


def check_path_options(steps: int, method: str) -> None:
    """Raise :class:`OptionError` unless ``steps`` (>= 2) and ``method`` describe a path."""
    if method not in INTERPOLATION_METHODS:
        raise OptionError(f"--method {method}: unknown interpolation; one of {', '.join(INTERPOLATION_METHODS)}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise OptionError(f"--steps {steps}: an interpolation needs at least 2 steps")


def latent_path(z_a: Tensor, z_b: Tensor, steps: int, method: str = "lerp") -> Tensor:
    """Codes from ``z_a`` to ``z_b``, both ends included.

    Parameters
    ----------
    z_a, z_b : torch.Tensor
        Latent codes of shape (D,).
    steps : int
        Number of codes on the path, at least 2; they sit at evenly spaced
        parameters ``t = 0, 1/(steps-1), ..., 1``.
    method : {"lerp", "slerp"}
        ``lerp`` walks the straight line ``(1 - t) z_a + t z_b``.
        ``slerp`` turns the *direction* of the code along the great circle
        from ``z_a / |z_a|`` to ``z_b / |z_b|`` at constant angular speed and
        interpolates the *norm* linearly from ``|z_a|`` to ``|z_b|``. So every
        code on the path has a norm between the endpoints' norms (lerp cuts
        the corner and passes through shorter, more "average" codes, which a
        Gaussian prior in many dimensions makes atypical). When the two codes
        are nearly parallel or opposite, or one is zero, slerp is lerp.

    Returns
    -------
    torch.Tensor
        Shape (steps, D), the dtype and device of ``z_a``; row 0 equals
        ``z_a`` and the last row equals ``z_b`` exactly.

    Raises
    ------
    OptionError
        For fewer than 2 steps or an unknown method.
    """
    import torch


    check_path_options(steps, method)
    if z_a.shape != z_b.shape or z_a.dim() != 1:
        raise ValueError(f"codes must both have shape (D,), got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    # float64 keeps the trigonometry accurate for nearly parallel codes.
    a, b = z_a.detach().double(), z_b.to(z_a.device).detach().double()
    t = torch.linspace(0.0, 1.0, int(steps), dtype=torch.float64, device=a.device)[:, None]
    path = (1.0 - t) * a + t * b
    if method == "slerp":
        norm_a, norm_b = a.norm(), b.norm()
        if norm_a > 0 and norm_b > 0:
            u_a, u_b = a / norm_a, b / norm_b
            omega = torch.arccos(torch.clamp(u_a @ u_b, -1.0, 1.0))
            sine = torch.sin(omega)
            if sine > _PARALLEL_SINE:
                direction = (torch.sin((1.0 - t) * omega) * u_a + torch.sin(t * omega) * u_b) / sine
                path = ((1.0 - t) * norm_a + t * norm_b) * direction
    path = path.to(z_a.dtype)
    # Rounding would leave the ends a few ulps off; the caller is promised the codes themselves.
    path[0], path[-1] = z_a.detach(), z_b.detach()
    return path


@dataclass(frozen=True)
class Interpolation:
    """Clouds decoded along a latent path between two shapes.

    Attributes
    ----------
    method : str
        ``lerp`` or ``slerp``.
    ts : numpy.ndarray
        float64 (steps,), the path parameter of every frame, from 0 to 1.
    latents : numpy.ndarray
        float32 (steps, D), the codes; the first and last rows are the
        encoder means of ``input_a`` and ``input_b``.
    frames : numpy.ndarray
        float32 (steps, num_points, 3), the decoded clouds.
    input_a, input_b : numpy.ndarray
        float32 (n, 3), the two shapes as they were encoded.
    titles : tuple of str, optional
        What each frame is, where ``t = ...`` would not say it (a sweep's amounts).
    """

    method: str
    ts: np.ndarray
    latents: np.ndarray
    frames: np.ndarray
    input_a: np.ndarray
    input_b: np.ndarray
    titles: tuple[str, ...] | None = None

    @property
    def steps(self) -> int:
        """Number of frames."""
        return len(self.frames)


@without_grad
def interpolate(model: PointCloudVAE, cloud_a: np.ndarray, cloud_b: np.ndarray, steps: int = 12,
                method: str = "lerp") -> Interpolation:
    """Encode two clouds, walk from one latent mean to the other, decode every step.

    Parameters
    ----------
    model : PointCloudVAE
        The model. It runs in eval mode (batch normalisation uses its running
        statistics, so a single cloud encodes deterministically); its previous
        mode is restored afterwards.
    cloud_a, cloud_b : numpy.ndarray
        float (n, 3) clouds, normalised like the model's training data
        (e.g. from ``ShapeSplit.points(i, model.config.num_points)``).
    steps : int
        Frames on the path, both ends included (at least 2).
    method : {"lerp", "slerp"}
        See :func:`latent_path`.

    Returns
    -------
    Interpolation

    Raises
    ------
    OptionError
        For fewer than 2 steps or an unknown method.
    """
    import torch

    from vaeviewer.model.guard import exclusive

    check_path_options(steps, method)
    inputs = [np.ascontiguousarray(np.asarray(c, dtype=np.float32)) for c in (cloud_a, cloud_b)]
    for name, cloud in zip("AB", inputs):
        if cloud.ndim != 2 or cloud.shape[1] != 3 or len(cloud) == 0:
            raise ValueError(f"cloud {name} must have shape (n, 3), got {cloud.shape}")
    with exclusive(model):
        device = next(model.parameters()).device
        # Encoded one at a time: the two clouds may have different point counts.
        mu_a, mu_b = (model.encode(torch.from_numpy(c)[None].to(device))[0][0] for c in inputs)
        path = latent_path(mu_a, mu_b, steps, method)
        frames = torch.cat([model.decode(chunk) for chunk in path.split(_DECODE_BATCH)])
    return Interpolation(
        method=method,
        ts=np.linspace(0.0, 1.0, int(steps)),
        latents=path.float().cpu().numpy(),
        frames=frames.float().cpu().numpy(),
        input_a=inputs[0],
        input_b=inputs[1],
    )
