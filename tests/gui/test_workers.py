"""The one protocol for long work: start, stop (results kept), cancel (results dropped), shutdown."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.workers import TaskRunner, live_workers
from vaeviewer.tasks import TaskControl


def _counting(control: TaskControl, started: threading.Event, release: threading.Event):
    """Yield 0, 1, 2, ... until stopped; waits for ``release`` after the first item."""

    def work():
        step = 0
        while not control.should_stop:
            yield step
            started.set()
            release.wait(5)
            step += 1
        yield "wound down"

    return work


def test_items_failure_and_end_reach_the_owner_in_order(qtbot):
    owner = QObject()
    runner = TaskRunner(owner)
    seen: list[object] = []

    def work():
        yield 1
        yield 2
        raise VaeviewerError("shape.off: not an OFF file")

    task = runner.start(work, on_item=seen.append, on_failed=lambda m: seen.append(f"failed: {m}"),
                        on_done=lambda: seen.append("done"))
    qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    assert seen == [1, 2, "failed: shape.off: not an OFF file", "done"]
    assert not runner.busy and not live_workers()
    runner.shutdown()


def test_a_cancelled_task_sends_nothing_more_and_its_thread_ends(qtbot):
    owner = QObject()
    runner = TaskRunner(owner)
    control, started, release = TaskControl(), threading.Event(), threading.Event()
    seen: list[object] = []
    task = runner.start(_counting(control, started, release), stop=control.stop, on_item=seen.append,
                        on_done=lambda: seen.append("done"))
    assert started.wait(10)
    task.cancel()
    assert control.should_stop
    release.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)  # its end came: everything it sent came before
    assert "wound down" not in seen and "done" not in seen
    assert not live_workers()
    runner.shutdown()


def _counting_task_past_its_first_step(owner: QObject) -> tuple[TaskRunner, list[object]]:
    """A runner with a counting task that has sent its first item and is free to go on: what it saw so far."""
    runner = TaskRunner(owner)
    control, started, release = TaskControl(), threading.Event(), threading.Event()
    seen: list[object] = []
    runner.start(_counting(control, started, release), stop=control.stop, on_item=seen.append,
                 on_done=lambda: seen.append("done"))
    assert started.wait(10)
    release.set()
    return runner, seen


def test_shutdown_with_finish_delivers_the_last_items_before_it_returns(qtbot):
    owner = QObject()  # kept alive: the runner is its child
    runner, seen = _counting_task_past_its_first_step(owner)
    runner.shutdown(finish=True)  # no event loop turn between this and the checks
    assert seen[-2:] == ["wound down", "done"]
    assert not runner.busy and not live_workers()


def test_shutdown_without_finish_drops_them_and_starts_nothing_after(qtbot):
    owner = QObject()  # kept alive: the runner is its child
    runner, seen = _counting_task_past_its_first_step(owner)
    runner.shutdown()
    assert "wound down" not in seen and "done" not in seen and not live_workers()
    with pytest.raises(RuntimeError, match="shut down"):
        runner.start(lambda: iter([1]))
