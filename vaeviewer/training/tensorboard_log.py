"""The TensorBoard event file of a run: scalars per step and per epoch, and the preview clouds.

``tensorboard --logdir runs`` shows every run folder under ``runs`` as a run.
Each start of a run (the first and every ``--resume``) writes a new event
file beside ``history.csv``; TensorBoard reads all the files of a folder as
one stream. A resumed run starts where its checkpoint left off, so no step is
written twice; its file opens with a ``SessionLog.START`` at that step, which
makes TensorBoard drop what a killed run wrote past its last checkpoint.

The events are built and framed by tensorboardX (protobuf messages in
TFRecord framing) and written synchronously, from the training thread: no
writer thread, nothing left running after :meth:`TensorBoardLog.close`. The
log is a by-product of a run, never a reason to end one: the first error
(a full disk, a folder that refuses the file) turns it off and leaves one
line for the front ends to show (:meth:`TensorBoardLog.take_warning`).
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vaeviewer.training.events import PreviewReady, StepEnded

__all__ = ["EPOCH_TAGS", "STEP_TAGS", "PREVIEW_TAGS", "TensorBoardLog", "event_file_name"]

#: The scalars of each epoch, written at the epoch's last global step: history column -> tag.
EPOCH_TAGS: dict[str, str] = {
    "train_loss": "train/loss",
    "train_chamfer": "train/chamfer",
    "train_kl": "train/kl",
    "train_classifier_loss": "train/classifier_loss",
    "train_accuracy": "train/accuracy",
    "val_chamfer": "val/chamfer",
    "val_kl": "val/kl",
    "val_accuracy": "val/accuracy",
    "lr": "lr",
}
#: The scalars of each optimizer step (that batch's means): field of :class:`StepEnded` -> tag.
STEP_TAGS: dict[str, str] = {
    "loss": "step/loss",
    "chamfer": "step/chamfer",
    "kl": "step/kl",
    "classifier_loss": "step/classifier_loss",
}
#: What each preview writes: its Chamfer distance (a scalar) and the two clouds (the mesh plugin's point clouds).
PREVIEW_TAGS: dict[str, str] = {
    "chamfer": "preview/chamfer",
    "input": "preview/input",
    "reconstruction": "preview/reconstruction",
}
_CLASSIFIER_COLUMNS = ("train_classifier_loss", "train_accuracy", "val_accuracy", "classifier_loss")
_INPUT_COLOUR = (150, 150, 150)
_RECONSTRUCTION_COLOUR = (230, 110, 30)
# The mesh plugin's default point size (0.005) is a speck at the scale of a unit-sphere cloud.
_POINT_CLOUD_CONFIG = {"material": {"cls": "PointsMaterial", "size": 0.03}}


def event_file_name(folder: Path, first_step: int) -> Path:
    """A new event file's path in ``folder``, for a run session starting at global step ``first_step``.

    TensorBoard reads the files of a folder in the order of their names, so the
    name starts with the time (seconds, as TensorFlow names them) and then the
    step, which orders two sessions started within the same second; an existing
    name is never reused.
    """
    stem = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{first_step:010d}"
    path, count = folder / stem, 0
    while path.exists():
        count += 1
        path = folder / f"{stem}.{count:03d}"
    return path


class TensorBoardLog:
    """The event file of one run session; only rank 0 of a distributed run makes one.

    Every method swallows the error of a failed write: the first one closes the
    file, and :meth:`take_warning` then returns one line saying what happened.

    Parameters
    ----------
    folder : Path
        The run folder (it exists when :meth:`open` is called).
    classifier : bool
        Whether the model has a latent classifier; without one, its loss and
        accuracy tags are left out rather than written as zeros or NaN.
    """

    def __init__(self, folder: Path, *, classifier: bool) -> None:
        self.folder, self.classifier = folder, classifier
        self.path: Path | None = None
        self._writer: Any = None  # tensorboardX.record_writer.RecordWriter while the file is open
        self._event_type: Any = None  # tensorboardX's Event message, imported with the first file
        self._failure: str | None = None
        self._warned = False
        self._input_written = False

    @property
    def is_open(self) -> bool:
        """Whether the file is open and takes events."""
        return self._writer is not None

    def open(self, first_step: int) -> None:
        """Create the event file for a session whose first optimizer step will be ``first_step``."""
        if self._writer is not None or self._failure is not None:
            return
        try:
            from tensorboardX.proto.event_pb2 import Event, SessionLog
            from tensorboardX.record_writer import RecordWriter
        except ImportError as error:
            self._failure = f"cannot write the TensorBoard log: {error}; training goes on without it"
            return
        self._event_type = Event
        try:
            self.path = event_file_name(self.folder, first_step)
            self._writer = RecordWriter(str(self.path))
            self._write(Event(wall_time=time.time(), file_version="brain.Event:2"))
            # Events of an earlier session at this step or later were never saved in a checkpoint:
            # TensorBoard drops them when it reads this.
            self._write(Event(wall_time=time.time(), step=first_step, session_log=SessionLog(status=SessionLog.START)))
        except OSError as error:
            self._fail(error)

    def add_step(self, event: StepEnded) -> None:
        """The losses of one optimizer step, at its global step."""
        values = {tag: getattr(event, name) for name, tag in STEP_TAGS.items() if self.classifier or name != "classifier_loss"}
        self._scalars(values, event.global_step)

    def add_epoch(self, row: dict[str, float]) -> None:
        """The history row of an epoch (see :data:`EPOCH_TAGS`), at its last global step, then flush."""
        columns = [c for c in EPOCH_TAGS if self.classifier or c not in _CLASSIFIER_COLUMNS]
        self._scalars({EPOCH_TAGS[c]: row[c] for c in columns if c in row}, int(row["global_step"]))
        self.flush()

    def add_preview(self, preview: PreviewReady) -> None:
        """A preview's Chamfer distance and reconstruction; the fixed input shape once per file."""
        if self._writer is None:
            return
        from tensorboardX.summary import mesh, scalar

        summaries = [scalar(PREVIEW_TAGS["chamfer"], preview.chamfer)] if math.isfinite(preview.chamfer) else []
        if not self._input_written:
            summaries.append(self._cloud(mesh, PREVIEW_TAGS["input"], preview.input_points, _INPUT_COLOUR))
        summaries.append(self._cloud(mesh, PREVIEW_TAGS["reconstruction"], preview.reconstruction, _RECONSTRUCTION_COLOUR))
        self._guarded(lambda: [self._summary(s, preview.global_step) for s in summaries])
        self._input_written = self._input_written or self._writer is not None

    def flush(self) -> None:
        """Push what is written to the disk, so that a running TensorBoard sees it."""
        if self._writer is not None:
            self._guarded(self._writer.flush)

    def close(self) -> None:
        """Flush and close the file; safe to call more than once."""
        writer = self._writer
        if writer is None:
            return
        self._guarded(writer.flush)
        self._writer = None
        try:
            writer.close()
        except OSError as error:
            self._fail(error)

    def take_warning(self) -> str | None:
        """The line saying why the log stopped, the first time it is asked after a failure; else None."""
        if self._failure is None or self._warned:
            return None
        self._warned = True
        return self._failure

    def _scalars(self, values: dict[str, float], step: int) -> None:
        if self._writer is None:
            return
        from tensorboardX.proto.summary_pb2 import Summary

        # NaN (no validation split, no labels) would draw as a broken line: leave the point out.
        finite = [Summary.Value(tag=tag, simple_value=float(v)) for tag, v in values.items() if math.isfinite(v)]
        if finite:
            self._guarded(lambda: self._summary(Summary(value=finite), step))

    @staticmethod
    def _cloud(mesh: Callable[..., Any], tag: str, points: np.ndarray, colour: tuple[int, int, int]) -> Any:
        vertices = np.asarray(points, dtype=np.float32)[None]
        colours = np.broadcast_to(np.asarray(colour, dtype=np.uint8), vertices.shape)
        return mesh(tag, vertices, colours, None, _POINT_CLOUD_CONFIG)

    def _summary(self, summary: Any, step: int) -> None:
        self._write(self._event_type(wall_time=time.time(), step=step, summary=summary))

    def _write(self, event: Any) -> None:
        self._writer.write(event.SerializeToString())

    def _guarded(self, work: Callable[[], object]) -> None:
        if self._writer is None:
            return
        try:
            work()
        except OSError as error:
            self._fail(error)

    def _fail(self, error: OSError) -> None:
        target = self.path if self.path is not None else self.folder
        self._failure = (f"{target}: cannot write the TensorBoard log ({error.strerror or error}); "
                         "training goes on without it")
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()  # flushes the rest of its buffer, which fails again on a full disk
            except OSError:
                pass
