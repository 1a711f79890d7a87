"""The training engine: a generator of plain events, with stop, pause and resume.

Qt-free and VTK-free: the command line iterates :func:`train` with a progress
bar, the window wraps the same generator in a worker thread.
"""

from vaeviewer.training.control import RunControl
from vaeviewer.training.events import (
    CheckpointSaved,
    EpochEnded,
    PreviewReady,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    StepEnded,
    TrainingEvent,
    ValidationEnded,
)
from vaeviewer.training.history import HISTORY_COLUMNS, History
from vaeviewer.training.loop import balanced_subset, check_start, resolve_device, settings_for_resume, train
from vaeviewer.training.settings import TrainSettings
from vaeviewer.training.validation import CloudScores, score_clouds

__all__ = [
    "RunControl",
    "TrainSettings",
    "train",
    "settings_for_resume",
    "check_start",
    "resolve_device",
    "balanced_subset",
    "History",
    "HISTORY_COLUMNS",
    "CloudScores",
    "score_clouds",
    "TrainingEvent",
    "RunStarted",
    "StepEnded",
    "ValidationEnded",
    "EpochEnded",
    "CheckpointSaved",
    "PreviewReady",
    "RunPaused",
    "RunResumed",
    "RunFinished",
]
