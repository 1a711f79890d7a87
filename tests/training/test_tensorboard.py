"""The TensorBoard log of a run, read back with TensorBoard's own reader: the history's values, resume, failures."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.training.test_loop import tiny
from vaeviewer.training import (
    EpochEnded,
    PreviewReady,
    RunFinished,
    RunWarning,
    StepEnded,
    TaskControl,
    settings_for_resume,
    tensorboard_log,
    train,
)

EPOCH_TAGS = {"train/loss": "train_loss", "train/chamfer": "train_chamfer", "train/kl": "train_kl",
              "train/classifier_loss": "train_classifier_loss", "train/accuracy": "train_accuracy",
              "val/chamfer": "val_chamfer", "val/kl": "val_kl", "val/accuracy": "val_accuracy", "lr": "lr"}


def read_log(run: Path) -> EventAccumulator:
    """Every event file of the run folder, as ``tensorboard --logdir`` reads it (nothing sampled away)."""
    return EventAccumulator(str(run), size_guidance={"scalars": 0, "tensors": 0}).Reload()


def event_files(run: Path) -> list[str]:
    return sorted(p.name for p in run.iterdir() if "tfevents" in p.name)


def steps(log: EventAccumulator, tag: str) -> list[int]:
    return [e.step for e in log.Scalars(tag)]


def history(run: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(open(run / "history.csv")))


def assert_epochs_match_the_history(log: EventAccumulator, run: Path) -> None:
    rows = history(run)
    for tag, column in EPOCH_TAGS.items():
        assert steps(log, tag) == [int(r["global_step"]) for r in rows], tag
        assert [e.value for e in log.Scalars(tag)] == pytest.approx([float(r[column]) for r in rows], rel=1e-5), tag


def test_the_log_holds_the_history_the_steps_and_the_previews(tmp_path: Path) -> None:
    run = tmp_path / "run"
    seen_live = []
    events = []
    for event in train(tiny(run, preview_every_steps=2)):
        events.append(event)
        if isinstance(event, EpochEnded) and event.epoch == 0:
            seen_live = steps(read_log(run), "train/loss")  # flushed at the epoch's end: a live TensorBoard sees it
    assert events[-1].status == "completed"
    assert not [e for e in events if isinstance(e, RunWarning)]
    assert seen_live == [3]

    assert len(event_files(run)) == 1
    log = read_log(run)
    scalars = set(log.Tags()["scalars"])
    assert scalars == {*EPOCH_TAGS, "step/loss", "step/chamfer", "step/kl", "step/classifier_loss", "preview/chamfer"}
    assert_epochs_match_the_history(log, run)
    assert steps(log, "train/loss") == [3, 6]

    taken = [e for e in events if isinstance(e, StepEnded)]
    assert steps(log, "step/loss") == [s.global_step for s in taken] == list(range(1, 7))
    assert [e.value for e in log.Scalars("step/chamfer")] == pytest.approx([s.chamfer for s in taken], rel=1e-6)

    # The previews as point clouds for the mesh plugin: vertices (1, N, 3) and a colour per point.
    previews = [e for e in events if isinstance(e, PreviewReady)]
    clouds = log.Tensors("preview/reconstruction_1")
    assert [c.step for c in clouds] == [p.global_step for p in previews] == [2, 3, 4, 6]
    for cloud, preview in zip(clouds, previews):
        assert [d.size for d in cloud.tensor_proto.tensor_shape.dim] == [1, 128, 3]
        vertices = np.asarray(cloud.tensor_proto.float_val, dtype=np.float32).reshape(128, 3)
        assert np.array_equal(vertices, preview.reconstruction)
    colours = np.asarray(log.Tensors("preview/reconstruction_3")[0].tensor_proto.float_val).reshape(128, 3)
    assert (colours >= 0).all() and (colours <= 255).all() and len(np.unique(colours, axis=0)) == 1
    inputs = log.Tensors("preview/input_1")
    assert [c.step for c in inputs] == [2]  # the fixed shape, once
    assert np.array_equal(np.asarray(inputs[0].tensor_proto.float_val, dtype=np.float32).reshape(128, 3),
                          previews[0].input_points)
    assert [e.value for e in log.Scalars("preview/chamfer")] == pytest.approx([p.chamfer for p in previews], rel=1e-6)


def test_without_validation_or_classifier_their_tags_are_left_out(tmp_path: Path) -> None:
    run = tmp_path / "run"
    list(train(tiny(run, epochs=1, val_split="", classifier_weight=0.0)))
    scalars = set(read_log(run).Tags()["scalars"])
    assert {"train/loss", "train/chamfer", "train/kl", "lr", "step/loss"} <= scalars
    assert not scalars & {"val/chamfer", "val/accuracy", "train/accuracy", "train/classifier_loss",
                          "step/classifier_loss"}


@pytest.mark.parametrize("stop_after", [3, 4], ids=["at-the-epoch-end", "mid-epoch"])
def test_a_resumed_run_continues_the_stream_without_repeating_a_step(tmp_path: Path, stop_after: int) -> None:
    run = tmp_path / "run"
    control = TaskControl()
    for event in train(tiny(run), control):
        if isinstance(event, StepEnded) and event.global_step == stop_after:
            control.stop()
    assert event.status == "stopped"
    resumed = list(train(settings_for_resume(run, {}), resume=True))
    assert resumed[-1].status == "completed"

    assert len(event_files(run)) == 2  # one per session, read as one stream
    log = read_log(run)
    assert steps(log, "step/loss") == list(range(1, 7))
    assert steps(log, "train/loss") == [3, 6]
    assert_epochs_match_the_history(log, run)


def test_what_an_abandoned_session_logged_past_its_checkpoint_is_dropped(tmp_path: Path) -> None:
    """A session that ends without saving (killed; here its generator is closed) logged steps that no
    checkpoint holds; the next session starts again from the checkpoint and TensorBoard keeps only its steps."""
    run = tmp_path / "run"
    control = TaskControl()
    for event in train(tiny(run), control):
        if isinstance(event, StepEnded) and event.global_step == 4:
            control.stop()
    abandoned = train(settings_for_resume(run, {}), resume=True)
    for event in abandoned:
        if isinstance(event, StepEnded) and event.global_step == 6:
            break
    abandoned.close()  # no checkpoint of steps 5 and 6; the log closes all the same
    assert steps(read_log(run), "step/loss") == list(range(1, 7))

    final = list(train(settings_for_resume(run, {}), resume=True))
    assert final[-1].status == "completed"
    assert len(event_files(run)) == 3
    log = read_log(run)
    redone = {s.global_step: s.loss for s in final if isinstance(s, StepEnded)}
    assert steps(log, "step/loss") == list(range(1, 7))
    assert [e.value for e in log.Scalars("step/loss")][4:] == pytest.approx([redone[5], redone[6]], rel=1e-6)
    assert_epochs_match_the_history(log, run)


def test_event_files_of_sessions_in_one_second_sort_in_their_order(tmp_path: Path) -> None:
    names = []
    for first_step in (1, 5, 5):
        path = tensorboard_log.event_file_name(tmp_path, first_step)
        path.touch()
        names.append(path.name)
    if len({name.split(".")[3] for name in names}) == 1:  # the same second: the step, then a count order them
        assert sorted(names) == names and len(set(names)) == 3


@pytest.fixture(params=["a folder in its place", "a full disk"])
def unwritable_log(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The event file cannot be opened (its name is a folder), or each write fails with ENOSPC (/dev/full)."""
    if request.param == "a folder in its place":
        target = tmp_path / "blocked"
        target.mkdir()
    else:
        target = Path("/dev/full")
        if not target.exists():
            pytest.skip("no /dev/full on this system")
    monkeypatch.setattr(tensorboard_log, "event_file_name", lambda folder, first_step: target)
    return target


def test_an_unwritable_log_warns_once_and_training_goes_on(tmp_path: Path, unwritable_log: Path) -> None:
    run = tmp_path / "run"
    events = list(train(tiny(run, preview_every_steps=1)))
    warnings = [e for e in events if isinstance(e, RunWarning)]
    assert len(warnings) == 1
    message = warnings[0].message
    assert "\n" not in message and str(unwritable_log) in message and "TensorBoard" in message
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"
    assert [int(r["epoch"]) for r in history(run)] == [1, 2]
    assert {"last.pt", "best.pt", "history.csv", "run.json"} <= set(os.listdir(run))
    assert len([e for e in events if isinstance(e, StepEnded)]) == 6


def test_the_command_line_prints_the_warning_as_one_line(tmp_path: Path, unwritable_log: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from vaeviewer.cli import main

    status = main(["train", "--data", "builtin", "--out", str(tmp_path / "run"), "--epochs", "1", "--batch-size", "8",
                   "--points", "128", "--latent-dim", "16", "--max-shapes", "24", "--device", "cpu"])
    assert status == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("vaeviewer: warning: ") and "TensorBoard" in warnings[0]
