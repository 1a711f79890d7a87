"""Fixtures of the window's tests: the real session, viewport and window under Xvfb, and leak checks.

Every test here fails if it leaves a worker thread running, a pyvista plotter
open, a visible window or an active timer behind.
"""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")


def _active_timers(app) -> list[str]:
    from PySide6.QtCore import QTimer

    found = []
    roots = [app, *app.topLevelWidgets()]
    for root in roots:
        for timer in root.findChildren(QTimer):
            if timer.isActive():
                found.append(f"{timer.objectName() or 'QTimer'} of {type(timer.parent()).__name__}")
    return found


@pytest.fixture(autouse=True)
def _no_leaks(qapp):
    """Fail a test that leaves a worker thread, plotter, visible window or active timer behind."""
    import pyvista.plotting.plotter as plotter_module

    from vaeviewer.gui.workers import live_workers

    threads_before = {t.ident for t in threading.enumerate()}
    plotters_before = set(plotter_module._ALL_PLOTTERS)
    yield
    qapp.processEvents()
    problems = []
    workers = live_workers()
    if workers:
        problems.append(f"{len(workers)} worker thread(s) still running")
        for worker in workers:
            worker.wait(10_000)
    threads = [t.name for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()
               and not isinstance(t, threading._DummyThread)]
    if threads:
        problems.append(f"threads left running: {threads}")
    plotters = set(plotter_module._ALL_PLOTTERS) - plotters_before
    if plotters:
        problems.append(f"{len(plotters)} pyvista plotter(s) left open")
    windows = [type(w).__name__ for w in qapp.topLevelWidgets() if w.isVisible()]
    if windows:
        problems.append(f"windows left open: {windows}")
    timers = _active_timers(qapp)
    if timers:
        problems.append(f"timers left running: {timers}")
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture
def session():
    """A session on the built-in data set (test split) with the bundled demo model."""
    from vaeviewer.workflows.session import ViewerSession

    session = ViewerSession()
    session.open_data("builtin")
    session.open_checkpoint(None)
    yield session
    session.close()


@pytest.fixture
def viewport(qtbot):
    """A shown viewport of its own, 640 x 480."""
    from vaeviewer.gui.viewport import Viewport

    view = Viewport()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()
