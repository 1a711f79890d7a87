"""The frozen description of a model, saved in every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["ModelConfig"]


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a :class:`~vaeviewer.model.PointCloudVAE`.

    Parameters
    ----------
    num_points : int
        Points per decoded cloud (N); the seed used 2048 or 1024.
    latent_dim : int
        Size of the latent code (128 in the seed).
    num_classes : int
        Classes of the latent classifier; 0 builds no classifier.
    prior_std : float
        Standard deviation of the isotropic Gaussian prior N(0, prior_std^2 I);
        the seed assumed 0.2. Sampling "from the prior" uses it too.
    classifier_dropout : float
        Dropout probability in the latent classifier.
    """

    num_points: int = 2048
    latent_dim: int = 128
    num_classes: int = 0
    prior_std: float = 0.2
    classifier_dropout: float = 0.3

    def __post_init__(self) -> None:
        if not isinstance(self.num_points, int) or self.num_points < 16:
            raise ValueError(f"num_points must be an integer >= 16, got {self.num_points!r}")
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {self.latent_dim!r}")
        if not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise ValueError(f"num_classes must be >= 0, got {self.num_classes!r}")
        if not (self.prior_std > 0):
            raise ValueError(f"prior_std must be > 0, got {self.prior_std!r}")
        if not (0.0 <= self.classifier_dropout < 1.0):
            raise ValueError(f"classifier_dropout must be in [0, 1), got {self.classifier_dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the config as a dict of plain Python values (safe for ``weights_only`` loading)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Build a config from :meth:`to_dict` output; unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**values)
