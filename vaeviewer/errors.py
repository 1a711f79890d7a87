"""Errors a user can cause, each with a one-line message that names the culprit.

The command line prints these as ``vaeviewer: error: <message>`` and exits with
status 2; the window shows them in a dialog. Anything else that escapes is a bug.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "VaeviewerError",
    "DataFileError",
    "CheckpointError",
    "OptionError",
    "TrainingError",
]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class VaeviewerError(Exception):
    """Base class of every error caused by user input rather than by a bug."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


class _PathError(VaeviewerError):
    """An error about one file or folder: the message is ``<path>: <problem>``."""

    def __init__(self, path: str | PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = _one_line(problem)
        super().__init__(f"{self.path}: {self.problem}")


class DataFileError(_PathError):
    """A data file or folder that cannot be read as shapes.

    Parameters
    ----------
    path : str or path-like
        The file or folder at fault.
    problem : str
        What is wrong with it, in a few words.
    """


class CheckpointError(_PathError):
    """A checkpoint that cannot be loaded (truncated, foreign, unsafe, wrong model).

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.
    problem : str
        What is wrong with it.
    """


class OptionError(VaeviewerError):
    """An option value that makes no sense (``--points 0``, an unknown split, ...)."""


class TrainingError(VaeviewerError):
    """A training run that cannot go on (non-finite loss, output folder not writable)."""
