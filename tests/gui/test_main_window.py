"""The whole window: docks, menus, the viewport's owner, errors, drops, settings, screenshots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from tests.gui.pixels import _greenish, _greyish, _pixels

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, session, settings):
    from vaeviewer.gui.main_window import MainWindow

    win = MainWindow(session, settings)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def _wait_idle(qtbot, window, timeout=60_000):
    qtbot.waitUntil(lambda: not window.busy_panels(), timeout=timeout)


def test_every_panel_has_a_dock_and_a_menu_entry(qtbot, window):
    from vaeviewer.gui.main_window import PANEL_NAMES

    assert set(window.docks) == set(PANEL_NAMES)
    panel_menu_texts = {action.text() for action in window._show_actions.values()}
    assert panel_menu_texts == {window.panels[name].title for name in PANEL_NAMES}
    # The tab in front of the right-hand docks (Reconstruction, on a first start) draws in the viewport.
    qtbot.waitUntil(lambda: window.active_panel == "reconstruction", timeout=5_000)
    # Docks can be closed and reopened from View > Panels.
    toggle = window.docks["latent"].toggleViewAction()
    toggle.trigger()
    assert window.docks["latent"].isHidden()
    toggle.trigger()
    assert not window.docks["latent"].isHidden()


def test_status_bar_names_data_model_and_device(window, session):
    assert f"{len(session.split)} shapes" in window._data_label.text()
    assert "demo.pt" in window._model_label.text()
    assert "CPU" in window._device_label.text() or "GPU" in window._device_label.text()


def test_the_window_picture_shows_the_browser_shape_then_the_reconstruction(qtbot, window):
    window.show_panel("dataset")
    pixels = _pixels(window.window_image())
    assert _greyish(pixels) > 500
    window.show_panel("reconstruction")
    assert window.active_panel == "reconstruction"
    qtbot.waitUntil(lambda: _greenish(_pixels(window.viewport.image())) > 200, timeout=20_000)
    pixels = _pixels(window.window_image())
    assert _greenish(pixels) > 200 and _greyish(pixels) > 200


def test_reconstruction_keeps_the_viewport_when_the_browser_selects(window, session):
    window.show_panel("reconstruction")
    window.panels["dataset"].view_requested.emit()
    assert window.active_panel == "reconstruction"
    window.show_panel("interpolation")
    session.select(3)
    assert window.active_panel == "dataset"


def test_a_broken_data_file_shows_a_dialog_and_keeps_the_data_set(qtbot, window, session, tmp_path):
    broken = tmp_path / "broken.off"
    broken.write_text("OFF\n3 1 0\n0 0 0\n")
    before = session.data_path
    with qtbot.waitSignal(window.error_shown, timeout=5000) as signal:
        assert not window.open_data(broken)
    assert "broken.off" in signal.args[0]
    assert "\n" not in signal.args[0]
    box = window.findChild(QMessageBox, "error_dialog")
    assert box is not None and box.isVisible()
    assert session.data_path == before
    box.close()


def test_a_bad_checkpoint_shows_a_dialog_and_keeps_the_model(qtbot, window, session, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint at all")
    model = session.model
    with qtbot.waitSignal(window.error_shown, timeout=5000) as signal:
        window.open_checkpoint(bad)
    assert "model.pt" in signal.args[0]
    assert session.model is model
    window.findChild(QMessageBox, "error_dialog").close()


def _drop(window, path: Path) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_dropping_a_checkpoint_and_a_data_file_opens_them(window, session, tmp_path):
    from vaeviewer.model import load_checkpoint

    saved = tmp_path / "copy.pt"
    assert window.save_checkpoint_as(saved)
    assert load_checkpoint(saved).config == session.model.config
    events = []
    session.events.model.connect(lambda: events.append("model"))
    _drop(window, saved)
    assert events == ["model"] and session.checkpoint_path == str(saved.resolve())
    cloud = np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32)
    np.save(tmp_path / "blob.npy", cloud)
    _drop(window, tmp_path / "blob.npy")
    assert session.data_path == str((tmp_path / "blob.npy").resolve())
    assert len(session.split) == 1
    assert window.recent_files()[0] == str((tmp_path / "blob.npy").resolve())
    # File > Recent files reopens what was opened: here the built-in set opened before the file.
    entries = {action.text(): action for action in window.recent.menu.actions()}
    entries["built-in shapes"].trigger()
    assert session.data_path == "builtin" and window.recent_files()[0] == "builtin"


def test_view_settings_survive_a_restart(qtbot, session, settings):
    from vaeviewer.gui.main_window import MainWindow

    first = MainWindow(session, settings)
    qtbot.addWidget(first)
    first.show()
    first._theme_actions["dark"].trigger()
    first._style_actions["points"].trigger()
    first._size_actions[8].trigger()
    first.docks["latent"].close()
    first.close()

    from vaeviewer.workflows.session import ViewerSession

    again = ViewerSession()
    again.open_data("builtin")
    second = MainWindow(again, settings)
    qtbot.addWidget(second)
    second.show()
    assert second.viewport.theme == "dark"
    assert second.viewport.style == "points"
    assert second.viewport.point_size == 8
    assert second.docks["latent"].isHidden()
    second.close()


def test_up_axis_and_camera_presets_from_the_view_menu(window, session):
    window._up_actions["z"].trigger()
    assert session.up == "z" and window.viewport.up == "z"
    window.viewport.set_view("top")
    camera = window.viewport.interactor.renderers[0].GetActiveCamera()
    assert camera.GetPosition()[2] > 3.0  # looking down the Z axis


def test_screenshot_menu_writes_the_window(window, tmp_path):
    out = tmp_path / "window.png"
    assert window.save_screenshot(out)
    from PIL import Image

    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[0] >= 700 and image.shape[1] >= 1200
    assert _greyish(image) > 500


def _run_cli(*args: str, env: dict | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vaeviewer", *args], capture_output=True, text=True,
                          timeout=timeout, env=env or os.environ.copy(), cwd=REPO)


@pytest.mark.parametrize("panel", ["reconstruction", "interpolation"])
def test_cli_screenshot_of_a_panel(tmp_path, panel):
    out = tmp_path / f"{panel}.png"
    result = _run_cli("gui", "--screenshot", str(out), "--panel", panel, "--settings", str(tmp_path / "s.ini"))
    assert result.returncode == 0, result.stderr
    from PIL import Image

    image = np.asarray(Image.open(out).convert("RGB"))
    assert _greenish(image) > 300  # the reconstruction / the decoded frame is drawn


def test_cli_without_a_display_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = _run_cli(env=env, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "display" in lines[0]


def test_cli_bad_data_path_fails_before_a_window(tmp_path):
    result = _run_cli("gui", "--data", str(tmp_path / "missing.h5"), timeout=60)
    assert result.returncode == 2
    assert "missing.h5" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_opening_modelnet10_swaps_the_bundled_model_but_keeps_the_users(window, session, modelnet10, tmp_path):
    """With a bundled model open, ModelNet data brings the bundled ModelNet10 model; a user's model stays."""
    bundled = REPO / "resources" / "models"
    assert session.checkpoint_path == str((bundled / "demo.pt").resolve())
    assert window.open_data(modelnet10)
    assert session.checkpoint_path == str((bundled / "modelnet10.pt").resolve())
    assert session.checkpoint.class_names == session.class_names
    assert window.open_data("builtin")
    assert session.checkpoint_path == str((bundled / "demo.pt").resolve())
    # The user's own model (here a copy of the demo model) is never replaced.
    own = tmp_path / "mine.pt"
    assert window.save_checkpoint_as(own)
    assert window.open_checkpoint(own)
    assert window.open_data(modelnet10)
    assert session.checkpoint_path == str(own.resolve())


def test_cli_chooses_split_shape_and_pair_and_refuses_out_of_range(tmp_path, session):
    from vaeviewer.gui.app import _choose_shapes

    _choose_shapes(session, "train", 7, (3, 9))
    assert session.split.name == "train" and session.selection == 7 and session.pair == {"a": 3, "b": 9}
    result = _run_cli("gui", "--pair", "0", "250", "--settings", str(tmp_path / "s.ini"), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--pair 250 is out of range" in lines[0]


def test_cli_run_option_follows_a_run_folder_or_says_why_not(qtbot, tmp_path, session):
    result = _run_cli("gui", "--run", str(tmp_path), "--settings", str(tmp_path / "s.ini"), timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(f"--run {tmp_path}: holds no training run (no run.json or history.csv)")


def test_file_export_cloud_saves_what_the_viewport_shows(qtbot, window, session, tmp_path):
    from vaeviewer.data.shape_files import read_shape_file
    from vaeviewer.gui.cloud_export import shown_clouds

    window.show_panel("reconstruction")
    qtbot.waitUntil(lambda: any(label.startswith("reconstruction of") for label, _ in shown_clouds(window.viewport)),
                    timeout=60_000)
    clouds = shown_clouds(window.viewport)
    index = next(k for k, (label, _) in enumerate(clouds) if label.startswith("reconstruction of"))
    # The menu lists every cloud on screen.
    menu = next(action.menu() for action in window.menuBar().actions()[0].menu().actions()
                if action.menu() is not None and "cloud" in action.text().lower())
    menu.aboutToShow.emit()
    assert any(action.text().startswith("Reconstruction of") for action in menu.actions())
    for suffix in (".ply", ".npy"):
        assert window.export_cloud(index, tmp_path / f"recon{suffix}")
        np.testing.assert_allclose(read_shape_file(tmp_path / f"recon{suffix}").vertices, clouds[index][1], atol=1e-6)
    with qtbot.waitSignal(window.error_shown, timeout=5000) as signal:
        assert not window.export_cloud(index, tmp_path / "recon.stl")
    assert "recon.stl" in signal.args[0] and "\n" not in signal.args[0]
    window.findChild(QMessageBox, "error_dialog").close()


def test_each_data_set_opens_upright_and_a_chosen_axis_is_kept_for_it(qtbot, window, session, settings, modelnet10):
    """ModelNet10's h5 files open Z up and the built-in set Y up, without the menu; an axis the user picks for a
    data set comes back with it, in this window and the next."""
    from vaeviewer.gui.main_window import MainWindow

    def camera_up() -> tuple[float, ...]:
        return tuple(round(v, 6) for v in window.viewport.interactor.renderers[0].GetActiveCamera().GetViewUp())

    from PySide6.QtGui import QAction

    z_up = next(a for a in window.findChildren(QAction) if a.text().startswith("Z up"))  # in View > Up axis

    assert session.up == "y" and window.viewport.up == "y"  # the built-in set
    assert window.open_data(str(modelnet10))
    _wait_idle(qtbot, window)
    assert session.up == "z" and window.viewport.up == "z" and camera_up()[2] > 0.9
    assert "Z up" in window.panels["dataset"].format_label.text()
    assert "measured: the shapes stand along z" in window.panels["dataset"].format_label.toolTip()
    assert z_up.isChecked()
    assert window.open_data("builtin")
    _wait_idle(qtbot, window)
    assert session.up == "y" and window.viewport.up == "y" and camera_up()[1] > 0.9

    z_up.trigger()  # View > Up axis > Z up, for the built-in set
    assert session.up == "z" and "chosen" in window.panels["dataset"].format_label.toolTip()
    assert window.open_data(str(modelnet10)) and session.up == "z"
    assert window.open_data("builtin") and session.up == "z"  # the choice came back with the set
    window.save_settings()

    from vaeviewer.workflows.session import ViewerSession

    other = ViewerSession()
    other.open_data("builtin")
    assert other.up == "y"  # a new session knows nothing of the choice until a window reads its settings
    second = MainWindow(other, settings)
    qtbot.addWidget(second)
    try:
        assert other.up == "z" and second.viewport.up == "z"
    finally:
        second.close()
        other.close()


@pytest.mark.parametrize("front", ["reconstruction", "latent"])
def test_the_panel_in_front_of_a_restored_layout_draws_at_start(qtbot, session, settings, front):
    from vaeviewer.gui.main_window import MainWindow

    first = MainWindow(session, settings)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.show_panel(front)
    if front == "reconstruction":
        first.panels["reconstruction"].set_mode("overlay")
    first.save_settings()
    first.close()

    from vaeviewer.workflows.session import ViewerSession

    again = ViewerSession()
    again.open_data("builtin")
    again.open_checkpoint(None)
    window = MainWindow(again, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        qtbot.waitUntil(lambda: window.active_panel == front, timeout=5_000)
        if front == "reconstruction":
            layers = window.viewport.panes[0].layers
            assert len(layers) == 2 and layers[0].color != layers[1].color  # input grey under green
            assert _greenish(_pixels(window.viewport.image())) > 200
        else:
            _wait_idle(qtbot, window, timeout=120_000)
            assert len(window.panels["latent"].dots()) == len(again.split)  # the map was made: it is in front
    finally:
        window.close()
        again.close()


def test_next_walks_the_shapes_the_browser_shows(qtbot, window, session):
    from PySide6.QtWidgets import QPushButton

    browser = window.panels["dataset"]
    qtbot.keyClicks(browser.search_edit, "bed_010")
    qtbot.keyClick(browser.search_edit, Qt.Key.Key_Return)
    shown = browser.model.indices.tolist()
    assert len(shown) == 10 and all("bed_010" in session.split.shape_name(i) for i in shown)
    window.show_panel("reconstruction")
    reconstruction = window.panels["reconstruction"]
    next_button = next(b for b in reconstruction.findChildren(QPushButton) if b.text() == "Next ▶")
    previous_button = next(b for b in reconstruction.findChildren(QPushButton) if b.text() == "◀ Previous")
    qtbot.mouseClick(browser.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=browser.view.visualRect(browser.model.index(8)).center())
    assert session.selection == shown[8]
    for expected in (shown[9], shown[0], shown[1]):  # on, and round to the start of what is shown
        qtbot.mouseClick(next_button, Qt.MouseButton.LeftButton)
        assert session.selection == expected
        assert browser.model.shape_index(browser.view.currentIndex().row()) == expected  # the grid agrees
    qtbot.mouseClick(previous_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(previous_button, Qt.MouseButton.LeftButton)
    assert session.selection == shown[9]
    assert reconstruction.result is not None and reconstruction.result.index == shown[9]


@pytest.mark.parametrize("dismiss", ["Return", "Escape"])
def test_the_keyboard_works_again_after_the_error_dialog(qtbot, window, tmp_path, dismiss):
    """Keys as the X server delivers them (xdotool), with no window manager: nothing hands the focus back when a
    dialog closes, so the window takes it back; its shortcuts (Ctrl+3: View > Viewport shows > Interpolation) work."""
    import shutil
    import time

    from PySide6.QtWidgets import QApplication

    if shutil.which("xdotool") is None or not os.environ.get("DISPLAY"):
        pytest.skip("needs xdotool and an X display (make headless-deps installs it)")

    def press(keys: str) -> None:
        subprocess.run(["xdotool", "key", keys], check=True, timeout=10)
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            QApplication.processEvents()

    broken = tmp_path / "broken.ply"
    broken.write_text("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nend_header\n1\n")
    window.activateWindow()
    with qtbot.waitSignal(window.error_shown):
        assert not window.open_data(broken)
    box = window.findChild(QMessageBox, "error_dialog")
    qtbot.waitExposed(box)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is box, timeout=5_000)
    press(dismiss)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "error_dialog") is None, timeout=5_000)
    press("ctrl+3")
    assert QApplication.activeWindow() is window
    assert window.active_panel == "interpolation"
