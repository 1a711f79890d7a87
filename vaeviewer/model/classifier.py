"""The small classifier that predicts a shape's class from its latent mean."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["CLASSIFIER_WIDTHS", "LatentClassifier"]

#: Widths of the hidden layers, in order.
CLASSIFIER_WIDTHS: tuple[int, ...] = (64, 32)


class LatentClassifier(nn.Module):
    """Classifier D-64-32-C with batch norm, ReLU and dropout after each hidden layer.

    Note that in training mode batch normalisation needs more than one sample
    per batch.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code (D).
    num_classes : int
        Number of classes (C), at least 1.
    dropout : float
        Dropout probability after each hidden layer.

    Attributes
    ----------
    layers : torch.nn.Sequential
        Everything up to the logits.
    """

    def __init__(self, latent_dim: int, num_classes: int, dropout: float = 0.3) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"a classifier needs at least one class, got {num_classes}")
        layers: list[nn.Module] = []
        in_features = latent_dim
        for width in CLASSIFIER_WIDTHS:
            layers += [
                nn.Linear(in_features, width),
                nn.BatchNorm1d(width),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
            ]
            in_features = width
        layers.append(nn.Linear(in_features, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        """Class log-probabilities (``log_softmax`` of the logits), (B, C), of latent codes ``z``, (B, D)."""
        return F.log_softmax(self.layers(z), dim=-1)
