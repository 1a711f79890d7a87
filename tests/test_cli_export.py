"""``vaeviewer export-gif`` end to end, in a subprocess, with a tiny untrained model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.test_cli import assert_user_error, vaeviewer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised small model: untrained, it still decodes a distinct cloud for every code."""
    import torch

    from vaeviewer.model import Checkpoint, ModelConfig, PointCloudVAE, save_checkpoint

    torch.manual_seed(0)
    model = PointCloudVAE(ModelConfig(num_points=256, latent_dim=8))
    path = tmp_path_factory.mktemp("export") / "tiny.pt"
    save_checkpoint(path, Checkpoint(config=model.config, model_state=model.state_dict()))
    return path


def test_export_gif_writes_a_looping_triptych(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "chairs.gif"
    result = vaeviewer("export-gif", "--checkpoint", str(checkpoint), "--from", "100", "--to", "-1", "--steps", "3",
                       "--size", "64", "--layout", "triptych", "--pingpong", "--fps", "8", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (4 frames, 192x64, 8 fps" in result.stderr
    assert "Traceback" not in result.stderr
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size, gif.info["loop"], gif.info["duration"]) == (4, (192, 64), 0, 120)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chairs.gif"]


def test_export_gif_also_saves_its_decoded_frames_as_clouds(checkpoint: Path, tmp_path: Path) -> None:
    import numpy as np

    from vaeviewer.data.shape_files import read_shape_file

    frames = tmp_path / "frames"
    result = vaeviewer("export-gif", "--checkpoint", str(checkpoint), "--from", "0", "--to", "30", "--steps", "5",
                       "--size", "64", "--out", str(tmp_path / "a.gif"), "--save-clouds", str(frames))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in frames.iterdir())
    assert names == [f"frame_{k:03d}.ply" for k in range(5)]
    clouds = [read_shape_file(frames / name).vertices for name in names]
    assert all(cloud.shape == (256, 3) for cloud in clouds)
    assert not np.allclose(clouds[0], clouds[-1])  # the path moves from A to B
    assert b"frame 2 of 5" in (frames / "frame_002.ply").read_bytes()[:300]


def test_export_mp4_with_orbit_and_slerp(checkpoint: Path, tmp_path: Path) -> None:
    import imageio_ffmpeg

    out = tmp_path / "orbit.mp4"
    result = vaeviewer("export-gif", "--checkpoint", str(checkpoint), "--split", "train", "--from", "0", "--to", "5",
                       "--steps", "3", "--size", "48", "--method", "slerp", "--orbit", "--up", "z", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 3


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--from", "0", "--to", "1", "--out", "{tmp}/clip.webm"], ["clip.webm", "unknown animation format"]),
        (["--from", "0", "--to", "100000", "--out", "{tmp}/clip.gif"], ["--to 100000 is out of range"]),
        (["--from", "0", "--to", "1", "--out", "{tmp}/file/clip.gif"], ["file/clip.gif: cannot write"]),
        (["--from", "0", "--out", "{tmp}/clip.gif"], ["--to"]),
        (["--from", "0", "--to", "1", "--layout", "grid", "--out", "{tmp}/clip.gif"], ["--layout"]),
    ],
)
def test_user_mistakes_give_one_line_and_status_2(
    checkpoint: Path, tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    (tmp_path / "file").write_text("x")
    result = vaeviewer("export-gif", "--checkpoint", str(checkpoint), *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_user_error(result, *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_ctrl_c_cancels_and_writes_nothing(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "long.gif"
    process = subprocess.Popen(
        [sys.executable, "-m", "vaeviewer", "export-gif", "--checkpoint", str(checkpoint), "--from", "0", "--to", "1",
         "--steps", "400", "--size", "32", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".long.gif.tmp-*")):  # frames are being written
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "export cancelled; nothing written" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []
