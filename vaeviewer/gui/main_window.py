"""The main window: the viewport in the centre, dock panels around it, menus and a status bar.

One panel at a time owns the viewport. A panel gets it when its dock is
brought to the front, when the user works in it (``view_requested``), or from
View > Viewport shows. The reconstruction panel keeps the viewport when a shape
is chosen in the browser: it follows the browser's selection.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from vaeviewer.errors import VaeviewerError
from vaeviewer.gui.cloud_export import CLOUD_FILTER, fill_export_menu, save_shown_cloud
from vaeviewer.gui.heap import freeze_long_lived
from vaeviewer.gui.help_dialogs import show_about, show_shortcuts
from vaeviewer.gui.panels.base import Panel
from vaeviewer.gui.recent_files import RecentFiles
from vaeviewer.gui.viewport import THEMES, Viewport
from vaeviewer.render.scene import CAMERA_DIRECTIONS, CLOUD_STYLES
from vaeviewer.workflows.session import ViewerSession

__all__ = ["MainWindow", "PANEL_NAMES", "CHECKPOINT_SUFFIXES"]

#: The panels, in the order of their docks and of View > Viewport shows.
PANEL_NAMES = ("dataset", "reconstruction", "interpolation", "latent", "studio", "compare", "training")

#: Dropped or recent files with these suffixes are checkpoints; anything else is data.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")

_MAX_RECENT = 8
_POINT_SIZES = (2, 3, 5, 8, 12)
_DATA_FILTER = "Shape data (*.h5 *.hdf5 *.off *.ply *.obj *.pcd *.xyz *.txt *.npy *.stl);;All files (*)"
_CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"


def _panel_classes() -> dict[str, type[Panel]]:
    from vaeviewer.gui.panels.compare import ComparePanel
    from vaeviewer.gui.panels.dataset import DatasetPanel
    from vaeviewer.gui.panels.interpolation import InterpolationPanel
    from vaeviewer.gui.panels.latent import LatentMapPanel
    from vaeviewer.gui.panels.reconstruction import ReconstructionPanel
    from vaeviewer.gui.panels.studio import StudioPanel
    from vaeviewer.gui.panels.training import TrainingPanel

    panels = (DatasetPanel, ReconstructionPanel, InterpolationPanel, LatentMapPanel, StudioPanel, ComparePanel,
              TrainingPanel)
    return {panel.name: panel for panel in panels}


class MainWindow(QMainWindow):
    """The vaeviewer window.

    Parameters
    ----------
    session : ViewerSession
        What the window shows; the window closes it when it closes.
    settings : QSettings, optional
        Where geometry, dock layout, view options and recent files are kept;
        the user's vaeviewer settings by default (tests pass a file of their own).
    parent : QWidget, optional

    Signals
    -------
    error_shown(str)
        After an error dialog is opened, with its one-line message.
    """

    error_shown = Signal(str)

    def __init__(self, session: ViewerSession, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings if settings is not None else QSettings("vaeviewer", "vaeviewer")
        self.setWindowTitle("vaeviewer")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.last_error = ""
        self._error_box: QMessageBox | None = None
        self._closing = False
        # Docks report becoming visible while the window is first shown; only later is that the user.
        self._docks_armed = False

        self.viewport = Viewport(self)
        self.setCentralWidget(self.viewport)
        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QDockWidget] = {}
        for name, cls in _panel_classes().items():
            panel = cls(session, self.viewport)
            self.panels[name] = panel
            dock = QDockWidget(panel.title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setWidget(panel)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            self.docks[name] = dock
            panel.view_requested.connect(self._on_view_requested)
            panel.status.connect(self._on_panel_status)
            panel.error.connect(self.show_error)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.docks["dataset"])
        right = [self.docks[name] for name in PANEL_NAMES if name != "dataset"]
        for dock in right:
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        for dock in right[1:]:
            self.tabifyDockWidget(right[0], dock)
        right[0].raise_()
        # The viewport gets the most room; a saved layout replaces these widths.
        self.resizeDocks([self.docks["dataset"], right[0]], [280, 400], Qt.Orientation.Horizontal)
        for name, dock in self.docks.items():
            dock.visibilityChanged.connect(lambda visible, name=name: self._on_dock_visibility(name, visible))

        self._active = ""
        self._build_status_bar()
        self._build_menus()
        self._restore_settings()

        for session_event, callback in self._session_callbacks():
            session_event.connect(callback)
        self._on_dataset()
        self._on_model()
        self.activate_panel("dataset")
        freeze_long_lived()  # what start-up made lives as long as the window: never scan it again

    def _session_callbacks(self) -> list[tuple[Any, Any]]:
        events = self.session.events
        return [(events.dataset, self._on_dataset), (events.split, self._on_split), (events.model, self._on_model),
                (events.selection, self._on_selection), (events.up, self._on_up)]

    # ---- panels and the viewport --------------------------------------------------------------

    @property
    def active_panel(self) -> str:
        """Name of the panel that owns the viewport."""
        return self._active

    def activate_panel(self, name: str) -> None:
        """Give the viewport to panel ``name``."""
        if name not in self.panels:
            raise ValueError(f"unknown panel {name!r}; one of {', '.join(self.panels)}")
        if name == self._active:
            return
        old = self._active
        self._active = name
        if old:
            self.panels[old].set_active(False)
        action = self._show_actions.get(name)
        if action is not None and not action.isChecked():
            action.setChecked(True)
        self.panels[name].set_active(True)

    def show_panel(self, name: str) -> None:
        """Bring panel ``name``'s dock to the front (reopening it if closed) and give it the viewport."""
        dock = self.docks[name]
        dock.show()
        dock.raise_()
        self.activate_panel(name)

    @Slot()
    def _on_view_requested(self) -> None:
        panel = self.sender()
        if not isinstance(panel, Panel):
            return
        if panel.name == "dataset" and self._active == "reconstruction":
            return  # the reconstruction follows the browser's selection
        self.activate_panel(panel.name)

    def _on_dock_visibility(self, name: str, visible: bool) -> None:
        if self._closing or not visible or name == "dataset" or not self._docks_armed:
            return
        dock = self.docks[name]
        # A dock coming to the front of its tab group (not one merely restored as hidden).
        if not dock.isHidden() and not self.isMinimized() and self.isVisible():
            self.activate_panel(name)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Arm the docks' visibility after the first show has settled."""
        super().showEvent(event)
        if not self._docks_armed:
            QTimer.singleShot(0, self, self._arm_docks)  # with self as context: dropped if the window goes first

    def _arm_docks(self) -> None:
        self._docks_armed = True
        if self._active == "dataset" and not self._closing:
            # The panel whose tab a restored layout brings to the front is what the user sees: it draws.
            front = [name for name in PANEL_NAMES if name != "dataset" and not self.docks[name].isHidden()
                     and not self.docks[name].visibleRegion().isEmpty()]
            if front:
                self.activate_panel(front[0])

    def busy_panels(self) -> list[str]:
        """Panels whose background work (thumbnails, a latent map) is still going on."""
        return [name for name, panel in self.panels.items() if panel.is_busy()]

    # ---- session events -----------------------------------------------------------------------

    def _on_dataset(self) -> None:
        self._update_data_label()
        if self.session.data_path:
            self.recent.add(self.session.data_path)
        if self.session.up != self.viewport.up:
            self.viewport.set_up(self.session.up)

    def _on_split(self, name: str) -> None:
        self._update_data_label()

    def _on_model(self) -> None:
        session = self.session
        if session.model is None:
            self._model_label.setText("no model")
            self._device_label.setText("")
            return
        config = session.model.config
        name = Path(session.checkpoint_path).name if session.checkpoint_path else "model"
        freeze_long_lived()  # torch's modules and the model's tensors, loaded just now, live on too
        self._model_label.setText(f"{name} · {config.num_points} points · latent {config.latent_dim}")
        self._model_label.setToolTip(session.checkpoint_path)
        self._device_label.setText(_device_text(session.model))
        if session.checkpoint_path and Path(session.checkpoint_path).parent.name != "models":
            self.recent.add(session.checkpoint_path)

    def _on_selection(self, index: int) -> None:
        if self._active in ("training", "interpolation"):
            self.activate_panel("dataset")  # a chosen shape is shown, not hidden behind a run

    def _on_up(self, up: str) -> None:
        self.viewport.set_up(up)
        for key, action in self._up_actions.items():
            action.setChecked(key == up)

    def _update_data_label(self) -> None:
        session = self.session
        if session.split is None:
            self._data_label.setText("no data set")
            return
        name = "built-in shapes" if session.data_path == "builtin" else Path(session.data_path).name
        self._data_label.setText(
            f"{name} · {session.split.name}: {len(session.split)} shapes, {len(session.class_names)} classes"
        )
        self._data_label.setToolTip(session.data_path)

    @Slot(str)
    def _on_panel_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 5000)

    # ---- opening files ------------------------------------------------------------------------

    def open_path(self, path: str | Path) -> bool:
        """Open a data set or, by its suffix, a checkpoint; errors go to a dialog. Whether it opened."""
        if Path(str(path)).suffix.lower() in CHECKPOINT_SUFFIXES:
            return self.open_checkpoint(path)
        return self.open_data(path)

    def _opened(self, open_it: Any, path: str | Path | None, failed: str = "") -> bool:
        """Run ``open_it(path)`` under a wait cursor; a user's mistake shows a dialog. Whether it worked.

        ``failed`` goes before the system's words for a file that cannot be read or written ("cannot write").
        """
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            open_it(path)
        except VaeviewerError as error:
            self.show_error(str(error))
            return False
        except OSError as error:
            self.show_error(f"{path}: {failed}{error.strerror or error}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        return True

    def open_data(self, path: str | Path) -> bool:
        """Open the data set at ``path`` (or ``builtin``); a bad one shows a dialog. Whether it opened."""
        if not self._opened(self.session.open_data, path):
            return False
        self.statusBar().showMessage(f"opened {path}", 5000)
        suggested = self.session.suggested_checkpoint()
        if suggested is not None and self.open_checkpoint(suggested):
            # A bundled model was open: the one trained on classes like these takes its place.
            self.statusBar().showMessage(f"opened {path} with the bundled model {suggested.stem}", 8000)
        return True

    def open_checkpoint(self, path: str | Path | None) -> bool:
        """Load a checkpoint (None: the bundled model that suits the data); a bad one shows a dialog. Whether it loaded."""
        return self._opened(self.session.open_checkpoint, path)

    def save_checkpoint_as(self, path: str | Path) -> bool:
        """Write the session's model (weights, configuration, classes, history) to ``path``."""
        from vaeviewer.model import save_checkpoint

        checkpoint = self.session.checkpoint
        if checkpoint is None:
            self.show_error("no model is open: open a checkpoint first")
            return False
        if not self._opened(lambda target: save_checkpoint(target, dataclasses.replace(checkpoint, optimizer_state=None)),
                            path, failed="cannot write: "):
            return False
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    @Slot(str)
    def show_error(self, message: str) -> None:
        """Show a one-line error in a dialog that does not block the window."""
        self.last_error = message
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, "vaeviewer", message, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("error_dialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        focused = QApplication.focusWidget()
        box.finished.connect(lambda _result: self._after_error_box(focused))
        self._error_box = box
        box.open()
        self.statusBar().showMessage(message, 10000)
        self.error_shown.emit(message)

    def _after_error_box(self, focused: QWidget | None) -> None:
        """Take the keyboard back when the error dialog closes: without a window manager nothing else does."""
        self._error_box = None
        if self._closing:
            return
        self.activateWindow()
        self.raise_()
        target = focused if focused is not None and focused.window() is self and focused.isVisible() else self
        target.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    # ---- drag and drop ------------------------------------------------------------------------

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Accept dropped local files."""
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Open each dropped file: checkpoints by their suffix, anything else as data."""
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
        event.acceptProposedAction()

    # ---- pictures -----------------------------------------------------------------------------

    def window_image(self) -> QImage:
        """A picture of the whole window as it is on screen, viewport included."""
        image = self.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        # The viewport is an OpenGL surface that a widget grab may leave blank: paint it in.
        view = self.viewport.image()
        top_left = self.viewport.mapTo(self, self.viewport.rect().topLeft())
        ratio = image.width() / max(1, self.width())
        painter = QPainter(image)
        painter.drawImage(
            top_left.x() * ratio,
            top_left.y() * ratio,
            view.scaled(round(self.viewport.width() * ratio), round(self.viewport.height() * ratio)),
        )
        painter.end()
        return image

    def save_screenshot(self, path: str | Path, what: str = "window") -> bool:
        """Save a PNG of the ``window`` or the ``viewport``; errors go to a dialog."""
        image = self.window_image() if what == "window" else self.viewport.image()
        path = Path(path)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            self.show_error(f"{path}: save screenshots as .png or .jpg")
            return False
        if not path.parent.is_dir():
            self.show_error(f"{path}: folder {path.parent} does not exist")
            return False
        if not image.save(str(path)):
            self.show_error(f"{path}: cannot write the picture")
            return False
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    # ---- menus --------------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self._data_label = QLabel("no data set")
        self._model_label = QLabel("no model")
        self._device_label = QLabel("")
        for label in (self._data_label, self._model_label, self._device_label):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: str | QKeySequence | None = None,
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _choices(self, menu: Any, options: list[tuple[Any, str]], pick: Any,
                 shortcuts: list[str] | None = None) -> dict[Any, QAction]:
        """One checkable action per (value, text) of ``options``, one checked at a time; each calls ``pick(value)``."""
        group = QActionGroup(self)
        actions = {}
        for k, (value, text) in enumerate(options):
            action = self._action(menu, text, lambda _=False, v=value: pick(v), shortcuts[k] if shortcuts else None,
                                  checkable=True)
            group.addAction(action)
            actions[value] = action
        return actions

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        self._action(file_menu, "&Open data set…", lambda: self._ask("Open data set", self.open_data, _DATA_FILTER),
                     QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open data &folder…", lambda: self._ask("Open data folder", self.open_data))
        self._action(file_menu, "Open &built-in shapes", lambda: self.open_data("builtin"))
        self._action(file_menu, "Open &checkpoint…",
                     lambda: self._ask("Open checkpoint", self.open_checkpoint, _CHECKPOINT_FILTER), "Ctrl+Shift+O")
        self._action(file_menu, "Open the &bundled model", lambda: self.open_checkpoint(None))
        self._action(file_menu, "&Save checkpoint as…",
                     lambda: self._ask("Save checkpoint as", self.save_checkpoint_as, "Checkpoints (*.pt)", save=True),
                     "Ctrl+Shift+S")
        file_menu.addSeparator()
        self._action(file_menu, "&Export animation…", self._export_animation, "Ctrl+E")
        clouds_menu = file_menu.addMenu("Export &cloud")
        clouds_menu.aboutToShow.connect(lambda: fill_export_menu(clouds_menu, self.viewport, self._ask_export_cloud))
        self._action(file_menu, "Save screens&hot…",
                     lambda: self._ask("Save screenshot", self.save_screenshot, "PNG pictures (*.png)", save=True), "Ctrl+P")
        file_menu.addSeparator()
        self.recent = RecentFiles(self.settings, file_menu.addMenu("&Recent files"), _MAX_RECENT)
        self.recent.open_requested.connect(self.open_path)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        view_menu = menus.addMenu("&View")
        camera = view_menu.addMenu("&Camera")
        for view in CAMERA_DIRECTIONS:
            self._action(camera, view.capitalize(), lambda _=False, v=view: self.viewport.set_view(v))
        self._action(camera, "&Reset", self.viewport.reset_camera, "R")

        self._size_actions = self._choices(view_menu.addMenu("Point &size"), [(s, f"{s} px") for s in _POINT_SIZES],
                                           self._set_point_size)
        self._style_actions = self._choices(view_menu.addMenu("Points &as"), [(s, s.capitalize()) for s in CLOUD_STYLES],
                                            self._set_style)
        self._up_actions = self._choices(view_menu.addMenu("&Up axis"), [("y", "Y up (ShapeNet, built-in)"),
                                                                          ("z", "Z up (ModelNet, its h5 files)")],
                                         self.session.set_up)
        self._up_actions[self.session.up].setChecked(True)
        self._theme_actions = self._choices(view_menu.addMenu("&Theme"), [(t, t.capitalize()) for t in THEMES],
                                            self._set_theme)

        self._antialias_action = self._action(view_menu, "Smooth &edges (anti-aliasing)",
                                              lambda on: self.viewport.set_antialiasing(on), checkable=True)
        view_menu.aboutToShow.connect(lambda: self._antialias_action.setChecked(self.viewport.antialiasing))

        view_menu.addSeparator()
        self._show_actions = self._choices(view_menu.addMenu("Viewport &shows"),
                                           [(name, self.panels[name].title) for name in PANEL_NAMES], self.show_panel,
                                           shortcuts=[f"Ctrl+{k}" for k in range(1, len(PANEL_NAMES) + 1)])
        panels = view_menu.addMenu("&Panels")
        for name in PANEL_NAMES:
            panels.addAction(self.docks[name].toggleViewAction())

        help_menu = menus.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", lambda: show_shortcuts(self), QKeySequence.StandardKey.HelpContents)
        self._action(help_menu, "&About vaeviewer", lambda: show_about(self))

    def _set_point_size(self, size: float) -> None:
        self.viewport.set_point_size(size)
        for value, action in self._size_actions.items():
            action.setChecked(value == size)

    def _set_style(self, style: str) -> None:
        self.viewport.set_style(style)
        self._style_actions[style].setChecked(True)

    def _set_theme(self, theme: str) -> None:
        self.viewport.set_theme(theme)
        self._theme_actions[theme].setChecked(True)

    def _ask(self, title: str, then: Any, file_filter: str | None = None, save: bool = False) -> None:
        """Ask for a file (a folder without ``file_filter``) and give its path to ``then``; nothing if cancelled."""
        if file_filter is None:
            path = QFileDialog.getExistingDirectory(self, title, self.recent.last_folder())
        else:
            ask = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
            path, _ = ask(self, title, self.recent.last_folder(), file_filter)
        if path:
            then(path)

    def export_cloud(self, index: int, path: str | Path) -> bool:
        """Save the ``index``-th cloud on screen (see :func:`~vaeviewer.gui.cloud_export.shown_clouds`); errors show a dialog."""
        if not self._opened(lambda target: save_shown_cloud(self.viewport, index, target), path, failed="cannot write: "):
            return False
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    def _ask_export_cloud(self, index: int, label: str) -> None:
        self._ask(f"Export {label}", lambda path: self.export_cloud(index, path), CLOUD_FILTER, save=True)

    def _export_animation(self) -> None:
        self.show_panel("interpolation")
        panel = self.panels["interpolation"]
        opener = getattr(panel, "open_export_dialog", None)
        if callable(opener):
            opener()

    # ---- settings and recent files ------------------------------------------------------------

    def recent_files(self) -> list[str]:
        """Data sets and checkpoints opened lately, newest first."""
        return self.recent.paths()

    def _restore_settings(self) -> None:
        settings = self.settings
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        state = settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        theme = str(settings.value("view/theme", "light"))
        style = str(settings.value("view/style", "spheres"))
        try:
            size = int(settings.value("view/point_size", 5))
        except (TypeError, ValueError):
            size = 5
        self._set_theme(theme if theme in THEMES else "light")
        self._set_style(style if style in CLOUD_STYLES else "spheres")
        self._set_point_size(size if size in _POINT_SIZES else 5)
        self._restore_up_choices()

    def _restore_up_choices(self) -> None:
        """The up axes the user chose per data set (View > Up axis), kept between starts."""
        try:
            chosen = json.loads(str(self.settings.value("view/up_chosen", "{}")))
        except ValueError:
            chosen = {}
        if isinstance(chosen, dict):
            self.session.up_chosen.update({str(k): v for k, v in chosen.items() if v in ("y", "z")})
        chosen_here = self.session.up_chosen.get(self.session.data_path)
        if chosen_here is not None and chosen_here != self.session.up:
            self.session.set_up(chosen_here)  # the data set opened before the window read its settings

    def save_settings(self) -> None:
        """Keep geometry, dock layout and view options for the next start."""
        settings = self.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("view/theme", self.viewport.theme)
        settings.setValue("view/style", self.viewport.style)
        settings.setValue("view/point_size", int(self.viewport.point_size))
        settings.setValue("view/up_chosen", json.dumps(self.session.up_chosen))
        settings.sync()

    # ---- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Stop every panel's work (a training run saves its checkpoint), keep the settings, release VTK."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        self.save_settings()
        for panel in self.panels.values():
            panel.shutdown()
        # After the panels: winding down, they report ("Export cancelled") and would restart its timer.
        self.statusBar().clearMessage()
        # The session may outlive the window (a test's, or an embedding application's): its events
        # must not keep the window, and with it the viewport's VTK objects, alive.
        for session_event, callback in self._session_callbacks():
            session_event.disconnect(callback)
        if self._error_box is not None:
            self._error_box.close()
        self.viewport.shutdown()
        self.session.close()
        event.accept()
        super().closeEvent(event)


def _device_text(model: Any) -> str:
    import torch

    device = next(model.parameters()).device
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    return f"CPU, {torch.get_num_threads()} threads"
