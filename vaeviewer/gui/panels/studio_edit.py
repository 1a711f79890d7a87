"""The Latent studio's Edit page: move a shape along directions of the latent space, decoded as the slider moves.

The directions come from the training split's latent index (built on a worker,
cached on disk): its first principal directions, each slider's unit one standard
deviation along it, and an *attribute vector*, the mean code of one group minus
that of another, where a group is a class or a set of shapes picked in the
browser or on the latent map (the selected shape, added with a button). The
shape is encoded once (:class:`~vaeviewer.workflows.studio.LatentEditor`); each
slider move decodes one code on the GUI thread (about a millisecond) and copies
the points into the viewport's existing actor, so a drag redraws at the screen's
rate. The shape as it was stays beside it in grey.

Apply keeps the edited shape as the one to edit further; it can be made an end of
the interpolation, saved with File > Export cloud, and its sweep along the last
moved direction exported as a GIF or MP4 with the interpolation's exporter.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.export_dialog import ExportDialog
from vaeviewer.gui.panels.studio_page import StudioPage
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer
from vaeviewer.workflows.session import KeptShape, ViewerSession

__all__ = ["EditPage"]

#: Principal directions offered as sliders.
PC_SLIDERS = 5
#: Slider ticks per unit (a standard deviation, or the whole attribute difference).
TICKS = 100
#: Reach of the principal sliders (standard deviations) and of the attribute slider (times the difference).
PC_RANGE, ATTRIBUTE_RANGE = 3.0, 1.5
#: Frames of an exported sweep, and its reach when the direction's slider is at zero.
SWEEP_STEPS, SWEEP_EXTENT = 24, 2.0
_PICKED = ("picked set A", "picked set B")


class EditPage(StudioPage):
    """Edit a shape with sliders along latent directions (see the module).

    Attributes
    ----------
    sliders : dict of str to QSlider
        ``pc1`` ... ``pc5`` and ``attribute``.
    first_combo, second_combo : QComboBox
        The attribute vector's two groups: a class, or a picked set.
    measured_fps : float
        Edited frames shown per second over the last drag (0 before one).
    """

    name = "edit"
    title = "Edit"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self._index: Any = None  # the training split's latent index (directions, classes)
        self.editor: Any = None  # a LatentEditor once a model is open
        self._original: np.ndarray | None = None  # the shape as it was before this round of edits
        self._base_label = ""
        self._edited: np.ndarray | None = None
        self._last_direction = "pc1"
        self._pcs: list[Any] = []  # the principal directions, once the index is in
        self._attribute_names = ("", "")
        self._picked: dict[str, list[int]] = {"a": [], "b": []}  # shape indices of the split
        self._shown_at: deque[float] = deque(maxlen=61)
        self._export_dialog: ExportDialog | None = None
        self._build()
        events = session.events
        self.listen((events.model, self._on_inputs_changed), (events.dataset, self._on_inputs_changed),
                    (events.split, self._on_split))
        self._update_buttons()

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.shape_label = QLabel("No shape")
        self.shape_label.setWordWrap(True)
        self.selected_button = QPushButton("Edit selected shape")
        self.selected_button.setToolTip("Edit the shape chosen in the browser or on the latent map")
        self.selected_button.clicked.connect(self.edit_selected)
        row.addWidget(self.shape_label, 1)
        row.addWidget(self.selected_button)
        layout.addLayout(row)

        box = QGroupBox("Principal directions of the training codes (unit: 1 σ)")
        grid = QGridLayout(box)
        self.sliders: dict[str, QSlider] = {}
        self._value_labels: dict[str, QLabel] = {}
        for k in range(PC_SLIDERS):
            self._slider_row(grid, k, f"pc{k + 1}", PC_RANGE)
        layout.addWidget(box)

        box = QGroupBox("Attribute: mean of one group minus the other's (unit: the whole difference)")
        grid = QGridLayout(box)
        self.first_combo, self.second_combo = QComboBox(), QComboBox()
        for combo in (self.first_combo, self.second_combo):
            combo.currentIndexChanged.connect(self._update_attribute)
        grid.addWidget(self.first_combo, 0, 0, 1, 2)
        grid.addWidget(QLabel("minus"), 0, 2)
        grid.addWidget(self.second_combo, 0, 3)
        self._slider_row(grid, 1, "attribute", ATTRIBUTE_RANGE)
        self.picked_label = QLabel()
        grid.addWidget(self.picked_label, 2, 0, 1, 4)
        picks = QHBoxLayout()
        self.pick_a_button, self.pick_b_button = QPushButton("Add selected to A"), QPushButton("Add selected to B")
        self.clear_picks_button = QPushButton("Clear picks")
        self.pick_a_button.clicked.connect(lambda: self.pick("a", self.session.selection))
        self.pick_b_button.clicked.connect(lambda: self.pick("b", self.session.selection))
        self.clear_picks_button.clicked.connect(self.clear_picks)
        for button in (self.pick_a_button, self.pick_b_button, self.clear_picks_button):
            button.setToolTip("Pick shapes in the browser or on the latent map, then add each here")
            picks.addWidget(button)
        grid.addLayout(picks, 3, 0, 1, 4)
        layout.addWidget(box)

        actions = self._shape_buttons("the edited shape", edit=False)
        self.reset_button, self.apply_button = QPushButton("Reset"), QPushButton("Apply")
        self.export_button = QPushButton("Export sweep…")
        self.reset_button.setToolTip("All sliders back to zero")
        self.apply_button.setToolTip("Keep the edited shape: edit it further, save it, interpolate from it")
        self.export_button.setToolTip("A GIF or MP4 of the shape swept along the last moved direction")
        self.reset_button.clicked.connect(self.reset)
        self.apply_button.clicked.connect(self.apply)
        self.export_button.clicked.connect(self.open_export_dialog)
        for k, button in enumerate((self.reset_button, self.apply_button, self.export_button), start=2):
            actions.addWidget(button, k // 3, k % 3)
        layout.addLayout(actions)
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        layout.addWidget(self.info_label)
        layout.addStretch(1)
        self._show_picks()

    def _slider_row(self, grid: QGridLayout, row: int, name: str, reach: float) -> None:
        label = QLabel(name)
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(-int(reach * TICKS), int(reach * TICKS))
        slider.setSingleStep(TICKS // 10)
        slider.setPageStep(TICKS // 2)
        slider.valueChanged.connect(lambda value, name=name: self._on_slider(name, value))
        value = QLabel("+0.00")
        value.setMinimumWidth(56)
        grid.addWidget(label, row, 0)
        grid.addWidget(slider, row, 1, 1, 2)
        grid.addWidget(value, row, 3)
        self.sliders[name] = slider
        self._value_labels[name] = value
        if name.startswith("pc"):
            self._value_labels[name + " name"] = label

    # ---- what is edited ---------------------------------------------------------------------

    @property
    def edited(self) -> np.ndarray | None:
        """The edited shape as drawn, float32 (N, 3), or None."""
        return self._edited

    @property
    def measured_fps(self) -> float:
        """Edited frames shown per second over the last :data:`61` (at least two)."""
        times = self._shown_at
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def edit_selected(self) -> None:
        """Edit the shape selected in the browser."""
        session = self.session
        if session.model is not None and session.split is not None and session.selection >= 0:
            self.edit(KeptShape(session.shape_label(session.selection),
                                session.cloud(session.selection, session.num_points)))

    def edit(self, shape: KeptShape) -> None:
        """Edit ``shape`` from now on: it is encoded, the sliders go to zero."""
        if self.session.model is None:
            return
        from vaeviewer.workflows.studio import LatentEditor

        if self.editor is None:
            self.editor = LatentEditor(self.session.model)
            self._load_directions()
        cloud = shape.points(self.session.num_points)
        try:
            self.editor.start(cloud)
        except VaeviewerError as error:
            self.error.emit(str(error))
            return
        self._original, self._base_label = cloud, shape.label
        self.shape_label.setText(f"Editing: {shape.label}")
        self._zero_sliders()
        self._redecode()
        self._update_buttons()
        self.view_requested.emit()

    def reset(self) -> None:
        """All amounts back to zero: the shape as it was."""
        self._zero_sliders()
        self._redecode()

    def apply(self) -> None:
        """Keep the edited shape: it becomes the shape edited from now on (sliders at zero)."""
        if self.editor is None or self.editor.base is None or self._edited is None:
            return
        label = f"{self._base_label}, {self._edit_text()}" if self._edit_text() else self._base_label
        self.editor.apply()
        self._original, self._base_label = self._edited, label
        self.shape_label.setText(f"Editing: {label}")
        self._zero_sliders()
        self._redecode()
        self.status.emit(f"Kept {label}")

    def kept(self) -> KeptShape | None:
        """The edited shape as a kept shape (what Use as A/B and the sweep name), or None."""
        if self._edited is None:
            return None
        text = self._edit_text()
        return KeptShape(f"{self._base_label}, {text}" if text else self._base_label, self._edited)

    def pick(self, group: str, shape: int) -> None:
        """Add shape ``shape`` of the split to picked set ``group`` (``"a"`` or ``"b"``)."""
        if shape < 0 or shape in self._picked[group]:
            return
        self._picked[group].append(int(shape))
        self._show_picks()
        self._update_attribute()

    def clear_picks(self) -> None:
        """Empty both picked sets."""
        self._picked = {"a": [], "b": []}
        self._show_picks()
        self._update_attribute()

    # ---- directions -------------------------------------------------------------------------

    def _load_directions(self) -> None:
        """Build (or read) the training split's latent index on a worker; the sliders wake when it arrives."""
        work = self._directions_work()
        if work is None or self._task is not None:
            return
        self._start(lambda: iter([work()]), self._on_index, lambda message: self.error.emit(f"latent studio: {message}"))

    def _directions_work(self) -> Any:
        """The index's building as a function (None without a model and data set); says what it does."""
        session = self.session
        if session.model is None or session.dataset is None:
            return None
        from vaeviewer.workflows.studio import build_index, data_location

        dataset = session.dataset
        training = dataset.split("train") if "train" in dataset.split_names else session.split
        model, checkpoint, data = session.model, session.checkpoint_path or None, data_location(session.data_path)
        self.info_label.setText(f"Finding the directions: the codes of {len(training)} {training.name} shapes…")
        return lambda: build_index(model, training, checkpoint=checkpoint, data=data)

    def _on_index(self, index: Any) -> None:
        from vaeviewer.workflows.studio import principal_edit_directions

        self._index = index
        self._pcs = principal_edit_directions(index, PC_SLIDERS)
        for direction in self._pcs:
            std = float(np.linalg.norm(direction.step))
            self._value_labels[f"{direction.name} name"].setToolTip(f"one unit: σ = {std:.3f} along this direction")
        for combo, default in ((self.first_combo, 0), (self.second_combo, 1)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([*index.class_names, *_PICKED])
            combo.setCurrentIndex(min(default, combo.count() - 1))
            combo.blockSignals(False)
        self.info_label.setText(f"Directions from the codes of {len(index.latents)} {index.split} shapes.")
        self._update_attribute()

    def _update_attribute(self, *_args: Any) -> None:
        """Make the attribute vector from the two chosen groups; its slider goes to zero."""
        if self.editor is None or self._index is None:
            return
        from vaeviewer.workflows.studio import encode_clouds, group_direction

        codes, names = [], []
        for combo in (self.first_combo, self.second_combo):
            text = combo.currentText()
            if text in _PICKED:
                shapes = self._picked["a" if text == _PICKED[0] else "b"]
                shapes = [s for s in shapes if self.session.split is not None and s < len(self.session.split)]
                clouds = [self.session.cloud(s, self.session.num_points) for s in shapes]
                codes.append(encode_clouds(self.session.model, clouds) if clouds else np.zeros((0, 1)))
            else:
                codes.append(self._index.latents[self._index.labels == combo.currentIndex()])
            names.append(text)
        directions = list(self._pcs)
        try:
            directions.append(group_direction(codes[0], codes[1], "attribute"))
            self.sliders["attribute"].setToolTip(f"{names[0]} minus {names[1]}")
        except VaeviewerError:
            pass  # a group without shapes: no attribute slider until it has some
        self._attribute_names = tuple(names)
        self.editor.set_directions(directions)
        self._set_slider("attribute", 0)
        self._redecode()
        self._update_buttons()

    # ---- sliders and drawing ----------------------------------------------------------------

    def _on_slider(self, name: str, value: int) -> None:
        amount = value / TICKS
        self._value_labels[name].setText(f"{amount:+.2f}")
        if self.editor is None or self.editor.base is None or name not in [d.name for d in self.editor.directions]:
            return
        self.editor.set_amount(name, amount)
        self._last_direction = name
        self._redecode()
        self._shown_at.append(time.perf_counter())

    def _set_slider(self, name: str, value: int) -> None:
        slider = self.sliders[name]
        slider.blockSignals(True)
        slider.setValue(value)
        slider.blockSignals(False)
        self._value_labels[name].setText(f"{value / TICKS:+.2f}")

    def _zero_sliders(self) -> None:
        for name in self.sliders:
            self._set_slider(name, 0)
        if self.editor is not None:
            self.editor.amounts[:] = 0.0
        self._shown_at.clear()

    def _edit_text(self) -> str:
        if self.editor is None:
            return ""
        parts = []
        for direction, amount in zip(self.editor.directions, self.editor.amounts):
            if amount:
                name = "−".join(self._attribute_names) if direction.name == "attribute" else direction.name
                parts.append(f"{name} {amount:+.2f}{direction.unit}")
        return " ".join(parts)

    def _redecode(self) -> None:
        if self.editor is None or self.editor.base is None:
            return
        self._edited = self.editor.decode()
        if self.active:
            self.draw()

    def draw(self) -> None:
        """The shape as it was (grey) beside the edited shape (green)."""
        if self._edited is None:
            if self.session.model is not None and self.session.selection >= 0 and self.editor is None:
                self.edit_selected()  # a first look at the page edits the selected shape
                if self._edited is not None:
                    return
            self.viewport.show_panes([Pane(caption="Edit: choose a shape, then move the sliders")])
            return
        text = self._edit_text() or "no edit"
        self.viewport.show_panes([
            Pane((CloudLayer(self._original, INPUT_GREY, label=self._base_label),), caption=self._base_label),
            Pane((CloudLayer(self._edited, RECONSTRUCTION_GREEN, label=f"{self._base_label}, {text}"),),
                 caption="edited", footer=text),
        ])

    def prepare_screenshot(self) -> None:
        """An edit under way, here and now: the selected shape with the first direction at +2 σ."""
        if self.editor is None:
            self.edit_selected()
        if self._index is None and self.editor is not None:
            work = self._directions_work()
            self._cancel()
            if work is not None:
                self._on_index(work())
                self._update_buttons()
        if self._edited is not None and not self.sliders["pc1"].value():
            self.sliders["pc1"].setValue(2 * TICKS)
        self.draw()

    # ---- export and ends ----------------------------------------------------------------------

    @property
    def export_dialog(self) -> ExportDialog | None:
        """The sweep's export dialog, once opened."""
        return self._export_dialog

    def open_export_dialog(self) -> ExportDialog | None:
        """Show the export dialog with the sweep along the last moved direction (± its amount, or ± 2 units)."""
        if self.editor is None or self.editor.base is None:
            return None
        name = self._last_direction if self._last_direction in [d.name for d in self.editor.directions] else "pc1"
        extent = abs(self.editor.amount(name)) or SWEEP_EXTENT
        try:
            result = self.editor.sweep(name, extent, SWEEP_STEPS)
        except VaeviewerError as error:
            self.error.emit(str(error))
            return None
        unit = next(d.unit for d in self.editor.directions if d.name == name)
        shown = "−".join(self._attribute_names) if name == "attribute" else name
        dialog = self._export_dialog
        if dialog is None:
            dialog = self._export_dialog = ExportDialog(self.session, self)
            dialog.finished_export.connect(lambda path: self.status.emit(f"Exported {path}"))
        safe = "".join(c if c.isalnum() else "_" for c in shown)
        dialog.prefill_sweep(result, (f"{shown} −{extent:g}{unit}", f"{shown} +{extent:g}{unit}"),
                             str(Path.home() / f"edit_{safe}.gif"))
        dialog.show()
        dialog.raise_()
        return dialog

    # ---- session events ---------------------------------------------------------------------

    def _show_picks(self) -> None:
        self.picked_label.setText(f"Picked: A {len(self._picked['a'])} shapes · B {len(self._picked['b'])} shapes")
        tips = [f"{group.upper()}: " + ", ".join(self.session.shape_label(s) for s in shapes[:8])
                for group, shapes in self._picked.items() if shapes]
        self.picked_label.setToolTip("\n".join(tips))

    def _on_split(self, *_args: Any) -> None:
        self.clear_picks()  # picks are indices of the split they were made in
        self._update_buttons()

    def _on_inputs_changed(self, *_args: Any) -> None:
        self._cancel()
        self.editor, self._index, self._edited, self._original = None, None, None, None
        self._pcs = []
        self.shape_label.setText("No shape")
        self.info_label.setText("")
        self._picked = {"a": [], "b": []}
        self._show_picks()
        self._zero_sliders()
        self._update_buttons()
        if self.active:
            self.draw()

    def _update_buttons(self) -> None:
        ready = self.editor is not None and self.editor.base is not None
        names = [d.name for d in self.editor.directions] if self.editor is not None else []
        for name, slider in self.sliders.items():
            slider.setEnabled(ready and name in names)
        for button in (self.reset_button, self.apply_button, self.use_a_button, self.use_b_button, self.export_button):
            button.setEnabled(ready)
        self.selected_button.setEnabled(self.session.model is not None and self.session.selection >= 0)

    def shutdown(self) -> None:
        """Stop finding directions, close the export, wait for the threads."""
        if self._export_dialog is not None:
            self._export_dialog.shutdown()
            self._export_dialog.hide()
        super().shutdown()
