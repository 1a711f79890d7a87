"""The Compare panel: a second model beside the session's, on the same shapes.

Model A is the window's model; model B is opened here (a bundled model or a
checkpoint file). The viewport shows the chosen shape's input in grey and both
reconstructions, each coloured by its distance to the input on one shared
colour scale, three panes under one camera. "Compare the split" scores both
models on every shape of the open split (or a class-balanced number of them)
on a worker with progress and cancel (:mod:`vaeviewer.workflows.compare`,
cached per checkpoint, data set and split); the table lists each shape's
Chamfer distances, B - A and each classifier's answer, sorted by B - A first
(where B reconstructs better), with the summary below; a click shows that
shape. The table exports as CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.panels.base import TaskPanel
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.render.colors import ERROR_CMAP, ERROR_TITLE, INPUT_GREY
from vaeviewer.render.scene import CloudLayer
from vaeviewer.tasks import TaskControl
from vaeviewer.workflows.session import ViewerSession

__all__ = ["ComparePanel", "COLUMNS"]

#: The table's columns.
COLUMNS = ("index", "name", "class", "Chamfer A", "Chamfer B", "B − A", "class by A", "class by B")
_OTHER_FILE = "Checkpoint file…"
_CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"


class _Number(QTableWidgetItem):
    """A cell that shows a number and sorts by its value, not its text."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, float(value))
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return float(self.data(Qt.ItemDataRole.UserRole)) < float(other.data(Qt.ItemDataRole.UserRole))


class ComparePanel(TaskPanel):
    """Two models on the same shapes (see the module).

    Attributes
    ----------
    table : QTableWidget
        A row per compared shape.
    comparison : Comparison or None
        The last finished comparison of the open split.
    """

    name = "compare"
    title = "Compare"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self.model_b: Any = None  # (name, model, class names, checkpoint path) once opened
        self.comparison: Any = None
        self._build()
        self._show_model_names()
        events = session.events
        self.listen((events.model, self._on_inputs_changed), (events.dataset, self._on_inputs_changed),
                    (events.split, self._on_inputs_changed), (events.selection, self._on_selection))
        self._update_buttons()

    # ---- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        models = QGridLayout()
        self.model_a_label = QLabel("")
        models.addWidget(QLabel("Model A"), 0, 0)
        models.addWidget(self.model_a_label, 0, 1, 1, 2)
        models.addWidget(QLabel("Model B"), 1, 0)
        self.model_b_box = QComboBox()
        from vaeviewer.workflows.bundled import BUNDLED_MODELS

        self.model_b_box.addItems(["(none)", *BUNDLED_MODELS, _OTHER_FILE])
        self.model_b_box.setToolTip("The model to compare with the window's: a bundled model or a checkpoint file")
        self.model_b_box.activated.connect(self._on_model_b_chosen)
        models.addWidget(self.model_b_box, 1, 1, 1, 2)
        layout.addLayout(models)

        run = QHBoxLayout()
        run.addWidget(QLabel("Shapes"))
        self.limit_box = QSpinBox()
        self.limit_box.setRange(0, 1_000_000)
        self.limit_box.setSpecialValueText("all")
        self.limit_box.setToolTip("Compare this many shapes of the split, drawn evenly across classes (all: every one)")
        run.addWidget(self.limit_box)
        self.compare_button = QPushButton("Compare the split")
        self.compare_button.setToolTip("Score both models on the split's shapes (on a worker; cached per model)")
        self.compare_button.clicked.connect(self.compare)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        run.addWidget(self.compare_button)
        run.addWidget(self.cancel_button)
        layout.addLayout(run)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress)
        self.progress_label = QLabel("")
        layout.addWidget(self.progress_label)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setSortingEnabled(True)
        self.table.itemSelectionChanged.connect(self._on_row_chosen)
        layout.addWidget(self.table, 1)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary_label)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(lambda: self.export_csv())
        layout.addWidget(self.export_button)

    # ---- model B ------------------------------------------------------------------------------

    def open_model_b(self, checkpoint: str | Path) -> bool:
        """Open model B (a file or a bundled model's name); False, with the error shown, when it cannot be used."""
        from vaeviewer.workflows.models import choose_checkpoint, open_model

        try:
            path = choose_checkpoint(checkpoint, self.session.class_names)
            model, loaded = open_model(path, "cpu")
        except VaeviewerError as error:
            self.error.emit(str(error))
            return False
        self.cancel()
        self.model_b = (str(checkpoint), model, tuple(loaded.class_names), str(path.resolve()))
        self.comparison = None
        self._fill_table()
        self._show_model_names()
        self._show()
        return True

    def _on_model_b_chosen(self, row: int) -> None:
        text = self.model_b_box.itemText(row)
        if text == _OTHER_FILE:
            start = str(Path(self.session.checkpoint_path).parent) if self.session.checkpoint_path else str(Path.home())
            path, _ = QFileDialog.getOpenFileName(self, "Model B", start, _CHECKPOINT_FILTER)
            if path:
                self.open_model_b(path)
        elif text != "(none)":
            self.open_model_b(text)
        elif self.model_b is not None:
            self.cancel()
            self.model_b, self.comparison = None, None
            self._fill_table()
            self._show()
        self._show_model_names()

    def _show_model_names(self) -> None:
        a = Path(self.session.checkpoint_path).name if self.session.checkpoint_path else "(none)"
        self.model_a_label.setText(f"{a} (the window's model)")
        if self.model_b is not None:
            name = self.model_b[0]
            if self.model_b_box.findText(name) < 0:
                self.model_b_box.insertItem(self.model_b_box.count() - 1, name)
            self.model_b_box.setCurrentText(name)
        else:
            self.model_b_box.setCurrentIndex(0)

    # ---- comparing ----------------------------------------------------------------------------

    def compare(self) -> None:
        """Score both models on the open split's shapes, on a worker."""
        session = self.session
        if self._task is not None or self.model_b is None or session.model is None or session.split is None:
            return
        from vaeviewer.workflows.compare import ComparedModel, compare_models
        from vaeviewer.workflows.studio import data_location

        name_b, model_b, classes_b, path_b = self.model_b
        name_a = Path(session.checkpoint_path).name if session.checkpoint_path else "model A"
        models = [ComparedModel(name_a, session.model, tuple(session.checkpoint.class_names),
                                session.checkpoint_path or None),
                  ComparedModel(Path(name_b).name, model_b, classes_b, path_b)]
        split, dataset, limit = session.split, session.dataset, self.limit_box.value()
        train = dataset.split("train") if "train" in dataset.split_names and split.name != "train" else None
        data = data_location(session.data_path)
        control = TaskControl()
        self.progress.setRange(0, 2)
        self.progress.setValue(0)
        self.progress_label.setText(f"Comparing the {split.name} shapes…")
        self._start(lambda: compare_models(models, split, train_split=train, limit=limit, data=data, control=control),
                    self._on_item, self._on_failed, stop=control.stop)

    def cancel(self) -> None:
        """Stop a comparison under way (between two batches); nothing it did is shown."""
        if self._task is not None:
            self._cancel()
            self.progress_label.setText("Cancelled.")
        self._update_buttons()

    def _on_item(self, item: Any) -> None:
        from vaeviewer.workflows.compare import CompareProgress

        if isinstance(item, CompareProgress):
            total = max(item.total, 1)
            self.progress.setRange(0, 2 * total)
            self.progress.setValue(item.model * total + item.done)
            self.progress_label.setText(f"Model {'AB'[item.model]}: {item.done} of {item.total} shapes")
            return
        self.comparison = item
        self.progress.setValue(self.progress.maximum())
        self.progress_label.setText(f"{len(item.indices)} shapes of {item.split} compared.")
        self._fill_table()

    def _on_failed(self, message: str) -> None:
        self.progress_label.setText(f"Failed: {message}")
        self.error.emit(f"compare: {message}")

    def _fill_table(self) -> None:
        table, found = self.table, self.comparison
        table.setSortingEnabled(False)
        table.setRowCount(0)
        if found is None:
            self.summary_label.setText("")
            self._update_buttons()
            return
        a, b = found.models
        for column, model in ((3, a), (4, b), (6, a), (7, b)):
            table.horizontalHeaderItem(column).setToolTip(model.name)
        table.setRowCount(len(found.indices))
        difference = found.difference
        for row, index in enumerate(found.indices):
            cells = [_Number(index, str(int(index))), QTableWidgetItem(found.names[row]),
                     QTableWidgetItem(found.classes[row]),
                     _Number(a.chamfer[row], f"{a.chamfer[row]:.5f}"), _Number(b.chamfer[row], f"{b.chamfer[row]:.5f}"),
                     _Number(difference[row], f"{difference[row]:+.5f}"),
                     QTableWidgetItem(a.predicted[row] or a.classes_note),
                     QTableWidgetItem(b.predicted[row] or b.classes_note)]
            for column, cell in enumerate(cells):
                table.setItem(row, column, cell)
        table.setSortingEnabled(True)
        table.sortItems(5, Qt.SortOrder.AscendingOrder)  # where B beats A first
        table.resizeColumnsToContents()
        self.summary_label.setText(self._summary_text())
        self._update_buttons()

    def _summary_text(self) -> str:
        found = self.comparison
        summary = found.summary

        def percent(value: float | None) -> str:
            return f"{100 * value:.1f} %" if value is not None else "n/a"

        a, b = found.models
        lines = []
        for label, key, fmt in (("Chamfer mean", "chamfer_mean", "{:.5f}"), ("Chamfer median", "chamfer_median", "{:.5f}")):
            values = summary[key]
            lines.append(f"{label}: A {fmt.format(values[0])} · B {fmt.format(values[1])}")
        lines.append(f"Classifier: A {percent(summary['classifier_accuracy'][0])}"
                     f"{' (' + a.classes_note + ')' if a.classes_note else ''} · B "
                     f"{percent(summary['classifier_accuracy'][1])}{' (' + b.classes_note + ')' if b.classes_note else ''}")
        lines.append(f"Linear SVM on the latent means: A {percent(summary['svm_accuracy'][0])} · B "
                     f"{percent(summary['svm_accuracy'][1])}")
        lines.append(f"B reconstructs better on {summary['b_better']} of {summary['shapes']} shapes")
        return "\n".join(lines)

    def export_csv(self, path: str | Path | None = None) -> bool:
        """Write the table (a row per shape, then the summary) as CSV; asks where without ``path``."""
        if self.comparison is None:
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export the comparison", str(Path.home() / "comparison.csv"),
                                                  "CSV (*.csv)")
            if not path:
                return False
        try:
            self.comparison.write_csv(path)
        except OSError as error:
            self.error.emit(f"{path}: cannot write the table ({error.strerror or error})")
            return False
        self.status.emit(f"Saved {path}")
        return True

    # ---- the viewport -----------------------------------------------------------------------

    def draw(self) -> None:
        """The chosen shape's input and both reconstructions, coloured by error on one scale."""
        session = self.session
        if session.model is None or session.split is None or session.selection < 0:
            self.viewport.show_panes([Pane(caption="Compare: open a data set and a model")])
            return
        import torch

        from vaeviewer.workflows.reconstruct import reconstruct_shape

        with torch.no_grad():
            a = reconstruct_shape(session.model, session.split, session.selection, tuple(session.checkpoint.class_names))
            if self.model_b is None:
                self.viewport.show_panes([Pane((CloudLayer(a.input_points, INPUT_GREY),), caption="input",
                                               footer="choose model B to compare")])
                return
            b = reconstruct_shape(self.model_b[1], session.split, session.selection, self.model_b[2])
        both = np.concatenate([a.reconstruction_error, b.reconstruction_error])
        top = float(np.percentile(both, 99)) if both.size else 1.0
        clim = (0.0, top if top > 0 else 1e-6)
        name = session.shape_label(session.selection)

        def pane(result: Any, which: str, model: str, bar: bool) -> Pane:
            layer = CloudLayer(result.reconstruction, scalars=result.reconstruction_error, cmap=ERROR_CMAP, clim=clim,
                               scalar_title=ERROR_TITLE, scalar_bar=bar, label=f"reconstruction of {name} by {which}")
            predicted = result.predicted_class or "no classifier"
            return Pane((layer,), caption=f"{which}: {model}", footer=f"Chamfer {result.chamfer:.5f} · {predicted}")

        model_a = Path(session.checkpoint_path).name if session.checkpoint_path else "A"
        self.viewport.show_panes([
            Pane((CloudLayer(a.input_points, INPUT_GREY, label=f"input {name}"),), caption="input", footer=name),
            pane(a, "A", model_a, False),
            pane(b, "B", Path(self.model_b[0]).name, True),
        ])

    def _show(self) -> None:
        if self.active:
            self.draw()
        else:
            self.view_requested.emit()

    def _on_row_chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.comparison is None:
            return
        index = int(self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))
        if index != self.session.selection:
            self.session.select(index)  # the browser follows; the selection event redraws
        self._show()

    def _on_selection(self, *_args: Any) -> None:
        if self.active:
            self.draw()

    def _on_inputs_changed(self, *_args: Any) -> None:
        self.cancel()
        self.comparison = None
        self._fill_table()
        self.progress.setValue(0)
        self.progress_label.setText("")
        self._show_model_names()
        if self.active:
            self.draw()

    def _update_buttons(self) -> None:
        ready = self.model_b is not None and self.session.model is not None and self.session.split is not None
        self.compare_button.setEnabled(ready and self._task is None)
        self.cancel_button.setEnabled(self._task is not None)
        self.export_button.setEnabled(self.comparison is not None)
