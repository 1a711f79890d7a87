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
    decoder_widths : tuple of int
        Widths of the decoder's hidden layers; (256, 512, 1024) as the seed describes it. The
        original work's code has one more, (128, 256, 512, 1024), and its models open with that.
    """

    num_points: int = 2048
    latent_dim: int = 128
    num_classes: int = 0
    prior_std: float = 0.2
    classifier_dropout: float = 0.3
    decoder_widths: tuple[int, ...] = (256, 512, 1024)

    def __post_init__(self) -> None:
        if not isinstance(self.num_points, int) or self.num_points < 16:
            raise ValueError(f"num_points must be an integer >= 16, got {self.num_points!r}")
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {self.latent_dim!r}")
        if not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise ValueError(f"num_classes must be >= 0, got {self.num_classes!r}")
        if not (self.prior_std > 0):
            raise ValueError(f"prior_std must be > 0, got {self.prior_std!r}")
        widths = self.decoder_widths
        if not isinstance(widths, tuple) or not widths or not all(type(w) is int and w >= 1 for w in widths):
            raise ValueError(f"decoder_widths must be a non-empty tuple of positive integers, got {widths!r}")
        if not (0.0 <= self.classifier_dropout < 1.0):
            raise ValueError(f"classifier_dropout must be in [0, 1), got {self.classifier_dropout!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the config as a dict of plain Python values (safe for ``weights_only`` loading).

        The decoder's widths are left out when they are the default, so that files of the
        usual architecture stay readable by versions that predate the setting.
        """
        values = asdict(self)
        if self.decoder_widths == ModelConfig.decoder_widths:
            del values["decoder_widths"]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Build a config from :meth:`to_dict` output; unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        if isinstance(values.get("decoder_widths"), list):
            values = {**values, "decoder_widths": tuple(values["decoder_widths"])}
        return cls(**values)
