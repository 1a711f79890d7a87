"""Reconstruct one shape of a data set with a model, with per-point errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vaeviewer.data import ShapeSplit
from vaeviewer.errors import OptionError
from vaeviewer.workflows.lazy import without_grad

if TYPE_CHECKING:
    from vaeviewer.model import PointCloudVAE

__all__ = ["PosteriorSamples", "Reconstruction", "reconstruct_shape", "sample_posterior"]


@dataclass(frozen=True)
class Reconstruction:
    """A shape, its deterministic reconstruction and how far apart they are.

    Attributes
    ----------
    index : int
        Index of the shape in its split.
    split, class_name, shape_name : str
        Where the shape comes from and what it is.
    input_points, reconstruction : numpy.ndarray
        float32 (N, 3) clouds, the input normalised to the unit sphere.
    input_error, reconstruction_error : numpy.ndarray
        Squared distance of every input point to the nearest reconstructed
        point, and of every reconstructed point to the nearest input point.
    chamfer : float
        Chamfer distance: ``input_error.mean() + reconstruction_error.mean()``.
    predicted_class : str
        The latent classifier's answer, or an empty string without a classifier.
    """

    index: int
    split: str
    class_name: str
    shape_name: str
    input_points: np.ndarray
    reconstruction: np.ndarray
    input_error: np.ndarray
    reconstruction_error: np.ndarray
    chamfer: float
    predicted_class: str


@without_grad
def reconstruct_shape(model: PointCloudVAE, split: ShapeSplit, index: int, class_names: tuple[str, ...] = ()) -> Reconstruction:
    """Encode shape ``index`` of ``split``, decode its latent mean and measure the error.

    ``class_names`` are the model's classes (from its checkpoint), used to name
    the classifier's prediction.
    """
    import torch

    from vaeviewer.model import chamfer_per_point
    from vaeviewer.model.guard import exclusive

    if not -len(split) <= index < len(split):
        raise OptionError(f"--index {index} is out of range: split {split.name!r} has {len(split)} shapes")
    index %= len(split)
    device = next(model.parameters()).device
    points = split.points(index, model.config.num_points)
    batch = torch.from_numpy(points)[None].to(device)
    with exclusive(model):
        mu, _ = model.encode(batch)
        output = model.decode(mu)
        k = int(model.classify(mu).argmax(1)) if model.classifier is not None else -1
    input_error, output_error = chamfer_per_point(batch, output)
    predicted = ""
    if k >= 0:
        predicted = class_names[k] if k < len(class_names) else str(k)
    label = int(split.labels[index])
    return Reconstruction(
        index=index,
        split=split.name,
        class_name=split.class_names[label] if label >= 0 else "unknown",
        shape_name=split.shape_name(index),
        input_points=points,
        reconstruction=output[0].cpu().numpy(),
        input_error=input_error[0].cpu().numpy(),
        reconstruction_error=output_error[0].cpu().numpy(),
        chamfer=float(input_error.mean() + output_error.mean()),
        predicted_class=predicted,
    )


@dataclass(frozen=True)
class PosteriorSamples:
    """Several decodings of one cloud's posterior, and how far each is from the cloud.

    Attributes
    ----------
    seed : int
        Seed of the noise the codes were drawn with; the same seed draws the same clouds.
    clouds : numpy.ndarray
        float32 (count, N, 3): ``decode(mu + sigma * eps)`` for ``count`` draws of ``eps``.
    chamfer : numpy.ndarray
        float (count,): Chamfer distance of every decoding to the input cloud.
    """

    seed: int
    clouds: np.ndarray
    chamfer: np.ndarray


@without_grad
def sample_posterior(model: PointCloudVAE, points: np.ndarray, count: int, seed: int = 0) -> PosteriorSamples:
    """Encode a cloud, draw ``count`` codes from its posterior and decode them.

    Where :func:`reconstruct_shape` decodes the posterior mean, this shows how
    much the model is unsure of the shape: the spread of the decodings is the
    spread the KL term allows around the mean.

    Parameters
    ----------
    model : PointCloudVAE
        Run in eval mode (batch normalisation must not see a batch of one).
    points : numpy.ndarray
        float (N, 3) cloud, normalised like the training data (e.g.
        ``Reconstruction.input_points``).
    count : int
        Number of decodings, at least 1.
    seed : int
        Seed of a private :class:`torch.Generator`, so that the global random
        state is left alone and a seed always draws the same clouds.

    Returns
    -------
    PosteriorSamples

    Raises
    ------
    OptionError
        When ``count`` is below 1.
    """
    import torch

    from vaeviewer.model import chamfer_per_point
    from vaeviewer.model.guard import exclusive

    if count < 1:
        raise OptionError(f"--samples {count}: draw at least one sample")
    device = next(model.parameters()).device
    batch = torch.as_tensor(np.asarray(points, dtype=np.float32), device=device)[None]
    generator = torch.Generator(device=device).manual_seed(int(seed))
    with exclusive(model):
        mu, logvar = model.encode(batch)
        # One code per draw from the single posterior: repeat its parameters instead of the cloud.
        codes = model.reparameterize(mu.expand(count, -1), logvar.expand(count, -1), generator=generator)
        clouds = model.decode(codes)
    input_error, output_error = chamfer_per_point(batch.expand(count, -1, -1), clouds)
    chamfer = (input_error.mean(1) + output_error.mean(1)).cpu().numpy().astype(np.float64)
    return PosteriorSamples(seed=int(seed), clouds=clouds.cpu().numpy(), chamfer=chamfer)
