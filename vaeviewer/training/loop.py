"""The training loop: a generator of plain events with stop, pause and exact resume.

The loop owns everything a run does: it opens the data, builds the model,
steps the optimizer, validates after each epoch, and writes ``last.pt``,
``best.pt``, ``history.csv``, ``run.json`` and a TensorBoard event file into
the run folder. Callers only iterate it: the command line prints the events,
the window turns them into signals. Between two steps it checks
:class:`TaskControl`; a stopped run saves where it is, and ``resume``
continues bit for bit where it left off (shuffling is seeded per epoch and
the RNG state is saved in the checkpoint).

Started by ``torchrun``, every process runs the same loop on its shard of each
epoch and DistributedDataParallel averages their gradients; stops and errors
are agreed between the processes, and only rank 0 writes the run folder
(:mod:`vaeviewer.training.distributed`).

The latent classifier trains with the VAE. By default (``latent_training``
``unsupervised``) it reads the *detached* latent mean: its gradient never
reaches the encoder, so the latent space stays unsupervised (the protocol of
linear-SVM evaluation in the literature) while the classifier still follows
the encoder as it learns. ``joint`` lets its loss shape the latent too; the
two kinds of latent are reported apart, never mixed. Batches may be augmented
and validation may come from a part of the training split held out by seed
(:mod:`vaeviewer.training.augment`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vaeviewer.data import ShapeSplit, open_dataset
from vaeviewer.errors import CheckpointError, OptionError
from vaeviewer.model import (
    ModelConfig,
    PointCloudVAE,
    chamfer_distance,
    classifier_nll,
    kl_divergence,
    load_checkpoint,
)
from vaeviewer.model.guard import exclusive
from vaeviewer.tasks import TaskControl
from vaeviewer.training.augment import augment_batch
from vaeviewer.training.distributed import (
    SINGLE_PROCESS,
    Ranks,
    join_process_group,
    per_process_batch,
    prepare_model,
    record_shard,
    shard_of_epoch,
    torchrun_environment,
    weights_digest,
    wrap_model,
)
from vaeviewer.training.events import (
    CheckpointSaved,
    EpochEnded,
    PreviewReady,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    RunWarning,
    StepEnded,
    TrainingEvent,
    ValidationEnded,
)
from vaeviewer.training.history import History
from vaeviewer.training.memory import keep_freed_memory
from vaeviewer.training.run_folder import EpochTotals, RunFolder, TrainingState, run_record, start_from
from vaeviewer.training.settings import SETTING, SETTINGS, TrainSettings, parse_augmentations
from vaeviewer.training.subsets import balanced_class_weights, training_indices
from vaeviewer.training.validation import score_across_ranks

__all__ = ["train", "check_start", "resolve_device", "settings_for_resume"]

def resolve_device(name: str) -> torch.device:
    """Turn ``auto``/``cpu``/``cuda[:k]`` into a device, checking that it exists."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SETTING["device"].error(f"{{setting}} {name}: no CUDA device is available on this machine")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SETTING["device"].error(f"{{setting}} {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return device
    if name == "cpu":
        return torch.device("cpu")
    raise SETTING["device"].error(f"{{setting}} must be auto, cpu or cuda[:k], got {name!r}")


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
    for entry in SETTINGS:
        if entry.fixed_on_resume and entry.name in overrides and overrides[entry.name] != getattr(saved, entry.name):
            raise entry.error(
                f"{{setting}} {overrides[entry.name]} differs from the run being resumed "
                f"({getattr(saved, entry.name)}); start a new run to change it"
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
        raise SETTING["out_dir"].error(
            f"{out_dir}: already holds a run (last.pt); pass --resume to continue it or choose another {{setting}}",
            f"{out_dir}: already holds a run (last.pt); tick Resume to continue it or choose another folder",
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise SETTING["out_dir"].error(f"{{setting}} {out_dir}: is a file, not a folder")
    if resume and not last_path.is_file():
        raise OptionError(f"{out_dir}: nothing to resume (no last.pt in this folder)")
    resolve_device(settings.device)


@dataclass
class _Clouds:
    points: torch.Tensor  # (n, N, 3) float32 on the training device
    labels: torch.Tensor  # (n,) int64, -1 where unknown


def _readable(split: ShapeSplit, num_points: int) -> ShapeSplit:
    """The split without the files that cannot be read (a folder of files renumbers its shapes then)."""
    split.drop_unreadable(num_points)
    return split


def _load_split(split: ShapeSplit, num_points: int, device: torch.device, indices: np.ndarray | None) -> _Clouds:
    labels = np.asarray(split.labels, dtype=np.int64)
    if indices is None:
        points = split.load_all(num_points)
    else:
        points = np.stack([split.points(int(i), num_points) for i in indices])
        labels = labels[indices]
    return _Clouds(torch.tensor(points, dtype=torch.float32, device=device), torch.tensor(labels, device=device))


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


def train(settings: TrainSettings, control: TaskControl | None = None, *, resume: bool = False) -> Iterator[TrainingEvent]:
    """Run training as a generator of :mod:`~vaeviewer.training.events`.

    Started by ``torchrun`` (its ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``
    are set), every process runs this generator: they train one model with
    DistributedDataParallel, each on its shard of every epoch, and only rank 0
    writes the run folder (see :mod:`vaeviewer.training.distributed`). All
    processes yield the same events, with losses averaged over the global
    batch, except :class:`PreviewReady` and :class:`RunWarning`, which only
    rank 0 makes.

    Parameters
    ----------
    settings : TrainSettings
        What to train and where to write it. With ``resume``, use
        :func:`settings_for_resume` to get the saved settings. Under
        ``torchrun``, ``batch_size`` is the global batch, split evenly over
        the processes.
    control : TaskControl, optional
        Stop and pause requests, checked between steps. Under ``torchrun`` a
        stop requested in any process stops all of them after the same step.
    resume : bool
        Continue the run in ``settings.out_dir`` from its ``last.pt``.

    Yields
    ------
    TrainingEvent
        ``RunStarted``, then ``StepEnded`` per step, ``ValidationEnded``,
        ``CheckpointSaved`` and ``EpochEnded`` per epoch, ``RunPaused`` and
        ``RunResumed`` around pauses, ``RunWarning`` once if the TensorBoard
        log cannot be written (the run goes on), and always a final
        ``RunFinished``.

    Raises
    ------
    OptionError, DataFileError, CheckpointError, TrainingError
        For a bad setting, unreadable data, an unusable checkpoint or a run
        folder that cannot be written. Files already written stay intact.
        Under ``torchrun`` such an error in any process is raised in all of
        them (:class:`~vaeviewer.training.distributed.RankFailed` where it
        happened elsewhere).
    """
    control = control or TaskControl()
    keep_freed_memory()
    if torchrun_environment() is None:
        yield from _train(settings, control, resume, SINGLE_PROCESS)
        return
    with join_process_group(settings.device) as ranks:
        yield from _train(settings, control, resume, ranks)


@dataclass
class _Setup:
    """A run ready for its first step: data, model, optimizer and where it starts."""

    device: torch.device
    resumed: bool
    train_data: _Clouds
    val_data: _Clouds | None
    subset: np.ndarray | None
    class_names: tuple[str, ...]
    data_format: str
    config: ModelConfig
    model: PointCloudVAE
    optimizer: torch.optim.Optimizer
    history: History
    start_epoch: int
    start_step: int
    global_step: int
    totals: EpochTotals
    batch_size: int  # shapes per step of this process


def _rank_seed(seed: int, rank: int, global_step: int) -> int:
    return int(np.random.SeedSequence([seed, rank, global_step, 1]).generate_state(1)[0])


def _prepare(settings: TrainSettings, resume: bool, ranks: Ranks) -> _Setup:
    out_dir = Path(settings.out_dir)
    last_path = out_dir / "last.pt"
    check_start(settings, resume=resume)
    device = ranks.device if ranks.device is not None else resolve_device(settings.device)
    if ranks.distributed:
        batch_size = per_process_batch(settings.batch_size, ranks.world_size)
    checkpoint = load_checkpoint(last_path) if resume else None

    dataset = open_dataset(settings.data)
    train_split = _readable(dataset.training_split(settings.train_split), settings.num_points)  # before any index
    train_name = train_split.name
    class_names = tuple(dataset.class_names)
    subset, held_out = training_indices(np.asarray(train_split.labels), settings.holdout, settings.max_shapes,
                                         settings.seed)
    train_data = _load_split(train_split, settings.num_points, device, subset)
    val_data = None
    if held_out is not None:
        val_data = _load_split(train_split, settings.num_points, device, held_out)
    elif settings.val_split and settings.val_split in dataset.split_names and settings.val_split != train_name:
        val_data = _load_split(_readable(dataset.split(settings.val_split), settings.num_points), settings.num_points,
                               device, None)
    dataset.close()
    n_train = len(train_data.points)
    if n_train < 2:
        raise OptionError(f"{settings.data}: training needs at least 2 shapes, split {train_name!r} has {n_train}")
    if ranks.distributed:
        if settings.batch_size > n_train:
            raise SETTING["batch_size"].error(f"{{setting}} {settings.batch_size} is more than the {n_train} training shapes")
    else:
        batch_size = min(settings.batch_size, n_train)

    has_labels = bool((train_data.labels >= 0).any())
    config = ModelConfig(
        num_points=settings.num_points,
        latent_dim=settings.latent_dim,
        num_classes=len(class_names) if settings.classifier_weight > 0 and has_labels else 0,
        prior_std=settings.prior_std,
    )
    torch.manual_seed(settings.seed)
    model = PointCloudVAE(config)
    if settings.init and checkpoint is None:
        start_from(model, settings)
    if settings.train_parts == "decoder":
        model.freeze_all_but_decoder()
    model = prepare_model(model.to(device), ranks)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=settings.lr)
    history = History()
    start_epoch = start_step = global_step = 0
    totals = EpochTotals()
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
            totals = EpochTotals(checkpoint.extra["epoch_totals"])
        _restore_rng(checkpoint.extra, settings.seed, global_step, device, ranks)
    elif ranks.rank > 0:
        # Every process built the same weights from the seed; from here on each draws its own
        # sampling noise and dropout. Rank 0 goes on with the stream of a single-process run.
        torch.manual_seed(_rank_seed(settings.seed, ranks.rank, 0))
    return _Setup(device, checkpoint is not None, train_data, val_data, subset, class_names, dataset.format, config,
                  model, optimizer, history, start_epoch, start_step, global_step, totals, batch_size)


def _restore_rng(extra: dict, seed: int, global_step: int, device: torch.device, ranks: Ranks) -> None:
    """Put back the random state a stopped run saved, so that it goes on as if never stopped.

    Each process of a distributed run gets its own saved state when the run
    had as many processes; otherwise ranks above 0 start fresh streams (and
    the resumed run is no longer the bit-for-bit continuation).
    """
    per_rank = extra.get("torch_rng_ranks")
    if ranks.distributed and per_rank is not None and len(per_rank) == ranks.world_size:
        torch.set_rng_state(per_rank[ranks.rank].clone())  # a row of the stacked states: its own storage
        if device.type == "cuda" and extra.get("cuda_rng_ranks") is not None:
            torch.cuda.set_rng_state(extra["cuda_rng_ranks"][ranks.rank].clone(), device)
    elif ranks.rank == 0:
        if "torch_rng" in extra:
            torch.set_rng_state(extra["torch_rng"])
        if device.type == "cuda" and "cuda_rng" in extra:
            torch.cuda.set_rng_state(extra["cuda_rng"], device)
    else:
        torch.manual_seed(_rank_seed(seed, ranks.rank, global_step))


def _train(settings: TrainSettings, control: TaskControl, resume: bool, ranks: Ranks) -> Iterator[TrainingEvent]:
    setup = ranks.agree(lambda: _prepare(settings, resume, ranks))
    assert setup is not None
    yield from _Run(settings, setup, ranks).events(control)


class _Run:
    """One run from its first step to its end, in named pieces: a step, an epoch, the end of an epoch.

    :meth:`events` is the loop; :meth:`_epoch` runs the steps of one epoch and
    checks the stop and pause requests between them; :meth:`_step` is one
    optimizer step; :meth:`_end_epoch` validates, previews, keeps the history
    and saves. What they write goes through the :class:`RunFolder`.
    """

    def __init__(self, settings: TrainSettings, setup: _Setup, ranks: Ranks) -> None:
        self.settings, self.setup, self.ranks = settings, setup, ranks
        self.device, self.train_data, self.val_data = setup.device, setup.train_data, setup.val_data
        self.model = setup.model
        self.network = wrap_model(setup.model, ranks) if ranks.distributed else setup.model
        self.state = TrainingState(setup.model, setup.optimizer, setup.history, setup.global_step, setup.totals)
        self.augmentations = parse_augmentations(settings.augment)
        self.class_weights = None
        if settings.class_weights == "balanced" and setup.config.num_classes:
            weights = balanced_class_weights(self.train_data.labels.cpu().numpy(), setup.config.num_classes)
            self.class_weights = torch.as_tensor(weights, dtype=torch.float32, device=self.device)
        self.batch_size = setup.batch_size  # of this process; the global batch is world_size times larger
        self.n_train = len(self.train_data.points)
        # The last partial batch is dropped: batch norm needs full batches. Under torchrun this is
        # (n_train // world_size) // batch_size, which equals n_train // global batch.
        self.steps_per_epoch = (self.n_train // ranks.world_size) // self.batch_size
        self.preview_cloud = (self.val_data if self.val_data is not None else self.train_data).points[:1]
        n_val = len(self.val_data.points) if self.val_data is not None else 0
        record = run_record(settings, setup.config, setup.class_names, setup.data_format, self.n_train, n_val,
                            self.device, ranks)
        self.folder = RunFolder(settings, setup.config, setup.class_names, record, ranks, self.device)
        self.last_written = str(self.folder.last) if setup.resumed else ""

    def events(self, control: TaskControl) -> Iterator[TrainingEvent]:
        """The whole run: ``RunStarted``, every epoch's events, and a last ``RunFinished``.

        The TensorBoard log is closed however the run ends: completed, stopped,
        failed, raised or abandoned by its caller (the generator closed).
        """
        try:
            self.folder.write_record()
            self.folder.open_log(self.setup.global_step + 1)
            finished = yield from self._run(control)
            self.folder.close_log()
            yield from self._log_warning()
            yield finished
        finally:
            self.folder.close_log()

    def _run(self, control: TaskControl) -> Generator[TrainingEvent, None, RunFinished]:
        """``RunStarted`` and every epoch's events; returns how the run ended."""
        settings, setup = self.settings, self.setup
        yield RunStarted(
            run_dir=str(self.folder.path),
            start_epoch=setup.start_epoch,
            epochs=settings.epochs,
            start_step=setup.start_step,
            steps_per_epoch=self.steps_per_epoch,
            train_shapes=self.n_train,
            val_shapes=len(self.val_data.points) if self.val_data is not None else 0,
            device=str(self.device),
            resumed=setup.resumed,
        )
        yield from self._log_warning()
        self.network.train()
        first_step = setup.start_step
        for epoch in range(setup.start_epoch, settings.epochs):
            finished = yield from self._epoch(epoch, first_step, control)
            if finished is None:
                finished = yield from self._end_epoch(epoch)
            if finished is not None:
                return finished
            first_step = 0
        return RunFinished(
            "completed",
            settings.epochs,
            self.state.global_step,
            f"trained {settings.epochs} epochs ({self.state.global_step} steps); saved {self.folder.last}",
            self.last_written,
        )

    def _epoch(self, epoch: int, first_step: int, control: TaskControl) -> Generator[TrainingEvent, None, RunFinished | None]:
        """The steps of one epoch from ``first_step``; returns how the run ended if it ended here."""
        settings, ranks, state = self.settings, self.ranks, self.state
        if ranks.distributed:
            order = shard_of_epoch(self.n_train, _epoch_seed(settings.seed, epoch), ranks.rank, ranks.world_size)
        else:
            order = torch.randperm(self.n_train, generator=torch.Generator().manual_seed(_epoch_seed(settings.seed, epoch)))
        shard = order[first_step * self.batch_size : self.steps_per_epoch * self.batch_size]
        subset = self.setup.subset
        record_shard(epoch, ranks.rank, ranks.world_size, first_step,
                     subset[shard.numpy()] if subset is not None else shard.tolist())
        order = order.to(self.device)
        for group in state.optimizer.param_groups:
            group["lr"] = settings.lr_at(epoch)
        for step in range(first_step, self.steps_per_epoch):
            if control.is_paused and not control.should_stop:
                yield RunPaused(global_step=state.global_step)
                while not control.wait_while_paused(0.1):
                    pass
                if not control.should_stop:
                    yield RunResumed(global_step=state.global_step)
            if ranks.any(control.should_stop):  # all processes stop after the same step
                last = self.folder.last
                self.folder.save(last, state, epoch, step)
                yield CheckpointSaved(str(last), "last", epoch, state.global_step)
                return RunFinished("stopped", epoch, state.global_step,
                                   f"stopped at epoch {epoch + 1}, step {step}; saved {last}", str(last))
            ended = self._step(epoch, step, order[step * self.batch_size : (step + 1) * self.batch_size])
            if isinstance(ended, RunFinished):
                return ended
            self.folder.log_step(ended)
            yield ended
            yield from self._log_warning()
            inside = step + 1 < self.steps_per_epoch
            if settings.save_every_steps and state.global_step % settings.save_every_steps == 0 and inside:
                self.folder.save(self.folder.last, state, epoch, step + 1)
                self.last_written = str(self.folder.last)
                yield CheckpointSaved(str(self.folder.last), "step", epoch, state.global_step)
            if settings.preview_every_steps and state.global_step % settings.preview_every_steps == 0 and inside \
                    and ranks.is_main:
                yield self._preview(epoch)
        return None

    def _step(self, epoch: int, step: int, index: torch.Tensor) -> StepEnded | RunFinished:
        """One optimizer step on the shapes ``index``; a ``RunFinished`` when the loss is not finite."""
        settings, ranks, state, device = self.settings, self.ranks, self.state, self.device
        began = time.perf_counter()
        clouds, labels = self.train_data.points[index], self.train_data.labels[index]
        seen, target = augment_batch(clouds, self.augmentations)
        output = self.network(seen, detach_classifier_input=settings.latent_training != "joint")
        chamfer = chamfer_distance(output.reconstruction, target).mean()
        kl = kl_divergence(output.mu, output.logvar, settings.prior_std).mean()
        classifier_loss = (
            classifier_nll(output.log_probs, labels, self.class_weights) if output.log_probs is not None
            else torch.zeros((), device=device)
        )
        loss = chamfer + settings.beta * kl + settings.classifier_weight * classifier_loss
        values = [float(loss.detach()), float(chamfer.detach()), float(kl.detach()), float(classifier_loss.detach())]
        correct = labelled = 0.0
        if output.log_probs is not None:
            known = labels >= 0
            correct = float((output.log_probs.argmax(1)[known] == labels[known]).sum())
            labelled = float(known.sum())
        b = len(clouds)
        if ranks.distributed:
            # The global batch's means, the same in every process (a NaN anywhere is a NaN everywhere).
            sums = ranks.sum([v * b for v in values] + [correct, labelled, b])
            b = sums[6]
            values = [v / b for v in sums[:4]]
            correct, labelled = sums[4], sums[5]
        loss_value, chamfer_value, kl_value, classifier_value = values
        if not math.isfinite(loss_value):
            message = (
                f"loss became {loss_value} at epoch {epoch + 1}, step {step + 1} "
                f"(Chamfer {chamfer_value:.4g}, KL {kl_value:.4g}); try a lower --lr"
            )
            kept = (f"; the last good checkpoint {self.last_written} is kept" if self.last_written
                    else "; no checkpoint was written")
            return RunFinished("failed", epoch, state.global_step, message + kept, self.last_written)
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # under DistributedDataParallel, also averages the gradients of all processes
        state.optimizer.step()
        state.global_step += 1
        seconds = time.perf_counter() - began
        state.totals.add(loss=loss_value * b, chamfer=chamfer_value * b, kl=kl_value * b,
                         classifier_loss=classifier_value * b, correct=correct, labelled=labelled, samples=b,
                         seconds=seconds)
        return StepEnded(
            epoch=epoch,
            step=step + 1,
            steps_per_epoch=self.steps_per_epoch,
            global_step=state.global_step,
            loss=loss_value,
            chamfer=chamfer_value,
            kl=kl_value,
            classifier_loss=classifier_value,
            samples_per_second=b / seconds if seconds > 0 else math.inf,
        )

    def _end_epoch(self, epoch: int) -> Generator[TrainingEvent, None, RunFinished | None]:
        """Validate, preview, check the processes agree, record the epoch and save; returns a failure if any."""
        settings, ranks, state, folder = self.settings, self.ranks, self.state, self.folder
        totals = state.totals
        row = {
            "epoch": epoch + 1,
            "global_step": state.global_step,
            "train_loss": totals.mean("loss"),
            "train_chamfer": totals.mean("chamfer"),
            "train_kl": totals.mean("kl"),
            "train_classifier_loss": totals.mean("classifier_loss"),
            "train_accuracy": totals.mean("correct", over="labelled"),
            "lr": settings.lr_at(epoch),
            "seconds": totals["seconds"],
        }
        # Batch-norm running statistics differ between processes after their last forward
        # passes; rank 0's are the ones saved, so everyone validates with them.
        ranks.broadcast_buffers(self.model)
        if self.val_data is not None:
            val_chamfer, val_kl, val_accuracy = score_across_ranks(self.model, self.val_data.points, self.val_data.labels, ranks)
            row.update(val_chamfer=val_chamfer, val_kl=val_kl, val_accuracy=val_accuracy)
            yield ValidationEnded(epoch, val_chamfer, val_kl, val_accuracy)
        if ranks.is_main:
            yield self._preview(epoch)
        if ranks.distributed:
            digests = ranks.gather(weights_digest(self.model))
            identical = len(set(digests)) == 1
            folder.record["rank_check"] = {"epoch": epoch + 1, "global_step": state.global_step,
                                           "identical_weights": identical}
            if not identical:
                folder.write_record()
                return RunFinished("failed", epoch, state.global_step,
                                   f"the processes' weights differ after epoch {epoch + 1} (digests {digests})",
                                   self.last_written)
        criterion = "val_chamfer" if self.val_data is not None else "train_chamfer"
        is_best = row[criterion] < state.history.best(criterion)
        state.history.append(row)
        state.totals = EpochTotals()
        # Logged (and flushed) before the checkpoint: a run killed in between resumes from the
        # previous checkpoint, and the resumed session's START event drops this epoch's log.
        folder.log_epoch(row)
        yield from self._log_warning()
        folder.save(folder.last, state, epoch + 1, 0)
        self.last_written = str(folder.last)
        yield CheckpointSaved(str(folder.last), "last", epoch + 1, state.global_step)
        if is_best:
            folder.save(folder.best, state, epoch + 1, 0, with_optimizer=False)
            yield CheckpointSaved(str(folder.best), "best", epoch + 1, state.global_step)
        folder.write_history(state.history)
        yield EpochEnded(epoch, {k: float(v) for k, v in row.items()})
        return None

    @torch.no_grad()
    def _preview(self, epoch: int) -> PreviewReady:
        """The reconstruction of a fixed shape, for the window's live view."""
        # Eval mode on the latent mean draws no random numbers and updates no batch-norm
        # statistics, so a run with previews takes exactly the steps of one without.
        model, cloud = self.model, self.preview_cloud
        with exclusive(model):
            mu, _ = model.encode(cloud)
            reconstruction = model.decode(mu)
            chamfer = float(chamfer_distance(reconstruction, cloud).mean())
        points, decoded = cloud[0].cpu().numpy().copy(), reconstruction[0].cpu().numpy()
        points.flags.writeable = decoded.flags.writeable = False  # it crosses threads: nobody may change it
        preview = PreviewReady(epoch, self.state.global_step, points, decoded, chamfer)
        self.folder.log_preview(preview)
        return preview

    def _log_warning(self) -> Iterator[RunWarning]:
        """A ``RunWarning`` the first time after the TensorBoard log failed; nothing otherwise."""
        message = self.folder.log_warning()
        if message is not None:
            yield RunWarning(message)
