"""The point-cloud VAE in torch: networks, losses and checkpoint files.

This package imports only torch, numpy and the standard library (no Qt, no
pyvista/VTK), so the training loop and the command line can use it headless.
"""

from vaeviewer.model.checkpoint import (
    Checkpoint,
    build_model,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from vaeviewer.model.classifier import LatentClassifier
from vaeviewer.model.config import ModelConfig
from vaeviewer.model.decoder import PointDecoder
from vaeviewer.model.encoder import PointNetEncoder
from vaeviewer.model.guard import exclusive, model_lock
from vaeviewer.model.losses import (
    chamfer_distance,
    chamfer_per_point,
    classifier_nll,
    kl_divergence,
    nearest_neighbors,
)
from vaeviewer.model.vae import PointCloudVAE, VAEOutput

__all__ = [
    "Checkpoint",
    "LatentClassifier",
    "ModelConfig",
    "PointCloudVAE",
    "PointDecoder",
    "PointNetEncoder",
    "VAEOutput",
    "build_model",
    "chamfer_distance",
    "chamfer_per_point",
    "exclusive",
    "classifier_nll",
    "kl_divergence",
    "load_checkpoint",
    "load_model",
    "model_lock",
    "nearest_neighbors",
    "save_checkpoint",
]
