"""Opening a trained model for the verbs that use one (the bundled models are named in :mod:`.bundled`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from vaeviewer.model import Checkpoint, PointCloudVAE, load_model
from vaeviewer.training import resolve_device
from vaeviewer.workflows.bundled import BUNDLED_MODELS, bundled_checkpoint, bundled_models, choose_checkpoint

__all__ = [
    "BUNDLED_MODELS",
    "bundled_checkpoint",
    "bundled_models",
    "choose_checkpoint",
    "labels_for_model",
    "latent_training",
    "open_model",
]

def open_model(
    checkpoint: str | Path | None, device: str = "cpu", class_names: Sequence[str] = ()
) -> tuple[PointCloudVAE, Checkpoint]:
    """Load a checkpoint in eval mode on ``device``: a path, a bundled model's name, or None.

    None takes the bundled model that suits a data set of ``class_names``
    best (:func:`choose_checkpoint`).
    """
    model, ckpt = load_model(choose_checkpoint(checkpoint, class_names))
    model.to(resolve_device(device)).eval()
    return model, ckpt


def labels_for_model(labels: np.ndarray, data_class_names: tuple[str, ...], model_class_names: tuple[str, ...]) -> torch.Tensor:
    """Translate a data set's labels into the model's class indices by class name (-1 where unknown)."""
    lookup = {name: i for i, name in enumerate(model_class_names)}
    mapped = [lookup.get(data_class_names[k], -1) if k >= 0 else -1 for k in np.asarray(labels)]
    return torch.as_tensor(mapped, dtype=torch.int64)


def latent_training(checkpoint: Checkpoint) -> str:
    """How a model's latent was trained: ``unsupervised``, ``joint`` (the classifier's loss shaped it) or ``unknown``.

    A run records it in its settings (``--latent-training``); runs from before the setting fed the
    classifier a detached latent mean, which is unsupervised. A checkpoint with no run settings (the
    original work's, a bare state dict) does not say.
    """
    settings = checkpoint.run_settings or {}
    if not settings:
        return "unknown"
    return str(settings.get("latent_training", "unsupervised"))
