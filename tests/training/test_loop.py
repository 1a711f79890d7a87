"""The training generator: events, files, stop, pause, exact resume, failures, learning."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from vaeviewer.data import open_dataset
from vaeviewer.errors import OptionError
from vaeviewer.model import load_checkpoint, load_model
from vaeviewer.training import (
    CheckpointSaved,
    EpochEnded,
    PreviewReady,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    StepEnded,
    TaskControl,
    TrainSettings,
    ValidationEnded,
    balanced_subset,
    check_start,
    score_clouds,
    settings_for_resume,
    train,
)


def tiny(out: Path, **changes: object) -> TrainSettings:
    """A run small enough to take a second or two: 24 built-in shapes of 128 points."""
    values = dict(
        data="builtin", out_dir=str(out), epochs=2, batch_size=8, num_points=128, latent_dim=16,
        max_shapes=24, lr=1e-3, seed=3, device="cpu",
    )
    values.update(changes)
    return TrainSettings(**values)


def test_run_yields_events_in_order_and_writes_its_files(tmp_path: Path) -> None:
    events = list(train(tiny(tmp_path / "run")))
    kinds = [type(e) for e in events]
    assert kinds[0] is RunStarted and kinds[-1] is RunFinished
    assert events[-1].status == "completed"
    start = events[0]
    assert start.train_shapes == 24 and start.steps_per_epoch == 3 and start.val_shapes > 0
    steps = [e for e in events if isinstance(e, StepEnded)]
    assert [s.global_step for s in steps] == list(range(1, 7))
    assert all(math.isfinite(s.loss) and s.chamfer > 0 and s.kl >= 0 for s in steps)
    assert len([e for e in events if isinstance(e, ValidationEnded)]) == 2
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [0, 1]
    saved = [e for e in events if isinstance(e, CheckpointSaved)]
    assert {e.kind for e in saved} >= {"last", "best"}

    run = tmp_path / "run"
    for name in ("last.pt", "best.pt", "history.csv", "run.json"):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader(open(run / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["val_chamfer"]) > 0
    record = json.loads((run / "run.json").read_text())
    assert record["settings"]["num_points"] == 128 and record["world_size"] == 1
    assert record["data"]["format"] == "builtin" and len(record["data"]["class_names"]) >= 8
    last = load_checkpoint(run / "last.pt")
    assert last.epoch == 2 and last.global_step == 6 and last.optimizer_state is not None
    assert last.config.num_points == 128 and last.config.num_classes == len(record["data"]["class_names"])
    assert len(last.history["epoch"]) == 2


def _final_weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path).model_state


def test_stop_then_resume_ends_where_an_uninterrupted_run_ends(tmp_path: Path) -> None:
    list(train(tiny(tmp_path / "whole")))

    control = TaskControl()
    events = []
    for event in train(tiny(tmp_path / "split"), control):
        events.append(event)
        if isinstance(event, StepEnded) and event.global_step == 4:  # in the middle of epoch 2
            control.stop()
    assert events[-1].status == "stopped"
    stopped = load_checkpoint(tmp_path / "split" / "last.pt")
    assert stopped.epoch == 1 and stopped.global_step == 4 and stopped.extra["step_in_epoch"] == 1

    settings = settings_for_resume(tmp_path / "split", {})
    resumed = list(train(settings, resume=True))
    assert resumed[0].resumed and resumed[0].start_epoch == 1 and resumed[0].start_step == 1
    assert [e.global_step for e in resumed if isinstance(e, StepEnded)] == [5, 6]

    whole, split = _final_weights(tmp_path / "whole" / "last.pt"), _final_weights(tmp_path / "split" / "last.pt")
    assert whole.keys() == split.keys()
    for name in whole:
        assert torch.equal(whole[name], split[name]), name
    a = load_checkpoint(tmp_path / "whole" / "last.pt").history
    b = load_checkpoint(tmp_path / "split" / "last.pt").history
    for column in ("train_loss", "train_chamfer", "val_chamfer"):
        assert a[column] == pytest.approx(b[column], rel=1e-9), column


def test_pause_and_resume_between_steps(tmp_path: Path) -> None:
    control = TaskControl()
    run = train(tiny(tmp_path / "run", epochs=1), control)
    seen = []
    for event in run:
        seen.append(event)
        if isinstance(event, StepEnded) and event.global_step == 1:
            control.pause()
        elif isinstance(event, RunPaused):
            assert control.is_paused
            control.resume()
    kinds = [type(e) for e in seen]
    paused_at = kinds.index(RunPaused)
    assert kinds[paused_at + 1] is RunResumed and kinds[paused_at + 2] is StepEnded
    assert seen[-1].status == "completed"


def test_stop_while_paused_saves_and_finishes(tmp_path: Path) -> None:
    control = TaskControl()
    seen = []
    for event in train(tiny(tmp_path / "run", epochs=1), control):
        seen.append(event)
        if isinstance(event, StepEnded):
            control.pause()
        elif isinstance(event, RunPaused):
            control.stop()
    assert seen[-1].status == "stopped"
    assert (tmp_path / "run" / "last.pt").is_file()


def test_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    list(train(tiny(run, epochs=1)))
    before = (run / "last.pt").read_bytes()
    settings = settings_for_resume(run, {"epochs": 3, "lr": 1e12})
    events = list(train(settings, resume=True))
    final = events[-1]
    assert final.status == "failed"
    assert "loss became" in final.message and "last.pt" in final.message
    assert (run / "last.pt").read_bytes() == before
    assert load_checkpoint(run / "last.pt").epoch == 1


def test_an_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    list(train(tiny(tmp_path / "run", epochs=1)))
    with pytest.raises(OptionError, match="--resume"):
        next(train(tiny(tmp_path / "run", epochs=1)))


def test_resume_refuses_to_change_the_model(tmp_path: Path) -> None:
    list(train(tiny(tmp_path / "run", epochs=1)))
    with pytest.raises(OptionError, match="--points 256 differs"):
        settings_for_resume(tmp_path / "run", {"num_points": 256})
    with pytest.raises(OptionError, match="nothing to resume"):
        settings_for_resume(tmp_path / "empty", {})


@pytest.mark.parametrize(
    "change, message",
    [({"epochs": 0}, "--epochs"), ({"batch_size": 1}, "--batch-size"), ({"lr": -1.0}, "--lr"),
     ({"device": "tpu"}, "--device"), ({"num_points": 4}, "--points")],
)
def test_bad_settings_are_refused(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        tiny(tmp_path, **change)


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(OptionError, match="no CUDA device"):
        next(train(tiny(tmp_path / "run", device="cuda")))


def test_training_lowers_the_chamfer_distance_by_a_large_factor(tmp_path: Path) -> None:
    """Three hundred steps on a small built-in subset learn its shapes."""
    settings = tiny(tmp_path / "run", epochs=150, max_shapes=32, batch_size=16, num_points=256, latent_dim=32,
                    val_split="", classifier_weight=0.0, lr=5e-4)
    chamfers = [e.chamfer for e in train(settings) if isinstance(e, StepEnded)]
    assert len(chamfers) == 300
    before = sum(chamfers[:5]) / 5

    model, _ = load_model(tmp_path / "run" / "last.pt")
    split = open_dataset("builtin").split("train")
    subset = balanced_subset(np.asarray(split.labels), 32, settings.seed)
    clouds = torch.tensor(np.stack([split.points(int(i), 256) for i in subset]))
    after = score_clouds(model, clouds).chamfer_mean  # deterministic reconstructions of the training shapes
    assert after < before / 8, (before, after)


def test_cosine_schedule_falls_from_lr_to_a_twentieth() -> None:
    settings = TrainSettings(epochs=11, lr=1e-3, lr_schedule="cosine")
    rates = [settings.lr_at(e) for e in range(11)]
    assert rates[0] == pytest.approx(1e-3) and rates[-1] == pytest.approx(5e-5)
    assert rates[5] == pytest.approx((1e-3 + 5e-5) / 2)
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert TrainSettings(epochs=11, lr=1e-3).lr_at(7) == 1e-3


def test_the_history_records_the_learning_rate(tmp_path: Path) -> None:
    list(train(tiny(tmp_path / "run", epochs=3, lr_schedule="cosine", val_split="")))
    rows = list(csv.DictReader(open(tmp_path / "run" / "history.csv")))
    assert [float(r["lr"]) for r in rows] == pytest.approx([1e-3, 0.000525, 5e-5], rel=1e-4)
    assert all(r["val_chamfer"] == "nan" for r in rows)


def test_previews_come_at_epoch_ends_and_every_n_steps(tmp_path: Path) -> None:
    events = list(train(tiny(tmp_path / "run", preview_every_steps=2)))
    previews = [e for e in events if isinstance(e, PreviewReady)]
    # 3 steps per epoch: step previews at global steps 2 and 4, epoch-end ones at 3 and 6.
    assert [(p.epoch, p.global_step) for p in previews] == [(0, 2), (0, 3), (1, 4), (1, 6)]
    kinds = [type(e) for e in events]
    first_epoch_end = kinds.index(ValidationEnded)
    assert kinds[first_epoch_end + 1] is PreviewReady  # right after validation, before the checkpoint
    for preview in previews:
        assert preview.input_points.shape == preview.reconstruction.shape == (128, 3)
        assert preview.input_points.dtype == preview.reconstruction.dtype == np.float32
        assert not preview.input_points.flags.writeable and not preview.reconstruction.flags.writeable
        assert math.isfinite(preview.chamfer) and preview.chamfer > 0
    # The fixed sample is the first shape of the validation split...
    with open_dataset("builtin") as dataset:
        expected = dataset.split("test").load_all(128)[0]
    assert np.array_equal(previews[0].input_points, expected)
    assert all(np.array_equal(p.input_points, expected) for p in previews)
    # ...and the last preview is the deterministic reconstruction by the saved model.
    model, _ = load_model(tmp_path / "run" / "last.pt")
    scores = score_clouds(model, torch.from_numpy(expected.copy())[None])
    assert previews[-1].chamfer == pytest.approx(float(scores.chamfer[0]), rel=1e-4)


def test_without_a_validation_split_the_preview_shows_a_training_shape(tmp_path: Path) -> None:
    events = list(train(tiny(tmp_path / "run", epochs=1, val_split="")))
    previews = [e for e in events if isinstance(e, PreviewReady)]
    assert [(p.epoch, p.global_step) for p in previews] == [(0, 3)]  # preview_every_steps=0: epoch ends only
    with open_dataset("builtin") as dataset:
        split = dataset.split("train")
        first = balanced_subset(np.asarray(split.labels), 24, 3)[0]
        expected = split.points(int(first), 128)
    assert np.array_equal(previews[0].input_points, expected)


def test_previews_do_not_change_the_run_and_resume_stays_exact(tmp_path: Path) -> None:
    """A run with a preview after every step ends bit for bit where one without previews ends,
    and stopping it mid-epoch and resuming (previews still on) changes nothing either."""
    list(train(tiny(tmp_path / "plain")))

    control = TaskControl()
    for event in train(tiny(tmp_path / "split", preview_every_steps=1), control):
        if isinstance(event, PreviewReady) and event.global_step == 4:  # in the middle of epoch 2
            control.stop()
    settings = settings_for_resume(tmp_path / "split", {})
    assert settings.preview_every_steps == 1
    resumed = list(train(settings, resume=True))
    assert [e.global_step for e in resumed if isinstance(e, PreviewReady)] == [5, 6]

    plain, split = _final_weights(tmp_path / "plain" / "last.pt"), _final_weights(tmp_path / "split" / "last.pt")
    assert plain.keys() == split.keys()
    for name in plain:
        assert torch.equal(plain[name], split[name]), name
    a = load_checkpoint(tmp_path / "plain" / "last.pt").history
    b = load_checkpoint(tmp_path / "split" / "last.pt").history
    for column in ("train_loss", "train_chamfer", "val_chamfer"):
        assert a[column] == pytest.approx(b[column], rel=1e-9), column


def test_check_start_refuses_what_train_refuses(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OptionError, match="is a file"):
        check_start(tiny(tmp_path / "file"))
    with pytest.raises(OptionError, match="nothing to resume"):
        check_start(tiny(tmp_path / "empty"), resume=True)
    check_start(tiny(tmp_path / "new"))  # a folder that does not exist yet is fine
    assert not (tmp_path / "new").exists()
    with pytest.raises(OptionError, match="Preview interval"):
        tiny(tmp_path, preview_every_steps=-1)
