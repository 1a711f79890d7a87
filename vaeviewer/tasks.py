"""Stop and pause requests for long work (a training run, an export, a latent map), safe from any thread.

Long work in vaeviewer is a generator that checks a :class:`TaskControl`
between two of its steps: stopping is a flag the work reads, never an
exception thrown into it, so it ends at a step boundary and keeps what it has
(a training run saves ``last.pt``, an export removes its partial file). The
command line sets it from Ctrl-C, the window from its Stop and Cancel buttons
and when it closes.
"""

from __future__ import annotations

import threading

__all__ = ["TaskControl"]


class TaskControl:
    """Flags a long task checks between its steps.

    Stopping is a flag, not an exception: the task finishes its current step,
    keeps what it has and returns. Pausing (which training honours) blocks it
    between two steps until :meth:`resume` or :meth:`stop` is called.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        """Ask the task to stop after its current step (also ends a pause)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Ask the task to wait before its next step."""
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        """Let a paused loop go on."""
        self._running.set()

    @property
    def should_stop(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    @property
    def is_paused(self) -> bool:
        """Whether a pause is requested and not yet lifted."""
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; return True once running (or stopping), False on timeout."""
        return self._running.wait(timeout)
