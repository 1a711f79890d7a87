"""The plain events a training run yields.

Small frozen dataclasses of numbers and strings: they cross threads safely and
carry no tensors, modules or Qt objects. The command line prints them; the
window turns them into signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "TrainingEvent",
    "RunStarted",
    "StepEnded",
    "ValidationEnded",
    "EpochEnded",
    "CheckpointSaved",
    "PreviewReady",
    "RunPaused",
    "RunResumed",
    "RunWarning",
    "RunFinished",
]


@dataclass(frozen=True)
class TrainingEvent:
    """Base class of every event of a training run."""


@dataclass(frozen=True)
class RunStarted(TrainingEvent):
    """The run is set up and about to take its first step.

    Attributes
    ----------
    run_dir : str
        Folder receiving checkpoints and history.
    start_epoch, epochs : int
        Epoch the run starts from (completed epochs so far) and the last one.
    start_step : int
        Steps of ``start_epoch`` already done (non-zero after a mid-epoch resume).
    steps_per_epoch : int
        Optimizer steps in one epoch.
    train_shapes, val_shapes : int
        Shapes in the training and validation splits.
    device : str
        Where the model runs (``cpu``, ``cuda``, ``cuda:1``...).
    resumed : bool
        True when continuing from a checkpoint.
    """

    run_dir: str
    start_epoch: int
    epochs: int
    start_step: int
    steps_per_epoch: int
    train_shapes: int
    val_shapes: int
    device: str
    resumed: bool


@dataclass(frozen=True)
class StepEnded(TrainingEvent):
    """One optimizer step is done; losses are of that step's batch.

    ``epoch`` counts from 0; ``step`` is the 1-based step within the epoch.
    ``chamfer`` is the batch mean Chamfer distance, ``kl`` the batch mean KL
    (before the weight beta), ``loss`` the optimised total.
    """

    epoch: int
    step: int
    steps_per_epoch: int
    global_step: int
    loss: float
    chamfer: float
    kl: float
    classifier_loss: float
    samples_per_second: float


@dataclass(frozen=True)
class ValidationEnded(TrainingEvent):
    """Validation after an epoch: mean Chamfer of the deterministic reconstructions
    (decoded latent means), mean KL, and classifier accuracy (NaN without labels)."""

    epoch: int
    chamfer: float
    kl: float
    classifier_accuracy: float


@dataclass(frozen=True)
class EpochEnded(TrainingEvent):
    """An epoch is complete; ``metrics`` is the row just added to the history."""

    epoch: int
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckpointSaved(TrainingEvent):
    """A checkpoint file was written completely (``kind``: ``last``, ``best`` or ``step``)."""

    path: str
    kind: str
    epoch: int
    global_step: int


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no single truth value
class PreviewReady(TrainingEvent):
    """The model's deterministic reconstruction of one fixed shape, to watch it learn.

    Yielded after each epoch's validation and every ``preview_every_steps``
    steps (see :class:`~vaeviewer.training.TrainSettings`). The shape is the
    first of the validation split, or of the training split without one; the
    reconstruction decodes its latent mean in eval mode, so a preview neither
    draws random numbers nor changes the run.

    Attributes
    ----------
    epoch : int
        Epoch the model is in (from 0); after an epoch's end, that epoch.
    global_step : int
        Optimizer steps taken so far.
    input_points : numpy.ndarray
        The shape, float32 (num_points, 3), read-only.
    reconstruction : numpy.ndarray
        Its reconstruction, float32 (num_points, 3), read-only.
    chamfer : float
        Chamfer distance between the two.
    """

    epoch: int
    global_step: int
    input_points: np.ndarray
    reconstruction: np.ndarray
    chamfer: float


@dataclass(frozen=True)
class RunPaused(TrainingEvent):
    """The run is paused between two steps and waits to be resumed or stopped."""

    global_step: int


@dataclass(frozen=True)
class RunResumed(TrainingEvent):
    """A paused run goes on."""

    global_step: int


@dataclass(frozen=True)
class RunWarning(TrainingEvent):
    """Something went wrong that does not stop the run; ``message`` says what, on one line.

    Yielded once when the TensorBoard log cannot be written (a full disk, a
    folder that refuses the file): the run goes on without it. Only rank 0 of a
    distributed run writes the log, so only rank 0 yields this.
    """

    message: str


@dataclass(frozen=True)
class RunFinished(TrainingEvent):
    """The run ended: ``status`` is ``completed``, ``stopped`` or ``failed``.

    ``message`` says why it ended (one line); ``last_checkpoint`` is the newest
    complete checkpoint on disk, or an empty string if none was written.
    """

    status: str
    epoch: int
    global_step: int
    message: str
    last_checkpoint: str
