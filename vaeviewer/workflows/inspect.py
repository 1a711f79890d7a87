"""Summarise a data set: format, classes, splits and point counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from vaeviewer.data import ShapeSet, ShapeSplit, open_dataset
from vaeviewer.errors import DataFileError

__all__ = ["inspect_dataset", "format_inspection", "grid_sample"]


def inspect_dataset(source: str | Path | ShapeSet) -> dict[str, Any]:
    """Describe a data set (a path, ``builtin``, or one already open) and check what can be checked cheaply.

    Point counts come from the files' headers. A single shape file is read
    whole; an h5 data set is read once, a block at a time, for clouds with NaN
    or infinite coordinates or all their points in one place; a folder of files
    is checked by its headers only (reading every mesh of a raw ModelNet tree
    takes minutes). Broken shapes become warnings.

    Returns
    -------
    dict
        ``path``, ``format``, ``up`` and ``up_reason`` (the up axis and why), ``shapes`` (int), ``classes`` ({name: count}),
        ``splits`` ({name: count}), ``split_classes`` ({split: {name: count}}),
        ``points`` ({"min": int, "max": int}: stored points, vertices for
        meshes) and ``warnings`` (list of one-line problems found).

    Raises
    ------
    DataFileError
        When the data set cannot be opened, a single shape file cannot be read,
        or no shape of the data set passes the checks.
    """
    if not isinstance(source, ShapeSet):
        with open_dataset(source) as dataset:
            return inspect_dataset(dataset)
    dataset = source
    if dataset.format == "single-file":
        dataset.split(dataset.split_names[0]).points(0)  # the header said little; the file must be read
    splits: dict[str, int] = {}
    split_classes: dict[str, dict[str, int]] = {}
    totals: Counter[str] = Counter()
    counts = []
    usable = 0
    problems: list[str] = []
    for name in dataset.split_names:
        split = dataset.split(name)
        splits[name] = len(split)
        names = [split.class_names[i] if i >= 0 else "unknown" for i in np.asarray(split.labels)]
        per_class = Counter(names)
        split_classes[name] = dict(sorted(per_class.items()))
        totals.update(per_class)
        split_counts = np.asarray(split.point_counts(), dtype=np.int64)  # 0 where a header cannot be read
        broken = split.broken_shapes()
        problems.extend(broken.values())
        usable += int(np.count_nonzero(split_counts)) - sum(1 for index in broken if split_counts[index])
        counts.append(split_counts)
    all_counts = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    warnings = [*dataset.warnings, *problems]  # the headers' problems were added while counting
    if usable == 0 and len(all_counts):
        first = warnings[0] if warnings else "no points"
        raise DataFileError(dataset.path, f"none of its {len(all_counts)} shapes can be read ({first})")
    return {
        "path": str(dataset.path),
        "format": dataset.format,
        "up": dataset.up.axis,
        "up_reason": dataset.up.reason,
        "shapes": int(sum(splits.values())),
        "classes": dict(sorted(totals.items())),
        "class_ids": {name: dataset.class_ids[name] for name in sorted(totals) if name in dataset.class_ids},
        "splits": splits,
        "split_classes": split_classes,
        "points": {
            "min": int(all_counts.min()) if len(all_counts) else 0,
            "max": int(all_counts.max()) if len(all_counts) else 0,
        },
        "warnings": warnings,
    }


def format_inspection(summary: dict[str, Any]) -> str:
    """The summary of :func:`inspect_dataset` as a short human-readable report."""
    lines = [
        f"{summary['path']}",
        f"  format  {summary['format']}",
        f"  up      {summary['up']} ({summary['up_reason']})",
        f"  shapes  {summary['shapes']}  ("
        + ", ".join(f"{name} {count}" for name, count in summary["splits"].items())
        + ")",
        f"  points  {summary['points']['min']}" + (
            f"..{summary['points']['max']}" if summary["points"]["max"] != summary["points"]["min"] else ""
        ) + " per shape",
        f"  classes {len(summary['classes'])}",
    ]
    ids = summary.get("class_ids", {})
    shown = {name: f"{name} ({ids[name]})" if name in ids else name for name in summary["classes"]}
    width = max((len(text) for text in shown.values()), default=0)
    split_names = list(summary["splits"])
    if len(split_names) > 1:
        lines.append("    " + " " * width + "".join(f"{s:>8}" for s in split_names) + f"{'total':>8}")
    for name, total in summary["classes"].items():
        row = f"    {shown[name]:<{width}}"
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
