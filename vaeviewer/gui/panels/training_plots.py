"""What the training panel shows about a run: the recorded numbers and their live curves.

:class:`RunRecord` is Qt-free: it takes the training events as they arrive (or a
``history.csv`` written by another process) and keeps them in growing numpy
buffers, with the progress, speed and ETA derived from them. :class:`TrainingPlots`
draws a record with pyqtgraph; its curves are made once and only get ``setData``,
from the panel's timer, a few times a second.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from vaeviewer.training import (
    CheckpointSaved,
    EpochEnded,
    History,
    PreviewReady,
    RunFinished,
    RunResumed,
    RunStarted,
    StepEnded,
    TrainingEvent,
    ValidationEnded,
)

__all__ = ["Series", "RunRecord", "CheckpointInfo", "TrainingPlots", "format_duration", "OVERLAY_COLORS"]

#: Colours of overlaid runs, one a run: matplotlib's tab10 without the hues of the live run's curves
#: (grey, green, orange, blue, purple), so that no overlaid run looks like one of them.
OVERLAY_COLORS = ("#d62728", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#000000")

# Smoothing of the per-step curves: an exponential moving average over about 1 / alpha steps,
# because single batches of 8-32 shapes make a curve too noisy to read a trend from.
_SMOOTHING = 0.1
# Steps whose arrival times give the speed and the ETA.
_SPEED_WINDOW = 50


class Series:
    """An (x, y) series that grows by appending, in a numpy buffer that doubles when full."""

    def __init__(self) -> None:
        self._data = np.empty((2, 256), dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, x: float, y: float) -> None:
        """Add one point."""
        if self._size == self._data.shape[1]:
            grown = np.empty((2, 2 * self._size), dtype=np.float64)
            grown[:, : self._size] = self._data
            self._data = grown
        self._data[:, self._size] = (x, y)
        self._size += 1

    def clear(self) -> None:
        """Forget every point."""
        self._size = 0

    @property
    def x(self) -> np.ndarray:
        """The x values (a view; copy it to keep it)."""
        return self._data[0, : self._size]

    @property
    def y(self) -> np.ndarray:
        """The y values (a view; copy it to keep it)."""
        return self._data[1, : self._size]


@dataclass
class CheckpointInfo:
    """A checkpoint file the run reported: its kind and when it was written."""

    kind: str
    epoch: int
    global_step: int


@dataclass
class RunRecord:
    """The numbers of one run, recorded as its events arrive.

    Per step: smoothed total loss, Chamfer and KL (x = global step). Per epoch
    (x = global step at the epoch's end): validation Chamfer, validation and
    training classifier accuracy. ``version`` grows with every change, so that a
    view redraws only when something is new.
    """

    loss: Series = field(default_factory=Series)
    chamfer: Series = field(default_factory=Series)
    kl: Series = field(default_factory=Series)
    val_chamfer: Series = field(default_factory=Series)
    val_accuracy: Series = field(default_factory=Series)
    train_accuracy: Series = field(default_factory=Series)
    run_dir: str = ""
    epochs: int = 0
    steps_per_epoch: int = 0
    epoch: int = 0
    step: int = 0
    global_step: int = 0
    start_step: int = 0
    per_epoch_only: bool = False
    preview: PreviewReady | None = None
    finished: RunFinished | None = None
    checkpoints: dict[str, CheckpointInfo] = field(default_factory=dict)
    version: int = 0
    _arrivals: deque = field(default_factory=lambda: deque(maxlen=_SPEED_WINDOW))
    _rates: deque = field(default_factory=lambda: deque(maxlen=_SPEED_WINDOW))
    _smoothed: dict[str, float] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget everything (a new run starts or another run folder is opened)."""
        fresh = RunRecord()
        for name in self.__dataclass_fields__:
            if name != "version":
                setattr(self, name, getattr(fresh, name))
        self.version += 1

    @property
    def total_steps(self) -> int:
        """Optimizer steps of the whole run (0 before it started)."""
        return self.epochs * self.steps_per_epoch

    def record(self, event: TrainingEvent, now: float | None = None) -> None:
        """Take one event of the run (``now``: its arrival time, ``time.monotonic()`` by default)."""
        now = time.monotonic() if now is None else now
        if isinstance(event, StepEnded):
            self.epoch, self.step, self.global_step = event.epoch, event.step, event.global_step
            self.steps_per_epoch = event.steps_per_epoch
            x = float(event.global_step)
            for series, name, value in ((self.loss, "loss", event.loss), (self.chamfer, "chamfer", event.chamfer),
                                        (self.kl, "kl", event.kl)):
                series.append(x, self._smooth(name, value))
            self._arrivals.append((now, event.global_step))
            if math.isfinite(event.samples_per_second):
                self._rates.append(event.samples_per_second)
        elif isinstance(event, ValidationEnded):
            self.val_chamfer.append(float(self.global_step), event.chamfer)
            self.val_accuracy.append(float(self.global_step), event.classifier_accuracy)
        elif isinstance(event, EpochEnded):
            accuracy = event.metrics.get("train_accuracy", math.nan)
            self.train_accuracy.append(float(event.metrics.get("global_step", self.global_step)), accuracy)
        elif isinstance(event, RunStarted):
            self.run_dir, self.epochs, self.steps_per_epoch = event.run_dir, event.epochs, event.steps_per_epoch
            self.epoch, self.step = event.start_epoch, event.start_step
            self.global_step = self.start_step = event.start_epoch * event.steps_per_epoch + event.start_step
        elif isinstance(event, PreviewReady):
            self.preview = event
        elif isinstance(event, CheckpointSaved):
            kind = "last" if event.kind == "step" else event.kind
            self.checkpoints[event.path] = CheckpointInfo(kind, event.epoch, event.global_step)
        elif isinstance(event, RunResumed):
            self._arrivals.clear()  # the pause is no part of the speed
        elif isinstance(event, RunFinished):
            self.finished = event
        self.version += 1

    def load_history(self, history: History, epochs: int = 0, *, losses: bool = True) -> None:
        """Fill the curves from a run's per-epoch history (a run followed on disk, or resumed).

        With ``losses``, for a run whose steps this record never saw, the step
        curves get one point per epoch: the epoch's mean losses. Without it (a
        resumed run, whose steps will arrive) only the per-epoch curves are
        filled. ``epochs`` is the run's planned total, if known.
        """
        columns = history.columns
        steps = columns["global_step"]
        self.per_epoch_only = losses
        for i, x in enumerate(steps):
            if losses:
                self.loss.append(x, columns["train_loss"][i])
                self.chamfer.append(x, columns["train_chamfer"][i])
                self.kl.append(x, columns["train_kl"][i])
            self.val_chamfer.append(x, columns["val_chamfer"][i])
            self.val_accuracy.append(x, columns["val_accuracy"][i])
            self.train_accuracy.append(x, columns["train_accuracy"][i])
        if len(history):
            self.epoch = int(columns["epoch"][-1])
            self.global_step = max(self.global_step, int(steps[-1]))
        self.epochs = max(self.epochs, epochs)
        self.version += 1

    def samples_per_second(self) -> float:
        """Median training speed of the recent steps (shapes per second of compute), NaN before any."""
        return float(np.median(self._rates)) if self._rates else math.nan

    def eta_seconds(self) -> float:
        """Seconds left, from the wall-clock arrival of the recent steps; NaN until two have arrived.

        Wall-clock rather than compute time, so that validation and checkpoints
        that fall inside the window are counted in.
        """
        if len(self._arrivals) < 2 or not self.total_steps:
            return math.nan
        (t0, s0), (t1, s1) = self._arrivals[0], self._arrivals[-1]
        if s1 <= s0 or t1 <= t0:
            return math.nan
        return max(self.total_steps - self.global_step, 0) * (t1 - t0) / (s1 - s0)

    def _smooth(self, name: str, value: float) -> float:
        previous = self._smoothed.get(name)
        if previous is None or not math.isfinite(previous):
            smoothed = value
        else:
            smoothed = previous + _SMOOTHING * (value - previous)
        self._smoothed[name] = smoothed
        return smoothed


def format_duration(seconds: float) -> str:
    """``"1:02:03"`` or ``"2:03"``; ``"–"`` when unknown."""
    if not math.isfinite(seconds):
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _drawable(x: np.ndarray, y: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    # NaN (no validation split, no classifier) and, on a log axis, zero or negative values
    # cannot be drawn: leave them out rather than have pyqtgraph warn about them.
    keep = np.isfinite(y) & (y > 0) if log else np.isfinite(y)
    return x[keep], y[keep]


class _LogAxis(pg.AxisItem):
    """A log axis that labels only 1, 2 and 5 times a power of ten.

    pyqtgraph labels every minor tick (2, 3, ... 9) of a log axis, whose labels
    run into each other on a plot a hundred pixels tall.
    """

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        """pyqtgraph's labels, blank except at 1, 2 and 5 times a power of ten."""
        strings = super().logTickStrings(values, scale, spacing)
        kept = []
        for value, text in zip(values, strings):
            mantissa = 10 ** (value - math.floor(value))
            kept.append(text if min(abs(mantissa - k) for k in (1, 2, 5, 10)) < 1e-6 * mantissa else "")
        return kept


class TrainingPlots(pg.GraphicsLayoutWidget):
    """Three stacked plots sharing the step axis: losses, KL, classifier accuracy.

    Parameters
    ----------
    parent : QWidget, optional
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumHeight(260)
        self.loss_plot = self.addPlot(row=0, col=0, title="Loss (smoothed)", axisItems={"left": _LogAxis("left")})
        self.kl_plot = self.addPlot(row=1, col=0, title="KL divergence", axisItems={"left": _LogAxis("left")})
        self.accuracy_plot = self.addPlot(row=2, col=0, title="Classifier accuracy")
        self._drawn_version = -1
        for plot in (self.loss_plot, self.kl_plot, self.accuracy_plot):
            plot.showGrid(x=True, y=True, alpha=0.2)
            # A translucent box: the legend sits over the curves; its text stays legible and the curves show through.
            plot.addLegend(offset=(-5, 5), labelTextSize="8pt", brush=pg.mkBrush(255, 255, 255, 150),
                           pen=pg.mkPen("#d0d0d0"))
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.getAxis("left").setWidth(48)
        self.kl_plot.setXLink(self.loss_plot)
        self.accuracy_plot.setXLink(self.loss_plot)
        self.loss_plot.setLogMode(y=True)
        self.kl_plot.setLogMode(y=True)
        self.accuracy_plot.setYRange(0.0, 1.0)
        self.accuracy_plot.setLabel("bottom", "step")

        def line(plot: pg.PlotItem, name: str, color: str, symbol: str | None = None) -> pg.PlotDataItem:
            return plot.plot([], [], name=name, pen=pg.mkPen(color, width=1.5), symbol=symbol, symbolSize=6,
                             symbolBrush=color, symbolPen=None)

        #: Other runs' curves by run name (see set_overlays).
        self.overlays: dict[str, tuple[pg.PlotDataItem, ...]] = {}
        self._overlays_made = 0
        # Curves are made once here; refresh() only calls setData.
        self.curves = {
            # The total is what the optimizer sees: its parts differ by orders of magnitude (the classifier's
            # NLL near 1 against a Chamfer of 0.01), so the legend names them.
            "loss": line(self.loss_plot, "total: Chamfer + β·KL + w·classifier NLL", "#444444"),
            "chamfer": line(self.loss_plot, "Chamfer", "#2eae40"),
            "val_chamfer": line(self.loss_plot, "val Chamfer", "#e07b00", "o"),
            "kl": line(self.kl_plot, "KL", "#2a6fdb"),
            "train_accuracy": line(self.accuracy_plot, "train", "#888888", "t"),
            "val_accuracy": line(self.accuracy_plot, "validation", "#8e3bb8", "o"),
        }

    def set_overlays(self, runs: list[tuple[str, History]]) -> None:
        """Draw other runs' per-epoch curves over the plots: one colour a run, its name in the legend.

        Each run gets its train Chamfer (solid) and validation Chamfer (dashed) in the loss plot, its
        KL, and its validation accuracy, at the global step of each epoch's end. Curves of a run
        already drawn are updated in place; runs no longer listed are removed.
        """
        wanted = dict(runs)
        for name in [n for n in self.overlays if n not in wanted]:
            for plot, curve in zip((self.loss_plot, self.loss_plot, self.kl_plot, self.accuracy_plot),
                                   self.overlays.pop(name)):
                plot.removeItem(curve)
                plot.legend.removeItem(curve)
        for name, history in runs:
            if name not in self.overlays:
                color = OVERLAY_COLORS[self._overlays_made % len(OVERLAY_COLORS)]
                self._overlays_made += 1
                solid, dashed = pg.mkPen(color, width=1.5), pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine)
                self.overlays[name] = (
                    self.loss_plot.plot([], [], name=name, pen=solid),
                    self.loss_plot.plot([], [], pen=dashed),
                    self.kl_plot.plot([], [], name=name, pen=solid),
                    self.accuracy_plot.plot([], [], name=name, pen=solid, symbol="o", symbolSize=4,
                                            symbolBrush=color, symbolPen=None),
                )
            columns = history.columns
            for plot in (self.loss_plot, self.kl_plot, self.accuracy_plot):
                plot.legend.setColumnCount(2 if self.overlays else 1)
            x = np.asarray(columns["global_step"], dtype=np.float64)
            chamfer, val_chamfer, kl, accuracy = self.overlays[name]
            chamfer.setData(*_drawable(x, np.asarray(columns["train_chamfer"]), True))
            val_chamfer.setData(*_drawable(x, np.asarray(columns["val_chamfer"]), True))
            kl.setData(*_drawable(x, np.asarray(columns["train_kl"]), True))
            accuracy.setData(*_drawable(x, np.asarray(columns["val_accuracy"]), False))

    def refresh(self, record: RunRecord) -> bool:
        """Show ``record`` if it changed since the last call; True when something was redrawn."""
        if record.version == self._drawn_version:
            return False
        self._drawn_version = record.version
        log_scale = {"loss", "chamfer", "val_chamfer", "kl"}
        for name, curve in self.curves.items():
            series: Series = getattr(record, name)
            curve.setData(*_drawable(series.x, series.y, name in log_scale))
        title = "Loss per epoch (from history.csv)" if record.per_epoch_only else "Loss (smoothed)"
        self.loss_plot.setTitle(title)
        return True
