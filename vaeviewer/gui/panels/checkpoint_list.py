"""The Training panel's list of a run folder's checkpoints, and the button that opens one in the viewer."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

__all__ = ["CheckpointList"]


class CheckpointList(QGroupBox):
    """The checkpoints of a run folder: ``last.pt`` and ``best.pt`` first, then any other.

    Signals
    -------
    load_requested(str)
        The user asked to open this checkpoint in the viewer (the button, or a double click).
    """

    load_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Checkpoints", parent)
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setMaximumHeight(90)
        self.list.itemSelectionChanged.connect(self._update_button)
        self.list.itemDoubleClicked.connect(lambda item: self.load_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(self.list)
        self.row = QHBoxLayout()
        self.load_button = QPushButton("Load into viewer")
        self.load_button.clicked.connect(self._load_selected)
        self.row.addWidget(self.load_button)
        layout.addLayout(self.row)
        self._update_button()

    def show_folder(self, folder: Path, known: Mapping[str, Any]) -> None:
        """List the checkpoints in ``folder``; ``known`` gives the epoch and step of those a live run saved."""
        selected = self.selected()
        try:
            files = [p for p in folder.glob("*.pt") if not p.name.startswith(".") and p.is_file()]
        except OSError:
            files = []
        order = {"last.pt": 0, "best.pt": 1}
        files.sort(key=lambda p: (order.get(p.name, 2), p.name))
        self.list.blockSignals(True)
        self.list.clear()
        for path in files:
            info = known.get(str(path))
            if info is not None:
                text = f"{path.name} · epoch {info.epoch}, step {info.global_step}"
            else:
                try:
                    text = f"{path.name} · {time.strftime('%Y-%m-%d %H:%M', time.localtime(path.stat().st_mtime))}"
                except OSError:
                    continue
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(str(path))
            self.list.addItem(item)
            if str(path) == selected or (selected is None and self.list.count() == 1):
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._update_button()

    def paths(self) -> list[str]:
        """The checkpoint files listed, in order."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def selected(self) -> str | None:
        """The selected checkpoint's path, or None."""
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _load_selected(self) -> None:
        path = self.selected()
        if path is not None:
            self.load_requested.emit(path)

    def _update_button(self) -> None:
        self.load_button.setEnabled(self.list.currentItem() is not None)
