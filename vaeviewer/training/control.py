"""Stop and pause requests for a running training loop, safe to use from any thread."""

from __future__ import annotations

import threading

__all__ = ["RunControl"]


class RunControl:
    """Flags a training loop checks between steps.

    Stopping is a flag, not an exception: the loop finishes its current step,
    saves a checkpoint and returns. Pausing blocks the loop between two steps
    until :meth:`resume` or :meth:`stop` is called.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        """Ask the loop to stop after its current step (also ends a pause)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Ask the loop to wait before its next step."""
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
