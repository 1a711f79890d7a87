"""Malformed inputs of every supported kind: one clear line that names the file, never a traceback or a hang.

The corpus (``corpus.py``) is written to disk once per module. Each input goes
through the Python API (open the data set and read its first shape, as the
window and ``reconstruct`` do; and ``inspect_dataset``), through the command
line (``inspect`` and ``reconstruct --data``: exit status 2, one line on stderr),
and through one window (a dialog, and the window keeps the data set it had).
Inputs that declare absurd sizes must fail without allocating them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.robustness.corpus import CORPUS, BadInput, peak_rss_mb, reset_peak_rss
from vaeviewer.data import open_dataset
from vaeviewer.errors import DataFileError, OptionError
from vaeviewer.workflows.inspect import inspect_dataset

REPO = Path(__file__).resolve().parents[2]
IDS = [case.name for case in CORPUS]
#: Resident memory an absurd header may cost at most (the parsers and h5py's buffers, not the declared size).
MAX_GROWTH_MB = 50


def _check_message(message: str, culprit: Path, case: BadInput) -> None:
    assert "\n" not in message, message
    assert str(culprit) in message, f"the message does not name {culprit}: {message}"
    assert case.problem in message, f"{case.problem!r} is not in: {message}"


def test_the_corpus_has_at_least_30_inputs_of_every_kind(bad_inputs) -> None:
    assert len(CORPUS) >= 30 and len(set(IDS)) == len(IDS)
    suffixes = {path.suffix for path, _ in bad_inputs.values()}
    assert {".off", ".ply", ".obj", ".pcd", ".xyz", ".txt", ".pts", ".npy", ".h5", ""} <= suffixes
    assert sum(case.huge for case in CORPUS) >= 8


def _read_first_shape(path: Path) -> None:
    with open_dataset(path) as dataset:
        dataset.default_split().points(0)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_python_api_raises_one_line_naming_the_file(case: BadInput, bad_inputs) -> None:
    path, culprit = bad_inputs[case.name]
    for attempt in (_read_first_shape, inspect_dataset):
        with pytest.raises((DataFileError, OptionError)) as error:
            attempt(path)
        _check_message(str(error.value), culprit, case)


def test_the_peak_memory_measure_sees_an_allocation() -> None:
    """The control of the test below: a 64 MB array touched after the reset shows as 64 MB of growth."""
    import numpy as np

    reset_peak_rss()
    before = peak_rss_mb()
    block = np.ones(8 * 2**20)  # 64 MB, every page written
    assert peak_rss_mb() - before > 60
    del block


@pytest.mark.timeout(30)
@pytest.mark.parametrize("case", [case for case in CORPUS if case.huge], ids=[c.name for c in CORPUS if c.huge])
def test_absurd_declared_sizes_are_refused_without_allocating_them(case: BadInput, bad_inputs) -> None:
    path, _ = bad_inputs[case.name]
    for attempt in (_read_first_shape, inspect_dataset):  # once to import what a first use imports (trimesh)
        with pytest.raises(DataFileError):
            attempt(path)
    reset_peak_rss()
    before = peak_rss_mb()
    for attempt in (_read_first_shape, inspect_dataset):
        with pytest.raises(DataFileError):
            attempt(path)
    growth = peak_rss_mb() - before
    print(f"{case.name}: peak resident memory grew {growth:.1f} MB")
    assert growth < MAX_GROWTH_MB


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", ["inspect", "reconstruct"])
@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_command_line_exits_2_with_one_line(case: BadInput, command: str, bad_inputs, capsys) -> None:
    """The command line's own ``main``, in this process: 180 runs in seconds instead of minutes.

    ``main`` is all that ``python -m vaeviewer`` runs (see the subprocess test below); an
    exception it let through would fail this test with its traceback.
    """
    from vaeviewer.cli import main

    path, culprit = bad_inputs[case.name]
    args = ["inspect", str(path)] if command == "inspect" else ["reconstruct", "--data", str(path), "--index", "0"]
    status = main(args)
    out, err = capsys.readouterr()
    assert status == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vaeviewer: error: "), err
    _check_message(lines[0], culprit, case)


SUBPROCESS_CASES = ["off-truncated-vertices", "ply-absurd-count-binary", "pcd-letters", "npy-strings", "h5-nan",
                    "h5-huge-declared-shape", "folder-empty", "unknown-extension"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_the_installed_command_exits_2_with_one_line(name: str, bad_inputs) -> None:
    case = next(case for case in CORPUS if case.name == name)
    path, culprit = bad_inputs[name]
    for args in (["inspect", str(path)], ["reconstruct", "--data", str(path), "--index", "0"]):
        result = subprocess.run([sys.executable, "-m", "vaeviewer", *args], capture_output=True, text=True,
                                timeout=60, env=os.environ.copy(), cwd=REPO)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vaeviewer: error: "), result.stderr
        _check_message(lines[0], culprit, case)


def test_a_few_broken_files_among_good_ones_are_skipped_and_reported(tmp_path: Path) -> None:
    import numpy as np

    folder = tmp_path / "scans"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(6):
        np.save(folder / f"chair_{k:04d}.npy", rng.normal(size=(64, 3)).astype(np.float32))
    (folder / "chair_0006.off").write_text("OFF\n3 1 0\n0 0 0\n")  # truncated
    (folder / "chair_0007.npy").write_bytes(b"")
    summary = inspect_dataset(folder)
    assert summary["shapes"] == 8
    assert any("chair_0007.npy: empty file" in warning for warning in summary["warnings"])
    with open_dataset(folder) as dataset:
        split = dataset.split("all")
        skipped = split.drop_unreadable(32)
        assert len(split) == 6 and len(skipped) == 2
        assert any("chair_0006.off: truncated" in line for line in skipped)
        assert split.load_all(32).shape == (6, 32, 3)


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("qt_leak_check")
def test_the_window_shows_a_dialog_for_each_and_keeps_its_data_set(qtbot, session, bad_inputs, tmp_path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from vaeviewer.gui.main_window import MainWindow

    window = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    data_path, split, selection = session.data_path, session.split, session.selection
    for case in CORPUS:
        path, culprit = bad_inputs[case.name]
        with qtbot.waitSignal(window.error_shown, timeout=10_000) as shown:
            assert window.open_path(path) is False
        _check_message(shown.args[0], culprit, case)
        boxes = [box for box in window.findChildren(QMessageBox, "error_dialog") if box.isVisible()]
        assert [box.text() for box in boxes] == [shown.args[0]]  # one dialog, the latest error's
        assert session.data_path == data_path and session.split is split and session.selection == selection
        assert window.isVisible()
    assert str(bad_inputs[CORPUS[0].name][0]) not in window.recent_files()
    # Still alive and working: another shape is chosen and drawn.
    frames = window.viewport.frames_drawn
    session.select(selection + 1)
    qtbot.waitUntil(lambda: window.viewport.frames_drawn > frames, timeout=10_000)
    window.close()


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("qt_leak_check")
def test_the_window_survives_broken_shapes_inside_a_good_data_set(qtbot, session, tmp_path, capfd) -> None:
    """Shapes 2 (NaN) and 4 (one point repeated) of six are broken: each panel that meets one says so, once asked.

    Opening another data set while the latent map still encodes this one closes the file under
    its worker: the worker, given up by then, ends quietly (no traceback on stderr).
    """
    import h5py
    import numpy as np
    from PySide6.QtCore import QSettings

    from vaeviewer.gui.main_window import MainWindow

    clouds = np.random.default_rng(0).normal(size=(6, 256, 3)).astype(np.float32)
    clouds[2, 5] = np.nan
    clouds[4] = 1.0
    path = tmp_path / "mixed_test.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("data", data=clouds)
        handle.create_dataset("label", data=np.zeros(6, np.uint8))
    summary = inspect_dataset(path)
    assert summary["shapes"] == 6 and len(summary["warnings"]) == 2
    window = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_path(path)
    messages = []
    window.error_shown.connect(messages.append)
    for panel in ("dataset", "reconstruction", "interpolation"):
        window.show_panel(panel)
        for index, problem in ((2, "shape 2 contains NaN"), (4, "shape 4 is degenerate")):
            session.select(index)
            qtbot.waitUntil(lambda problem=problem: any(problem in message for message in messages), timeout=30_000)
            messages.clear()
        session.select(1)
    window.show_panel("latent")  # encodes the split on a worker thread
    qtbot.waitUntil(lambda: bool(messages) or not window.busy_panels(), timeout=60_000)
    window.show_panel("latent")
    assert window.open_path("builtin")  # replaces the h5 file, perhaps under a worker still reading it
    qtbot.waitUntil(lambda: not window.busy_panels(), timeout=60_000)
    assert window.isVisible() and session.data_path == "builtin"
    window.close()
    assert "Traceback" not in capfd.readouterr().err
