"""The training engine: a generator of plain events, with stop, pause and resume.

Qt-free and VTK-free: the command line iterates :func:`train` with a progress
bar, the window wraps the same generator in a worker thread. Under ``torchrun``
every process iterates it and they train one model with DistributedDataParallel
(:mod:`vaeviewer.training.distributed`).

The names that need torch (the loop, the distributed helpers, the scores)
are imported at their first use, so that the window can import the events
and :class:`TaskControl` and show itself before torch has loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vaeviewer.tasks import TaskControl
from vaeviewer.training import events
from vaeviewer.training.events import *  # noqa: F403  (the events, listed once: in events.__all__)
from vaeviewer.training.history import HISTORY_COLUMNS, History
from vaeviewer.training.settings import TrainSettings

if TYPE_CHECKING:
    from vaeviewer.training.distributed import RankFailed, torchrun_environment
    from vaeviewer.training.loop import check_start, resolve_device, settings_for_resume, train
    from vaeviewer.training.subsets import balanced_subset
    from vaeviewer.training.validation import CloudScores, score_clouds

#: The names imported at first use, and their modules (which import torch).
_LAZY = {
    "RankFailed": "distributed",
    "torchrun_environment": "distributed",
    "balanced_subset": "subsets",
    "check_start": "loop",
    "resolve_device": "loop",
    "settings_for_resume": "loop",
    "train": "loop",
    "CloudScores": "validation",
    "score_clouds": "validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "TaskControl",
    "TrainSettings",
    "train",
    "settings_for_resume",
    "check_start",
    "resolve_device",
    "balanced_subset",
    "torchrun_environment",
    "RankFailed",
    "History",
    "HISTORY_COLUMNS",
    "CloudScores",
    "score_clouds",
    *events.__all__,
]
