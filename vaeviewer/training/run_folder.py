"""What a training run writes: ``run.json``, ``history.csv``, ``last.pt``, ``best.pt``, a TensorBoard log; an epoch's sums.

:class:`RunFolder` is the only piece of the loop that touches the disk. Every
file is written whole or not at all (:func:`vaeviewer.files.atomic_write`);
under ``torchrun`` only rank 0 writes, and no process goes on before a
checkpoint is complete (:mod:`vaeviewer.training.distributed`). The
TensorBoard event file grows as the run goes
(:mod:`vaeviewer.training.tensorboard_log`); a failure to write it never
stops the run. :func:`start_from` reads the weights a run starts from (``--init``).
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import torch

import vaeviewer
from vaeviewer.errors import CheckpointError, TrainingError
from vaeviewer.model import Checkpoint, ModelConfig, PointCloudVAE, load_checkpoint, save_checkpoint
from vaeviewer.model.checkpoint import remove_stale_temporaries
from vaeviewer.training.distributed import Ranks
from vaeviewer.training.events import PreviewReady, StepEnded
from vaeviewer.training.history import History, write_text_atomic
from vaeviewer.training.settings import SETTING, TrainSettings
from vaeviewer.training.tensorboard_log import TensorBoardLog

__all__ = ["EpochTotals", "RunFolder", "TrainingState", "start_from"]


class EpochTotals:
    """Running sums of the losses of one epoch, saved in step checkpoints for exact resume."""

    names = ("loss", "chamfer", "kl", "classifier_loss", "correct", "labelled", "samples", "seconds")

    def __init__(self, values: torch.Tensor | None = None) -> None:
        self.values = values.double().clone() if values is not None else torch.zeros(len(self.names), dtype=torch.float64)

    def add(self, **amounts: float) -> None:
        """Add to some of the sums."""
        for name, amount in amounts.items():
            self.values[self.names.index(name)] += amount

    def __getitem__(self, name: str) -> float:
        return float(self.values[self.names.index(name)])

    def mean(self, name: str, over: str = "samples") -> float:
        """A sum divided by another (NaN when that one is 0)."""
        denominator = self[over]
        return self[name] / denominator if denominator > 0 else math.nan


@dataclass
class TrainingState:
    """What changes as a run trains and goes into its checkpoints."""

    model: PointCloudVAE
    optimizer: torch.optim.Optimizer
    history: History
    global_step: int
    totals: EpochTotals


class RunFolder:
    """The run folder of one run: its record, history, checkpoints and TensorBoard log.

    The ``log_*`` methods feed the TensorBoard event file (rank 0; on other
    ranks they do nothing); they never raise: a write that fails turns the log
    off and :meth:`log_warning` says so once.

    Parameters
    ----------
    settings : TrainSettings
    config : ModelConfig
    class_names : tuple of str
    record : dict
        What ``run.json`` holds (see :func:`run_record`); the loop may add to it.
    ranks : Ranks
        The processes of the run; only rank 0 writes.
    device : torch.device
        Whose random state the checkpoints save besides the CPU's.
    """

    def __init__(self, settings: TrainSettings, config: ModelConfig, class_names: tuple[str, ...],
                 record: dict[str, object], ranks: Ranks, device: torch.device) -> None:
        self.path = Path(settings.out_dir)
        self.last = self.path / "last.pt"
        self.best = self.path / "best.pt"
        self.settings, self.config, self.class_names = settings, config, class_names
        self.record, self.ranks, self.device = record, ranks, device
        self.log = TensorBoardLog(self.path, classifier=config.num_classes > 0) if ranks.is_main else None

    def write_record(self) -> None:
        """Write ``run.json`` (rank 0); clears temporaries left by a run killed while it saved."""

        def write() -> None:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                remove_stale_temporaries(self.path)
                write_text_atomic(self.path / "run.json", json.dumps(self.record, indent=2) + "\n")
            except OSError as error:
                raise TrainingError(f"{self.path}: cannot write the run folder: {error.strerror or error}") from None

        self.ranks.on_main(write)

    def write_history(self, history: History) -> None:
        """Write ``history.csv`` (rank 0), and the record with it in a distributed run (its rank check)."""

        def write() -> None:
            target = self.path / "history.csv"
            try:
                history.write_csv(target)
            except OSError as error:
                raise TrainingError(f"{target}: cannot write: {error.strerror or error}") from None

        self.ranks.on_main(write)
        if self.ranks.distributed:
            self.write_record()

    def open_log(self, first_step: int) -> None:
        """Start this session's TensorBoard event file (after :meth:`write_record` made the folder)."""
        if self.log is not None:
            self.log.open(first_step)

    def log_step(self, event: StepEnded) -> None:
        """Log the losses of one step."""
        if self.log is not None:
            self.log.add_step(event)

    def log_epoch(self, row: dict[str, float]) -> None:
        """Log an epoch's history row and flush the event file."""
        if self.log is not None:
            self.log.add_epoch(row)

    def log_preview(self, preview: PreviewReady) -> None:
        """Log a preview's Chamfer distance and point clouds."""
        if self.log is not None:
            self.log.add_preview(preview)

    def close_log(self) -> None:
        """Flush and close the event file; safe to call more than once."""
        if self.log is not None:
            self.log.close()

    def log_warning(self) -> str | None:
        """Once, after the log failed: the line that says so; else None."""
        return self.log.take_warning() if self.log is not None else None

    def save(self, path: Path, state: TrainingState, epoch: int, step_in_epoch: int, *, with_optimizer: bool = True) -> None:
        """Write a checkpoint of ``state`` (rank 0); no process goes on before it is complete."""
        rng = {"torch_rng": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        states = self.ranks.gather(rng)
        self.ranks.on_main(lambda: save_checkpoint(
            path, self._checkpoint(state, epoch, step_in_epoch, states, with_optimizer)))

    def _checkpoint(self, state: TrainingState, epoch: int, step_in_epoch: int,
                    rng: list[dict[str, torch.Tensor]], with_optimizer: bool) -> Checkpoint:
        extra: dict[str, object] = {
            "step_in_epoch": step_in_epoch,
            "epoch_totals": state.totals.values.clone(),
            **rng[0],
        }
        if self.ranks.distributed:
            # Each process's random state, for an exact resume with as many processes.
            extra["world_size"] = self.ranks.world_size
            for name in rng[0]:
                extra[f"{name}_ranks"] = torch.stack([ranked[name] for ranked in rng])
        return Checkpoint(
            config=self.config,
            model_state={k: v.detach().cpu() for k, v in state.model.state_dict().items()},
            optimizer_state=state.optimizer.state_dict() if with_optimizer else None,
            epoch=epoch,
            global_step=state.global_step,
            history={k: list(v) for k, v in state.history.columns.items()},
            class_names=self.class_names,
            run_settings=self.settings.to_dict(),
            extra=extra,
        )


def run_record(
    settings: TrainSettings,
    config: ModelConfig,
    class_names: tuple[str, ...],
    data_format: str,
    n_train: int,
    n_val: int,
    device: torch.device,
    ranks: Ranks,
) -> dict[str, object]:
    """What ``run.json`` holds: settings, model, data, where it ran, versions."""
    record: dict[str, object] = {
        "settings": settings.to_dict(),
        "model": config.to_dict(),
        "data": {
            "path": settings.data,
            "format": data_format,
            "class_names": list(class_names),
            "train_shapes": n_train,
            "val_shapes": n_val,
        },
        "device": str(device),
        "world_size": ranks.world_size,
        "backend": ranks.backend or None,
        "versions": {"vaeviewer": vaeviewer.__version__, "torch": torch.__version__, "python": platform.python_version()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if ranks.distributed:
        record["batch_per_process"] = settings.batch_size // ranks.world_size
        record["sync_batch_norm"] = device.type == "cuda"
        # Filled in after each epoch: whether every process holds the same weights (it must).
        record["rank_check"] = None
    return record


def start_from(model: PointCloudVAE, settings: TrainSettings) -> None:
    """Load ``settings.init``'s weights into ``model`` (a new run's start), or say in one line why they do not fit."""
    init = load_checkpoint(settings.init)
    if init.config != model.config:
        raise CheckpointError(settings.init, f"was trained with {init.config}, these settings give {model.config}")
    kind = init.run_settings.get("latent_training")
    if settings.train_parts == "decoder" and kind and kind != settings.latent_training:
        raise SETTING["latent_training"].error(
            f"{{setting}} {settings.latent_training}: --train-parts decoder keeps the latent of {settings.init}, "
            f"which was trained {kind}; pass {{setting}} {kind}")
    model.load_state_dict(init.model_state)  # copies into the model's float32 weights, whatever the file's precision
