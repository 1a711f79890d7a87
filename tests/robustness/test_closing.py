"""Closing the window while it works: the work stops cleanly, what must be saved is saved, within 5 s.

During a training run the close stops the run after its current step, saves
``last.pt`` and returns; during an export it cancels the export and leaves no
file, not even a temporary one. Every test also fails if a thread, timer,
widget or VTK object outlives it (``qt_leak_check``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.gui.test_training_panel import fill_form
from vaeviewer.gui.workers import live_workers
from vaeviewer.model import load_checkpoint

pytestmark = pytest.mark.usefixtures("qt_leak_check")

CLOSE_WITHIN_S = 5.0
RUN_TIMEOUT_MS = 300_000


def _open_window(qtbot, session, tmp_path: Path):
    """The window, shown. Held by the test alone (not a fixture, which pytest keeps until after the leak check)."""
    from PySide6.QtCore import QSettings

    from vaeviewer.gui.main_window import MainWindow

    window = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def _close_timed(window) -> float:
    started = time.perf_counter()
    window.close()
    return time.perf_counter() - started


def _start_tiny_run(window, out: Path) -> object:
    panel = window.panels["training"]
    fill_form(panel, out, epochs=50, preview_every=None, validation="none", points="64", latent=8, lr=None)
    window.show_panel("training")
    panel.start()
    assert panel.is_running
    return panel


def test_closing_mid_run_stops_saves_and_returns_within_5_s(qtbot, session, tmp_path):
    window = _open_window(qtbot, session, tmp_path)
    out = tmp_path / "run"
    panel = _start_tiny_run(window, out)
    qtbot.waitUntil(lambda: panel.record.global_step >= 2, timeout=RUN_TIMEOUT_MS)
    seconds = _close_timed(window)
    print(f"\nclosed mid-run in {seconds:.2f} s")
    assert seconds < CLOSE_WITHIN_S
    assert not live_workers() and not window.isVisible()
    finished = panel.record.finished
    assert finished is not None and finished.status == "stopped"
    saved = load_checkpoint(out / "last.pt")
    assert saved.global_step == finished.global_step >= 2
    assert [p.name for p in out.iterdir() if ".tmp-" in p.name] == []


def test_closing_while_a_run_starts_returns_within_5_s(qtbot, session, tmp_path):
    """Closed while the run still reads its data and builds its model: nothing to save, no wait for a step."""
    window = _open_window(qtbot, session, tmp_path)
    _start_tiny_run(window, tmp_path / "run")
    seconds = _close_timed(window)
    print(f"\nclosed while the run started in {seconds:.2f} s")
    assert not live_workers()
    assert seconds < CLOSE_WITHIN_S


def _export_dialog(window, target: Path, steps: int = 40):
    window.show_panel("interpolation")
    dialog = window.panels["interpolation"].open_export_dialog()
    dialog.steps_box.setValue(steps)
    dialog.size_box.setValue(64)
    dialog.path_edit.setText(str(target))
    return dialog


def test_closing_mid_export_cancels_it_and_leaves_no_file_within_5_s(qtbot, session, tmp_path):
    window = _open_window(qtbot, session, tmp_path)
    exports = tmp_path / "exports"
    exports.mkdir()
    dialog = _export_dialog(window, exports / "morph.mp4")
    with qtbot.waitSignal(dialog.progress_bar.valueChanged, check_params_cb=lambda frame: frame == 3, timeout=60_000):
        dialog.export_button.click()
    assert dialog.is_running and any(exports.iterdir())  # the temporary file is being written
    seconds = _close_timed(window)
    print(f"\nclosed mid-export in {seconds:.2f} s")
    assert seconds < CLOSE_WITHIN_S
    assert not dialog.is_running and not dialog.isVisible() and not live_workers()
    assert list(exports.iterdir()) == []


def test_closing_while_an_export_decodes_leaves_no_file_within_5_s(qtbot, session, tmp_path):
    window = _open_window(qtbot, session, tmp_path)
    exports = tmp_path / "exports"
    exports.mkdir()
    dialog = _export_dialog(window, exports / "morph.gif")
    dialog.export_button.click()  # the model decodes the path on a worker thread now
    seconds = _close_timed(window)
    print(f"\nclosed while decoding in {seconds:.2f} s")
    assert seconds < CLOSE_WITHIN_S
    assert not dialog.is_running and not live_workers()
    assert list(exports.iterdir()) == []
