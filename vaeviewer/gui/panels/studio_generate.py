"""The Latent studio's Generate page: shapes drawn from the model, each beside its nearest training shape.

Samples come from :func:`vaeviewer.workflows.studio.sample_shapes`, on a worker
(encoding the training split the first time takes seconds; its codes are cached
on disk afterwards): from the prior at a temperature, or from the aggregate
posterior (a Gaussian mixture of the training codes). The gallery lists every
sample with its nearest training shape and their Chamfer distance; a sample
nearer its neighbour than :data:`COPY_CHAMFER` is flagged as a likely copy (the
memorisation check), and a plot sets the samples' distances beside those of
unseen test shapes to the same training set. Choosing one shows it in green
beside that training shape in grey. The seed is shown and can be typed: the same
seed gives the same samples. A sample can be edited, saved (File > Export cloud)
or made an end of the interpolation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
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

from vaeviewer.gui.panels.studio_page import StudioPage
from vaeviewer.gui.viewport import Pane, Viewport
from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer
from vaeviewer.workflows.session import KeptShape, ViewerSession

__all__ = ["COPY_CHAMFER", "DistancePlot", "GeneratePage"]

#: A sample this near (Chamfer) its nearest training shape is flagged as a likely copy of it.
COPY_CHAMFER = 5e-4
#: Unseen shapes whose distance to the training set is the yardstick beside the samples'.
REFERENCE_SHAPES = 20


class DistancePlot(pg.PlotWidget):
    """Histograms of the distances to the nearest training shape: the samples' (green) and unseen shapes' (grey).

    Samples far nearer their neighbours than unseen shapes are copies; a model that
    generates puts the two histograms over one another.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setMinimumHeight(120)
        self.setMaximumHeight(170)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setLabel("bottom", "Chamfer distance to the nearest training shape")
        plot.setLabel("left", "shapes")
        for name in ("bottom", "left"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen("#555555"))
            axis.setTextPen(pg.mkPen("#333333"))
        self.legend = plot.addLegend(offset=(-5, 5), labelTextColor="#222222")
        green = tuple(int(255 * c) for c in RECONSTRUCTION_GREEN)
        grey = tuple(int(255 * c) for c in INPUT_GREY)
        # The samples last, on top: they are what the user is judging.
        self.unseen_curve = plot.plot([0, 1], [0], stepMode="center", fillLevel=0, brush=(*grey, 90),
                                      pen=pg.mkPen(grey, width=1.5), name="unseen shapes")
        self.samples_curve = plot.plot([0, 1], [0], stepMode="center", fillLevel=0, brush=(*green, 110),
                                       pen=pg.mkPen(green, width=1.5), name="samples")
        self.copy_line = pg.InfiniteLine(COPY_CHAMFER, angle=90, pen=pg.mkPen("#b00020", width=1, style=Qt.PenStyle.DashLine))
        plot.addItem(self.copy_line)
        self.samples = np.zeros(0)
        self.unseen = np.zeros(0)
        self.set_distances(np.zeros(0), np.zeros(0))

    def set_distances(self, samples: np.ndarray, unseen: np.ndarray, unseen_name: str = "unseen") -> None:
        """Show these distances (either may be empty), on shared bins."""
        self.samples, self.unseen = np.asarray(samples, dtype=float), np.asarray(unseen, dtype=float)
        values = np.concatenate([self.samples, self.unseen, [COPY_CHAMFER]])
        edges = np.linspace(0.0, float(values.max()) * 1.05, 16)
        for curve, data in ((self.samples_curve, self.samples), (self.unseen_curve, self.unseen)):
            counts, _ = np.histogram(data, bins=edges)
            curve.setData(edges, counts.astype(float))
            curve.setVisible(bool(len(data)))
        self.legend.items[0][1].setText(f"{unseen_name} shapes")


class GeneratePage(StudioPage):
    """Generate shapes and check them against the training shapes (see the module)."""

    name = "generate"
    title = "Generate"

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self._index: Any = None  # the training split's latent index, once built (None after the inputs change)
        self._samples: list[Any] = []
        self._seed_shown = 0  # the seed of the samples in the gallery
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
        self.info_label.setWordWrap(True)
        layout.addWidget(self.info_label)
        # The yardstick: samples much nearer their training neighbours than unseen shapes are are copies.
        self.compare_label = QLabel("")
        self.compare_label.setWordWrap(True)
        layout.addWidget(self.compare_label)
        self.distance_plot = DistancePlot()
        layout.addWidget(self.distance_plot)
        self.gallery = QListWidget()
        self.gallery.currentRowChanged.connect(self._on_chosen)
        layout.addWidget(self.gallery, 1)
        layout.addLayout(self._shape_buttons("the chosen sample"))
        events = session.events
        self.listen((events.model, self._on_inputs_changed), (events.dataset, self._on_inputs_changed))
        self._update_buttons()

    # ---- public -----------------------------------------------------------------------------

    @property
    def samples(self) -> list[Any]:
        """The samples of the last generation (:class:`~vaeviewer.workflows.studio.Sample`), in gallery order."""
        return list(self._samples)

    def generate(self) -> None:
        """Draw samples with the form's settings, on a worker; the gallery fills when they are ready."""
        if self._task is not None:
            return
        work = self._work()
        if work is not None:
            self._start(work, self._on_item, self._on_failed)

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
            yield ("samples", (seed, sample_shapes(model, built, training, count, seed, temperature, prior)))
            if unseen is not None:
                yield ("reference", (unseen.name, reference_distances(model, built, training, unseen, REFERENCE_SHAPES)))

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
        self.viewport.show_panes([
            Pane((CloudLayer(sample.cloud, RECONSTRUCTION_GREEN, label=self._label(row)),),
                 caption=self._label(row), footer=self._flag(sample)),
            Pane((CloudLayer(neighbour, INPUT_GREY, label=index.names[sample.nearest_row]),),
                 caption=f"nearest {self._training.name} shape: {index.names[sample.nearest_row]}",
                 footer=f"Chamfer {sample.nearest_chamfer:.5f}"),
        ])

    # ---- internals --------------------------------------------------------------------------

    @staticmethod
    def _flag(sample: Any) -> str:
        return "likely a copy of a training shape" if sample.nearest_chamfer < COPY_CHAMFER else "a new shape"

    def _label(self, row: int) -> str:
        return f"sample {row + 1} · seed {self._seed_shown}"

    def kept(self) -> KeptShape | None:
        """The chosen sample, or None."""
        row = self.gallery.currentRow()
        if not 0 <= row < len(self._samples):
            return None
        return KeptShape(self._label(row), self._samples[row].cloud)

    def _on_item(self, item: tuple[str, Any]) -> None:
        kind, value = item
        if kind == "index":
            self._index = value
            return
        if kind == "reference":
            name, distances = value
            median = float(np.median([sample.nearest_chamfer for sample in self._samples]))
            self.compare_label.setText(f"Median CD to a training shape: samples {median:.4f} · "
                                       f"{name} shapes {float(np.median(distances)):.4f}")
            self.compare_label.setToolTip(f"{len(distances)} unseen {name} shapes, for comparison: samples much nearer "
                                          "their training neighbours than unseen shapes are copies")
            self.distance_plot.set_distances([s.nearest_chamfer for s in self._samples], distances, name)
            return
        self._seed_shown, samples = value
        self._samples = list(samples)
        self.distance_plot.set_distances([s.nearest_chamfer for s in self._samples], np.zeros(0))
        self.gallery.blockSignals(True)
        self.gallery.clear()
        for k, sample in enumerate(self._samples):
            name = self._index.names[sample.nearest_row]
            text = f"{k + 1}. nearest {name} ({self._index.class_of(sample.nearest_row)}), CD {sample.nearest_chamfer:.4f}"
            self.gallery.addItem(QListWidgetItem(text + ("  ⚠ copy?" if sample.nearest_chamfer < COPY_CHAMFER else "")))
        self.gallery.blockSignals(False)
        copies = sum(sample.nearest_chamfer < COPY_CHAMFER for sample in self._samples)
        self.info_label.setText(f"{len(self._samples)} samples, seed {self._seed_shown} · {copies} likely "
                                f"copies (CD < {COPY_CHAMFER:g})")
        self.info_label.setToolTip(f"A sample whose Chamfer distance to its nearest training shape is below "
                                   f"{COPY_CHAMFER:g} is flagged as a likely copy of it")
        self.gallery.setCurrentRow(0)
        self._update_buttons()
        self.view_requested.emit()

    def _on_failed(self, message: str) -> None:
        self.info_label.setText(f"Sampling failed: {message}")
        self.error.emit(f"latent studio: {message}")

    def _on_inputs_changed(self, *_args: Any) -> None:
        self._cancel()
        self._index = None
        self._samples = []
        self.gallery.clear()
        self.info_label.setText("Generate shapes from the model.")
        self.compare_label.setText("")
        self.distance_plot.set_distances(np.zeros(0), np.zeros(0))
        self._update_buttons()
        if self.active:
            self.draw()

    def _update_buttons(self) -> None:
        busy = self._task is not None
        self.generate_button.setEnabled(not busy)
        self.next_seed_button.setEnabled(not busy)
        for button in (self.use_a_button, self.use_b_button, self.edit_button):
            button.setEnabled(bool(self._samples))
