"""Summarise a data set: format, classes, splits and point counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from vaeviewer.data import ShapeSet, ShapeSplit, open_dataset

__all__ = ["inspect_dataset", "format_inspection", "grid_sample"]


def inspect_dataset(source: str | Path | ShapeSet) -> dict[str, Any]:
    """Describe a data set (a path, ``builtin``, or one already open) without loading every cloud.

    Returns
    -------
    dict
        ``path``, ``format``, ``shapes`` (int), ``classes`` ({name: count}),
        ``splits`` ({name: count}), ``split_classes`` ({split: {name: count}}),
        ``points`` ({"min": int, "max": int}: stored points, vertices for
        meshes) and ``warnings`` (list of one-line problems found).
    """
    if not isinstance(source, ShapeSet):
        with open_dataset(source) as dataset:
            return inspect_dataset(dataset)
    dataset = source
    splits: dict[str, int] = {}
    split_classes: dict[str, dict[str, int]] = {}
    totals: Counter[str] = Counter()
    counts = []
    for name in dataset.split_names:
        split = dataset.split(name)
        splits[name] = len(split)
        names = [split.class_names[i] if i >= 0 else "unknown" for i in np.asarray(split.labels)]
        per_class = Counter(names)
        split_classes[name] = dict(sorted(per_class.items()))
        totals.update(per_class)
        counts.append(np.asarray(split.point_counts(), dtype=np.int64))
    all_counts = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    return {
        "path": str(dataset.path),
        "format": dataset.format,
        "shapes": int(sum(splits.values())),
        "classes": dict(sorted(totals.items())),
        "splits": splits,
        "split_classes": split_classes,
        "points": {
            "min": int(all_counts.min()) if len(all_counts) else 0,
            "max": int(all_counts.max()) if len(all_counts) else 0,
        },
        "warnings": list(dataset.warnings),
    }


def format_inspection(summary: dict[str, Any]) -> str:
    """The summary of :func:`inspect_dataset` as a short human-readable report."""
    lines = [
        f"{summary['path']}",
        f"  format  {summary['format']}",
        f"  shapes  {summary['shapes']}  ("
        + ", ".join(f"{name} {count}" for name, count in summary["splits"].items())
        + ")",
        f"  points  {summary['points']['min']}" + (
            f"..{summary['points']['max']}" if summary["points"]["max"] != summary["points"]["min"] else ""
        ) + " per shape",
        f"  classes {len(summary['classes'])}",
    ]
    width = max((len(name) for name in summary["classes"]), default=0)
    split_names = list(summary["splits"])
    if len(split_names) > 1:
        lines.append("    " + " " * width + "".join(f"{s:>8}" for s in split_names) + f"{'total':>8}")
    for name, total in summary["classes"].items():
        row = f"    {name:<{width}}"
        if len(split_names) > 1:
            row += "".join(f"{summary['split_classes'][s].get(name, 0):>8}" for s in split_names)
        lines.append(row + f"{total:>8}")
    for warning in summary["warnings"]:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)


def grid_sample(split: ShapeSplit, per_class: int = 4, limit: int = 48) -> tuple[list[np.ndarray], list[str]]:
    """Up to ``per_class`` shapes of each class (at most ``limit``), with captions, for a picture."""
    labels = np.asarray(split.labels)
    chosen: list[int] = []
    for label in np.unique(labels):
        chosen.extend(np.flatnonzero(labels == label)[:per_class].tolist())
    chosen = sorted(chosen)[:limit]
    clouds = [split.points(i) for i in chosen]
    captions = [split.shape_name(i) for i in chosen]
    return clouds, captions
