"""The per-epoch history of a run and its ``history.csv``."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from vaeviewer.files import atomic_write

__all__ = ["HISTORY_COLUMNS", "History"]

HISTORY_COLUMNS = (
    "epoch",
    "global_step",
    "train_loss",
    "train_chamfer",
    "train_kl",
    "train_classifier_loss",
    "train_accuracy",
    "val_chamfer",
    "val_kl",
    "val_accuracy",
    "lr",
    "seconds",
)


class History:
    """Per-epoch metrics, one list per column, that round-trips through a checkpoint.

    Missing values are NaN (e.g. validation metrics of a run without a
    validation split).
    """

    def __init__(self, columns: dict[str, list[float]] | None = None) -> None:
        self.columns: dict[str, list[float]] = {name: [] for name in HISTORY_COLUMNS}
        for name, values in (columns or {}).items():
            self.columns[name] = [float(v) for v in values]

    def __len__(self) -> int:
        return len(self.columns["epoch"])

    def append(self, row: dict[str, float]) -> None:
        """Add one epoch's metrics; columns not in ``row`` get NaN."""
        for name in self.columns:
            self.columns[name].append(float(row.get(name, math.nan)))

    def truncate(self, epochs: int) -> None:
        """Keep only the first ``epochs`` rows (used when resuming)."""
        for values in self.columns.values():
            del values[epochs:]

    def best(self, column: str) -> float:
        """Smallest finite value of a column, or infinity if there is none."""
        finite = [v for v in self.columns.get(column, []) if math.isfinite(v)]
        return min(finite) if finite else math.inf

    def to_csv(self) -> str:
        """The history as CSV text with a header row."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        names = list(self.columns)
        writer.writerow(names)
        for i in range(len(self)):
            row = []
            for name in names:
                value = self.columns[name][i]
                row.append(int(value) if name in ("epoch", "global_step") else f"{value:.6g}")
            writer.writerow(row)
        return buffer.getvalue()

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        """Write ``history.csv`` atomically (temporary file, then rename)."""
        write_text_atomic(Path(path), self.to_csv())

    @classmethod
    def read_csv(cls, path: str | os.PathLike[str]) -> History:
        """Read a ``history.csv`` written by :meth:`write_csv` (or by a run in another process)."""
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        history = cls()
        for row in rows:
            history.append({k: float(v) if v not in ("", None) else math.nan for k, v in row.items()})
        return history


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file so that readers see either the old or the new content."""
    with atomic_write(path) as temp:
        temp.write_text(text)
