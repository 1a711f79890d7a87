"""What every dock panel of the window has in common."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from vaeviewer.gui.viewport import Viewport
from vaeviewer.gui.workers import Task, TaskRunner
from vaeviewer.workflows.session import ViewerSession

__all__ = ["Panel", "TaskPanel"]


class Panel(QWidget):
    """A dock panel built from the session, sharing the window's viewport with the other panels.

    One panel at a time owns the viewport (is *active*): the window activates a
    panel when its dock is brought to the front or when it asks for the view
    (``view_requested``), and only the active panel draws. Panels read the
    session, send the user's intent back to it and redraw on its events.

    Parameters
    ----------
    session : ViewerSession
    viewport : Viewport
    parent : QWidget, optional

    Signals
    -------
    view_requested()
        The user did something whose result belongs in the viewport.
    status(str)
        A short message for the status bar.
    error(str)
        A one-line error for a dialog (a bad file, a failed run); the window shows it.
    """

    #: Identifier used by ``--panel`` and in the settings: dataset, training, reconstruction, ...
    name: ClassVar[str] = ""
    #: Title of the dock.
    title: ClassVar[str] = ""

    view_requested = Signal()
    status = Signal(str)
    error = Signal(str)

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.viewport = viewport
        self._active = False
        self._listening: list[tuple[Any, Callable[..., Any]]] = []

    def listen(self, *subscriptions: tuple[Any, Callable[..., Any]]) -> None:
        """Connect session events to this panel's callbacks: (event, callback) pairs.

        :meth:`stop_listening` disconnects them all; the session may outlive the
        window (a test's, an embedding application's), and its events must not
        keep the panel alive or call it once it is closed.
        """
        for event, callback in subscriptions:
            event.connect(callback)
            self._listening.append((event, callback))

    def stop_listening(self) -> None:
        """Disconnect every event :meth:`listen` connected (calling it twice is harmless)."""
        subscriptions, self._listening = self._listening, []
        for event, callback in subscriptions:
            event.disconnect(callback)

    @property
    def active(self) -> bool:
        """Whether this panel owns the viewport."""
        return self._active

    def set_active(self, active: bool) -> None:
        """Give the viewport to this panel (it draws at once) or take it away."""
        was, self._active = self._active, bool(active)
        if self._active and not was:
            self.draw()
        elif not self._active and was:
            self.deactivated()

    def draw(self) -> None:
        """Show the panel's content in the viewport; called only while active."""

    def deactivated(self) -> None:
        """The viewport went to another panel: stop anything that draws into it (playback)."""

    def is_busy(self) -> bool:
        """Whether background work that changes what the panel shows is still going on."""
        return False

    def prepare_screenshot(self) -> None:
        """Put the panel in the state that shows best in a picture (``vaeviewer gui --screenshot``)."""

    def shutdown(self) -> None:
        """Stop the panel's threads and timers and save what must be saved; the window is closing.

        Must return within a few seconds and leave no thread running.
        """


class TaskPanel(Panel):
    """A panel that runs one long task at a time on a worker (a generation, a look-up, a comparison)."""

    def __init__(self, session: ViewerSession, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(session, viewport, parent)
        self._tasks = TaskRunner(self)
        self._task: Task | None = None

    def is_busy(self) -> bool:
        """Whether the panel's task is under way."""
        return self._task is not None

    def _start(self, work: Callable[[], Any], on_item: Callable[[Any], None], on_failed: Callable[[str], None],
               stop: Callable[[], None] | None = None) -> None:
        """Run ``work`` (a generator function) on a worker, in place of the task under way."""
        self._cancel()
        self._task = self._tasks.start(work, stop=stop, on_item=on_item, on_failed=on_failed,
                                       on_done=self._on_task_done)
        self._update_buttons()

    def _cancel(self) -> None:
        """Drop the task under way (what it still sends is dropped too)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _on_task_done(self) -> None:
        self._task = None
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Enable what the panel's state allows."""

    def shutdown(self) -> None:
        """Forget the session and stop the task, waiting for its thread."""
        self.stop_listening()
        self._tasks.shutdown()
