"""The settings of a training run, recorded in ``run.json`` and in every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from vaeviewer.errors import OptionError

__all__ = ["TrainSettings"]


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides what a training run does.

    Parameters
    ----------
    data : str
        Data set path, or ``builtin``.
    out_dir : str
        Run folder: ``last.pt``, ``best.pt``, ``history.csv``, ``run.json``.
    epochs : int
        Epochs to train in total (a resumed run continues up to this many).
    batch_size : int
        Shapes per optimizer step.
    lr : float
        Adam learning rate.
    lr_schedule : str
        ``constant``, or ``cosine``: the rate falls along a half cosine from ``lr`` at
        the first epoch to ``lr / 20`` at the last. It is a function of the epoch
        alone, so a resumed run follows the same schedule.
    beta : float
        Weight of the KL term in the loss ``chamfer + beta * KL + classifier_weight * NLL``.
    prior_std : float
        Standard deviation of the Gaussian prior the KL term pulls towards (0.2 in the seed).
    num_points : int
        Points per cloud, in and out of the model.
    latent_dim : int
        Size of the latent code.
    classifier_weight : float
        Weight of the latent classifier's NLL; 0 trains no classifier.
    seed : int
        Seeds weights, shuffling, sampling and dropout: the same seed gives the same run.
    device : str
        ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:<k>``.
    train_split, val_split : str
        Splits to train and validate on; ``val_split`` may be empty for none.
    max_shapes : int
        Use at most this many training shapes (a class-balanced subset); 0 for all.
    save_every_steps : int
        Also write ``last.pt`` every this many steps inside an epoch; 0 for only at epoch ends.
    preview_every_steps : int
        Also yield a :class:`~vaeviewer.training.PreviewReady` every this many steps inside
        an epoch; 0 for only at epoch ends. Previews do not change the run.
    """

    data: str = "builtin"
    out_dir: str = "runs/vae"
    epochs: int = 100
    batch_size: int = 32
    lr: float = 5e-4
    lr_schedule: str = "constant"
    beta: float = 1e-5
    prior_std: float = 0.2
    num_points: int = 2048
    latent_dim: int = 128
    classifier_weight: float = 1.0
    seed: int = 0
    device: str = "auto"
    train_split: str = "train"
    val_split: str = "test"
    max_shapes: int = 0
    save_every_steps: int = 0
    preview_every_steps: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "--epochs must be at least 1"),
            (self.batch_size >= 2, "--batch-size must be at least 2 (batch norm needs two shapes)"),
            (self.lr > 0, "--lr must be positive"),
            (self.beta >= 0, "--beta must be zero or positive"),
            (self.prior_std > 0, "--prior-std must be positive"),
            (self.num_points >= 16, "--points must be at least 16"),
            (self.latent_dim >= 1, "--latent-dim must be at least 1"),
            (self.classifier_weight >= 0, "--classifier-weight must be zero or positive"),
            (self.max_shapes >= 0, "--max-shapes must be zero or positive"),
            (self.save_every_steps >= 0, "--save-every-steps must be zero or positive"),
            (self.preview_every_steps >= 0, "--preview-every-steps must be zero or positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise OptionError(message)
        if self.lr_schedule not in ("constant", "cosine"):
            raise OptionError(f"--lr-schedule must be constant or cosine, got {self.lr_schedule!r}")
        if self.device != "auto" and self.device != "cpu" and not self.device.startswith("cuda"):
            raise OptionError(f"--device must be auto, cpu or cuda[:k], got {self.device!r}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainSettings:
        """Rebuild settings saved by :meth:`to_dict`, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def with_changes(self, **changes: Any) -> TrainSettings:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)

    def lr_at(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (counted from 0) under :attr:`lr_schedule`."""
        if self.lr_schedule == "constant" or self.epochs <= 1:
            return self.lr
        import math

        progress = min(epoch, self.epochs - 1) / (self.epochs - 1)
        floor = self.lr / 20
        return floor + 0.5 * (self.lr - floor) * (1 + math.cos(math.pi * progress))
