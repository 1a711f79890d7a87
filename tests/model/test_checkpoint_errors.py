"""Every unusable checkpoint becomes a one-line CheckpointError; nothing in a file runs."""

from __future__ import annotations

import builtins
import os
import pickle
import sys
from pathlib import Path

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
from vaeviewer.model.checkpoint import CHECKPOINT_FORMAT

CONFIG = ModelConfig(num_points=32, latent_dim=4)


def _checkpoint(config: ModelConfig = CONFIG) -> Checkpoint:
    torch.manual_seed(0)
    return Checkpoint(config=config, model_state=PointCloudVAE(config).state_dict())


def _load_error(path: Path) -> str:
    with pytest.raises(CheckpointError) as error:
        load_model(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    assert error.value.path == str(path)
    return error.value.problem


def test_missing_file(tmp_path: Path) -> None:
    assert _load_error(tmp_path / "nothing.pt") == "no such file"


def test_folder(tmp_path: Path) -> None:
    assert "folder" in _load_error(tmp_path)


@pytest.mark.parametrize("keep", [0.0, 0.002, 0.05, 0.5, 0.99])
def test_truncated_file(tmp_path: Path, keep: float) -> None:
    whole = save_checkpoint(tmp_path / "whole.pt", _checkpoint()).read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(whole[: int(len(whole) * keep)])
    assert _load_error(path) == "not a checkpoint (truncated or not a torch file)"


@pytest.mark.parametrize(
    "content", [b"hello world\n", bytes(range(256)) * 20, b"\x80\x04\x95garbage", b"PK\x03\x04junk"]
)
def test_not_a_torch_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    assert _load_error(path) == "not a checkpoint (truncated or not a torch file)"


def test_plain_pickle_of_plain_values(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"format": CHECKPOINT_FORMAT, "version": 1}))
    assert _load_error(path) == "not a checkpoint (truncated or not a torch file)"


# ------------------------------------------------------------- unsafe files


class _RunsCommand:
    """Pickles as a call to ``os.system``: loading it with plain pickle runs a shell."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f'touch "{self.sentinel}"',))


class _OpensFile:
    """Pickles as a call to ``open(sentinel, "w")``: loading it creates the file."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (builtins.open, (str(self.sentinel), "w"))


PAYLOADS = [_OpensFile] if sys.platform == "win32" else [_RunsCommand, _OpensFile]


def _assert_refused(path: Path, sentinel: Path) -> None:
    problem = _load_error(path)
    assert "refused" in problem and "unsafe" in problem
    assert not sentinel.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_malicious_torch_file_is_refused_and_not_run(tmp_path: Path, payload) -> None:
    sentinel = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "version": 1, "config": payload(sentinel)}, path)
    _assert_refused(path, sentinel)
    # Control: the file really is malicious, an unsafe load runs it.
    torch.load(path, weights_only=False)
    assert sentinel.exists()


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_malicious_plain_pickle_is_refused_and_not_run(
    tmp_path: Path, payload, protocol: int
) -> None:
    sentinel = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    with open(path, "wb") as stream:
        pickle.dump({"model_state": payload(sentinel)}, stream, protocol=protocol)
    _assert_refused(path, sentinel)
    with open(path, "rb") as stream:  # control, as above
        pickle.load(stream)
    assert sentinel.exists()


def test_harmless_but_disallowed_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "path": Path("x")}, path)
    problem = _load_error(path)
    assert "refused" in problem and "Path" in problem


# ----------------------------------------------------- torch files, not ours


def test_bare_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    torch.save(PointCloudVAE(CONFIG).state_dict(), path)
    assert _load_error(path) == "not a vaeviewer checkpoint (it looks like a bare state_dict)"


@pytest.mark.parametrize("content", [{"format": "something-else", "version": 1}, [1, 2], "text"])
def test_foreign_torch_file(tmp_path: Path, content) -> None:
    path = tmp_path / "model.pt"
    torch.save(content, path)
    assert _load_error(path) == "not a vaeviewer checkpoint"


def _rewrite(path: Path, **changes) -> None:
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)


def test_newer_format_version(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "model.pt", _checkpoint())
    _rewrite(path, version=7)
    problem = _load_error(path)
    assert "version 7 is newer" in problem and "update vaeviewer" in problem


@pytest.mark.parametrize(
    "config, expected",
    [({**CONFIG.to_dict(), "num_points": 0}, "num_points"),
     ({**CONFIG.to_dict(), "layers": 3}, "unknown model settings: layers"),
     ("big", "'config' is a str")],
)
def test_invalid_config(tmp_path: Path, config, expected: str) -> None:
    path = save_checkpoint(tmp_path / "model.pt", _checkpoint())
    _rewrite(path, config=config)
    assert expected in _load_error(path)


def test_missing_weights_entry(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "model.pt", _checkpoint())
    payload = torch.load(path, weights_only=True)
    del payload["model_state"]
    torch.save(payload, path)
    assert "no 'model_state' entry" in _load_error(path)


# ------------------------------------------------------- weights vs model


def _build_error(checkpoint: Checkpoint, tmp_path: Path) -> str:
    path = save_checkpoint(tmp_path / "model.pt", checkpoint)
    with pytest.raises(CheckpointError) as error:
        build_model(load_checkpoint(path))
    prefix = f"{path}: weights do not match the model: "
    assert str(error.value).startswith(prefix)
    assert "\n" not in str(error.value)
    return str(error.value)[len(prefix):]


def test_weights_of_another_size(tmp_path: Path) -> None:
    checkpoint = _checkpoint(ModelConfig(num_points=64, latent_dim=4))
    checkpoint.config = CONFIG
    problem = _build_error(checkpoint, tmp_path)
    assert "decoder.out.weight has shape (192, 1024), expected (96, 1024)" in problem


def test_weights_with_an_unexpected_classifier(tmp_path: Path) -> None:
    checkpoint = _checkpoint(ModelConfig(num_points=32, latent_dim=4, num_classes=2))
    checkpoint.config = CONFIG
    problem = _build_error(checkpoint, tmp_path)
    assert problem.startswith("unexpected classifier.")
    assert "more" in problem


def test_weights_with_missing_entries(tmp_path: Path) -> None:
    checkpoint = _checkpoint()
    del checkpoint.model_state["encoder.mean.bias"]
    assert _build_error(checkpoint, tmp_path) == "missing encoder.mean.bias"


def test_in_memory_mismatch_names_no_file() -> None:
    checkpoint = _checkpoint()
    checkpoint.model_state = {}
    with pytest.raises(CheckpointError, match="<checkpoint in memory>: weights do not match"):
        build_model(checkpoint)
