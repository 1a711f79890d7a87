"""Opening a trained model for the verbs that use one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from vaeviewer.errors import OptionError
from vaeviewer.model import Checkpoint, PointCloudVAE, load_model
from vaeviewer.training import resolve_device

__all__ = [
    "BUNDLED_MODELS",
    "bundled_checkpoint",
    "bundled_models",
    "choose_checkpoint",
    "labels_for_model",
    "latent_training",
    "open_model",
]

def _resources() -> Path:
    """Where the bundled models are: the installed package ``vaeviewer.resources``, or a checkout's ``resources/``."""
    try:
        from importlib.resources import files

        folder = files("vaeviewer.resources")
        return Path(str(folder))
    except ModuleNotFoundError:  # run from a checkout that was not installed (PYTHONPATH)
        return Path(__file__).resolve().parents[2] / "resources"


#: The models shipped in ``resources/models/``, by name, with the classes each was trained on:
#: ``demo`` on the built-in data set (Y up), ``modelnet10`` on ModelNet10's train split (Z up).
BUNDLED_MODELS: dict[str, tuple[str, ...]] = {
    "demo": ("airplane", "bed", "bench", "bottle", "chair", "lamp", "monitor", "mug", "sofa", "table"),
    "modelnet10": ("bathtub", "bed", "chair", "desk", "dresser", "monitor", "night_stand", "sofa", "table",
                   "toilet"),
}


def bundled_checkpoint(name: str = "demo") -> Path | None:
    """The bundled checkpoint ``name`` (see :data:`BUNDLED_MODELS`), or None if it is not installed."""
    path = _resources() / "models" / f"{name}.pt"
    return path if name in BUNDLED_MODELS and path.is_file() else None


def bundled_models() -> dict[str, Path]:
    """The bundled checkpoints that are installed, by name."""
    found = {name: bundled_checkpoint(name) for name in BUNDLED_MODELS}
    return {name: path for name, path in found.items() if path is not None}


def choose_checkpoint(checkpoint: str | Path | None, class_names: Sequence[str] = ()) -> Path:
    """The checkpoint file meant by ``checkpoint``.

    A path names itself. The name of a bundled model (``demo``, ``modelnet10``)
    that is not also a file names that model. None picks the bundled model
    that knows most of ``class_names`` (the data set's classes: ModelNet10 or
    ModelNet40 get ``modelnet10``), the demo model on a tie or without classes.

    Raises
    ------
    OptionError
        When None or a bundled name is asked for and no such model is installed.
    """
    if checkpoint is not None:
        text = str(checkpoint)
        if text in BUNDLED_MODELS and not Path(text).exists():
            path = bundled_checkpoint(text)
            if path is None:
                raise OptionError(f"--checkpoint {text}: the bundled model {text!r} is not installed")
            return path
        return Path(checkpoint)
    installed = bundled_models()
    if not installed:
        raise OptionError("--checkpoint is required: no bundled model is installed")
    wanted = {name.lower() for name in class_names}
    # max() keeps the first of equals: the demo model (listed first) wins ties.
    best = max(installed, key=lambda name: len(wanted & set(BUNDLED_MODELS[name])))
    return installed[best]


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
