"""A run that starts from another's weights (--init), and the decoder-only stage (--train-parts decoder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.training.test_loop import tiny
from vaeviewer.data import open_dataset
from vaeviewer.errors import CheckpointError, SettingError
from vaeviewer.model import load_checkpoint, load_model
from vaeviewer.training import StepEnded, TaskControl, TrainSettings, settings_for_resume, train


@pytest.fixture(scope="module")
def first_stage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("stages") / "first"
    events = list(train(tiny(run, epochs=2, latent_training="joint")))
    assert events[-1].status == "completed"
    return run / "last.pt"


def finished(settings: TrainSettings) -> Path:
    events = list(train(settings))
    assert events[-1].status == "completed", events[-1].message
    return Path(settings.out_dir) / "last.pt"


def test_the_decoder_stage_moves_the_decoder_only(first_stage: Path, tmp_path: Path) -> None:
    """Every weight and batch-norm statistic of the encoder and classifier is the first stage's, bit for bit;
    the decoder learns and reconstructs the training shapes better than it did."""
    second = finished(tiny(tmp_path / "second", epochs=3, init=str(first_stage), train_parts="decoder",
                           latent_training="joint", lr=1e-3))
    before, after = load_checkpoint(first_stage).model_state, load_checkpoint(second).model_state
    assert before.keys() == after.keys()
    kept = [k for k in before if not k.startswith("decoder.")]
    assert any("running_mean" in k for k in kept) and any(k.startswith("classifier.") for k in kept)
    assert all(torch.equal(before[k], after[k]) for k in kept)
    assert not all(torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))
    history = load_checkpoint(second).history
    assert history["train_chamfer"][-1] < load_checkpoint(first_stage).history["train_chamfer"][-1]

    # The latent means of any cloud are the first stage's, so everything read from them is too.
    with open_dataset("builtin") as dataset:
        clouds = torch.from_numpy(np.stack([dataset.split("test").points(i, 128) for i in range(8)]))
    means = [load_model(path)[0].encode(clouds)[0] for path in (first_stage, second)]
    assert torch.equal(*means)


def test_init_starts_a_whole_run_from_the_weights(first_stage: Path, tmp_path: Path) -> None:
    settings = tiny(tmp_path / "from", epochs=1, init=str(first_stage), lr=1e-12, latent_training="joint")
    first_step = next(e for e in train(settings) if isinstance(e, StepEnded))
    fresh = next(e for e in train(tiny(tmp_path / "fresh", epochs=1, lr=1e-12)) if isinstance(e, StepEnded))
    reference = load_checkpoint(first_stage).history["train_chamfer"][-1]
    # Starting from trained weights, the first step's Chamfer is near where the first run ended, not a fresh one's.
    assert abs(first_step.chamfer - reference) < abs(fresh.chamfer - reference)


def test_a_decoder_stage_resumes_exactly_as_it_would_have_gone_on(first_stage: Path, tmp_path: Path) -> None:
    changes = dict(init=str(first_stage), train_parts="decoder", latent_training="joint", epochs=2)
    whole = [e.loss for e in train(tiny(tmp_path / "whole", **changes)) if isinstance(e, StepEnded)]
    control = TaskControl()
    parts = []
    for event in train(tiny(tmp_path / "parts", **changes), control):
        if isinstance(event, StepEnded):
            parts.append(event.loss)
            if len(parts) == 4:
                control.stop()
    resumed = settings_for_resume(tmp_path / "parts", {})
    assert resumed.init == str(first_stage) and resumed.train_parts == "decoder"
    parts += [e.loss for e in train(resumed, resume=True) if isinstance(e, StepEnded)]
    assert parts == whole


def test_stage_mistakes_are_named(first_stage: Path, tmp_path: Path) -> None:
    with pytest.raises(SettingError, match=r"--train-parts decoder needs --init"):
        TrainSettings(train_parts="decoder")
    with pytest.raises(SettingError, match=r"which was trained joint; pass --latent-training joint"):
        list(train(tiny(tmp_path / "a", init=str(first_stage), train_parts="decoder")))
    with pytest.raises(CheckpointError, match=r"was trained with .*latent_dim=16.*latent_dim=32"):
        list(train(tiny(tmp_path / "b", init=str(first_stage), latent_dim=32)))
    with pytest.raises(CheckpointError, match=r"missing\.pt"):
        list(train(tiny(tmp_path / "c", init=str(tmp_path / "missing.pt"))))
