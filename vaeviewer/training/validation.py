"""Scoring a model on a set of clouds: reconstruction Chamfer, KL and classifier accuracy."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from vaeviewer.model import PointCloudVAE, chamfer_distance, kl_divergence
from vaeviewer.model.guard import exclusive

__all__ = ["CloudScores", "score_clouds"]


@dataclass(frozen=True)
class CloudScores:
    """Scores of a model on a set of clouds.

    Attributes
    ----------
    chamfer : numpy.ndarray
        Chamfer distance of each cloud to its deterministic reconstruction
        (the decoded latent mean), float64 (n,).
    kl_mean : float
        Mean KL divergence of the posteriors from the prior.
    predictions : numpy.ndarray
        Predicted class per cloud, int64 (n,); -1 without a classifier.
    classifier_accuracy : float
        Accuracy over clouds with a known label; NaN without classifier or labels.
    latents : numpy.ndarray
        The encoder's mean of each cloud, float32 (n, latent_dim): the features that
        linear-SVM accuracy and the latent map are computed on.
    """

    chamfer: np.ndarray
    kl_mean: float
    predictions: np.ndarray
    classifier_accuracy: float
    latents: np.ndarray

    @property
    def chamfer_mean(self) -> float:
        """Mean Chamfer distance over the clouds."""
        return float(self.chamfer.mean()) if len(self.chamfer) else math.nan


@torch.no_grad()
def score_clouds(
    model: PointCloudVAE,
    clouds: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    batch_size: int = 64,
) -> CloudScores:
    """Score ``model`` on ``clouds`` (n, N, 3) in eval mode, batch by batch.

    ``labels`` (n,) are class indices of the model's classifier, -1 where
    unknown. The model's train/eval mode is restored afterwards.
    """
    device = next(model.parameters()).device
    chamfers, kls, predictions, latents = [], [], [], []
    for start in range(0, len(clouds), batch_size):
        batch = clouds[start : start + batch_size].to(device, non_blocking=True)
        with exclusive(model):  # one batch at a time, as every verb holds the guard
            mu, logvar = model.encode(batch)
            latents.append(mu.float().cpu())
            chamfers.append(chamfer_distance(model.decode(mu), batch).double().cpu())
            kls.append(kl_divergence(mu, logvar, model.config.prior_std).double().cpu())
            if model.classifier is not None:
                predictions.append(model.classify(mu).argmax(dim=1).cpu())
            else:
                predictions.append(torch.full((len(batch),), -1, dtype=torch.int64))
    chamfer = torch.cat(chamfers).numpy() if chamfers else np.zeros(0)
    kl_mean = float(torch.cat(kls).mean()) if kls else math.nan
    predicted = torch.cat(predictions).numpy() if predictions else np.zeros(0, dtype=np.int64)
    accuracy = math.nan
    if labels is not None and model.classifier is not None:
        known = labels.cpu().numpy() >= 0
        if known.any():
            accuracy = float((predicted[known] == labels.cpu().numpy()[known]).mean())
    means = torch.cat(latents).numpy() if latents else np.zeros((0, model.config.latent_dim), dtype=np.float32)
    return CloudScores(chamfer=chamfer, kl_mean=kl_mean, predictions=predicted, classifier_accuracy=accuracy,
                       latents=means)
