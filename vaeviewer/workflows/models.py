"""Opening a trained model for the verbs that use one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vaeviewer.errors import OptionError
from vaeviewer.model import Checkpoint, PointCloudVAE, load_model
from vaeviewer.training import resolve_device

__all__ = ["bundled_checkpoint", "open_model", "labels_for_model"]

_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def bundled_checkpoint() -> Path | None:
    """The demo checkpoint shipped in ``resources/models/``, or None if not installed."""
    path = _RESOURCES / "models" / "demo.pt"
    return path if path.is_file() else None


def open_model(checkpoint: str | Path | None, device: str = "cpu") -> tuple[PointCloudVAE, Checkpoint]:
    """Load a checkpoint (the bundled one when ``checkpoint`` is None) in eval mode on ``device``."""
    if checkpoint is None:
        checkpoint = bundled_checkpoint()
        if checkpoint is None:
            raise OptionError("--checkpoint is required: no bundled model is installed")
    model, ckpt = load_model(checkpoint)
    model.to(resolve_device(device)).eval()
    return model, ckpt


def labels_for_model(labels: np.ndarray, data_class_names: tuple[str, ...], model_class_names: tuple[str, ...]) -> torch.Tensor:
    """Translate a data set's labels into the model's class indices by class name (-1 where unknown)."""
    lookup = {name: i for i, name in enumerate(model_class_names)}
    mapped = [lookup.get(data_class_names[k], -1) if k >= 0 else -1 for k in np.asarray(labels)]
    return torch.as_tensor(mapped, dtype=torch.int64)
