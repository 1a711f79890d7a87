"""The Interpolation panel: walk from shape A to shape B in latent space and play the decoded clouds.

The two ends are the session's pair (set here from the selected shape, by the
browser and the latent map, or to a shape made in the Latent studio). The whole path is decoded at once, on the
GUI thread: 24 to 100 steps of 1024 or 2048 points took 30 to 230 ms with
one torch thread on a loaded two-core machine, but 0.2 to 1.3 s with torch's
default two threads competing with other processes for the cores. It is
decoded lazily: the session's events only mark it stale, and it is decoded
again when the panel is shown, plays or is asked for its frames. Playback
moves the slider from a timer; every frame copies its points into the
viewport's existing actor, so it allocates nothing per frame.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.export_dialog import ExportDialog
from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.render.colors import RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer
from vaeviewer.workflows.interpolate import INTERPOLATION_METHODS, Interpolation, interpolate
from vaeviewer.workflows.session import ViewerSession

__all__ = ["InterpolationPanel"]

#: Steps of a new panel's path, both ends included.
DEFAULT_STEPS = 24
#: Playback speed of a new panel, in frames per second.
DEFAULT_FPS = 30

# Spinning the steps box decodes once it rests this long, not at every click.
_REFRESH_DELAY_MS = 120


class InterpolationPanel(Panel):
    """Choose shapes A and B, decode the latent path between them and play it in the viewport.

    Signals
    -------
    frame_shown(int)
        A frame was drawn in the viewport (its index).

    Attributes
    ----------
    a_label, b_label : QLabel
        The two ends.
    set_a_button, set_b_button, swap_button : QPushButton
        "A = selected shape", "B = selected shape", swap A and B.
    steps_box, fps_box : QSpinBox
    method_combo : QComboBox
        ``lerp`` or ``slerp``.
    play_button : QPushButton
        Play / Pause.
    slider : QSlider
        The frame shown.
    frame_label : QLabel
        ``frame k / n · t = 0.42``.
    loop_check, pingpong_check : QCheckBox
        Start again at the end; play forward then backward.
    export_button : QPushButton
        Opens the :class:`~vaeviewer.gui.export_dialog.ExportDialog`.
    """

    name = "interpolation"
    title = "Interpolation"

    frame_shown = Signal(int)

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self._result: Interpolation | None = None
        self._stale = True
        self._direction = 1
        self._footer = ""
        self._drawn: Interpolation | None = None  # the path whose frame the viewport shows
        self._export_dialog: ExportDialog | None = None
        # When the last frames were shown during playback: the achieved frame rate.
        self._shown_at: deque[float] = deque(maxlen=61)

        self._play_timer = QTimer(self)
        self._play_timer.setObjectName("interpolation playback")
        self._play_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._play_timer.timeout.connect(self._advance)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setObjectName("interpolation refresh")
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(_REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self._refresh)

        self._build()
        events = session.events
        self.listen((events.pair, self._on_pair), (events.model, self._on_source_changed),
                    (events.dataset, self._on_source_changed), (events.split, self._on_source_changed),
                    (events.selection, self._on_selection))
        self._show_pair()
        self._on_selection(session.selection)
        self._show_frame_label()

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)

        ends = QGroupBox("Shapes")
        grid = QGridLayout(ends)
        self.a_label, self.b_label = QLabel(), QLabel()
        self.set_a_button = QPushButton("A = selected shape")
        self.set_b_button = QPushButton("B = selected shape")
        self.set_a_button.clicked.connect(lambda: self._set_end("a"))
        self.set_b_button.clicked.connect(lambda: self._set_end("b"))
        for row, (name, label, button) in enumerate((("A", self.a_label, self.set_a_button),
                                                     ("B", self.b_label, self.set_b_button))):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(QLabel(f"<b>{name}</b>"), row, 0)
            grid.addWidget(label, row, 1)
            grid.addWidget(button, row, 2)
        grid.setColumnStretch(1, 1)
        self.swap_button = QPushButton("Swap A ↔ B")
        self.swap_button.clicked.connect(self.swap)
        grid.addWidget(self.swap_button, 2, 2)
        layout.addWidget(ends)

        path = QGroupBox("Path")
        form = QFormLayout(path)
        self.steps_box = QSpinBox()
        self.steps_box.setRange(2, 200)
        self.steps_box.setValue(DEFAULT_STEPS)
        self.steps_box.setKeyboardTracking(False)  # typing "100" decodes once, not for 1, 10 and 100
        self.steps_box.setToolTip("Frames on the path, both shapes included")
        self.steps_box.valueChanged.connect(self._on_path_option)
        form.addRow("Steps", self.steps_box)
        self.method_combo = QComboBox()
        self.method_combo.addItems(list(INTERPOLATION_METHODS))
        self.method_combo.setToolTip(
            "lerp: the straight line between the two codes; slerp: the great circle, with the norm "
            "interpolated linearly (no shrinking towards the origin halfway)"
        )
        self.method_combo.currentTextChanged.connect(self._on_path_option)
        form.addRow("Method", self.method_combo)
        layout.addWidget(path)

        playback = QGroupBox("Playback")
        box = QVBoxLayout(playback)
        row = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play or pause the morph in the viewport")
        self.play_button.clicked.connect(self.toggle_playback)
        row.addWidget(self.play_button)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider)
        row.addWidget(self.slider, 1)
        box.addLayout(row)
        self.frame_label = QLabel()
        box.addWidget(self.frame_label)
        row = QHBoxLayout()
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setChecked(True)
        self.pingpong_check = QCheckBox("Ping-pong")
        self.pingpong_check.setToolTip("Play forward, then backward")
        self.pingpong_check.toggled.connect(lambda _: setattr(self, "_direction", 1))
        self.fps_box = QSpinBox()
        self.fps_box.setRange(1, 120)
        self.fps_box.setValue(DEFAULT_FPS)
        self.fps_box.setSuffix(" fps")
        self.fps_box.valueChanged.connect(self._on_fps)
        for widget in (self.loop_check, self.pingpong_check):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.fps_box)
        box.addLayout(row)
        layout.addWidget(playback)

        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the morph to an animated GIF or an MP4")
        self.export_button.clicked.connect(self.open_export_dialog)
        layout.addWidget(self.export_button)
        layout.addStretch(1)

    # ---- the path ---------------------------------------------------------------------------

    @property
    def interpolation(self) -> Interpolation | None:
        """The decoded path of the current pair, steps and method (decoded now if stale); None without one."""
        if self._stale:
            self._decode()
        return self._result

    @property
    def frames(self) -> np.ndarray | None:
        """float32 (steps, num_points, 3) clouds from A to B, or None without a model or a pair."""
        result = self.interpolation
        return None if result is None else result.frames

    def _decode(self) -> None:
        self._stale = False
        old = self._result
        fraction = self.slider.value() / self.slider.maximum() if old is not None and self.slider.maximum() else 0.0
        self._result = None
        session = self.session
        if session.model is not None and session.has_pair_end("a") and session.has_pair_end("b"):
            try:
                self._result = interpolate(
                    session.model, session.pair_cloud("a", session.num_points),
                    session.pair_cloud("b", session.num_points), self.steps_box.value(),
                    self.method_combo.currentText(),
                )
            except VaeviewerError as error:
                self.error.emit(str(error))
            self._footer = f"A: {session.pair_label('a')}    B: {session.pair_label('b')}"
        # Same place on the path after a change of steps: t stays (about) where it was.
        count = self._result.steps if self._result is not None else 1
        self.slider.blockSignals(True)
        self.slider.setRange(0, count - 1)
        self.slider.setValue(int(round(fraction * (count - 1))))
        self.slider.blockSignals(False)
        self._show_frame_label()
        self._update_enabled()
        if self._result is None:
            self.pause()

    def _mark_stale(self) -> None:
        self._stale = True
        if self.active or self.isVisible():
            self._refresh_timer.start()

    def _refresh(self) -> None:
        if self._stale:
            self._decode()
        # Only if the viewport still shows an older path: playback or the slider may have drawn this one.
        if self.active and (self._result is None or self._drawn is not self._result):
            self.draw()

    # ---- frames and playback ----------------------------------------------------------------

    @property
    def frame_index(self) -> int:
        """Index of the frame on show."""
        return self.slider.value()

    def set_frame(self, index: int) -> None:
        """Show frame ``index`` (clamped to the path)."""
        if self.interpolation is None:
            return
        index = int(np.clip(index, 0, self.slider.maximum()))
        if index == self.slider.value():
            self._on_slider(index)
        else:
            self.slider.setValue(index)

    @property
    def is_playing(self) -> bool:
        """Whether playback is running."""
        return self._play_timer.isActive()

    @property
    def measured_fps(self) -> float:
        """Frames per second actually shown over the last (up to) 60 frames of playback; 0 before two."""
        if len(self._shown_at) < 2:
            return 0.0
        span = self._shown_at[-1] - self._shown_at[0]
        return (len(self._shown_at) - 1) / span if span > 0 else 0.0

    def play(self) -> None:
        """Play the path in the viewport at the chosen frames per second."""
        if self.interpolation is None:
            self.status.emit("Interpolation: open a model and choose shapes A and B first")
            return
        if not self.active:
            self.view_requested.emit()
        last = self.slider.maximum()
        if not self.loop_check.isChecked() and not self.pingpong_check.isChecked() and self.frame_index >= last:
            self.set_frame(0)  # at the end of a one-way clip: play it again
        if self.active and self._drawn is not self._result:
            self._show_frame(self.frame_index)  # a new path starts from its frame on show, not from the old one
        self._shown_at.clear()
        self._play_timer.start(self._interval_ms())
        self.play_button.setText("Pause")

    def pause(self) -> None:
        """Stop playback on the frame shown."""
        self._play_timer.stop()
        self.play_button.setText("Play")

    def toggle_playback(self) -> None:
        """Pause when playing, else play."""
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def _interval_ms(self) -> int:
        return max(1, int(round(1000.0 / self.fps_box.value())))

    def _on_fps(self, _fps: int) -> None:
        if self.is_playing:
            self._play_timer.setInterval(self._interval_ms())
            self._shown_at.clear()

    def _advance(self) -> None:
        result = self.interpolation
        if result is None or result.steps < 2:
            self.pause()
            return
        last = result.steps - 1
        index = self.frame_index + self._direction
        loop = self.loop_check.isChecked()
        if self.pingpong_check.isChecked():
            # Forward then backward, each end shown once per cycle, as in the exported clip.
            if index > last:
                self._direction, index = -1, last - 1
            elif index < 0:
                if not loop:
                    self._direction = 1
                    self.pause()
                    return
                self._direction, index = 1, 1
        elif index > last:
            if not loop:
                self.pause()
                return
            index = 0
        self.set_frame(index)

    def _on_slider(self, index: int) -> None:
        self._show_frame_label()
        if self.active and self._result is not None:
            self._show_frame(index)

    def _show_frame(self, index: int) -> None:
        result = self._result
        t = float(result.ts[index])
        layer = CloudLayer(result.frames[index], RECONSTRUCTION_GREEN, label=f"interpolation frame {index} (t = {t:.2f})")
        self.viewport.show_panes([Pane((layer,), caption=f"A to B · t = {t:.2f}", footer=self._footer)])
        self._drawn = result
        if self.is_playing:
            self._shown_at.append(time.perf_counter())
        self.frame_shown.emit(index)

    def _show_frame_label(self) -> None:
        result = self._result
        if result is None or self._stale:
            self.frame_label.setText("frame – / –")
            return
        index = self.slider.value()
        self.frame_label.setText(f"frame {index + 1} / {result.steps} · t = {float(result.ts[index]):.2f}")

    # ---- the two ends -----------------------------------------------------------------------

    def _set_end(self, slot: str) -> None:
        try:
            self.session.set_pair(slot, self.session.selection)
        except VaeviewerError as error:
            self.error.emit(str(error))

    def swap(self) -> None:
        """Make A the old B and B the old A: the path runs the other way."""
        session = self.session
        if not (session.has_pair_end("a") and session.has_pair_end("b")):
            return
        # The frame on show stays the same cloud: t becomes 1 - t.
        self.slider.blockSignals(True)
        self.slider.setValue(self.slider.maximum() - self.slider.value())
        self.slider.blockSignals(False)
        session.swap_pair()

    def _show_pair(self) -> None:
        for slot, label in (("a", self.a_label), ("b", self.b_label)):
            label.setText(self.session.pair_label(slot) or "(none)")
        self._update_enabled()

    def _update_enabled(self) -> None:
        both = self.session.has_pair_end("a") and self.session.has_pair_end("b")
        self.swap_button.setEnabled(both)
        has_path = self.session.model is not None and both
        for widget in (self.play_button, self.slider, self.export_button):
            widget.setEnabled(has_path)

    # ---- session events ---------------------------------------------------------------------

    def _on_pair(self, _slot: str, _index: int) -> None:
        self._show_pair()
        self._mark_stale()

    def _on_source_changed(self, *_args: Any) -> None:
        self._show_pair()
        self._on_selection(self.session.selection)
        self._mark_stale()

    def _on_selection(self, index: int) -> None:
        chosen = index is not None and index >= 0
        self.set_a_button.setEnabled(chosen)
        self.set_b_button.setEnabled(chosen)

    def _on_path_option(self, *_args: Any) -> None:
        self._mark_stale()

    # ---- export -----------------------------------------------------------------------------

    @property
    def export_dialog(self) -> ExportDialog | None:
        """The export dialog, once opened."""
        return self._export_dialog

    def open_export_dialog(self) -> ExportDialog:
        """Show the export dialog (non-modal), filled in with this panel's pair, steps, method, fps and ping-pong."""
        dialog = self._export_dialog
        if dialog is None:
            dialog = self._export_dialog = ExportDialog(self.session, self)
            dialog.finished_export.connect(lambda path: self.status.emit(f"Exported {path}"))
            dialog.cancelled.connect(lambda: self.status.emit("Export cancelled"))
        if not dialog.is_running:
            dialog.prefill(
                index_a=self.session.pair["a"], index_b=self.session.pair["b"], steps=self.steps_box.value(),
                method=self.method_combo.currentText(), fps=self.fps_box.value(),
                pingpong=self.pingpong_check.isChecked(),
            )
        # Not open() or exec(): those block the window; an export runs while the user goes on.
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    # ---- Panel ------------------------------------------------------------------------------

    def draw(self) -> None:
        """Show the frame of the slider, or say what is missing."""
        if self.interpolation is None:
            self.viewport.show_panes([Pane(caption="Interpolation: open a model and choose shapes A and B")])
            self._drawn = None
            return
        self._show_frame(self.frame_index)

    def deactivated(self) -> None:
        """Another panel has the viewport: stop playing into it."""
        self.pause()

    def prepare_screenshot(self) -> None:
        """Show the middle of the path: a shape between A and B says more than A itself."""
        frames = self.frames
        if frames is not None:
            self.set_frame(len(frames) // 2)

    def is_busy(self) -> bool:
        """True while a change of the path waits to be decoded."""
        return self._refresh_timer.isActive()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Decode a stale path when the panel comes into view, so that its slider and label are right."""
        super().showEvent(event)
        if self._stale:
            self._refresh_timer.start()

    def shutdown(self) -> None:
        """Stop playback and any export (removing its temporary file); forget the session."""
        self.pause()
        self._refresh_timer.stop()
        if self._export_dialog is not None:
            self._export_dialog.shutdown()
            self._export_dialog.hide()
        self.stop_listening()
