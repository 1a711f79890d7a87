"""Files that carry code: refused with one clear line, and nothing in them runs.

Each malicious file here is real: its pickle, loaded the unsafe way, creates a
marker file (a control at the end of each test proves it), and every path of
the product must refuse it with the marker still absent.

The checkpoint loader itself is tested in ``tests/model/test_checkpoint_errors.py``:
malicious zip checkpoints (``torch.save``) and legacy pickles of protocols 0, 2,
4 and 5 (refused and not run), truncated files, foreign torch files and bare
state_dicts, and weights of another architecture. What is added here is the
same files through the command line and the window, and object ``.npy`` files.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vaeviewer.data import open_dataset
from vaeviewer.errors import CheckpointError, DataFileError
from vaeviewer.model import Checkpoint, ModelConfig, PointCloudVAE, load_model, save_checkpoint
from vaeviewer.model.checkpoint import CHECKPOINT_FORMAT

REPO = Path(__file__).resolve().parents[2]


class _RunsCommand:
    """Pickles as a call to ``os.system``: unpickling it runs a shell that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch "{self.marker}"',))


def _object_npy(path: Path, marker: Path) -> Path:
    objects = np.empty((4, 3), dtype=object)
    objects[:] = _RunsCommand(marker)
    np.save(path, objects, allow_pickle=True)
    return path


def _malicious_zip_checkpoint(path: Path, marker: Path) -> Path:
    torch.save({"format": CHECKPOINT_FORMAT, "version": 1, "config": _RunsCommand(marker)}, path)
    return path


def _malicious_legacy_checkpoint(path: Path, marker: Path) -> Path:
    with open(path, "wb") as stream:
        pickle.dump({"format": CHECKPOINT_FORMAT, "model_state": _RunsCommand(marker)}, stream, protocol=2)
    return path


def _other_architecture(path: Path) -> Path:
    """A vaeviewer checkpoint whose weights are those of a bigger decoder than its config builds."""
    checkpoint = Checkpoint(config=ModelConfig(num_points=32, latent_dim=4),
                            model_state=PointCloudVAE(ModelConfig(num_points=64, latent_dim=4)).state_dict())
    return save_checkpoint(path, checkpoint)


def _foreign_state_dict(path: Path) -> Path:
    torch.save(torch.nn.Linear(3, 3).state_dict(), path)
    return path


def _truncated(path: Path) -> Path:
    whole = _other_architecture(path).read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    return path


def _unpickle_unsafely(path: Path) -> None:
    """The control: what a careless reader does. It must run the file's code."""
    if path.suffix == ".npy":
        np.load(path, allow_pickle=True)
        return
    try:
        torch.load(path, weights_only=False)
    except RuntimeError:  # not torch's format: a legacy plain pickle
        with open(path, "rb") as stream:
            pickle.load(stream)


def test_object_npy_is_refused_by_every_reader_and_runs_nothing(tmp_path: Path, capsys) -> None:
    from vaeviewer.cli import main
    from vaeviewer.workflows.inspect import inspect_dataset

    marker = tmp_path / "ran"
    path = _object_npy(tmp_path / "evil.npy", marker)
    with pytest.raises(DataFileError, match="refused: object arrays need pickle"):
        with open_dataset(path) as dataset:
            dataset.default_split().points(0)
    with pytest.raises(DataFileError, match="refused"):
        inspect_dataset(path)
    # In a folder among good files it is one unreadable file, left out and reported.
    folder = tmp_path / "set"
    folder.mkdir()
    _object_npy(folder / "chair_0002.npy", marker)
    for k in range(2):
        np.save(folder / f"chair_{k:04d}.npy", np.random.default_rng(k).normal(size=(40, 3)))
    with open_dataset(folder) as dataset:
        assert [line.split(": ", 1)[1] for line in dataset.split("all").drop_unreadable(16)] == [
            "refused: object arrays need pickle (skipped)"]
    for args in (["inspect", str(path)], ["reconstruct", "--data", str(path), "--index", "0"]):
        assert main(args) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert not marker.exists()
    _unpickle_unsafely(path)
    assert marker.exists(), "the control: the file really runs code when unpickled"


@pytest.mark.parametrize("make", [_malicious_zip_checkpoint, _malicious_legacy_checkpoint], ids=["zip", "legacy"])
def test_malicious_checkpoint_through_the_command_line_runs_nothing(tmp_path: Path, make) -> None:
    marker = tmp_path / "ran"
    path = make(tmp_path / "model.pt", marker)
    result = subprocess.run(
        [sys.executable, "-m", "vaeviewer", "reconstruct", "--checkpoint", str(path), "--index", "0"],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(), cwd=REPO,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vaeviewer: error: {path}: refused to load an unsafe file")
    assert not marker.exists()
    _unpickle_unsafely(path)
    assert marker.exists()


BAD_CHECKPOINTS = {
    "zip pickle that runs a command": (lambda path, marker: _malicious_zip_checkpoint(path, marker), "refused"),
    "legacy pickle that runs a command": (lambda path, marker: _malicious_legacy_checkpoint(path, marker), "refused"),
    "another architecture": (lambda path, marker: _other_architecture(path), "weights do not match the model"),
    "a foreign state_dict": (lambda path, marker: _foreign_state_dict(path), "not a vaeviewer checkpoint"),
    "truncated": (lambda path, marker: _truncated(path), "truncated"),
}


@pytest.mark.parametrize("name", list(BAD_CHECKPOINTS))
def test_bad_checkpoints_give_one_line_from_the_loader(tmp_path: Path, name: str) -> None:
    make, problem = BAD_CHECKPOINTS[name]
    marker = tmp_path / "ran"
    path = make(tmp_path / "model.pt", marker)
    with pytest.raises(CheckpointError) as error:
        load_model(path)
    assert str(error.value).startswith(f"{path}: ") and problem in str(error.value)
    assert "\n" not in str(error.value) and not marker.exists()


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("qt_leak_check")
def test_the_window_refuses_code_files_with_a_dialog_and_runs_nothing(qtbot, session, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from vaeviewer.gui.main_window import MainWindow

    window = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    model, data_path = session.model, session.data_path
    marker = tmp_path / "ran"
    files = [(_object_npy(tmp_path / "evil.npy", marker), "refused: object arrays need pickle")]
    for name, (make, problem) in BAD_CHECKPOINTS.items():
        files.append((make(tmp_path / f"{name.replace(' ', '_')}.pt", marker), problem))
    for path, problem in files:
        with qtbot.waitSignal(window.error_shown, timeout=10_000) as shown:
            assert window.open_path(path) is False
        message = shown.args[0]
        assert message.startswith(f"{path}: ") and problem in message and "\n" not in message
        assert session.model is model and session.data_path == data_path
        assert not marker.exists()
    window.close()
    for path, _ in files[:3]:  # the three files that carry code really do run it
        _unpickle_unsafely(path)
        assert marker.exists()
        marker.unlink()
