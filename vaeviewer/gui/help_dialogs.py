"""The Help menu's dialogs: the keyboard shortcuts and the versions of what the window runs on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from vaeviewer import __version__

__all__ = ["SHORTCUTS", "show_about", "show_shortcuts"]

SHORTCUTS = (
    ("Ctrl+O", "Open data set"),
    ("Ctrl+Shift+O", "Open checkpoint"),
    ("Ctrl+E", "Export animation"),
    ("Ctrl+P", "Save screenshot"),
    ("Ctrl+1 … Ctrl+6", "Viewport shows: data set, reconstruction, interpolation, latent map, latent studio, training"),
    ("R", "Reset the camera to the preset"),
    ("Left / Right", "Previous / next shape (reconstruction panel)"),
    ("Space", "Play / pause the interpolation (interpolation panel)"),
    ("Mouse: left drag / wheel / right drag / middle drag", "Rotate / zoom / zoom / pan"),
    ("Ctrl+Q", "Quit"),
)


def _open(parent: QWidget, icon: QMessageBox.Icon, title: str, text: str, name: str) -> None:
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Close, parent)
    box.setObjectName(name)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()  # not modal-blocking: the window goes on drawing


def show_shortcuts(parent: QWidget) -> None:
    """The table of keyboard shortcuts."""
    rows = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>" for keys, what in SHORTCUTS)
    _open(parent, QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}</table>", "shortcuts_dialog")


def show_about(parent: QWidget) -> None:
    """What vaeviewer is, and the versions of PyTorch, Qt and VTK it runs on."""
    import torch  # already loaded with the model
    from PySide6 import __version__ as qt_version
    from vtkmodules.vtkCommonCore import vtkVersion

    text = (
        f"<b>vaeviewer {__version__}</b><br>Train, inspect and interpolate point-cloud variational "
        "autoencoders (PointNet encoder, fully connected decoder, Chamfer + KL loss).<br><br>"
        f"PyTorch {torch.__version__} · Qt {qt_version} · VTK {vtkVersion.GetVTKVersion()}"
    )
    _open(parent, QMessageBox.Icon.Information, "About vaeviewer", text, "about_dialog")
