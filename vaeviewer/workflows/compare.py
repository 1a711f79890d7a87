"""Two models on the same shapes: each one's Chamfer distance and class per shape, and a summary of both.

Each model reads the shapes at its own point count and is scored exactly as
``vaeviewer evaluate`` scores it (:func:`~vaeviewer.training.score_clouds`,
batch for batch), so the per-shape means are the figures ``evaluate`` reports
on the same shapes. The models may differ in latent size, point count and
classes: a model without a classifier, or whose classes are none of the data
set's, still reconstructs, and its class column says why it is empty.

:func:`compare_models` is a generator: it yields :class:`CompareProgress`
between batches (a place to cancel) and a :class:`Comparison` last. A model's
scores on a split are cached beside the latent indices, keyed by the
checkpoint's bytes, the data set's files, the split and the chosen shapes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import zipfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaeviewer.data import ShapeSplit
from vaeviewer.files import atomic_write
from vaeviewer.model import PointCloudVAE
from vaeviewer.tasks import TaskControl

__all__ = ["CompareProgress", "Comparison", "ComparedModel", "ModelScores", "chosen_shapes", "compare_models"]

#: Shapes scored between two progress events: a multiple of score_clouds' batch, so that the scores are
#: the ones evaluate computes on the whole split at once.
_CHUNK = 128
_CACHE_VERSION = 1


@dataclass(frozen=True)
class ComparedModel:
    """A model to compare: what the user called it, the network, its classes and its file (for the cache)."""

    name: str
    model: PointCloudVAE
    class_names: tuple[str, ...]
    checkpoint: str | None = None


@dataclass(frozen=True)
class ModelScores:
    """One model on the chosen shapes.

    Attributes
    ----------
    name : str
    num_points, latent_dim : int
    chamfer : numpy.ndarray
        float64 (K,), each shape against the decoding of its latent mean, at the model's point count.
    predicted : tuple of (str or None)
        The classifier's class per shape; None throughout when it has none to give (see ``classes_note``).
    classes_note : str
        Empty when the classifier answers in the data set's classes; else why the class column is empty.
    latents : numpy.ndarray
        float32 (K, D), the latent means.
    """

    name: str
    num_points: int
    latent_dim: int
    chamfer: np.ndarray
    predicted: tuple[str | None, ...]
    classes_note: str
    latents: np.ndarray


@dataclass(frozen=True)
class CompareProgress:
    """``done`` of ``total`` shapes scored by model ``model`` (0 or 1)."""

    model: int
    done: int
    total: int


@dataclass(frozen=True)
class Comparison:
    """Both models on the same shapes of one split.

    Attributes
    ----------
    split : str
    indices : numpy.ndarray
        int64 (K,), the shapes' indices in the split.
    names, classes : tuple of str
        Each shape's name and true class ("unknown" without a label).
    models : tuple of ModelScores
        A and B.
    summary : dict
        Per model (lists of two): ``chamfer_mean``, ``chamfer_median``, ``classifier_accuracy``,
        ``svm_accuracy`` (None where it cannot be computed), and ``b_better`` (shapes where B's Chamfer
        distance is lower), ``shapes``.
    """

    split: str
    indices: np.ndarray
    names: tuple[str, ...]
    classes: tuple[str, ...]
    models: tuple[ModelScores, ModelScores]
    summary: dict[str, Any]

    @property
    def difference(self) -> np.ndarray:
        """B's Chamfer distance minus A's per shape: negative where B reconstructs better."""
        return self.models[1].chamfer - self.models[0].chamfer

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per shape, in split order."""
        a, b = self.models
        return [{"index": int(index), "name": self.names[k], "class": self.classes[k],
                 "chamfer": [float(a.chamfer[k]), float(b.chamfer[k])],
                 "predicted": [a.predicted[k], b.predicted[k]]} for k, index in enumerate(self.indices)]

    def to_json(self) -> dict[str, Any]:
        """What ``vaeviewer compare --json`` prints."""
        return {
            "models": [m.name for m in self.models],
            "model_details": [{"name": m.name, "num_points": m.num_points, "latent_dim": m.latent_dim,
                               "classes": m.classes_note or "the data set's"} for m in self.models],
            "split": self.split,
            "shapes": self.rows(),
            "summary": self.summary,
        }

    def csv_text(self) -> str:
        """The table as CSV: one row per shape, then the summary's rows."""
        a, b = self.models
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["index", "name", "class", f"chamfer {a.name}", f"chamfer {b.name}", "difference (B - A)",
                         f"class by {a.name}", f"class by {b.name}"])
        for k, row in enumerate(self.rows()):
            writer.writerow([row["index"], row["name"], row["class"], f"{row['chamfer'][0]:.8g}",
                             f"{row['chamfer'][1]:.8g}", f"{self.difference[k]:.8g}",
                             row["predicted"][0] or a.classes_note, row["predicted"][1] or b.classes_note])
        for key in ("chamfer_mean", "chamfer_median", "classifier_accuracy", "svm_accuracy"):
            values = ["" if v is None else f"{v:.8g}" for v in self.summary[key]]
            writer.writerow(["", key, "", *values, "", "", ""])
        return out.getvalue()

    def write_csv(self, path: str | Path) -> None:
        """Write :meth:`csv_text` to ``path`` atomically."""
        with atomic_write(Path(path), ".csv") as temporary:
            Path(temporary).write_text(self.csv_text(), encoding="utf-8")


def chosen_shapes(split: ShapeSplit, limit: int = 0, seed: int = 0) -> np.ndarray:
    """The shapes a comparison (or ``evaluate --limit``) scores: all, or ``limit`` drawn evenly across classes."""
    from vaeviewer.workflows.quality import balanced_sample

    if limit < 0:
        from vaeviewer.errors import OptionError

        raise OptionError(f"--limit {limit}: must be 0 (all shapes) or more")
    return balanced_sample(np.asarray(split.labels), limit, seed) if limit else np.arange(len(split))


def compare_models(models: Sequence[ComparedModel], split: ShapeSplit, *, train_split: ShapeSplit | None = None,
                   limit: int = 0, data: str | None = None, control: TaskControl | None = None,
                   ) -> Iterator[CompareProgress | Comparison]:
    """Score two models on the same shapes of ``split``; see the module.

    ``train_split`` (another, labelled split) adds each model's linear-SVM
    accuracy on its latent means; ``data`` (the data set's location) lets the
    scores be cached. A stopped ``control`` ends the generator between batches
    without a :class:`Comparison`.
    """
    if len(models) != 2:
        raise ValueError("a comparison is of two models")
    split.drop_unreadable(max(m.model.config.num_points for m in models))
    indices = chosen_shapes(split, limit)
    scored: list[ModelScores] = []
    for number, compared in enumerate(models):
        scores = yield from _scores(number, compared, split, indices, data, control)
        if scores is None:
            return
        scored.append(scores)
    names = tuple(split.shape_name(int(i)) for i in indices)
    labels = np.asarray(split.labels)[indices]
    classes = tuple(split.class_names[label] if label >= 0 else "unknown" for label in labels)
    summary = _summary(scored, classes, labels, models, train_split, data, control)
    if summary is None:
        return
    yield Comparison(split.name, indices, names, classes, (scored[0], scored[1]), summary)


def _scores(number: int, compared: ComparedModel, split: ShapeSplit, indices: np.ndarray, data: str | None,
            control: TaskControl | None) -> Generator[CompareProgress, None, ModelScores | None]:
    """A model's scores on the chosen shapes (from the cache when it has them); None when stopped."""
    import torch

    from vaeviewer.training import score_clouds
    from vaeviewer.workflows.models import labels_for_model

    model, config = compared.model, compared.model.config
    note = _classes_note(compared, tuple(split.class_names))
    cache = _cache_path(compared, split, indices, data)
    found = _read_cache(cache, len(indices)) if cache is not None else None
    if found is None:
        labels = labels_for_model(np.asarray(split.labels)[indices], tuple(split.class_names), compared.class_names)
        chamfers, predictions, latents = [], [], []
        yield CompareProgress(number, 0, len(indices))
        for start in range(0, len(indices), _CHUNK):
            if control is not None and control.should_stop:
                return None
            part = indices[start : start + _CHUNK]
            clouds = torch.from_numpy(np.stack([split.points(int(i), config.num_points) for i in part]))
            result = score_clouds(model, clouds, labels[start : start + _CHUNK])
            chamfers.append(result.chamfer)
            predictions.append(result.predictions)
            latents.append(result.latents)
            yield CompareProgress(number, min(start + _CHUNK, len(indices)), len(indices))
        found = (np.concatenate(chamfers) if chamfers else np.zeros(0),
                 np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64),
                 np.concatenate(latents) if latents else np.zeros((0, config.latent_dim), dtype=np.float32))
        if cache is not None:
            _write_cache(cache, *found)
    chamfer, predicted_ids, latents = found
    names = compared.class_names
    predicted = tuple(names[int(p)] if not note and 0 <= int(p) < len(names) else None for p in predicted_ids)
    return ModelScores(compared.name, config.num_points, config.latent_dim, chamfer.astype(np.float64), predicted,
                       note, latents.astype(np.float32))


def _classes_note(compared: ComparedModel, data_classes: tuple[str, ...]) -> str:
    if compared.model.classifier is None:
        return "no classifier"
    if not set(compared.class_names) & set(data_classes):
        return "none of the data set's classes"
    return ""


def _summary(scored: list[ModelScores], classes: tuple[str, ...], labels: np.ndarray,
             models: Sequence[ComparedModel], train_split: ShapeSplit | None, data: str | None,
             control: TaskControl | None) -> dict[str, Any] | None:
    def finite(value: float) -> float | None:
        return value if math.isfinite(value) else None

    summary: dict[str, Any] = {
        "shapes": len(classes),
        "chamfer_mean": [finite(float(s.chamfer.mean())) if len(s.chamfer) else None for s in scored],
        "chamfer_median": [finite(float(np.median(s.chamfer))) if len(s.chamfer) else None for s in scored],
        "classifier_accuracy": [],
        "svm_accuracy": [None, None],
        "b_better": int((scored[1].chamfer < scored[0].chamfer).sum()),
    }
    for s, compared in zip(scored, models):
        # As evaluate counts: the shapes of a class the model knows.
        judged = [(p, c) for p, c in zip(s.predicted, classes) if p is not None and c in compared.class_names]
        summary["classifier_accuracy"].append(sum(p == c for p, c in judged) / len(judged) if judged else None)
    if train_split is not None and (labels >= 0).any():
        summary["svm_accuracy"] = []
        for s, compared in zip(scored, models):
            if control is not None and control.should_stop:
                return None
            summary["svm_accuracy"].append(_svm_accuracy(compared, s, labels, train_split, data))
    return summary


def _svm_accuracy(compared: ComparedModel, scores: ModelScores, labels: np.ndarray, train_split: ShapeSplit,
                  data: str | None) -> float | None:
    """A linear SVM fit on the training split's latent means (the latent index, cached), scored on the shapes."""
    from vaeviewer.workflows.quality import linear_svm_accuracy
    from vaeviewer.workflows.studio import build_index

    index = build_index(compared.model, train_split, checkpoint=compared.checkpoint, data=data)
    if not (index.labels >= 0).any():
        return None
    accuracy, _ = linear_svm_accuracy(index.latents, index.labels, scores.latents, labels)
    return accuracy if math.isfinite(accuracy) else None


def _cache_path(compared: ComparedModel, split: ShapeSplit, indices: np.ndarray, data: str | None) -> Path | None:
    if compared.checkpoint is None or data is None or not Path(compared.checkpoint).is_file() or not Path(data).exists():
        return None
    from vaeviewer.workflows.studio import latent_index_cache_dir, split_cache_key

    key = split_cache_key(Path(compared.checkpoint), Path(data), split.name, compared.model.config.num_points)
    chosen = hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest()[:16]
    return latent_index_cache_dir().parent / "compare" / f"v{_CACHE_VERSION}-{key}-{chosen}.npz"


def _read_cache(path: Path, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            found = (stored["chamfer"], stored["predictions"], stored["latents"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # a damaged cache file is made again
    return found if all(len(part) == count for part in found) else None


def _write_cache(path: Path, chamfer: np.ndarray, predictions: np.ndarray, latents: np.ndarray) -> None:
    try:
        with atomic_write(path, ".npz", durable=False) as temporary:
            np.savez(temporary, chamfer=chamfer, predictions=predictions, latents=latents)
    except OSError:
        pass  # a cache that cannot be written costs the next comparison the scoring, nothing else
