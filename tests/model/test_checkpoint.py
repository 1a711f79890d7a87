"""Checkpoint files: round trips, half precision, atomic writes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vaeviewer.errors import CheckpointError
from vaeviewer.model import (
    Checkpoint,
    ModelConfig,
    PointCloudVAE,
    build_model,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from vaeviewer.model.checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, remove_stale_temporaries

CONFIG = ModelConfig(num_points=64, latent_dim=8, num_classes=3, prior_std=0.5)


def _trained_checkpoint() -> tuple[PointCloudVAE, Checkpoint]:
    torch.manual_seed(0)
    model = PointCloudVAE(CONFIG)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    out = model(torch.randn(4, 64, 3))
    (out.reconstruction.square().mean() + out.log_probs.mean()).backward()
    optimizer.step()
    checkpoint = Checkpoint(
        config=CONFIG,
        model_state=model.state_dict(),
        optimizer_state=optimizer.state_dict(),
        epoch=3,
        global_step=120,
        history={"loss": [1.5, 1.0, 0.75], "chamfer": [0.2, 0.1, 0.05]},
        class_names=("chair", "table", "lamp"),
        run_settings={"data": "builtin", "lr": 1e-3, "seed": 0, "augment": True,
                      "split": None, "classes": ["chair", "table"]},
        extra={"torch_rng": torch.get_rng_state(), "note": "x",
               "numpy_rng": np.random.default_rng(0).bit_generator.state},
    )
    return model, checkpoint


@pytest.fixture
def trained() -> tuple[PointCloudVAE, Checkpoint]:
    return _trained_checkpoint()


def _assert_same_state(actual: dict, expected: dict) -> None:
    assert list(actual) == list(expected)
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name


def test_round_trip_keeps_everything(tmp_path: Path, trained) -> None:
    _, checkpoint = trained
    path = tmp_path / "run" / "model.pt"  # the folder does not exist yet
    assert save_checkpoint(path, checkpoint) == path

    loaded = load_checkpoint(path)
    assert loaded.config == CONFIG
    _assert_same_state(loaded.model_state, checkpoint.model_state)
    assert loaded.epoch == 3 and loaded.global_step == 120
    assert loaded.history == checkpoint.history
    assert loaded.class_names == ("chair", "table", "lamp")
    assert loaded.run_settings == checkpoint.run_settings
    assert torch.equal(loaded.extra["torch_rng"], checkpoint.extra["torch_rng"])
    assert loaded.extra["note"] == "x"
    assert loaded.extra["numpy_rng"] == checkpoint.extra["numpy_rng"]
    assert loaded.source == str(path)

    expected_optimizer = checkpoint.optimizer_state
    assert loaded.optimizer_state["param_groups"] == expected_optimizer["param_groups"]
    for key, state in expected_optimizer["state"].items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(loaded.optimizer_state["state"][key][name]),
                               torch.as_tensor(value))


def test_file_is_a_plain_dict_safe_to_load(tmp_path: Path, trained) -> None:
    _, checkpoint = trained
    path = save_checkpoint(tmp_path / "model.pt", checkpoint)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == CHECKPOINT_FORMAT and raw["version"] == CHECKPOINT_VERSION
    assert raw["config"] == CONFIG.to_dict()
    assert raw["class_names"] == ["chair", "table", "lamp"]
    assert "source" not in raw


def test_loaded_model_and_optimizer_resume(tmp_path: Path, trained) -> None:
    model, checkpoint = trained
    path = save_checkpoint(tmp_path / "model.pt", checkpoint)
    rebuilt, loaded = load_model(path)
    assert not rebuilt.training
    assert all(p.dtype == torch.float32 for p in rebuilt.parameters())
    points = torch.randn(2, 64, 3)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.reconstruct(points), model.reconstruct(points))
        torch.testing.assert_close(rebuilt.classify(rebuilt.encode(points)[0]),
                                   model.classify(model.encode(points)[0]))
    optimizer = torch.optim.Adam(rebuilt.parameters(), lr=1e-3)
    optimizer.load_state_dict(loaded.optimizer_state)
    assert optimizer.state_dict()["state"][0]["step"] == 1


def test_build_model_from_a_checkpoint_in_memory(trained) -> None:
    model, checkpoint = trained
    rebuilt = build_model(checkpoint)
    _assert_same_state(rebuilt.state_dict(), model.state_dict())


def test_half_precision_is_smaller_and_close(tmp_path: Path, trained) -> None:
    _, checkpoint = trained
    full = save_checkpoint(tmp_path / "full.pt", checkpoint)
    half = save_checkpoint(tmp_path / "half.pt", checkpoint, half_precision=True)
    # Full files also hold two Adam moments per weight.
    assert half.stat().st_size < 0.2 * full.stat().st_size
    assert torch.load(half, weights_only=True)["model_state"]["decoder.out.weight"].dtype == (
        torch.float16
    )
    loaded = load_checkpoint(half)
    assert loaded.optimizer_state is None
    for name, expected in checkpoint.model_state.items():
        actual = loaded.model_state[name]
        if expected.is_floating_point():
            assert actual.dtype == torch.float32
            torch.testing.assert_close(actual, expected, rtol=1e-3, atol=1e-4)
        else:
            assert torch.equal(actual, expected)
    model = build_model(loaded)
    assert next(model.parameters()).dtype == torch.float32


def test_saving_again_replaces_the_file(tmp_path: Path, trained) -> None:
    _, checkpoint = trained
    path = tmp_path / "model.pt"
    save_checkpoint(path, checkpoint)
    checkpoint.epoch = 4
    save_checkpoint(path, checkpoint)
    assert load_checkpoint(path).epoch == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


# ----------------------------------------------------------------- atomicity


def _assert_failed_write_left_old_file(tmp_path: Path, path: Path, before: bytes, error) -> None:
    message = str(error.value)
    assert str(path) in message and "could not write" in message and "\n" not in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_failed_rename_keeps_previous_file(tmp_path: Path, trained, monkeypatch) -> None:
    _, checkpoint = trained
    path = save_checkpoint(tmp_path / "model.pt", checkpoint)
    before = path.read_bytes()

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    checkpoint.epoch = 9
    with pytest.raises(CheckpointError, match="No space left on device") as error:
        save_checkpoint(path, checkpoint)
    _assert_failed_write_left_old_file(tmp_path, path, before, error)


def test_failed_write_midway_keeps_previous_file(tmp_path: Path, trained, monkeypatch) -> None:
    _, checkpoint = trained
    path = save_checkpoint(tmp_path / "model.pt", checkpoint)
    before = path.read_bytes()
    real_save = torch.save

    def save_then_fail(obj, stream, *args, **kwargs):
        real_save(obj, stream, *args, **kwargs)
        raise RuntimeError("PytorchStreamWriter failed writing file data/3: file write failed")

    monkeypatch.setattr(torch, "save", save_then_fail)
    with pytest.raises(CheckpointError, match="failed writing") as error:
        save_checkpoint(path, checkpoint)
    _assert_failed_write_left_old_file(tmp_path, path, before, error)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root (and Windows) ignore folder permissions")
def test_read_only_folder_keeps_previous_file(tmp_path: Path, trained) -> None:
    _, checkpoint = trained
    path = save_checkpoint(tmp_path / "model.pt", checkpoint)
    before = path.read_bytes()
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(CheckpointError, match="could not write") as error:
            save_checkpoint(path, checkpoint)
    finally:
        tmp_path.chmod(0o755)
    _assert_failed_write_left_old_file(tmp_path, path, before, error)


def test_saving_onto_a_folder_is_a_checkpoint_error(tmp_path: Path, trained) -> None:
    _, checkpoint = trained
    (tmp_path / "model.pt").mkdir()
    with pytest.raises(CheckpointError, match="could not write"):
        save_checkpoint(tmp_path / "model.pt", checkpoint)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


@pytest.mark.parametrize(
    "field, value",
    [("extra", {"numpy_rng": np.zeros(3)}), ("run_settings", {"data": Path("x")}),
     ("run_settings", {"lr": np.float64(1e-3)})],
)
def test_values_that_cannot_be_loaded_safely_are_rejected_at_save(
    tmp_path: Path, trained, field: str, value
) -> None:
    _, checkpoint = trained
    setattr(checkpoint, field, value)
    with pytest.raises(TypeError, match=field):
        save_checkpoint(tmp_path / "model.pt", checkpoint)
    assert list(tmp_path.iterdir()) == []


def test_temporary_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    import subprocess

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(finished.stdout)  # that process has exited
    names = {
        f".last.pt.tmp-{dead}-0": False,  # removed: its writer is gone
        f".history.csv.tmp-{dead}": False,
        f".last.pt.tmp-{os.getpid()}-3": True,  # this process may still be writing it
        f".last.pt.tmp-{os.getppid()}-1": True,  # a running process
        "last.pt": True,
        "notes.tmp-1": True,  # not one of ours: no leading dot
    }
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(n for n, keep in names.items() if not keep)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n, keep in names.items() if keep)
    assert remove_stale_temporaries(tmp_path / "missing") == []
