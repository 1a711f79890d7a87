"""The reconstruction panel: the chosen shape against what the model makes of it.

The panel follows the session's selection (the data set browser's shape): it
encodes the shape, decodes the posterior mean and shows input and
reconstruction overlaid, side by side, or coloured by their per-point errors,
with the Chamfer distance and the classifier's answer. "Sample from the
posterior" decodes several codes drawn around the mean instead.

One reconstruction is a single forward pass (tens of milliseconds on a CPU for
1024 points), so it runs on the GUI thread; it runs lazily, only when the
panel is seen (active in the viewport or its dock on screen), and once per
shape and model.
"""

from __future__ import annotations

import colorsys
import time
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.render.colors import ERROR_CMAP, ERROR_TITLE, INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer
from vaeviewer.workflows.reconstruct import PosteriorSamples, Reconstruction, reconstruct_shape, sample_posterior
from vaeviewer.workflows.session import ViewerSession

__all__ = ["RECONSTRUCTION_MODES", "ReconstructionPanel", "sample_colors"]

#: What the panel can show, with the names its selector gives them (as in
#: :func:`vaeviewer.render.figures.comparison_image`, less the ``all`` figure).
RECONSTRUCTION_MODES = {"overlay": "Overlay", "side": "Side by side", "error": "Error"}

#: Most posterior samples drawn at once: beyond eight overlaid clouds nothing can be told apart.
MAX_SAMPLES = 8

_OVERLAY_LEGEND = "grey: input    green: reconstruction"


def sample_colors(count: int) -> list[tuple[float, float, float]]:
    """``count`` greens that can be told apart, the reconstruction's own green for one.

    Lightness and hue both change (dark blue-green to light yellow-green), in an
    order that puts unlike shades next to each other, so that neighbouring
    samples in the list differ the most.

    Parameters
    ----------
    count : int
        Number of colours.

    Returns
    -------
    list of tuple of float
        RGB in 0..1.
    """
    if count <= 1:
        return [RECONSTRUCTION_GREEN] * max(count, 0)
    steps = np.linspace(0.0, 1.0, count)
    # Interleave the two halves of the ramp: 0, mid, 1/n, mid + 1/n, ...
    order = [int(k) for pair in zip(range(0, (count + 1) // 2), range((count + 1) // 2, count)) for k in pair]
    order += [k for k in range(count) if k not in order]
    colors = []
    for k in order:
        t = float(steps[k])
        colors.append(colorsys.hls_to_rgb(0.44 - 0.18 * t, 0.22 + 0.46 * t, 0.70))
    return colors


def _chamfer_values(values: np.ndarray, most: int) -> str:
    """Every value when there are at most ``most`` (a pane's footer holds no more), else their range."""
    if len(values) <= most:
        return " ".join(f"{v:.5f}" for v in values)
    return f"{float(np.min(values)):.5f} to {float(np.max(values)):.5f}"


class ReconstructionPanel(Panel):
    """Input against reconstruction for the session's chosen shape.

    Attributes
    ----------
    compute_seconds : float
        Wall time of the last reconstruction (encode, decode, per-point errors).

    Notes
    -----
    Left and Right step through the split while the panel or the viewport has
    the keyboard focus. The viewport's pair of shortcuts lives on the viewport
    (panels cannot reach into its children otherwise) and is enabled only while
    this panel owns the viewport, so that no other panel's keys clash with them.
    """

    name = "reconstruction"
    title = "Reconstruction"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self.compute_seconds = 0.0
        self._mode = "overlay"
        self._mode_before_samples: str | None = None  # the mode samples replaced (error), back with the mean
        self._result: Reconstruction | None = None
        self._samples: PosteriorSamples | None = None
        self._message = ""
        self._next_seed = 0
        # Data set, split and model changes bump the generation; together with the selection it
        # names what the panel should show, so that a dataset event followed by the selection
        # event it brings costs one reconstruction, not two.
        self._generation = 0
        self._computed: tuple[int, int] | None = None
        self._build()
        self._shortcuts = self._install_shortcuts()

        events = session.events
        self.listen((events.selection, self._on_selection), (events.model, self._on_source),
                    (events.split, self._on_source), (events.dataset, self._on_source))
        self._update_labels()

    # ---- widgets ------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self._message_label = QLabel()
        self._message_label.setWordWrap(True)
        self._message_label.setStyleSheet("font-weight: bold")
        layout.addWidget(self._message_label)

        self._shape_label = QLabel()
        self._shape_label.setWordWrap(True)
        self._chamfer_label = QLabel()
        self._chamfer_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._class_label = QLabel()
        self._class_label.setWordWrap(True)
        self._mode_box = QComboBox()
        for mode, text in RECONSTRUCTION_MODES.items():
            self._mode_box.addItem(text, mode)
        self._mode_box.setToolTip("Overlay: input grey, reconstruction green in one view.\n"
                                  "Side by side: the two with one camera.\n"
                                  "Error: every point coloured by its distance to the other cloud.")
        self._mode_box.currentIndexChanged.connect(lambda _: self.set_mode(self._mode_box.currentData()))
        form = QFormLayout()
        form.addRow("Shape", self._shape_label)
        form.addRow("Chamfer distance", self._chamfer_label)
        form.addRow("Class", self._class_label)
        form.addRow("Show", self._mode_box)
        layout.addLayout(form)

        steps = QHBoxLayout()
        self._previous = QPushButton("◀ Previous")
        self._previous.setToolTip("Previous shape of those the browser shows (Left)")
        self._previous.clicked.connect(lambda: self.step(-1))
        self._next = QPushButton("Next ▶")
        self._next.setToolTip("Next shape of those the browser shows (Right)")
        self._next.clicked.connect(lambda: self.step(1))
        steps.addWidget(self._previous)
        steps.addWidget(self._next)
        layout.addLayout(steps)

        group = QGroupBox("Posterior")
        box = QVBoxLayout(group)
        row = QHBoxLayout()
        self._count = QSpinBox()
        self._count.setRange(1, MAX_SAMPLES)
        self._count.setValue(4)
        self._count.setSuffix(" samples")
        self._count.setToolTip("How many codes to draw from the shape's posterior")
        self._sample_button = QPushButton("Sample from the posterior")
        self._sample_button.setToolTip("Decode codes z = mu + sigma * eps drawn around the shape's latent mean;\n"
                                       "each click draws new ones")
        self._sample_button.clicked.connect(lambda: self.sample_posterior())
        row.addWidget(self._count)
        row.addWidget(self._sample_button, 1)
        box.addLayout(row)
        self._mean_button = QPushButton("Show mean")
        self._mean_button.setToolTip("Back to the decoding of the latent mean")
        self._mean_button.clicked.connect(self.show_mean)
        box.addWidget(self._mean_button)
        self._samples_label = QLabel()
        self._samples_label.setWordWrap(True)
        box.addWidget(self._samples_label)
        layout.addWidget(group)
        layout.addStretch(1)
        self._controls = [self._mode_box, self._previous, self._next, self._count, self._sample_button]

    def _install_shortcuts(self) -> list[QShortcut]:
        made = []
        for owner in (self, self.viewport):
            for key, delta in ((Qt.Key.Key_Left, -1), (Qt.Key.Key_Right, 1)):
                shortcut = QShortcut(QKeySequence(key), owner)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(lambda delta=delta: self.step(delta))
                shortcut.setEnabled(owner is self)
                made.append(shortcut)
        return made

    def _viewport_shortcuts(self) -> list[QShortcut]:
        return self._shortcuts[2:]  # made after the panel's own two, see _install_shortcuts

    # ---- public API ---------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """What is shown: one of :data:`RECONSTRUCTION_MODES`."""
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Show ``overlay``, ``side`` (two panes) or ``error`` (two panes coloured by error)."""
        if mode not in RECONSTRUCTION_MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(RECONSTRUCTION_MODES)}")
        if self._mode_box.currentData() != mode:
            self._mode_box.setCurrentIndex(list(RECONSTRUCTION_MODES).index(mode))  # comes back here
            return
        if mode == self._mode:
            return
        self._mode = mode
        self._mode_before_samples = None  # the user chose: that stays after the samples too
        if mode == "error" and self._samples is not None:
            self._samples = None  # errors are the mean decoding's: the selector says what is drawn
            self._update_labels()
        self._show()

    @property
    def result(self) -> Reconstruction | None:
        """The reconstruction shown (computed if it was due), or None without model, data or shape."""
        self._refresh()
        return self._result

    @property
    def chamfer(self) -> float | None:
        """Chamfer distance between the shown shape and its reconstruction, or None."""
        result = self.result
        return result.chamfer if result is not None else None

    @property
    def samples(self) -> PosteriorSamples | None:
        """The posterior samples shown, or None while the mean's decoding is shown."""
        return self._samples

    @property
    def message(self) -> str:
        """Why nothing is shown (no data set, no model, ...); empty when a reconstruction is."""
        self._refresh()
        return self._message

    def step(self, delta: int) -> None:
        """Choose the shape ``delta`` places further among those the browser shows (the arrow keys)."""
        self.session.step_selection(int(delta))
        if not self.active:
            self.view_requested.emit()

    def sample_posterior(self, count: int | None = None, seed: int | None = None) -> PosteriorSamples | None:
        """Decode ``count`` codes drawn from the shown shape's posterior, and show them.

        Parameters
        ----------
        count : int, optional
            Number of samples (1 to :data:`MAX_SAMPLES`); the spin box's value by default.
        seed : int, optional
            Seed of the draw; the same seed draws the same clouds. By default every call
            takes the next seed, so that each click shows new samples.

        Returns
        -------
        PosteriorSamples or None
            None when there is nothing to sample from.
        """
        self._refresh()
        if self._result is None or self.session.model is None:
            return None
        if count is None:
            count = self._count.value()
        count = int(np.clip(count, 1, MAX_SAMPLES))
        if seed is None:
            seed = self._next_seed
        self._next_seed = int(seed) + 1
        try:
            self._samples = sample_posterior(self.session.model, self._result.input_points, count, seed)
        except VaeviewerError as error:
            self.error.emit(str(error))
            return None
        if self._mode == "error":
            # Samples are drawn beside the input, not coloured by error: the selector says so, and the
            # error view comes back with the mean.
            self.set_mode("side")
            self._mode_before_samples = "error"
        self._update_labels()
        self._show()
        return self._samples

    def show_mean(self) -> None:
        """Drop the posterior samples and show the decoding of the latent mean again."""
        if self._samples is None:
            return
        self._samples = None
        self._restore_mode()
        self._update_labels()
        self._show()

    def _restore_mode(self) -> None:
        """The mode the posterior samples replaced (the error view) comes back, without drawing."""
        if self._mode_before_samples is None:
            return
        self._mode, self._mode_before_samples = self._mode_before_samples, None
        self._mode_box.blockSignals(True)
        self._mode_box.setCurrentIndex(list(RECONSTRUCTION_MODES).index(self._mode))
        self._mode_box.blockSignals(False)

    # ---- Panel --------------------------------------------------------------------------------

    def set_active(self, active: bool) -> None:
        """Own the viewport or give it away; the arrow keys work in the viewport only while active."""
        for shortcut in self._viewport_shortcuts():
            shortcut.setEnabled(bool(active))
        super().set_active(active)

    def draw(self) -> None:
        """Show the reconstruction (computing it first if it is due) in the viewport."""
        self._refresh()
        self.viewport.show_panes(self._panes())

    def shutdown(self) -> None:
        """Stop following the session and take the shortcuts off the viewport."""
        self.stop_listening()
        from shiboken6 import Shiboken

        # The viewport may outlive the panel (or be gone already): leave no shortcut of ours on it.
        for shortcut in self._shortcuts[2:]:
            if Shiboken.isValid(shortcut):
                shortcut.setEnabled(False)
                shortcut.setParent(None)
                shortcut.deleteLater()
        self._shortcuts = self._shortcuts[:2]

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """A dock coming on screen shows up-to-date numbers."""
        super().showEvent(event)
        self._refresh()

    # ---- session events -----------------------------------------------------------------------

    def _on_selection(self, index: int) -> None:
        self._changed()

    def _on_source(self, *args: Any) -> None:
        self._generation += 1
        self._changed()

    def _changed(self) -> None:
        if self._computed == self._wanted():
            return
        if self.active:
            self.draw()
        elif self.isVisible():
            self._refresh()  # the numbers are on screen; the viewport waits until the panel owns it
        else:
            self._update_labels()

    # ---- computing ----------------------------------------------------------------------------

    def _wanted(self) -> tuple[int, int]:
        return self._generation, self.session.selection

    def _refresh(self) -> None:
        """Reconstruct the chosen shape if the data set, model or selection changed since."""
        wanted = self._wanted()
        if self._computed == wanted:
            return
        self._computed = wanted
        self._result, self._samples, self._message = None, None, ""
        self._restore_mode()
        session = self.session
        if session.split is None:
            self._message = "No data set is open: open one from the File menu to see reconstructions."
        elif session.model is None:
            self._message = "No model is open: open a checkpoint from the File menu to see reconstructions."
        elif not len(session.split) or session.selection < 0:
            self._message = "No shape is chosen: pick one in the data set browser."
        else:
            class_names = tuple(session.checkpoint.class_names) if session.checkpoint is not None else ()
            start = time.perf_counter()
            try:
                self._result = reconstruct_shape(session.model, session.split, session.selection, class_names)
            except VaeviewerError as error:
                self._message = str(error)
                self.error.emit(str(error))
            self.compute_seconds = time.perf_counter() - start
        self._update_labels()

    def _update_labels(self) -> None:
        result, pending = self._result, self._computed != self._wanted()
        self._message_label.setText(self._message)
        self._message_label.setVisible(bool(self._message))
        for control in self._controls:
            control.setEnabled(result is not None or pending)
        self._mean_button.setEnabled(self._samples is not None)
        if pending:
            shape = self.session.shape_label(self.session.selection) if self.session.split is not None else ""
            self._shape_label.setText(shape or "–")
            for label in (self._chamfer_label, self._class_label, self._samples_label):
                label.setText("…")
            return
        if result is None:
            for label in (self._shape_label, self._chamfer_label, self._class_label, self._samples_label):
                label.setText("–")
            return
        self._shape_label.setText(self.session.shape_label(result.index))
        self._chamfer_label.setText(f"{result.chamfer:.5f}")
        self._chamfer_label.setToolTip(
            f"input to reconstruction {float(result.input_error.mean()):.5f}\n"
            f"+ reconstruction to input {float(result.reconstruction_error.mean()):.5f}\n"
            f"computed in {1000 * self.compute_seconds:.0f} ms"
        )
        self._class_label.setText(self._class_text(result))
        if self._samples is None:
            self._samples_label.setText("Showing the decoding of the latent mean.")
        else:
            values = ", ".join(f"{c:.5f}" for c in self._samples.chamfer)
            self._samples_label.setText(
                f"{len(self._samples.chamfer)} samples (seed {self._samples.seed}), Chamfer {values}"
            )

    @staticmethod
    def _class_text(result: Reconstruction) -> str:
        if not result.predicted_class:
            return f"{result.class_name} (the model has no classifier)"
        verdict = "correct" if result.predicted_class == result.class_name else "wrong"
        return f"{result.class_name}, predicted {result.predicted_class} ({verdict})"

    # ---- drawing ------------------------------------------------------------------------------

    def _show(self) -> None:
        """Redraw if the viewport is ours, else ask for it (the user acted in this panel)."""
        if self.active:
            self.draw()
        else:
            self.view_requested.emit()

    def _panes(self) -> list[Pane]:
        result = self._result
        if result is None:
            return [self._input_pane()]
        title = f"{result.class_name} {result.index} · Chamfer {result.chamfer:.5f}"
        predicted = f"predicted: {result.predicted_class}" if result.predicted_class else "no classifier"
        name = f"{result.class_name} {result.index}"
        grey = CloudLayer(result.input_points, INPUT_GREY, label=f"input {name}")
        if self._samples is not None:
            return self._sample_panes(result, grey)
        green = CloudLayer(result.reconstruction, RECONSTRUCTION_GREEN, label=f"reconstruction of {name}")
        if self._mode == "overlay":
            return [Pane((grey, green), caption=title, footer=f"{predicted}    {_OVERLAY_LEGEND}")]
        if self._mode == "side":
            return [
                Pane((grey,), caption="input", footer=f"{result.class_name} {result.index}"),
                Pane((green,), caption="reconstruction", footer=f"Chamfer {result.chamfer:.5f}    {predicted}"),
            ]
        return self._error_panes(result, predicted)

    def _input_pane(self) -> Pane:
        """Nothing to reconstruct yet (no model, while it loads): the chosen shape in grey, and why."""
        session = self.session
        if session.split is None or session.selection < 0:
            return Pane(caption=self._message)
        try:
            cloud = session.cloud(session.selection, session.num_points)
        except VaeviewerError:
            return Pane(caption=self._message)  # the browser reports a broken shape
        label = session.shape_label(session.selection)
        return Pane((CloudLayer(cloud, INPUT_GREY, label=f"input {label}"),), caption=label, footer=self._message)

    def _error_panes(self, result: Reconstruction, predicted: str) -> list[Pane]:
        # One colour scale for both panes, up to the 99th percentile of both errors as in the
        # still figures, so that one stray point does not turn everything else dark.
        both = np.concatenate([result.input_error, result.reconstruction_error])
        top = float(np.percentile(both, 99)) if both.size else 1.0
        clim = (0.0, top if top > 0 else 1e-6)

        name = f"{result.class_name} {result.index}"

        def coloured(points: np.ndarray, values: np.ndarray, bar: bool, label: str) -> CloudLayer:
            return CloudLayer(
                points, scalars=values, cmap=ERROR_CMAP, clim=clim, scalar_title=ERROR_TITLE, scalar_bar=bar, label=label
            )

        missed, spurious = float(result.input_error.mean()), float(result.reconstruction_error.mean())
        return [
            Pane(
                (coloured(result.input_points, result.input_error, False, f"input {name}"),),
                caption="input: distance to reconstruction",
                footer=f"{result.class_name} {result.index} · mean {missed:.5f}",
            ),
            Pane(
                (coloured(result.reconstruction, result.reconstruction_error, True, f"reconstruction of {name}"),),
                caption="reconstruction: distance to input",
                footer=f"mean {spurious:.5f} · Chamfer {result.chamfer:.5f}",
            ),
        ]

    def _sample_panes(self, result: Reconstruction, grey: CloudLayer) -> list[Pane]:
        samples = self._samples
        assert samples is not None
        count = len(samples.clouds)
        # Several overlaid clouds hide each other at full size.
        size = 5.0 if count == 1 else 3.5
        layers = tuple(
            CloudLayer(cloud, color, point_size=size, label=f"posterior sample {k + 1} of {result.class_name} {result.index}")
            for k, (cloud, color) in enumerate(zip(samples.clouds, sample_colors(count)))
        )
        plural = "s" if count > 1 else ""
        name = f"{result.class_name} {result.index}"
        if self._mode == "overlay":
            footer = f"Chamfer {_chamfer_values(samples.chamfer, 6)}    (mean code {result.chamfer:.5f})"
            caption = f"{name} · {count} posterior sample{plural}, seed {samples.seed}"
            return [Pane((grey, *layers), caption=caption, footer=footer)]
        return [
            Pane((grey,), caption="input", footer=f"{name} · mean code {result.chamfer:.5f}"),
            Pane(
                layers,
                caption=f"{count} posterior sample{plural}, seed {samples.seed}",
                footer=f"Chamfer {_chamfer_values(samples.chamfer, 3)}",
            ),
        ]
