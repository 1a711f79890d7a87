"""The dialog that exports the interpolation between two shapes as an animated GIF or MP4.

It offers the options of ``vaeviewer export-gif`` and runs the same steps as
:func:`vaeviewer.workflows.export.export_interpolation`, split over two
threads so that the window never stalls:

1. the model decodes the path (:func:`~vaeviewer.workflows.interpolate.interpolate`,
   torch only) on a task of a :class:`~vaeviewer.gui.workers.TaskRunner`: under load
   this takes from ten to several hundred milliseconds, too long for one slice
   of the GUI thread;
2. the frames are rendered (VTK, so on the GUI thread) and written one per
   tick of a zero-interval timer, a few to a few tens of milliseconds each,
   so the event loop runs between any two frames.

Why not drive ``export_interpolation`` itself one item per tick: its decoding
step runs the model and renders the first frame in one ``next()``, which
froze the window for 0.3 to 2 s in our measurements. The second step is the
workflow's own :func:`~vaeviewer.workflows.export.write_interpolation`, so the
file (written to a temporary name and renamed into place, removed on cancel)
is the one the command line writes.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import OptionError, VaeviewerError
from vaeviewer.gui.heap import freeze_long_lived
from vaeviewer.gui.workers import Task, TaskRunner
from vaeviewer.render.animation import LAYOUTS, animation_size, playback_order
from vaeviewer.render.writers import AnimationWriter, open_animation_writer
from vaeviewer.tasks import TaskControl
from vaeviewer.workflows.export import ExportProgress, check_export_options, write_interpolation
from vaeviewer.workflows.interpolate import INTERPOLATION_METHODS, Interpolation, interpolate
from vaeviewer.workflows.session import ViewerSession

__all__ = ["ExportDialog"]

# The command line's defaults (``vaeviewer export-gif``).
_DEFAULT_STEPS = 12
_DEFAULT_FPS = 10.0
_DEFAULT_SIZE = 512

#: What the stage label says for each :class:`ExportProgress` stage.
_STAGE_TEXT = {
    "decoding": "Decoding the path…",
    "rendering": "Rendering frames…",
    "writing": "Finishing the file…",
    "done": "Done.",
    "cancelled": "Cancelled; nothing was written.",
}


class ExportDialog(QDialog):
    """Export the interpolation from shape A to shape B of the session's split as a GIF or MP4.

    Non-modal: the window stays usable while it exports. The options are those
    of ``vaeviewer export-gif``; the up axis is the session's. An end may be a
    shape kept in the window (the session's ``kept_ends``) until its box is
    changed; :meth:`prefill_sweep` exports a path decoded elsewhere instead (a
    shape swept along a latent direction) with the same renderer and writer.

    Parameters
    ----------
    session : ViewerSession
        Where the model, the split and the up axis come from.
    parent : QWidget, optional
    index_a, index_b : int, optional
        The two shapes (indices in the split); the session's pair by default.
    steps : int
        Interpolation steps, both shapes included.
    method : {"lerp", "slerp"}
    fps : float
        Frames per second of the file.
    pingpong : bool
        Play forward then backward.
    path : str, optional
        The file to write; ``interpolation_A_B.gif`` in the home folder by default.

    Signals
    -------
    finished_export(str)
        The file was written (its path).
    cancelled()
        An export was cancelled (by Cancel, or by closing the dialog); nothing was written.

    Attributes
    ----------
    path_edit : QLineEdit
    browse_button, export_button, cancel_button, close_button : QPushButton
    a_box, b_box, steps_box, size_box : QSpinBox
    fps_box : QDoubleSpinBox
    method_combo, layout_combo : QComboBox
    orbit_check, pingpong_check : QCheckBox
    progress_bar : QProgressBar
        Frames written of the frames the file will have.
    stage_label : QLabel
        What the export is doing, or what it did.
    error_label : QLabel
        The last error, one line, red; hidden when there is none.
    """

    finished_export = Signal(str)
    cancelled = Signal()

    def __init__(
        self,
        session: ViewerSession,
        parent: QWidget | None = None,
        *,
        index_a: int | None = None,
        index_b: int | None = None,
        steps: int = _DEFAULT_STEPS,
        method: str = "lerp",
        fps: float = _DEFAULT_FPS,
        pingpong: bool = False,
        path: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Export interpolation")
        self.setModal(False)
        self._control = TaskControl()
        self._tasks = TaskRunner(self)
        self._decoding: Task | None = None
        self._result: Interpolation | None = None
        self._kept: dict[str, Any] = {"a": None, "b": None}  # ends that are kept shapes, not indices
        self._sweep: tuple[Interpolation, tuple[str, str]] | None = None  # a path to export as it is
        self._writer: AnimationWriter | None = None
        self._events: Iterator[ExportProgress] | None = None
        self._options: dict[str, Any] = {}
        self._failed = False
        self._running = False
        self._tick = QTimer(self)
        self._tick.setObjectName("export frames")
        self._tick.setInterval(0)
        self._tick.timeout.connect(self._step)
        self._build()
        self.prefill(index_a=index_a, index_b=index_b, steps=steps, method=method, fps=fps, pingpong=pingpong,
                     path=path)

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("animation.gif or animation.mp4")
        self.path_edit.setToolTip("A .gif loops forever; an .mp4 is H.264. The file appears only when complete.")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        form.addRow("Output file", row)

        self.a_box, self.a_name = self._shape_row(form, "Shape A", "a")
        self.b_box, self.b_name = self._shape_row(form, "Shape B", "b")

        self.steps_box = QSpinBox()
        self.steps_box.setRange(2, 1000)
        self.steps_box.setToolTip("Interpolation steps, both shapes included")
        form.addRow("Steps", self.steps_box)

        self.method_combo = QComboBox()
        self.method_combo.addItems(list(INTERPOLATION_METHODS))
        self.method_combo.setToolTip("lerp: straight line; slerp: great circle, with the norm interpolated linearly")
        form.addRow("Method", self.method_combo)

        self.fps_box = QDoubleSpinBox()
        self.fps_box.setRange(0.5, 120.0)
        self.fps_box.setDecimals(1)
        self.fps_box.setToolTip("Frames per second, at most 50 for a GIF")
        form.addRow("Frames per second", self.fps_box)

        self.size_box = QSpinBox()
        self.size_box.setRange(16, 4096)
        self.size_box.setSingleStep(64)
        self.size_box.setSuffix(" px")
        self.size_box.setValue(_DEFAULT_SIZE)
        self.size_box.setToolTip("Frame height and panel width in pixels")
        form.addRow("Size", self.size_box)

        self.layout_combo = QComboBox()
        self.layout_combo.addItems(list(LAYOUTS))
        self.layout_combo.setToolTip("single: the morph alone; triptych: A (grey) | morph (green) | B (grey)")
        form.addRow("Layout", self.layout_combo)

        self.orbit_check = QCheckBox("Orbit the camera once over the clip")
        form.addRow("", self.orbit_check)
        self.pingpong_check = QCheckBox("Ping-pong (forward, then backward)")
        form.addRow("", self.pingpong_check)
        self.up_label = QLabel()
        self.up_label.setToolTip("The clouds' up axis, as set for the viewport")
        form.addRow("Up axis", self.up_label)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%v / %m frames")
        layout.addWidget(self.progress_bar)
        self.stage_label = QLabel("")
        layout.addWidget(self.stage_label)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        layout.addWidget(self.error_label)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        for button in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self._option_widgets = (
            self.path_edit, self.browse_button, self.a_box, self.b_box, self.steps_box, self.method_combo,
            self.fps_box, self.size_box, self.layout_combo, self.orbit_check, self.pingpong_check,
        )
        self.steps_box.valueChanged.connect(self._show_total)
        self.pingpong_check.toggled.connect(self._show_total)
        self.setMinimumWidth(480)
        self._set_running(False)

    def _show_total(self, *_args: Any) -> None:
        """Before an export: how many frames the file will have."""
        if not self.is_running:
            self.progress_bar.setRange(0, len(playback_order(self.steps_box.value(), self.pingpong_check.isChecked())))
            self.progress_bar.setValue(0)

    def _shape_row(self, form: QFormLayout, title: str, slot: str) -> tuple[QSpinBox, QLabel]:
        box = QSpinBox()
        box.setToolTip("Index of the shape in the split")
        name = QLabel()

        def chosen(index: int) -> None:
            self._kept[slot] = None  # a shape of the split from now on
            name.setText(self.session.shape_label(index))

        box.valueChanged.connect(chosen)
        row = QHBoxLayout()
        row.addWidget(box)
        row.addWidget(name, 1)
        form.addRow(title, row)
        return box, name

    # ---- options ----------------------------------------------------------------------------

    def prefill(
        self,
        *,
        index_a: int | None = None,
        index_b: int | None = None,
        steps: int | None = None,
        method: str | None = None,
        fps: float | None = None,
        pingpong: bool | None = None,
        path: str | None = None,
    ) -> None:
        """Set the options the caller knows (None keeps what is there); ignored while exporting.

        An end left None is the session's: a shape of the split, or a kept shape.
        """
        if self.is_running:
            return
        self._sweep = None
        self.setWindowTitle("Export interpolation")
        count = len(self.session.split) if self.session.split is not None else 0
        for box in (self.a_box, self.b_box):
            box.setRange(0, max(count - 1, 0))
            box.setEnabled(count > 0)
        pair = self.session.pair
        self.a_box.setValue(max(pair["a"] if index_a is None else index_a, 0))
        self.b_box.setValue(max(pair["b"] if index_b is None else index_b, 0))
        for slot, index, box, label in (("a", index_a, self.a_box, self.a_name), ("b", index_b, self.b_box, self.b_name)):
            self._kept[slot] = self.session.kept_ends[slot] if index is None else None
            kept = self._kept[slot]
            label.setText(f"kept shape: {kept.label}" if kept is not None else self.session.shape_label(box.value()))
        if steps is not None:
            self.steps_box.setValue(int(steps))
        if method is not None and method in INTERPOLATION_METHODS:
            self.method_combo.setCurrentText(method)
        if fps is not None:
            self.fps_box.setValue(float(fps))
        if pingpong is not None:
            self.pingpong_check.setChecked(bool(pingpong))
        if path is not None:
            self.path_edit.setText(path)
        elif not self.path_edit.text():
            self.path_edit.setText(str(Path.home() / f"interpolation_{self.a_box.value()}_{self.b_box.value()}.gif"))
        self.up_label.setText(self.session.up)

    def prefill_sweep(self, result: Interpolation, labels: tuple[str, str], path: str) -> None:
        """Export ``result`` as it is (its frames, its two side shapes) instead of a path between A and B.

        The shapes, steps and method are the path's own and cannot be changed; ignored while exporting.
        """
        if self.is_running:
            return
        self._sweep = (result, labels)
        self.setWindowTitle("Export edit")
        self.steps_box.setValue(result.steps)
        self.a_name.setText(labels[0])
        self.b_name.setText(labels[1])
        self.path_edit.setText(path)
        self.up_label.setText(self.session.up)
        self._set_running(False)

    def options(self) -> dict[str, Any]:
        """The options as keyword arguments of ``export_interpolation`` (``out_path`` included)."""
        return {
            "out_path": os.path.expanduser(self.path_edit.text().strip()),
            "steps": self.steps_box.value(),
            "fps": self.fps_box.value(),
            "size": self.size_box.value(),
            "method": self.method_combo.currentText(),
            "layout": self.layout_combo.currentText(),
            "orbit": self.orbit_check.isChecked(),
            "pingpong": self.pingpong_check.isChecked(),
            "up": self.session.up,
        }

    def _browse(self) -> None:
        start = self.path_edit.text().strip() or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, "Export interpolation", start, "GIF (*.gif);;MP4 video (*.mp4)")
        if path:
            self.path_edit.setText(path)

    # ---- running ----------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether an export is under way (decoding, rendering, or winding down after a cancel)."""
        return self._running or self._tasks.busy

    def start(self) -> None:
        """Check the options and start the export; a wrong option shows in the dialog and starts nothing."""
        if self.is_running:
            return
        self._show_error("")
        session = self.session
        options = self.options()
        try:
            if not options["out_path"]:
                raise OptionError("choose the file to write (.gif or .mp4)")
            if session.model is None and self._sweep is None:
                raise OptionError("open a model first")
            target = check_export_options(
                options["out_path"], steps=options["steps"], fps=options["fps"], size=options["size"],
                method=options["method"], layout=options["layout"], up=options["up"],
            )
            clouds, labels = self._ends() if self._sweep is None else ((None, None), self._sweep[1])
            # Opened now, as export_interpolation does: an unwritable target fails before any work.
            writer = open_animation_writer(target, options["fps"])
        except VaeviewerError as error:
            self._show_error(str(error))
            return
        self._options = dict(options, labels=labels)
        self._writer = writer
        self._control = TaskControl()
        self._result = None
        self._failed = False
        total = len(playback_order(options["steps"], options["pingpong"]))
        self._set_running(True)
        self._show_progress(ExportProgress(0, total, "decoding"))
        if self._sweep is not None:  # decoded already
            self._result = self._sweep[0]
            self._decode_done()
            return
        model, method, steps = session.model, options["method"], options["steps"]
        # Torch only: the model runs off the GUI thread; the arrays it returns are plain numpy.
        self._decoding = self._tasks.start(lambda: iter([interpolate(model, clouds[0], clouds[1], steps, method)]),
                                           on_item=self._decoded, on_failed=self._decode_failed,
                                           on_done=self._decode_done)

    def _ends(self) -> tuple[tuple[Any, Any], tuple[str, str]]:
        """The two clouds to interpolate and their titles; OptionError for an end out of range."""
        session, clouds, labels = self.session, [], []
        for slot, box in (("a", self.a_box), ("b", self.b_box)):
            kept = self._kept[slot]
            if kept is not None:
                clouds.append(kept.points(session.num_points))
                labels.append(f"{slot.upper()}: {kept.label}")
                continue
            if session.split is None or not 0 <= box.value() < len(session.split):
                count = len(session.split) if session.split is not None else 0
                raise OptionError(f"shape {slot.upper()}: {box.value()} is out of range: the split has {count} shapes")
            clouds.append(session.cloud(box.value(), session.num_points))
            labels.append(f"{slot.upper()}: {session.split.shape_name(box.value())}")
        return (clouds[0], clouds[1]), (labels[0], labels[1])

    def cancel(self) -> None:
        """Stop the export after the current frame; nothing is written. No-op when idle."""
        if self._running:
            self._control.stop()
            self.stage_label.setText("Cancelling…")

    def shutdown(self) -> None:
        """Cancel at once, remove the temporary file and wait for the decoding thread (the window is closing)."""
        self._abort_now()
        self._tasks.shutdown()  # waits for the decoding; its result, still on its way, is dropped

    def _decoded(self, result: Interpolation) -> None:
        self._result = result

    def _decode_failed(self, message: str) -> None:
        self._failed = True
        self._show_error(message)

    def _decode_done(self) -> None:
        self._decoding = None
        if self._failed or self._result is None or self._control.should_stop:
            self._finish(cancelled=not self._failed)
            return
        options = self._options
        self._events = write_interpolation(
            self._result, self._writer, size=options["size"], layout=options["layout"], orbit=options["orbit"],
            pingpong=options["pingpong"], up=options["up"], labels=options["labels"], control=self._control,
        )
        self._writer = None  # the generator owns it now, and closes it however it ends
        freeze_long_lived()  # no full garbage collection of the whole process between two frames
        self._tick.start()

    def _step(self) -> None:
        """One frame: the event loop runs between two calls."""
        if self._events is None:
            self._tick.stop()
            return
        try:
            event = next(self._events)
        except StopIteration:
            self._finish(cancelled=True)
            return
        except VaeviewerError as error:  # a full disk, a vanished folder
            self._show_error(str(error))
            self._finish(cancelled=False)
            return
        except Exception as error:  # a bug: say what it was, keep the window alive
            traceback.print_exc(file=sys.stderr)
            self._show_error(f"{type(error).__name__}: {error}")
            self._finish(cancelled=False)
            return
        self._show_progress(event)
        if event.stage == "done":
            self._finish(cancelled=False, path=event.path)
        elif event.stage == "cancelled":
            self._finish(cancelled=True)

    def _abort_now(self) -> None:
        """Drop the export without waiting for another tick; the temporary file is removed here."""
        if not self._running:
            return
        self._control.stop()
        if self._decoding is not None:
            # Decoding: its result is dropped when it arrives; the file must not wait for it.
            self._decoding.cancel()
            self._decoding = None
        self._finish(cancelled=True)

    def _finish(self, *, cancelled: bool, path: Path | None = None) -> None:
        self._tick.stop()
        events, self._events = self._events, None
        if events is not None:
            events.close()  # closes the renderer and removes the temporary file unless committed
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        self._result = None
        self._set_running(False)
        if path is not None:
            width, height = animation_size(self._options["layout"], self._options["size"])
            self.stage_label.setText(f"Wrote {path} ({self.progress_bar.maximum()} frames, {width}x{height})")
            self.finished_export.emit(str(path))
        elif cancelled:
            self.stage_label.setText(_STAGE_TEXT["cancelled"])
            self.cancelled.emit()
        else:
            self.stage_label.setText("Failed; nothing was written.")

    # ---- view -------------------------------------------------------------------------------

    def _set_running(self, running: bool) -> None:
        self._running = running
        for widget in self._option_widgets:
            widget.setEnabled(not running)
        if not running and (self._sweep is not None or self.session.split is None or not len(self.session.split)):
            self.a_box.setEnabled(False)
            self.b_box.setEnabled(False)
        if self._sweep is not None:  # the path is given: its steps and method are its own
            self.steps_box.setEnabled(False)
            self.method_combo.setEnabled(False)
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _show_progress(self, event: ExportProgress) -> None:
        self.progress_bar.setRange(0, max(event.total, 1))
        self.progress_bar.setValue(event.frame)
        self.stage_label.setText(_STAGE_TEXT.get(event.stage, event.stage))

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Closing the dialog cancels an export under way and leaves no temporary file."""
        self._abort_now()
        super().closeEvent(event)

    def reject(self) -> None:
        """Esc, Close and the window's close button: an export under way is cancelled first."""
        self._abort_now()
        super().reject()
