"""The Latent studio panel: generate shapes from the model and see each beside its nearest training shape.

Samples come from :func:`vaeviewer.workflows.studio.sample_shapes`, on a worker
(encoding the training split the first time takes seconds; its codes are cached
on disk afterwards): from the prior at a temperature, or from the aggregate
posterior (a Gaussian mixture of the training codes). The gallery lists every
sample with its nearest training shape and their Chamfer distance; a sample
nearer its neighbour than :data:`COPY_CHAMFER` is flagged as a likely copy (the
memorisation check). Choosing one shows it in green beside that training shape in
grey. The seed is shown and can be typed: the same seed gives the same samples.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.gui.workers import Task, TaskRunner
from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer
from vaeviewer.workflows.session import ViewerSession

__all__ = ["COPY_CHAMFER", "StudioPanel"]

#: A sample this near (Chamfer) its nearest training shape is flagged as a likely copy of it.
COPY_CHAMFER = 5e-4


class StudioPanel(Panel):
    """Generate shapes and check them against the training shapes (see the module).
    """

    name = "studio"
    title = "Latent studio"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self._tasks = TaskRunner(self)
        self._task: Task | None = None
        self._index: Any = None  # the training split's latent index, once built (None after the inputs change)
        self._samples: list[Any] = []
        self._training: Any = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.prior_combo = QComboBox()
        self.prior_combo.addItem("Aggregate posterior (mixture of the training codes)", "mixture")
        self.prior_combo.addItem("Prior N(0, σ²I)", "normal")
        self.prior_combo.setToolTip("With a weak KL term the codes fill part of the prior: the mixture stays where they are")
        form.addRow("Sample from", self.prior_combo)
        self.temperature_box = QDoubleSpinBox(minimum=0.05, maximum=5.0, singleStep=0.1, value=1.0)
        self.count_box = QSpinBox(minimum=1, maximum=64, value=6)
        self.seed_box = QSpinBox(minimum=0, maximum=2**31 - 1)
        for label, box, tip in (
            ("Temperature", self.temperature_box, "Scale of the standard deviation: lower stays nearer the typical shapes"),
            ("Samples", self.count_box, "How many shapes to draw"),
            ("Seed", self.seed_box, "The same seed gives the same samples"),
        ):
            box.setToolTip(tip)
            form.addRow(label, box)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(self.generate)
        self.next_seed_button = QPushButton("Next seed")
        self.next_seed_button.clicked.connect(lambda: (self.seed_box.setValue(self.seed_box.value() + 1), self.generate()))
        row.addWidget(self.generate_button)
        row.addWidget(self.next_seed_button)
        layout.addLayout(row)
        self.info_label = QLabel("Generate shapes from the model.")
        layout.addWidget(self.info_label)
        # The yardstick: samples much nearer their training neighbours than unseen shapes are are copies.
        self.compare_label = QLabel("")
        layout.addWidget(self.compare_label)
        self.gallery = QListWidget()
        self.gallery.currentRowChanged.connect(self._on_chosen)
        layout.addWidget(self.gallery, 1)
        events = session.events
        self.listen((events.model, self._on_inputs_changed), (events.dataset, self._on_inputs_changed))
        self._update_buttons()

    # ---- public -----------------------------------------------------------------------------

    @property
    def samples(self) -> list[Any]:
        """The samples of the last generation (:class:`~vaeviewer.workflows.studio.Sample`), in gallery order."""
        return list(self._samples)

    def is_busy(self) -> bool:
        """Whether samples are being generated."""
        return self._task is not None

    def generate(self) -> None:
        """Draw samples with the form's settings, on a worker; the gallery fills when they are ready."""
        if self._task is not None:
            return
        work = self._work()
        if work is not None:
            self._task = self._tasks.start(work, on_item=self._on_item, on_failed=self._on_failed, on_done=self._on_done)
            self._update_buttons()

    def _work(self) -> Any:
        """The generation the form asks for, as a generator function; None (and why, shown) without model or data."""
        session = self.session
        if session.model is None or session.dataset is None:
            self.info_label.setText("Open a model and a data set: samples are compared with its training shapes.")
            return None
        from vaeviewer.workflows.studio import build_index, data_location, reference_distances, sample_shapes

        dataset = session.dataset
        training = dataset.split("train") if "train" in dataset.split_names else session.split
        others = [name for name in dataset.split_names if name != training.name]
        unseen = dataset.split(others[-1]) if others else None  # the yardstick: how far unseen shapes lie
        model, index = session.model, self._index
        checkpoint, data = session.checkpoint_path or None, data_location(session.data_path)
        count, seed = self.count_box.value(), self.seed_box.value()
        temperature, prior = self.temperature_box.value(), str(self.prior_combo.currentData())

        def work():
            built = index if index is not None else build_index(model, training, checkpoint=checkpoint, data=data)
            yield ("index", built)
            yield ("samples", sample_shapes(model, built, training, count, seed, temperature, prior))
            if unseen is not None:
                yield ("reference", (unseen.name, reference_distances(model, built, training, unseen, 20)))

        self._training = training
        self.info_label.setText(f"Sampling {count}, seed {seed}" + (
            "" if index is not None else f"; encoding {len(training)} {training.name} shapes first") + "…")
        return work

    def prepare_screenshot(self) -> None:
        """Generate a gallery here and now (a screenshot is taken right after), unless one is shown."""
        work = self._work() if not self._samples and self._task is None else None
        if work is not None:
            for item in work():
                self._on_item(item)
        self.draw()

    def draw(self) -> None:
        """The chosen sample in green beside its nearest training shape in grey."""
        row = self.gallery.currentRow()
        if not 0 <= row < len(self._samples) or self._index is None:
            self.viewport.show_panes([Pane(caption="Generate shapes in the Latent studio panel")])
            return
        sample = self._samples[row]
        index = self._index
        shape = int(index.indices[sample.nearest_row])
        neighbour = self._training.points(shape, len(sample.cloud))
        seed = self.seed_box.value()
        self.viewport.show_panes([
            Pane((CloudLayer(sample.cloud, RECONSTRUCTION_GREEN, label=f"sample {row + 1}, seed {seed}"),),
                 caption=f"sample {row + 1} · seed {seed}", footer=self._flag(sample)),
            Pane((CloudLayer(neighbour, INPUT_GREY, label=index.names[sample.nearest_row]),),
                 caption=f"nearest {self._training.name} shape: {index.names[sample.nearest_row]}",
                 footer=f"Chamfer {sample.nearest_chamfer:.5f}"),
        ])

    def shutdown(self) -> None:
        """Stop a generation under way and wait for its thread."""
        self.stop_listening()
        self._tasks.shutdown()

    # ---- internals --------------------------------------------------------------------------

    @staticmethod
    def _flag(sample: Any) -> str:
        return "likely a copy of a training shape" if sample.nearest_chamfer < COPY_CHAMFER else "a new shape"

    def _on_item(self, item: tuple[str, Any]) -> None:
        kind, value = item
        if kind == "index":
            self._index = value
            return
        if kind == "reference":
            import numpy as np

            name, distances = value
            median = float(np.median([sample.nearest_chamfer for sample in self._samples]))
            self.compare_label.setText(f"Median CD to a training shape: samples {median:.4f} · "
                                       f"{name} shapes {float(np.median(distances)):.4f}")
            self.compare_label.setToolTip(f"{len(distances)} unseen {name} shapes, for comparison: samples much nearer "
                                          "their training neighbours than unseen shapes are copies")
            return
        self._samples = list(value)
        self.gallery.blockSignals(True)
        self.gallery.clear()
        for k, sample in enumerate(self._samples):
            name = self._index.names[sample.nearest_row]
            text = f"{k + 1}. nearest {name} ({self._index.class_of(sample.nearest_row)}), CD {sample.nearest_chamfer:.4f}"
            item_widget = QListWidgetItem(text + ("  ⚠ copy?" if sample.nearest_chamfer < COPY_CHAMFER else ""))
            self.gallery.addItem(item_widget)
        self.gallery.blockSignals(False)
        copies = sum(sample.nearest_chamfer < COPY_CHAMFER for sample in self._samples)
        self.info_label.setText(f"{len(self._samples)} samples, seed {self.seed_box.value()} · {copies} likely "
                                f"copies (CD < {COPY_CHAMFER:g})")
        self.info_label.setToolTip(f"A sample whose Chamfer distance to its nearest training shape is below "
                                   f"{COPY_CHAMFER:g} is flagged as a likely copy of it")
        self.gallery.setCurrentRow(0)
        self.view_requested.emit()

    def _on_failed(self, message: str) -> None:
        self.info_label.setText(f"Sampling failed: {message}")
        self.error.emit(f"latent studio: {message}")

    def _on_done(self) -> None:
        self._task = None
        self._update_buttons()

    def _on_chosen(self, _row: int) -> None:
        if self.active:
            self.draw()
        else:
            self.view_requested.emit()

    def _on_inputs_changed(self, *_args: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._index = None
        self._samples = []
        self.gallery.clear()
        self.info_label.setText("Generate shapes from the model.")
        self.compare_label.setText("")
        self._update_buttons()
        if self.active:
            self.draw()

    def _update_buttons(self) -> None:
        busy = self._task is not None
        self.generate_button.setEnabled(not busy)
        self.next_seed_button.setEnabled(not busy)

