"""Long work off the GUI thread: a Qt-free generator run on a ``QThread``.

Each item the generator yields reaches the GUI thread as the ``yielded``
signal (queued, since the worker object lives on the GUI thread); stopping and
pausing are the generator's business (a :class:`~vaeviewer.tasks.TaskControl`
it checks between steps). Only plain data should be yielded: no tensors that
need grad, no modules, no Qt or VTK objects.
"""

from __future__ import annotations

import sys
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from vaeviewer.errors import VaeviewerError

__all__ = ["GeneratorWorker", "live_workers"]

_WORKERS: weakref.WeakSet[GeneratorWorker] = weakref.WeakSet()


def live_workers() -> list[GeneratorWorker]:
    """Workers whose thread is still running (tests check that none outlives them)."""
    return [worker for worker in list(_WORKERS) if worker.isRunning()]


class GeneratorWorker(QThread):
    """Run ``make_generator()`` on a thread and send what it yields to the GUI thread.

    Parameters
    ----------
    make_generator : callable
        Returns the generator; called on the worker thread, so that its set-up
        (reading a data set, building a model) does not block the window.
    parent : QObject, optional
    abandoned : callable, optional
        Whether the work has been given up (asked to stop). An error it raises
        after that ends it quietly: what it was reading may be gone, as when
        the session closes the data set that another one replaced.

    Signals
    -------
    yielded(object)
        Each item, in order.
    failed(str)
        The one-line message of an error that ended the work (a user's mistake
        reads as its message; a bug as its type and message, with the traceback
        printed to stderr).
    done()
        After the last ``yielded`` or ``failed``, whichever way the work ended.
    """

    yielded = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, make_generator: Callable[[], Iterator[Any]], parent: QObject | None = None,
                 abandoned: Callable[[], bool] | None = None) -> None:
        super().__init__(parent)
        self._make_generator = make_generator
        self._abandoned = abandoned
        _WORKERS.add(self)

    def run(self) -> None:  # noqa: D102 (QThread's entry point, on the worker thread)
        try:
            for item in self._make_generator():
                self.yielded.emit(item)
        except Exception as error:
            if self._abandoned is not None and self._abandoned():
                pass  # given up already: nobody waits for its result, and its data may have been closed under it
            elif isinstance(error, VaeviewerError):
                self.failed.emit(str(error))
            elif isinstance(error, MemoryError):
                self.failed.emit("out of memory: try a smaller batch size or fewer points")
            else:  # a bug: say what it was, keep the window alive
                traceback.print_exc(file=sys.stderr)
                self.failed.emit(f"{type(error).__name__}: {error}")
        finally:
            self.done.emit()
