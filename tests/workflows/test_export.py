"""Exporting an interpolation: progress events, the written file, cancelling, bad options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vaeviewer.errors import OptionError
from vaeviewer.model import ModelConfig, PointCloudVAE
from vaeviewer.training import TaskControl
from vaeviewer.workflows.export import ExportProgress, export_interpolation

SIZE = 64


@pytest.fixture(scope="module")
def model() -> PointCloudVAE:
    torch.manual_seed(0)
    return PointCloudVAE(ModelConfig(num_points=256, latent_dim=8)).eval()


@pytest.fixture(scope="module")
def shapes() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.uniform(-0.6, 0.6, size=(256, 3)) * np.array([1.0, 0.3, 0.3])
    b = rng.uniform(-0.6, 0.6, size=(256, 3)) * np.array([0.3, 1.0, 0.3])
    return a.astype(np.float32), b.astype(np.float32)


def test_export_reports_every_frame_and_writes_them_all(model: PointCloudVAE, shapes: tuple, tmp_path: Path) -> None:
    out = tmp_path / "morph.gif"
    events = list(export_interpolation(model, *shapes, out, steps=4, fps=20, size=SIZE, layout="triptych",
                                       pingpong=True, method="slerp"))
    assert all(isinstance(e, ExportProgress) and e.total == 6 for e in events)
    assert [e.stage for e in events] == ["decoding"] + ["rendering"] * 6 + ["writing", "done"]
    assert [e.frame for e in events if e.stage == "rendering"] == [1, 2, 3, 4, 5, 6]
    assert events[-1].path == out and sorted(p.name for p in tmp_path.iterdir()) == ["morph.gif"]
    with Image.open(out) as gif:
        assert gif.n_frames == 6 and gif.size == (3 * SIZE, SIZE) and gif.info["loop"] == 0
        durations = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
    assert durations == [50] * 6


def test_cancel_between_frames_writes_nothing(model: PointCloudVAE, shapes: tuple, tmp_path: Path) -> None:
    control = TaskControl()
    events = []
    for event in export_interpolation(model, *shapes, tmp_path / "morph.mp4", steps=5, size=SIZE, control=control):
        events.append(event)
        if event.stage == "rendering" and event.frame == 2:
            control.stop()
    assert [e.stage for e in events] == ["decoding", "rendering", "rendering", "cancelled"]
    assert events[-1].frame == 2 and events[-1].path is None
    assert list(tmp_path.iterdir()) == []


def test_a_paused_export_waits_and_then_finishes(model: PointCloudVAE, shapes: tuple, tmp_path: Path) -> None:
    control = TaskControl()
    control.pause()
    stages = []
    for event in export_interpolation(model, *shapes, tmp_path / "morph.gif", steps=2, size=32, control=control):
        stages.append(event.stage)
        if event.stage == "paused":
            control.resume()  # before asking for the next event, so the wait ends at once
    assert stages == ["decoding", "paused", "rendering", "rendering", "writing", "done"]
    assert [p.name for p in tmp_path.iterdir()] == ["morph.gif"]


def test_closing_the_generator_early_writes_nothing(model: PointCloudVAE, shapes: tuple, tmp_path: Path) -> None:
    events = export_interpolation(model, *shapes, tmp_path / "morph.gif", steps=5, size=SIZE)
    for event in events:
        if event.stage == "rendering":
            break
    assert any(tmp_path.iterdir()), "a temporary file is being written"
    events.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"out": "morph.png"}, "morph.png: unknown animation format"),
        ({"steps": 1}, "--steps 1"),
        ({"fps": 100}, "--fps 100"),
        ({"size": 8}, "--size 8"),
        ({"method": "cubic"}, "--method cubic"),
        ({"layout": "grid"}, "--layout grid"),
        ({"up": "x"}, "--up x"),
    ],
)
def test_bad_options_fail_before_any_work(
    model: PointCloudVAE, shapes: tuple, tmp_path: Path, options: dict, fragment: str
) -> None:
    out = tmp_path / options.pop("out", "morph.gif")
    with pytest.raises(OptionError, match=fragment):
        export_interpolation(model, *shapes, out, **options)  # raises before the first next()
    assert list(tmp_path.iterdir()) == []
