"""What a test leaves behind in the Qt application: the checks of the window's tests' leak fixtures.

:class:`LeakCheck` takes a snapshot when made and lists, on :meth:`LeakCheck.problems`,
what appeared since and is still there: worker threads, Python threads, pyvista
plotters, off-screen renderers, visible windows, active timers, and optionally
widgets and VTK objects.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter

from vaeviewer.render.offscreen import open_renderers

__all__ = ["LeakCheck", "active_timers", "live_vtk_objects"]


def active_timers(app) -> list[str]:
    """The application's running QTimers (its own and those of its top-level widgets), by name and owner."""
    from PySide6.QtCore import QTimer

    found = []
    roots = [app, *app.topLevelWidgets()]
    for root in roots:
        for timer in root.findChildren(QTimer):
            if timer.isActive():
                found.append(f"{timer.objectName() or 'QTimer'} of {type(timer.parent()).__name__}")
    return found


def live_vtk_objects() -> Counter[str]:
    """VTK objects that Python holds, by class: the wrappers the garbage collector tracks."""
    from vtkmodules.vtkCommonCore import vtkObjectBase

    gc.collect()
    # type(), not isinstance(): isinstance reads __class__, which some module proxies answer with a warning.
    return Counter(kind.__name__ for kind in map(type, gc.get_objects()) if issubclass(kind, vtkObjectBase))


def _delete_later_now() -> None:
    """Run the pending ``deleteLater`` of closed widgets, which only an event loop would otherwise run."""
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


class LeakCheck:
    """A snapshot of what runs in the application, to compare with what runs after a test.

    Parameters
    ----------
    app : QApplication
    widgets : bool
        Also count every widget (``QApplication.allWidgets``), after running pending deletions.
    vtk_objects : bool
        Also count the VTK objects Python holds.
    """

    def __init__(self, app, *, widgets: bool = False, vtk_objects: bool = False) -> None:
        import pyvista.plotting.plotter as plotter_module

        self.app = app
        self._plotters = plotter_module._ALL_PLOTTERS
        self.threads = {t.ident for t in threading.enumerate()}
        self.plotters = set(self._plotters)
        self.renderers = open_renderers()
        self.widgets: Counter[str] | None = None
        self.vtk: Counter[str] | None = None
        if widgets:
            _delete_later_now()
            self.widgets = self._widget_counts()
        if vtk_objects:
            self.vtk = live_vtk_objects()

    def _widget_counts(self) -> Counter[str]:
        return Counter(type(widget).__name__ for widget in self.app.allWidgets())

    def problems(self) -> list[str]:
        """What the test left behind, one entry per kind; waits for leftover workers so that they end."""
        from vaeviewer.gui.workers import live_workers

        self.app.processEvents()
        problems = []
        workers = live_workers()
        if workers:
            problems.append(f"{len(workers)} worker thread(s) still running")
            for worker in workers:
                worker.wait(10_000)
        threads = [t.name for t in threading.enumerate() if t.ident not in self.threads and t.is_alive()
                   and not isinstance(t, threading._DummyThread)]
        if threads:
            problems.append(f"threads left running: {threads}")
        plotters = set(self._plotters) - self.plotters
        if plotters:
            problems.append(f"{len(plotters)} pyvista plotter(s) left open")
        renderers = open_renderers() - self.renderers
        if renderers > 0:
            problems.append(f"{renderers} off-screen renderer(s) left open")
        windows = [type(w).__name__ for w in self.app.topLevelWidgets() if w.isVisible()]
        if windows:
            problems.append(f"windows left open: {windows}")
        timers = active_timers(self.app)
        if timers:
            problems.append(f"timers left running: {timers}")
        if self.widgets is not None:
            _delete_later_now()
            extra = self._widget_counts() - self.widgets
            if extra:
                problems.append(f"{sum(extra.values())} widget(s) left alive: {dict(extra)}")
        if self.vtk is not None:
            extra = live_vtk_objects() - self.vtk
            if extra:
                problems.append(f"{sum(extra.values())} VTK object(s) left alive: {dict(extra)}")
        return problems
