"""What the latent studio's pages share: a shape to hand on (end A or B, Edit); one task at a time, as any TaskPanel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton

from vaeviewer.gui.panels.base import TaskPanel
from vaeviewer.workflows.session import KeptShape

__all__ = ["StudioPage"]


class StudioPage(TaskPanel):
    """A page of the latent studio: a panel whose shape (a sample, a query, an edit) can go on.

    Signals
    -------
    edit_requested(object)
        The user asked to edit the page's shape: a :class:`~vaeviewer.workflows.session.KeptShape`.
    """

    edit_requested = Signal(object)

    def kept(self) -> KeptShape | None:
        """The page's shape as the window keeps it, or None when it has none."""
        return None

    def _shape_buttons(self, what: str, edit: bool = True) -> QGridLayout:
        """Use as A, Use as B (and Edit…) buttons for the page's shape, three to a row; more may be added."""
        grid = QGridLayout()
        self.use_a_button, self.use_b_button = QPushButton("Use as A"), QPushButton("Use as B")
        buttons = [self.use_a_button, self.use_b_button]
        self.use_a_button.setToolTip(f"Make {what} end A of the interpolation")
        self.use_b_button.setToolTip(f"Make {what} end B of the interpolation")
        self.use_a_button.clicked.connect(lambda: self._use_as("a"))
        self.use_b_button.clicked.connect(lambda: self._use_as("b"))
        if edit:
            self.edit_button = QPushButton("Edit…")
            self.edit_button.setToolTip(f"Move {what} along directions of the latent space")
            self.edit_button.clicked.connect(lambda: self.kept() is not None and self.edit_requested.emit(self.kept()))
            buttons.append(self.edit_button)
        for k, button in enumerate(buttons):
            grid.addWidget(button, k // 3, k % 3)
        return grid

    def _use_as(self, slot: str) -> None:
        kept = self.kept()
        if kept is not None:
            self.session.set_pair_shape(slot, kept)
            self.status.emit(f"{slot.upper()} = {kept.label} (see the Interpolation panel)")

    def _on_chosen(self, _row: int) -> None:
        """Another row of the page's list: draw it, or ask for the viewport."""
        if self.active:
            self.draw()
        else:
            self.view_requested.emit()
