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
    "SettingError",
    "TrainingError",
]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class VaeviewerError(Exception):
    """Base class of every error caused by user input rather than by a bug."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))

    @property
    def window_message(self) -> str:
        """The message as the window words it (the same as the command line's unless a subclass says otherwise)."""
        return str(self)


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


class SettingError(OptionError):
    """A training setting out of its bounds, named as each front end names it.

    Parameters
    ----------
    flag : str
        The setting's command-line option (``--epochs``): the message as printed by the command line.
    label : str
        Its label in the window's form (``Epochs``): the message as the window shows it.
    template : str
        The message with ``{setting}`` where the setting's name goes.
    window_template : str, optional
        The window's own wording, where the command line's names more than the setting (``--resume``).
    """

    def __init__(self, flag: str, label: str, template: str, window_template: str | None = None) -> None:
        self.flag, self.label, self.template = flag, label, template
        self.window_template = window_template or template
        super().__init__(template.replace("{setting}", flag))

    @property
    def window_message(self) -> str:
        """The message with the form's label in place of the option."""
        return _one_line(self.window_template.replace("{setting}", self.label))


class TrainingError(VaeviewerError):
    """A training run that cannot go on (non-finite loss, output folder not writable)."""
