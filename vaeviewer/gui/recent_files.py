"""File ▸ Recent files: the data sets and checkpoints opened lately, kept in the window's settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

__all__ = ["RecentFiles"]


class RecentFiles(QObject):
    """The newest-first list of opened paths (``builtin`` for the built-in set) and the menu that reopens them.

    A child of its menu that holds no reference to the window: choosing an entry emits
    :attr:`open_requested`, which the window connects to its opener.

    Parameters
    ----------
    settings : QSettings
        Where the list is kept (key ``recent_files``), across starts.
    menu : QMenu
        Filled with one entry per path; disabled while the list is empty.
    limit : int
        Most paths kept.

    Signals
    -------
    open_requested(str)
        An entry was chosen: the path to open.
    """

    open_requested = Signal(str)

    def __init__(self, settings: QSettings, menu: QMenu, limit: int = 8) -> None:
        super().__init__(menu)
        self.settings = settings
        self.menu = menu
        self.limit = limit
        self._rebuild_menu()

    def paths(self) -> list[str]:
        """Data sets and checkpoints opened lately, newest first."""
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add(self, path: str) -> None:
        """Put ``path`` first (once) and refill the menu."""
        recent = [p for p in self.paths() if p != path]
        recent.insert(0, path)
        self.settings.setValue("recent_files", recent[:self.limit])
        self._rebuild_menu()

    def last_folder(self) -> str:
        """The folder of the newest opened path on disk, where file dialogs start; the home folder if none."""
        for path in self.paths():
            if path != "builtin":
                candidate = Path(path)
                return str(candidate if candidate.is_dir() else candidate.parent)
        return str(Path.home())

    def _rebuild_menu(self) -> None:
        self.menu.clear()
        recent = self.paths()
        for path in recent:
            action = QAction(path if path != "builtin" else "built-in shapes", self.menu)
            action.triggered.connect(lambda _=False, p=path: self.open_requested.emit(p))
            self.menu.addAction(action)
        self.menu.setEnabled(bool(recent))
