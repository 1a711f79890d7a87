"""The training loop: a generator of plain events with stop, pause and exact resume.

The loop owns everything a run does: it opens the data, builds the model,
steps the optimizer, validates after each epoch, and writes ``last.pt``,
``best.pt``, ``history.csv`` and ``run.json`` into the run folder. Callers
only iterate it: the command line prints the events, the window turns them
into signals. Between two steps it checks :class:`RunControl`; a stopped run
saves where it is, and ``resume`` continues bit for bit where it left off
(shuffling is seeded per epoch and the RNG state is saved in the checkpoint).

The latent classifier trains jointly with the VAE, on the *detached* latent
mean: its gradient never reaches the encoder, so the latent space stays
unsupervised (which keeps linear-SVM evaluation of the latents honest) while
the classifier still follows the encoder as it learns.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import vaeviewer
from vaeviewer.data import ShapeSplit, open_dataset
from vaeviewer.errors import CheckpointError, OptionError, TrainingError
from vaeviewer.model import (
    Checkpoint,
    ModelConfig,
    PointCloudVAE,
    chamfer_distance,
    classifier_nll,
    kl_divergence,
    load_checkpoint,
    save_checkpoint,
)
from vaeviewer.training.control import RunControl
from vaeviewer.training.events import (
    CheckpointSaved,
    EpochEnded,
    PreviewReady,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    StepEnded,
    TrainingEvent,
    ValidationEnded,
)
from vaeviewer.training.history import History, write_text_atomic
from vaeviewer.training.memory import keep_freed_memory
from vaeviewer.training.settings import TrainSettings
from vaeviewer.training.validation import score_clouds

__all__ = ["train", "check_start", "resolve_device", "settings_for_resume", "balanced_subset"]

# Settings that change the model or the data it sees: a resumed run must keep them.
_FIXED_ON_RESUME = ("data", "num_points", "latent_dim", "train_split", "max_shapes", "seed", "batch_size")


def resolve_device(name: str) -> torch.device:
    """Turn ``auto``/``cpu``/``cuda[:k]`` into a device, checking that it exists."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise OptionError(f"--device {name}: no CUDA device is available on this machine")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise OptionError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return device
    if name == "cpu":
        return torch.device("cpu")
    raise OptionError(f"--device must be auto, cpu or cuda[:k], got {name!r}")


def settings_for_resume(out_dir: str | Path, overrides: dict[str, object]) -> TrainSettings:
    """The settings of the run in ``out_dir``, with ``overrides`` applied.

    Only settings that do not change the model or its data may differ (epochs,
    learning rate, device...); changing the others is refused with an
    :class:`OptionError` naming the setting.
    """
    last = Path(out_dir) / "last.pt"
    if not last.is_file():
        raise OptionError(f"{out_dir}: nothing to resume (no last.pt in this folder)")
    saved = TrainSettings.from_dict(load_checkpoint(last).run_settings)
    for name in _FIXED_ON_RESUME:
        if name in overrides and overrides[name] != getattr(saved, name):
            raise OptionError(
                f"{_option(name)} {overrides[name]} differs from the run being resumed "
                f"({getattr(saved, name)}); start a new run to change it"
            )
    return saved.with_changes(**{**overrides, "out_dir": str(out_dir)})


def check_start(settings: TrainSettings, *, resume: bool = False) -> None:
    """Refuse a run that cannot start, before any data is read (the checks :func:`train` makes first).

    Cheap enough for a window to call before it starts a worker: it looks at
    the run folder and the device only.

    Raises
    ------
    OptionError
        When ``out_dir`` is a file, already holds a run (without ``resume``) or
        holds none to resume, or when the device does not exist.
    """
    out_dir = Path(settings.out_dir)
    last_path = out_dir / "last.pt"
    if not resume and last_path.exists():
        raise OptionError(f"{out_dir}: already holds a run (last.pt); pass --resume to continue it or choose another --out")
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"--out {out_dir}: is a file, not a folder")
    if resume and not last_path.is_file():
        raise OptionError(f"{out_dir}: nothing to resume (no last.pt in this folder)")
    resolve_device(settings.device)


def _option(name: str) -> str:
    """The command-line option of a setting."""
    return "--points" if name == "num_points" else f"--{name.replace('_', '-')}"


def balanced_subset(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of ``count`` shapes taken round-robin over classes, in a seeded order."""
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == c)).tolist() for c in np.unique(labels)]
    chosen: list[int] = []
    while len(chosen) < min(count, len(labels)):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(pool.pop())
    return np.sort(np.asarray(chosen, dtype=np.int64))


@dataclass
class _Clouds:
    points: torch.Tensor  # (n, N, 3) float32 on the training device
    labels: torch.Tensor  # (n,) int64, -1 where unknown


def _load_split(split: ShapeSplit, num_points: int, device: torch.device, indices: np.ndarray | None) -> _Clouds:
    drop = getattr(split, "drop_unreadable", None)
    if drop is not None:
        drop(num_points)
    labels = np.asarray(split.labels, dtype=np.int64)
    if indices is None:
        points = split.load_all(num_points)
    else:
        points = np.stack([split.points(int(i), num_points) for i in indices])
        labels = labels[indices]
    return _Clouds(torch.tensor(points, dtype=torch.float32, device=device), torch.tensor(labels, device=device))


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


class _EpochTotals:
    """Running sums of the losses of one epoch, saved in step checkpoints for exact resume."""

    names = ("loss", "chamfer", "kl", "classifier_loss", "correct", "labelled", "samples", "seconds")

    def __init__(self, values: torch.Tensor | None = None) -> None:
        self.values = values.double().clone() if values is not None else torch.zeros(len(self.names), dtype=torch.float64)

    def add(self, **amounts: float) -> None:
        for name, amount in amounts.items():
            self.values[self.names.index(name)] += amount

    def __getitem__(self, name: str) -> float:
        return float(self.values[self.names.index(name)])

    def mean(self, name: str, over: str = "samples") -> float:
        denominator = self[over]
        return self[name] / denominator if denominator > 0 else math.nan


def train(settings: TrainSettings, control: RunControl | None = None, *, resume: bool = False) -> Iterator[TrainingEvent]:
    """Run training as a generator of :mod:`~vaeviewer.training.events`.

    Parameters
    ----------
    settings : TrainSettings
        What to train and where to write it. With ``resume``, use
        :func:`settings_for_resume` to get the saved settings.
    control : RunControl, optional
        Stop and pause requests, checked between steps.
    resume : bool
        Continue the run in ``settings.out_dir`` from its ``last.pt``.

    Yields
    ------
    TrainingEvent
        ``RunStarted``, then ``StepEnded`` per step, ``ValidationEnded``,
        ``CheckpointSaved`` and ``EpochEnded`` per epoch, ``RunPaused`` and
        ``RunResumed`` around pauses, and always a final ``RunFinished``.

    Raises
    ------
    OptionError, DataFileError, CheckpointError, TrainingError
        For a bad setting, unreadable data, an unusable checkpoint or a run
        folder that cannot be written. Files already written stay intact.
    """
    control = control or RunControl()
    keep_freed_memory()
    out_dir = Path(settings.out_dir)
    last_path, best_path = out_dir / "last.pt", out_dir / "best.pt"
    check_start(settings, resume=resume)
    device = resolve_device(settings.device)
    checkpoint = load_checkpoint(last_path) if resume else None

    dataset = open_dataset(settings.data)
    train_name = settings.train_split
    if train_name not in dataset.split_names and len(dataset.split_names) == 1:
        train_name = dataset.split_names[0]  # a folder of files has one split, "all": train on it
    train_split = dataset.split(train_name)
    class_names = tuple(dataset.class_names)
    subset = None
    if settings.max_shapes and settings.max_shapes < len(train_split):
        subset = balanced_subset(np.asarray(train_split.labels), settings.max_shapes, settings.seed)
    train_data = _load_split(train_split, settings.num_points, device, subset)
    val_data = None
    if settings.val_split and settings.val_split in dataset.split_names and settings.val_split != train_name:
        val_data = _load_split(dataset.split(settings.val_split), settings.num_points, device, None)
    dataset.close()
    n_train = len(train_data.points)
    if n_train < 2:
        raise OptionError(f"{settings.data}: training needs at least 2 shapes, split {train_name!r} has {n_train}")

    has_labels = bool((train_data.labels >= 0).any())
    config = ModelConfig(
        num_points=settings.num_points,
        latent_dim=settings.latent_dim,
        num_classes=len(class_names) if settings.classifier_weight > 0 and has_labels else 0,
        prior_std=settings.prior_std,
    )
    torch.manual_seed(settings.seed)
    model = PointCloudVAE(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    history = History()
    start_epoch = start_step = global_step = 0
    totals = _EpochTotals()
    if checkpoint is not None:
        if checkpoint.config != config:
            raise CheckpointError(last_path, f"was trained with {checkpoint.config}, these settings give {config}")
        model.load_state_dict(checkpoint.model_state)
        if checkpoint.optimizer_state is None:
            raise CheckpointError(last_path, "holds no optimizer state, so training cannot resume from it")
        optimizer.load_state_dict(checkpoint.optimizer_state)
        history = History(checkpoint.history)
        start_epoch, global_step = checkpoint.epoch, checkpoint.global_step
        start_step = int(checkpoint.extra.get("step_in_epoch", 0))
        history.truncate(start_epoch)
        if "epoch_totals" in checkpoint.extra and start_step:
            totals = _EpochTotals(checkpoint.extra["epoch_totals"])
        if "torch_rng" in checkpoint.extra:
            torch.set_rng_state(checkpoint.extra["torch_rng"])
        if device.type == "cuda" and "cuda_rng" in checkpoint.extra:
            torch.cuda.set_rng_state(checkpoint.extra["cuda_rng"], device)

    preview_cloud = (val_data if val_data is not None else train_data).points[:1]

    @torch.no_grad()
    def make_preview(epoch: int) -> PreviewReady:
        # Eval mode on the latent mean draws no random numbers and updates no batch-norm
        # statistics, so a run with previews takes exactly the steps of one without.
        was_training = model.training
        model.eval()
        try:
            mu, _ = model.encode(preview_cloud)
            reconstruction = model.decode(mu)
            chamfer = float(chamfer_distance(reconstruction, preview_cloud).mean())
        finally:
            model.train(was_training)
        points, decoded = preview_cloud[0].cpu().numpy().copy(), reconstruction[0].cpu().numpy()
        points.flags.writeable = decoded.flags.writeable = False  # it crosses threads: nobody may change it
        return PreviewReady(epoch, global_step, points, decoded, chamfer)

    batch_size = min(settings.batch_size, n_train)
    steps_per_epoch = n_train // batch_size  # the last partial batch is dropped: batch norm needs full batches
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_run_json(out_dir, settings, config, class_names, dataset.format, n_train, val_data, device)
    except OSError as error:
        raise TrainingError(f"{out_dir}: cannot write the run folder: {error.strerror or error}") from None

    def make_checkpoint(epoch: int, step_in_epoch: int, with_optimizer: bool = True) -> Checkpoint:
        extra: dict[str, object] = {
            "step_in_epoch": step_in_epoch,
            "epoch_totals": totals.values.clone(),
            "torch_rng": torch.get_rng_state(),
        }
        if device.type == "cuda":
            extra["cuda_rng"] = torch.cuda.get_rng_state(device)
        return Checkpoint(
            config=config,
            model_state={k: v.detach().cpu() for k, v in model.state_dict().items()},
            optimizer_state=optimizer.state_dict() if with_optimizer else None,
            epoch=epoch,
            global_step=global_step,
            history={k: list(v) for k, v in history.columns.items()},
            class_names=class_names,
            run_settings=settings.to_dict(),
            extra=extra,
        )

    yield RunStarted(
        run_dir=str(out_dir),
        start_epoch=start_epoch,
        epochs=settings.epochs,
        start_step=start_step,
        steps_per_epoch=steps_per_epoch,
        train_shapes=n_train,
        val_shapes=len(val_data.points) if val_data is not None else 0,
        device=str(device),
        resumed=checkpoint is not None,
    )
    last_written = str(last_path) if checkpoint is not None else ""
    model.train()
    for epoch in range(start_epoch, settings.epochs):
        order = torch.randperm(n_train, generator=torch.Generator().manual_seed(_epoch_seed(settings.seed, epoch)))
        order = order.to(device)
        for group in optimizer.param_groups:
            group["lr"] = settings.lr_at(epoch)
        for step in range(start_step, steps_per_epoch):
            if control.is_paused and not control.should_stop:
                yield RunPaused(global_step=global_step)
                while not control.wait_while_paused(0.1):
                    pass
                if not control.should_stop:
                    yield RunResumed(global_step=global_step)
            if control.should_stop:
                save_checkpoint(last_path, make_checkpoint(epoch, step))
                yield CheckpointSaved(str(last_path), "last", epoch, global_step)
                yield RunFinished("stopped", epoch, global_step, f"stopped at epoch {epoch + 1}, step {step}; saved {last_path}", str(last_path))
                return
            began = time.perf_counter()
            index = order[step * batch_size : (step + 1) * batch_size]
            clouds, labels = train_data.points[index], train_data.labels[index]
            output = model(clouds)
            chamfer = chamfer_distance(output.reconstruction, clouds).mean()
            kl = kl_divergence(output.mu, output.logvar, settings.prior_std).mean()
            classifier_loss = (
                classifier_nll(output.log_probs, labels) if output.log_probs is not None else torch.zeros((), device=device)
            )
            loss = chamfer + settings.beta * kl + settings.classifier_weight * classifier_loss
            loss_value, chamfer_value, kl_value = float(loss.detach()), float(chamfer.detach()), float(kl.detach())
            classifier_value = float(classifier_loss.detach())
            if not math.isfinite(loss_value):
                message = (
                    f"loss became {loss_value} at epoch {epoch + 1}, step {step + 1} "
                    f"(Chamfer {chamfer_value:.4g}, KL {kl_value:.4g}); try a lower --lr"
                )
                kept = f"; the last good checkpoint {last_written} is kept" if last_written else "; no checkpoint was written"
                yield RunFinished("failed", epoch, global_step, message + kept, last_written)
                return
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            global_step += 1
            seconds = time.perf_counter() - began
            if output.log_probs is not None:
                known = labels >= 0
                correct = float((output.log_probs.argmax(1)[known] == labels[known]).sum())
                labelled = float(known.sum())
            else:
                correct = labelled = 0.0
            b = len(clouds)
            totals.add(
                loss=loss_value * b,
                chamfer=chamfer_value * b,
                kl=kl_value * b,
                classifier_loss=classifier_value * b,
                correct=correct,
                labelled=labelled,
                samples=b,
                seconds=seconds,
            )
            yield StepEnded(
                epoch=epoch,
                step=step + 1,
                steps_per_epoch=steps_per_epoch,
                global_step=global_step,
                loss=loss_value,
                chamfer=chamfer_value,
                kl=kl_value,
                classifier_loss=classifier_value,
                samples_per_second=b / seconds if seconds > 0 else math.inf,
            )
            if settings.save_every_steps and global_step % settings.save_every_steps == 0 and step + 1 < steps_per_epoch:
                save_checkpoint(last_path, make_checkpoint(epoch, step + 1))
                last_written = str(last_path)
                yield CheckpointSaved(str(last_path), "step", epoch, global_step)
            if settings.preview_every_steps and global_step % settings.preview_every_steps == 0 and step + 1 < steps_per_epoch:
                yield make_preview(epoch)
        start_step = 0

        row = {
            "epoch": epoch + 1,
            "global_step": global_step,
            "train_loss": totals.mean("loss"),
            "train_chamfer": totals.mean("chamfer"),
            "train_kl": totals.mean("kl"),
            "train_classifier_loss": totals.mean("classifier_loss"),
            "train_accuracy": totals.mean("correct", over="labelled"),
            "lr": settings.lr_at(epoch),
            "seconds": totals["seconds"],
        }
        if val_data is not None:
            scores = score_clouds(model, val_data.points, val_data.labels)
            row.update(val_chamfer=scores.chamfer_mean, val_kl=scores.kl_mean, val_accuracy=scores.classifier_accuracy)
            yield ValidationEnded(epoch, scores.chamfer_mean, scores.kl_mean, scores.classifier_accuracy)
        yield make_preview(epoch)
        criterion = "val_chamfer" if val_data is not None else "train_chamfer"
        is_best = row[criterion] < history.best(criterion)
        history.append(row)
        totals = _EpochTotals()
        save_checkpoint(last_path, make_checkpoint(epoch + 1, 0))
        last_written = str(last_path)
        yield CheckpointSaved(str(last_path), "last", epoch + 1, global_step)
        if is_best:
            save_checkpoint(best_path, make_checkpoint(epoch + 1, 0, with_optimizer=False))
            yield CheckpointSaved(str(best_path), "best", epoch + 1, global_step)
        try:
            history.write_csv(out_dir / "history.csv")
        except OSError as error:
            raise TrainingError(f"{out_dir / 'history.csv'}: cannot write: {error.strerror or error}") from None
        yield EpochEnded(epoch, {k: float(v) for k, v in row.items()})
    yield RunFinished(
        "completed",
        settings.epochs,
        global_step,
        f"trained {settings.epochs} epochs ({global_step} steps); saved {last_path}",
        last_written,
    )


def _write_run_json(
    out_dir: Path,
    settings: TrainSettings,
    config: ModelConfig,
    class_names: tuple[str, ...],
    data_format: str,
    n_train: int,
    val_data: _Clouds | None,
    device: torch.device,
) -> None:
    record = {
        "settings": settings.to_dict(),
        "model": config.to_dict(),
        "data": {
            "path": settings.data,
            "format": data_format,
            "class_names": list(class_names),
            "train_shapes": n_train,
            "val_shapes": len(val_data.points) if val_data is not None else 0,
        },
        "device": str(device),
        "world_size": 1,
        "versions": {"vaeviewer": vaeviewer.__version__, "torch": torch.__version__, "python": platform.python_version()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_text_atomic(out_dir / "run.json", json.dumps(record, indent=2) + "\n")
