"""Long work off the GUI thread: one protocol to start, cancel and end it, for every panel and dialog.

Each owner of long work (the latent map, the thumbnail loader, the export
dialog, the training panel) holds one :class:`TaskRunner`. :meth:`TaskRunner.start`
runs a Qt-free generator on a :class:`GeneratorWorker` thread and hands what it
yields, its one-line failure and its end to the owner's callbacks on the GUI
thread. A :class:`Task` is ended in one of two ways:

- :meth:`Task.stop` asks the work to stop (its ``stop`` callable: a
  :class:`~vaeviewer.tasks.TaskControl`'s, or a queue's) and still delivers what
  it sends while winding down (a training run's last checkpoint, its end);
- :meth:`Task.cancel` asks the same and drops everything it sends from then on,
  so that an owner never sees a result of work it gave up (a map of the split
  it no longer shows).

:meth:`TaskRunner.shutdown`, called when the window closes, ends every task
(cancelled, or stopped and finished with ``finish=True``), waits for every
thread and deletes the workers: no thread outlives its owner, and none is left
reading what the owner is about to close.

Why not superqt's ``thread_worker``: its workers run on Qt's global thread pool,
capped at the number of cores (two on a small laptop), so the thumbnail
look-up (long-lived, idle on its queue) and a training run would leave a
latent map or an export waiting in the pool's queue; and its quit is, like
ours, a flag read between two yields. A thread per task and these hundred
lines serve better.

Worker signals reach the runner's own slots (methods marked ``@Slot``, not
lambdas): queued across threads, they are delivered to the runner, which
:meth:`TaskRunner.shutdown` can flush, and PySide's cross-thread delivery to
decorated slots needs no proxy object.
"""

from __future__ import annotations

import sys
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThread, Signal, Slot

from vaeviewer.errors import VaeviewerError

__all__ = ["GeneratorWorker", "Task", "TaskRunner", "live_workers"]

_WORKERS: weakref.WeakSet[GeneratorWorker] = weakref.WeakSet()


def live_workers() -> list[GeneratorWorker]:
    """Workers whose thread is still running (tests check that none outlives them)."""
    return [worker for worker in list(_WORKERS) if shiboken6.isValid(worker) and worker.isRunning()]


def _failure_message(error: Exception) -> str:
    """One line for an error that ended the work: a user's mistake as its message, a bug as its type too."""
    if isinstance(error, VaeviewerError):
        return error.window_message
    if isinstance(error, MemoryError):
        return "out of memory: try a smaller batch size or fewer points"
    traceback.print_exc(file=sys.stderr)  # a bug: its traceback for the report, the window lives on
    return f"{type(error).__name__}: {error}"


class GeneratorWorker(QThread):
    """Run ``make_generator()`` on a thread and send what it yields to the GUI thread.

    Parameters
    ----------
    make_generator : callable
        Returns the generator; called on the worker thread, so that its set-up
        (reading a data set, building a model) does not block the window.
    parent : QObject, optional
    abandoned : callable, optional
        Whether the work has been given up. An error it raises after that ends
        it quietly: what it was reading may be gone, as when the session closes
        the data set that another one replaced.

    Signals
    -------
    yielded(object)
        Each item, in order.
    failed(str)
        The one-line message of an error that ended the work.
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
            if self._abandoned is None or not self._abandoned():
                self.failed.emit(_failure_message(error))
        finally:
            self.done.emit()


class Task:
    """One piece of long work started by a :class:`TaskRunner`; see the module's notes."""

    def __init__(self, worker: GeneratorWorker, stop: Callable[[], None] | None,
                 on_item: Callable[[Any], None] | None, on_failed: Callable[[str], None] | None,
                 on_done: Callable[[], None] | None) -> None:
        self.worker = worker
        self._stop = stop
        self.on_item, self.on_failed, self.on_done = on_item, on_failed, on_done
        self.cancelled = False
        self.stopping = False
        self.finished = False

    def stop(self) -> None:
        """Ask the work to stop after its current step; what it sends until it ends is still delivered."""
        if not self.stopping:
            self.stopping = True
            if self._stop is not None:
                self._stop()

    def cancel(self) -> None:
        """Ask the work to stop and drop everything it sends from now on (its end included)."""
        self.cancelled = True
        self.stop()

    @property
    def running(self) -> bool:
        """Whether its thread has not yet ended (cancelled work may still be winding down)."""
        return not self.finished


class TaskRunner(QObject):
    """The long tasks of one owner: started, cancelled and ended on close the same way everywhere.

    Parameters
    ----------
    parent : QObject
        The owner (a panel, a dialog, a loader); the runner and its workers are its children.
    """

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._tasks: dict[GeneratorWorker, Task] = {}
        self._closed = False

    def start(self, make_generator: Callable[[], Iterator[Any]], *, stop: Callable[[], None] | None = None,
              on_item: Callable[[Any], None] | None = None, on_failed: Callable[[str], None] | None = None,
              on_done: Callable[[], None] | None = None) -> Task:
        """Run ``make_generator()`` on a thread of its own.

        ``stop`` asks the work to end between two steps (a
        :class:`~vaeviewer.tasks.TaskControl`'s ``stop``); without one, the
        work runs to its end and cancelling only drops its results. The
        callbacks run on the GUI thread: ``on_item`` for each item, ``on_failed``
        with a one-line message, ``on_done`` once at the end however it ended.
        """
        if self._closed:
            raise RuntimeError("the task runner was shut down")
        worker = GeneratorWorker(make_generator, self, abandoned=lambda: task.cancelled)
        task = Task(worker, stop, on_item, on_failed, on_done)
        self._tasks[worker] = task
        worker.yielded.connect(self._on_yielded)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        worker.start()
        return task

    @property
    def busy(self) -> bool:
        """Whether any task's thread still runs (cancelled ones winding down included)."""
        return bool(self._tasks)

    def cancel_all(self) -> None:
        """Cancel every task (see :meth:`Task.cancel`); their threads end by themselves."""
        for task in list(self._tasks.values()):
            task.cancel()

    def shutdown(self, finish: bool = False) -> None:
        """End every task and wait for its thread; the runner starts nothing afterwards.

        With ``finish`` the tasks are stopped, not cancelled: what they send
        while winding down (a run's last checkpoint and its end) is delivered
        before this returns. Otherwise it is dropped.
        """
        self._closed = True
        for task in list(self._tasks.values()):
            task.stop() if finish else task.cancel()
        for worker in list(self._tasks):
            worker.wait()
        # Their last signals are queued to this object: deliver (or drop) them now, not after the owner is gone.
        if self._tasks:
            QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        for worker in list(self._tasks):  # only if a signal never came, which a finished thread rules out
            self._end(worker)

    # ---- the workers' signals, on the GUI thread --------------------------------------------

    def _task(self) -> Task | None:
        task = self._tasks.get(self.sender())  # type: ignore[arg-type]
        return None if task is None or task.cancelled else task

    @Slot(object)
    def _on_yielded(self, item: object) -> None:
        task = self._task()
        if task is not None and task.on_item is not None:
            task.on_item(item)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        task = self._task()
        if task is not None and task.on_failed is not None:
            task.on_failed(message)

    @Slot()
    def _on_done(self) -> None:
        worker = self.sender()
        if isinstance(worker, GeneratorWorker):
            self._end(worker)

    def _end(self, worker: GeneratorWorker) -> None:
        task = self._tasks.pop(worker, None)
        if task is None:
            return
        worker.wait()  # returns at once: done() is the thread's last act
        task.finished = True
        worker.deleteLater()
        if not task.cancelled and task.on_done is not None:
            task.on_done()
