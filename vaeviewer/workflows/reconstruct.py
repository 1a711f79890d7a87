"""Reconstruct one shape of a data set with a model, with per-point errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vaeviewer.data import ShapeSplit
from vaeviewer.errors import OptionError
from vaeviewer.model import PointCloudVAE, chamfer_per_point

__all__ = ["Reconstruction", "reconstruct_shape"]


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


@torch.no_grad()
def reconstruct_shape(model: PointCloudVAE, split: ShapeSplit, index: int, class_names: tuple[str, ...] = ()) -> Reconstruction:
    """Encode shape ``index`` of ``split``, decode its latent mean and measure the error.

    ``class_names`` are the model's classes (from its checkpoint), used to name
    the classifier's prediction.
    """
    if not -len(split) <= index < len(split):
        raise OptionError(f"--index {index} is out of range: split {split.name!r} has {len(split)} shapes")
    index %= len(split)
    device = next(model.parameters()).device
    points = split.points(index, model.config.num_points)
    batch = torch.from_numpy(points)[None].to(device)
    mu, _ = model.encode(batch)
    output = model.decode(mu)
    input_error, output_error = chamfer_per_point(batch, output)
    predicted = ""
    if model.classifier is not None:
        k = int(model.classify(mu).argmax(1))
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
