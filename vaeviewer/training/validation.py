"""Scoring a model on a set of clouds: reconstruction Chamfer, KL and classifier accuracy.

:func:`score_clouds` scores in one process; :func:`score_across_ranks` is the
training loop's validation, split over the processes of a distributed run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from vaeviewer.model import PointCloudVAE, chamfer_distance, kl_divergence
from vaeviewer.model.guard import exclusive

if TYPE_CHECKING:  # only its methods are called: scoring alone needs no torch.distributed
    from vaeviewer.training.distributed import Ranks

__all__ = ["CloudScores", "score_clouds", "score_across_ranks"]


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
    kl_per_dimension : numpy.ndarray
        float64 (latent_dim,): each latent dimension's share of ``kl_mean`` (they sum to it).
        A dimension near 0 carries no information; one far above the rest may carry a label.
    """

    chamfer: np.ndarray
    kl_mean: float
    predictions: np.ndarray
    classifier_accuracy: float
    latents: np.ndarray
    kl_per_dimension: np.ndarray

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
    variance = model.config.prior_std**2
    kl_sums = torch.zeros(model.config.latent_dim, dtype=torch.float64)
    for start in range(0, len(clouds), batch_size):
        batch = clouds[start : start + batch_size].to(device, non_blocking=True)
        with exclusive(model):  # one batch at a time, as every verb holds the guard
            mu, logvar = model.encode(batch)
            latents.append(mu.float().cpu())
            chamfers.append(chamfer_distance(model.decode(mu), batch).double().cpu())
            kls.append(kl_divergence(mu, logvar, model.config.prior_std).double().cpu())
            per_dimension = 0.5 * ((logvar.exp() + mu**2) / variance - 1 - logvar + math.log(variance))
            kl_sums += per_dimension.double().sum(dim=0).cpu()
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
    per_dimension = (kl_sums / len(clouds)).numpy() if len(clouds) else np.full(model.config.latent_dim, math.nan)
    return CloudScores(chamfer=chamfer, kl_mean=kl_mean, predictions=predicted, classifier_accuracy=accuracy,
                       latents=means, kl_per_dimension=per_dimension)


def score_across_ranks(model: PointCloudVAE, clouds: torch.Tensor, labels: torch.Tensor,
                       ranks: Ranks) -> tuple[float, float, float]:
    """Validation Chamfer, KL and classifier accuracy; each process scores every world_size-th shape.

    Every process of a distributed run must call it (the sums are reduced
    over all of them); each gets the same three numbers.
    """
    if not ranks.distributed:
        scores = score_clouds(model, clouds, labels)
        return scores.chamfer_mean, scores.kl_mean, scores.classifier_accuracy
    part = slice(ranks.rank, None, ranks.world_size)
    points, labels = clouds[part], labels[part]
    scores = score_clouds(model, points, labels)
    count = len(points)
    known = labels.cpu().numpy() >= 0
    correct = float((scores.predictions[known] == labels.cpu().numpy()[known]).sum())
    labelled = float(known.sum()) if model.classifier is not None else 0.0
    chamfer_sum, kl_sum, count, correct, labelled = ranks.sum(
        [float(scores.chamfer.sum()), scores.kl_mean * count if count else 0.0, count, correct, labelled]
    )
    return (
        chamfer_sum / count if count else math.nan,
        kl_sum / count if count else math.nan,
        correct / labelled if labelled else math.nan,
    )
