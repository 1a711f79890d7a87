"""File ▸ Recent files: the data sets and checkpoints opened lately, kept in the window's settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

__all__ = ["RecentFiles"]


class RecentFiles:
    """The newest-first list of opened paths (``builtin`` for the built-in set) and the menu that reopens them.

    Parameters
    ----------
    settings : QSettings
        Where the list is kept (key ``recent_files``), across starts.
    menu : QMenu
        Filled with one entry per path; disabled while the list is empty.
    open_path : callable
        Called with a path when its entry is chosen.
    limit : int
        Most paths kept.
    """

    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[str], object], limit: int = 8) -> None:
        self.settings = settings
        self.menu = menu
        self._open_path = open_path
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
            action.triggered.connect(lambda _=False, p=path: self._open_path(p))
            self.menu.addAction(action)
        self.menu.setEnabled(bool(recent))
