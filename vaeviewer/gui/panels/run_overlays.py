"""The runs laid over the training panel's curves: a list of run folders, each read from its ``history.csv``.

Finished runs and runs still going (written by another process, or a run this
window trains into the folder) are alike: every two seconds the list looks at
each folder's ``history.csv`` and reads it again when it changed, so a live
run's curves grow as its epochs end. A run is named by its folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from vaeviewer.training import History

__all__ = ["RunOverlays"]


class RunOverlays(QWidget):
    """A list of run folders whose curves are drawn over the live run's.

    Signals
    -------
    changed(list)
        The runs to draw, as ``[(name, History), ...]``, after a run was added, removed or grew.
    error(str)
        A folder could not be added: one line naming it and why.
    """

    changed = Signal(list)
    error = Signal(str)

    #: How often the runs' histories are looked at for new epochs.
    POLL_MS = 2000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs: dict[Path, tuple[float, History]] = {}  # folder -> (history's mtime, history)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Runs laid over:"))
        self.add_button = QPushButton("Add run…")
        self.add_button.setToolTip("Draw another run folder's curves over these (its history.csv, one colour a run)")
        self.add_button.clicked.connect(self._browse)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addStretch(1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.setMaximumHeight(72)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.list)
        self._timer = QTimer(self)
        self._timer.setObjectName("run overlays poll")
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._update_buttons()

    @property
    def folders(self) -> list[Path]:
        """The run folders laid over, in the order they were added."""
        return list(self._runs)

    def add_run(self, folder: str | Path) -> bool:
        """Lay a run folder's curves over the plots; False, with the error signalled, when it holds no history."""
        folder = Path(folder).resolve()
        history_file = folder / "history.csv"
        if not history_file.is_file():
            self.error.emit(f"{folder}: holds no training history (no history.csv)")
            return False
        if folder in self._runs:
            return True
        try:
            self._runs[folder] = (history_file.stat().st_mtime, History.read_csv(history_file))
        except (OSError, ValueError, KeyError) as error:
            self.error.emit(f"{history_file}: cannot read it ({error})")
            return False
        self.list.addItem(self._name(folder))
        self.list.item(self.list.count() - 1).setToolTip(str(folder))
        self._timer.start()
        self._emit()
        return True

    def remove_selected(self) -> None:
        """Take the selected run off the plots."""
        for item in self.list.selectedItems():
            row = self.list.row(item)
            del self._runs[list(self._runs)[row]]
            self.list.takeItem(row)
        if not self._runs:
            self._timer.stop()
        self._emit()

    def poll(self) -> None:
        """Read again the histories that changed on disk; signal when one did."""
        grown = False
        for folder, (seen, _history) in list(self._runs.items()):
            history_file = folder / "history.csv"
            try:
                mtime = history_file.stat().st_mtime
                if mtime != seen:
                    self._runs[folder] = (mtime, History.read_csv(history_file))
                    grown = True
            except (OSError, ValueError, KeyError):
                continue  # being rewritten, or gone: keep what was read
        if grown:
            self._emit()

    def shutdown(self) -> None:
        """Stop looking at the folders."""
        self._timer.stop()

    def _name(self, folder: Path) -> str:
        names = [self._name_of(f) for f in self._runs if f != folder]
        name = self._name_of(folder)
        return name if name not in names else str(folder)

    @staticmethod
    def _name_of(folder: Path) -> str:
        return folder.name or str(folder)

    def _emit(self) -> None:
        names = [self.list.item(row).text() for row in range(self.list.count())]
        self.changed.emit([(name, history) for name, (_, history) in zip(names, self._runs.values())])
        self._update_buttons()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder to lay over", str(Path.home()))
        if folder:
            self.add_run(folder)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))
