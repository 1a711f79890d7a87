"""The Training panel: set up a run, start, pause, resume and stop it, and watch it learn.

The run is :func:`vaeviewer.training.train`, the same generator the command line
iterates, run as one task of a :class:`~vaeviewer.gui.workers.TaskRunner`. Its
events are only *recorded* when they arrive (into a
:class:`~vaeviewer.gui.panels.training_plots.RunRecord`); a timer redraws the
curves, the progress and the preview a few times a second while the run is live,
so that a fast GPU run cannot flood the event loop. The panel can also follow a
run folder written by another process (the command line, torchrun) through its
``history.csv``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QFileSystemWatcher,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import OptionError, VaeviewerError
from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.panels.checkpoint_list import CheckpointList
from vaeviewer.gui.panels.run_overlays import RunOverlays
from vaeviewer.gui.panels.training_form import SettingsForm, default_run_folder
from vaeviewer.gui.panels.training_plots import (
    RunRecord,
    TrainingPlots,
    format_duration,
)
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.gui.workers import Task, TaskRunner
from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer
from vaeviewer.training import (
    CheckpointSaved,
    History,
    PreviewReady,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    TaskControl,
    TrainingEvent,
    TrainSettings,
)
from vaeviewer.workflows.session import ViewerSession

__all__ = ["TrainingPanel"]

class TrainingPanel(Panel):
    """Train a model from the window and watch its losses and a reconstruction as it learns.

    Parameters
    ----------
    session : ViewerSession
        Its data set is what a new run trains on; "Load into viewer" opens a
        checkpoint of the run in it.
    viewport : Viewport
        Shows the latest preview: a fixed shape in grey beside its reconstruction in green.
    parent : QWidget, optional

    Signals
    -------
    run_event(object)
        Every event of the live run, after the panel recorded it.
    run_ended()
        The worker finished (completed, stopped or failed) and the panel is idle again.

    Attributes
    ----------
    record : RunRecord
        The numbers of the run shown (live or followed).
    """

    name = "training"
    title = "Training"

    run_event = Signal(object)
    run_ended = Signal()

    #: Redraws per second of the curves and progress while a run is live.
    REFRESH_HZ = 5
    #: Shortest time between two renders of the preview: a render can take tens of
    #: milliseconds with software OpenGL, and a shape that changes a little per step needs no more.
    PREVIEW_INTERVAL_S = 0.5

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self.record = RunRecord()
        self._tasks = TaskRunner(self)
        self._task: Task | None = None
        self._control: TaskControl | None = None
        self._state = "idle"
        self._preview_drawn: PreviewReady | None = None
        self._preview_drawn_at = -math.inf
        self._auto_folder = ""  # the folder the panel proposed itself (not the user's choice)
        self._followed: Path | None = None
        self._watcher: QFileSystemWatcher | None = None

        layout = QVBoxLayout(self)
        # The settings and the curves share the panel's height in tabs: a run shows its curves,
        # and its settings cannot change while it runs anyway.
        self.tabs = QTabWidget()
        # The form scrolls: its rows would otherwise set the panel's, and so the window's, least height.
        settings = QScrollArea()
        settings.setWidget(self._build_form())
        settings.setWidgetResizable(True)
        settings.setFrameShape(QFrame.Shape.NoFrame)
        self.tabs.addTab(settings, "Settings")
        self.plots = TrainingPlots()
        self.overlays = RunOverlays()
        self.overlays.changed.connect(self.plots.set_overlays)
        self.overlays.error.connect(self.error)
        curves = QWidget()
        curves_layout = QVBoxLayout(curves)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(self.plots, stretch=1)
        curves_layout.addWidget(self.overlays)
        self.tabs.addTab(curves, "Curves")
        layout.addWidget(self.tabs, stretch=1)
        layout.addLayout(self._build_buttons())
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        # The numbers are in the label below: text drawn over the bar's fill is half hidden by it.
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("No run yet.")
        self.progress_label.setWordWrap(True)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self._build_checkpoints())

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setObjectName("training refresh")
        self._refresh_timer.setInterval(1000 // self.REFRESH_HZ)
        self._refresh_timer.timeout.connect(self._refresh)
        # Run folders are rewritten in bursts (checkpoint, best, history): read them once it settles.
        self._reload_timer = QTimer(self)
        self._reload_timer.setObjectName("training run folder reload")
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(300)
        self._reload_timer.timeout.connect(self._reload_followed)

        self.listen((self.session.events.dataset, self._on_dataset), (self.session.events.model, self.form.list_gpus))
        self._on_dataset()
        if self.session.model is not None:
            self.form.list_gpus()
        self._update_buttons()

    # ---- building ---------------------------------------------------------------------------

    def _build_form(self) -> QWidget:
        self.form = SettingsForm()
        form = self.form.rows
        self.data_edit = QLineEdit()
        self.data_edit.setReadOnly(True)
        self.data_edit.setToolTip("The data set open in the window (File ▸ Open data set… changes it)")
        form.insertRow(0, "Data", self.data_edit)

        self._auto_folder = str(default_run_folder())
        self.out_edit = QLineEdit(self._auto_folder)
        self.out_edit.textChanged.connect(self._update_resume_option)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse_folder)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.out_edit, stretch=1)
        row_layout.addWidget(self.browse_button)
        form.addRow("Output folder", row)
        self.resume_check = QCheckBox("Resume the run in this folder")
        self.resume_check.setEnabled(False)
        self.resume_check.toggled.connect(self._on_resume_toggled)
        form.addRow("", self.resume_check)
        return self.form

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after this step and save last.pt")
        for button, slot in ((self.start_button, self.start), (self.pause_button, self.pause),
                             (self.resume_button, self.resume), (self.stop_button, self.stop)):
            button.clicked.connect(slot)
            row.addWidget(button)
        return row

    def _build_checkpoints(self) -> CheckpointList:
        self.checkpoints = CheckpointList()
        self.checkpoints.load_requested.connect(self.load_checkpoint)
        self.open_run_button = QPushButton("Open run…")
        self.open_run_button.setToolTip("Follow a run folder written by another process (the command line, torchrun)")
        self.open_run_button.clicked.connect(self._browse_run)
        self.checkpoints.row.addWidget(self.open_run_button)
        return self.checkpoints

    # ---- state ------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``idle``, ``running``, ``pausing`` (asked, not yet reached), ``paused`` or ``stopping``."""
        return self._state

    @property
    def is_running(self) -> bool:
        """Whether a run of this panel is live (its worker thread runs)."""
        return self._task is not None

    @property
    def preview_shown(self) -> PreviewReady | None:
        """The run's latest preview drawn in the viewport (None before the first)."""
        return self._preview_drawn

    @property
    def followed_run(self) -> Path | None:
        """The run folder followed on disk, if any."""
        return self._followed

    def _set_state(self, state: str) -> None:
        self._state = state
        self._update_buttons()

    def _update_buttons(self) -> None:
        state = self._state
        self.start_button.setEnabled(state == "idle")
        self.pause_button.setEnabled(state == "running")
        self.resume_button.setEnabled(state in ("pausing", "paused"))
        self.stop_button.setEnabled(state in ("running", "pausing", "paused"))
        self.form.setEnabled(state == "idle")
        self.form.set_resuming(self.resume_check.isChecked())
        self.open_run_button.setEnabled(state == "idle")

    # ---- the form ---------------------------------------------------------------------------

    def _on_dataset(self) -> None:
        if not self.resume_check.isChecked():
            self.data_edit.setText(self.session.data_path)
        self.form.set_splits(list(self.session.dataset.split_names) if self.session.dataset is not None else [])

    def settings(self) -> TrainSettings:
        """The settings of a new run as the form has them (with resume: the form's view of them).

        Raises
        ------
        OptionError
            For a value the training loop would refuse, no data set or no output folder.
        """
        out = self.out_edit.text().strip()
        if not out:
            raise OptionError("choose an output folder for the run")
        values = self.form.values()
        if self.resume_check.isChecked():
            return TrainSettings(data=self.data_edit.text(), out_dir=out, **values)
        if not self.session.data_path:
            raise OptionError("open a data set first: the run trains on the window's data set")
        return TrainSettings(data=self.session.data_path, out_dir=out, **values)

    def set_settings(self, settings: TrainSettings) -> None:
        """Show ``settings`` in the form (all but the data set and the output folder)."""
        self.form.set_values(settings)

    def _update_resume_option(self) -> None:
        folder = self.out_edit.text().strip()
        has_run = bool(folder) and (Path(folder) / "last.pt").is_file()
        self.resume_check.setEnabled(has_run)
        if not has_run and self.resume_check.isChecked():
            self.resume_check.setChecked(False)

    def _on_resume_toggled(self, resuming: bool) -> None:
        if resuming:
            saved = self._saved_settings(Path(self.out_edit.text().strip()))
            if saved is not None:
                self.set_settings(saved)
                self.data_edit.setText(saved.data)
        else:
            self.data_edit.setText(self.session.data_path)
        self._update_buttons()

    def _saved_settings(self, folder: Path) -> TrainSettings | None:
        """The settings a run folder records in ``run.json`` (cheap: no checkpoint is read)."""
        try:
            return TrainSettings.from_dict(json.loads((folder / "run.json").read_text())["settings"])
        except (OSError, ValueError, KeyError, TypeError, VaeviewerError):
            return None

    def _browse_folder(self) -> None:
        self._choose_folder("Output folder of the run", self._folder_chosen)

    def _choose_folder(self, title: str, chosen: Callable[[str], None]) -> None:
        # Not modal-blocking: the dialog reports its choice through a signal.
        dialog = QFileDialog(self, title, str(Path(self.out_edit.text()).parent))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(chosen)
        dialog.open()

    def _folder_chosen(self, path: str) -> None:
        self.out_edit.setText(path)

    # ---- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start (or, with "Resume" ticked, continue) a run with the form's settings.

        A bad setting or an unusable folder is reported through ``error`` and
        starts nothing.
        """
        if self._task is not None:
            return
        # The training loop imports torch: at the first start, not when the window opens.
        from vaeviewer.training import check_start, settings_for_resume, train

        resume = self.resume_check.isChecked()
        try:
            settings = self.settings()
            if not resume and settings.out_dir == self._auto_folder and (Path(settings.out_dir) / "last.pt").exists():
                # The folder the panel proposed last time holds a run: propose a fresh one.
                self._auto_folder = str(default_run_folder())
                self.out_edit.setText(self._auto_folder)
                settings = settings.with_changes(out_dir=self._auto_folder)
            check_start(settings, resume=resume)
        except VaeviewerError as error:
            self.error.emit(error.window_message)
            return
        self._stop_following()
        self.record.reset()
        self._preview_drawn = None
        if resume:
            self._load_history(Path(settings.out_dir), losses=False)
            changes = self.form.changeable_on_resume(self.form.values())
        self._list_checkpoints(Path(settings.out_dir))
        control = TaskControl()

        def run():  # on the worker thread: reading the checkpoint there keeps the window responsive
            run_settings = settings_for_resume(settings.out_dir, changes) if resume else settings
            yield from train(run_settings, control, resume=resume)

        self._control = control
        self.progress_label.setText("Reading the data set and building the model…")
        self._set_state("running")
        self._refresh_timer.start()
        self.tabs.setCurrentIndex(1)
        self._task = self._tasks.start(run, stop=control.stop, on_item=self._on_event, on_failed=self._on_failed,
                                       on_done=self._on_done)
        self.status.emit(f"Training started: {settings.out_dir}")

    def pause(self) -> None:
        """Ask the run to wait before its next step."""
        if self._control is not None and self._state == "running":
            self._control.pause()
            self._set_state("pausing")

    def resume(self) -> None:
        """Let a paused run go on."""
        if self._control is not None and self._state in ("pausing", "paused"):
            self._control.resume()
            self._set_state("running")

    def stop(self) -> None:
        """Ask the run to stop after its current step; it saves ``last.pt`` first."""
        if self._control is not None and self._state != "stopping":
            self._control.stop()
            self._set_state("stopping")
            self.progress_label.setText(self.progress_label.text() + " · stopping after this step…")

    def _on_event(self, event: TrainingEvent) -> None:
        self.record.record(event)
        if isinstance(event, RunStarted):
            self.progress.setRange(0, max(self.record.total_steps, 1))
            self.progress.setValue(self.record.global_step)
            what = "Resuming" if event.resumed else "Training"
            self.status.emit(f"{what} on {event.train_shapes} shapes, {event.steps_per_epoch} steps per epoch, "
                             f"on {event.device}")
        elif isinstance(event, CheckpointSaved):
            self._list_checkpoints(Path(self.record.run_dir))
        elif isinstance(event, RunPaused):
            if self._control is not None and self._control.is_paused and self._state == "pausing":
                self._set_state("paused")
                self._show_progress()
        elif isinstance(event, RunResumed):
            if self._state == "paused":
                self._set_state("running")
        elif isinstance(event, RunFinished):
            if event.status == "failed":
                self.error.emit(f"Training failed: {event.message}")
            else:
                self.status.emit(f"Training {event.status}: {event.message}")
        self.run_event.emit(event)

    def _on_failed(self, message: str) -> None:
        self.error.emit(f"Training failed: {message}")

    def _on_done(self) -> None:
        self._task = self._control = None
        self._refresh_timer.stop()
        self._set_state("idle")
        self._refresh()
        self._show_progress()
        folder = Path(self.record.run_dir) if self.record.run_dir else None
        if folder is not None:
            self._list_checkpoints(folder)
        finished = self.record.finished
        self._update_resume_option()
        if finished is not None and finished.status != "completed" and self.resume_check.isEnabled():
            self.resume_check.setChecked(True)  # Start now continues the stopped run
        elif finished is not None and finished.status == "completed" and self.resume_check.isChecked():
            self.resume_check.setChecked(False)
        self.run_ended.emit()

    # ---- showing ----------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Redraw what changed: the preview (while active) or else the curves and progress.

        One of the two per tick, not both: each can take tens of milliseconds on a
        loaded machine with software OpenGL, and the event loop should get a turn in
        between. When the run is over, both are brought up to date at once.
        """
        live = self._task is not None
        due = not live or time.monotonic() - self._preview_drawn_at >= self.PREVIEW_INTERVAL_S
        if self.active and self.record.preview is not self._preview_drawn and due:
            self.draw()
            if live:
                return
        self.plots.refresh(self.record)
        self._show_progress()

    def _show_progress(self) -> None:
        record = self.record
        if self._followed is not None:
            self.progress.setRange(0, max(record.epochs, 1))
            self.progress.setValue(min(record.epoch, max(record.epochs, 1)))
            total = f"/{record.epochs}" if record.epochs else ""
            self.progress_label.setText(f"Following {self._followed}: epoch {record.epoch}{total}, "
                                        f"step {record.global_step} (from history.csv)")
            return
        if not record.total_steps:
            return
        self.progress.setRange(0, record.total_steps)
        self.progress.setValue(min(record.global_step, record.total_steps))
        parts = [f"epoch {record.epoch + 1}/{record.epochs}", f"step {record.step}/{record.steps_per_epoch}"]
        speed = record.samples_per_second()
        if math.isfinite(speed):
            parts.append(f"{speed:.0f} shapes/s")
        if record.finished is not None:
            parts = [record.finished.message]
        elif self._state == "paused":
            parts.insert(0, "paused")
        elif self._state == "stopping":
            parts.append("stopping after this step…")
        else:
            parts.append(f"ETA {format_duration(record.eta_seconds())}")
        parts.insert(0, f"{100 * min(record.global_step, record.total_steps) / record.total_steps:.0f} %")
        self.progress_label.setText(" · ".join(parts))

    def draw(self) -> None:
        """Show the latest preview: the fixed shape in grey beside its reconstruction in green."""
        preview = self.record.preview
        self._preview_drawn, self._preview_drawn_at = preview, time.monotonic()
        if preview is None:
            self.viewport.show_panes([Pane(caption="Start a run to watch it reconstruct a fixed shape here")])
            return
        caption = f"epoch {preview.epoch + 1}, step {preview.global_step} · Chamfer {preview.chamfer:.4g}"
        self.viewport.show_panes([
            Pane((CloudLayer(preview.input_points, INPUT_GREY, label="training preview input"),), caption="input"),
            Pane((CloudLayer(preview.reconstruction, RECONSTRUCTION_GREEN, label="training preview reconstruction"),),
                 caption=caption),
        ])

    # ---- checkpoints and run folders --------------------------------------------------------

    def _list_checkpoints(self, folder: Path) -> None:
        self.checkpoints.show_folder(folder, self.record.checkpoints)

    def checkpoint_paths(self) -> list[str]:
        """The checkpoint files listed, in order."""
        return self.checkpoints.paths()

    def load_checkpoint(self, path: str | None = None) -> None:
        """Open ``path`` (the selected checkpoint by default) as the session's model."""
        path = path or self.checkpoints.selected()
        if path is None:
            return
        try:
            self.session.open_checkpoint(path)
        except VaeviewerError as error:
            self.error.emit(str(error))
            return
        self.status.emit(f"Loaded {path} into the viewer")

    def _browse_run(self) -> None:
        self._choose_folder("Open a run folder", self.follow_run)

    def follow_run(self, path: str | Path) -> None:
        """Show the run in folder ``path`` (written by this or another process) and follow it.

        Its ``history.csv`` fills the curves (one point per epoch) and its
        checkpoints are listed; both are read again whenever the folder changes.
        """
        folder = Path(path)
        if self._task is not None:
            self.error.emit("Stop the run of this window before opening another one")
            return
        if not folder.is_dir():
            self.error.emit(f"{folder}: is not a folder")
            return
        if not (folder / "history.csv").is_file() and not (folder / "run.json").is_file():
            self.error.emit(f"{folder}: holds no training run (no run.json or history.csv)")
            return
        self._stop_following()
        self._followed = folder
        self._watcher = QFileSystemWatcher([str(folder)], self)
        self._watcher.directoryChanged.connect(lambda _path: self._reload_timer.start())
        self._reload_followed()
        self.tabs.setCurrentIndex(1)
        self.status.emit(f"Following the run in {folder}")

    def _reload_followed(self) -> None:
        folder = self._followed
        if folder is None:
            return
        self.record.reset()
        self.record.run_dir = str(folder)
        saved = self._saved_settings(folder)
        self._load_history(folder, losses=True, epochs=saved.epochs if saved is not None else 0)
        self._list_checkpoints(folder)
        self.plots.refresh(self.record)
        self._show_progress()

    def _load_history(self, folder: Path, *, losses: bool, epochs: int = 0) -> None:
        try:
            history = History.read_csv(folder / "history.csv")
        except FileNotFoundError:
            history = History()
        except (OSError, ValueError, KeyError) as error:
            self.status.emit(f"{folder / 'history.csv'}: cannot read it ({error})")
            history = History()
        self.record.load_history(history, epochs, losses=losses)

    def _stop_following(self) -> None:
        self._reload_timer.stop()
        if self._watcher is not None:
            self._watcher.removePaths(self._watcher.directories())
            self._watcher.deleteLater()
            self._watcher = None
        self._followed = None

    # ---- panel life -------------------------------------------------------------------------

    def is_busy(self) -> bool:
        """Never: a run can go on for hours, and a screenshot need not wait for it."""
        return False

    def shutdown(self) -> None:
        """Stop a live run (it finishes its step and saves ``last.pt``), wait for it, stop the timers.

        Waits for as long as the current step (or validation) takes: returning
        earlier would lose the save. The worker thread has finished on return.
        """
        # Stopped (which also ends a pause), not cancelled: the run's last events (the checkpoint saved,
        # its end) reach the panel before this returns.
        self._tasks.shutdown(finish=True)
        self._refresh_timer.stop()
        self.overlays.shutdown()
        self._stop_following()
        self.stop_listening()
