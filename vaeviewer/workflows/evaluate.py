"""Score a model on a whole split of a data set."""

from __future__ import annotations

import math
from typing import Any

import torch

from vaeviewer.data import ShapeSplit
from vaeviewer.model import PointCloudVAE
from vaeviewer.training import score_clouds
from vaeviewer.workflows.models import labels_for_model

__all__ = ["evaluate_split"]


def evaluate_split(model: PointCloudVAE, split: ShapeSplit, class_names: tuple[str, ...]) -> dict[str, Any]:
    """Reconstruction and classification figures of ``model`` on every shape of ``split``.

    ``class_names`` are the model's classes; the split's labels are matched to
    them by name, so a model trained on other classes scores only on shared ones.

    Returns
    -------
    dict
        ``shapes``, ``split``, ``chamfer_mean`` (mean Chamfer distance between
        each shape and the decoding of its latent mean), ``chamfer_median``,
        ``kl_mean``, ``classifier_accuracy`` (None without a classifier or
        shared classes) and ``num_points``.
    """
    drop = getattr(split, "drop_unreadable", None)
    if drop is not None:
        drop(model.config.num_points)
    clouds = torch.from_numpy(split.load_all(model.config.num_points))
    labels = labels_for_model(split.labels, split.class_names, class_names)
    scores = score_clouds(model, clouds, labels)
    accuracy = scores.classifier_accuracy
    return {
        "shapes": len(split),
        "split": split.name,
        "num_points": model.config.num_points,
        "chamfer_mean": scores.chamfer_mean,
        "chamfer_median": float(torch.from_numpy(scores.chamfer).median()) if len(scores.chamfer) else math.nan,
        "kl_mean": scores.kl_mean,
        "classifier_accuracy": None if math.isnan(accuracy) else accuracy,
    }
