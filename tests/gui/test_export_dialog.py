"""The export dialog: GIF and MP4 files with the command line's options, cancelling, errors, a live window."""

from __future__ import annotations

import time

import numpy as np
import pytest


@pytest.fixture
def dialog(qtbot, session):
    """A shown export dialog for shapes 0 and 1, shut down afterwards."""
    from vaeviewer.gui.export_dialog import ExportDialog

    dialog = ExportDialog(session, steps=6, fps=10)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    dialog.shutdown()
    dialog.close()


def _export(dialog, qtbot, path, **options):
    dialog.path_edit.setText(str(path))
    dialog.size_box.setValue(options.pop("size", 64))
    for name, value in options.items():
        widget = getattr(dialog, name)
        if hasattr(widget, "setChecked"):
            widget.setChecked(value)
        elif hasattr(widget, "setCurrentText"):
            widget.setCurrentText(value)
        else:
            widget.setValue(value)
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as blocker:
        dialog.export_button.click()
        assert dialog.is_running and not dialog.export_button.isEnabled()
    assert blocker.args == [str(path)]
    assert not dialog.is_running


def test_export_writes_a_gif_with_one_frame_per_step(dialog, qtbot, tmp_path):
    from PIL import Image

    target = tmp_path / "a.gif"
    _export(dialog, qtbot, target)
    with Image.open(target) as gif:
        assert gif.n_frames == 6
        assert gif.size == (64, 64)
    assert sorted(tmp_path.iterdir()) == [target]  # no temporary file left beside it
    assert (dialog.progress_bar.value(), dialog.progress_bar.maximum()) == (6, 6)
    assert str(target) in dialog.stage_label.text()
    assert dialog.cancel_button.isEnabled() is False


def test_ping_pong_triptych_slerp_gif(dialog, qtbot, tmp_path):
    from PIL import Image

    target = tmp_path / "b.gif"
    _export(dialog, qtbot, target, pingpong_check=True, layout_combo="triptych", method_combo="slerp",
            orbit_check=True)
    with Image.open(target) as gif:
        assert gif.n_frames == 2 * 6 - 2
        assert gif.size == (3 * 64, 64)


def test_export_writes_an_mp4(dialog, qtbot, tmp_path):
    import imageio_ffmpeg

    target = tmp_path / "c.mp4"
    _export(dialog, qtbot, target, fps_box=24.0)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(target))
    assert frames == 6
    reader = imageio_ffmpeg.read_frames(str(target))
    meta = next(reader)
    reader.close()
    assert tuple(meta["size"]) == (64, 64)
    assert sorted(tmp_path.iterdir()) == [target]


def test_cancel_mid_export_writes_nothing(dialog, qtbot, tmp_path):
    dialog.steps_box.setValue(40)
    dialog.path_edit.setText(str(tmp_path / "d.gif"))
    dialog.size_box.setValue(64)
    # Cancel right after the second frame is written: deterministic, whatever the machine's speed.
    dialog.progress_bar.valueChanged.connect(lambda frame: frame == 2 and dialog.cancel_button.click())
    with qtbot.waitSignal(dialog.cancelled, timeout=60_000):
        dialog.export_button.click()
    assert not dialog.is_running
    assert list(tmp_path.iterdir()) == []
    assert dialog.progress_bar.value() == 2
    assert "nothing was written" in dialog.stage_label.text()


def test_cancel_while_decoding_writes_nothing(dialog, qtbot, tmp_path):
    dialog.path_edit.setText(str(tmp_path / "e.gif"))
    with qtbot.waitSignal(dialog.cancelled, timeout=60_000):
        dialog.export_button.click()
        dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=10_000)
    assert list(tmp_path.iterdir()) == []


def test_closing_the_dialog_mid_export_cancels_it_at_once(dialog, qtbot, tmp_path):
    dialog.steps_box.setValue(40)
    dialog.path_edit.setText(str(tmp_path / "f.mp4"))
    dialog.size_box.setValue(64)
    cancelled = []
    dialog.cancelled.connect(lambda: cancelled.append(True))
    with qtbot.waitSignal(dialog.progress_bar.valueChanged, check_params_cb=lambda frame: frame == 3, timeout=60_000):
        dialog.export_button.click()
    dialog.close()
    assert cancelled == [True] and not dialog.isVisible() and not dialog.is_running
    assert list(tmp_path.iterdir()) == []  # the temporary file went with the close, not later


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a.txt", "unknown animation format '.txt'"),
        ("not_a_folder/a.gif", "cannot write"),
        ("", "choose the file"),
    ],
)
def test_a_wrong_path_shows_one_line_in_the_dialog(dialog, tmp_path, name, message):
    (tmp_path / "not_a_folder").write_text("a file, not a folder")
    dialog.path_edit.setText(str(tmp_path / name) if name else "")
    dialog.export_button.click()
    assert not dialog.is_running
    assert dialog.error_label.isVisible()
    assert message in dialog.error_label.text() and "\n" not in dialog.error_label.text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_folder"]


def test_a_gif_faster_than_50_fps_is_refused_and_the_error_clears_on_success(dialog, qtbot, tmp_path):
    dialog.path_edit.setText(str(tmp_path / "g.gif"))
    dialog.fps_box.setValue(60)
    dialog.export_button.click()
    assert "--fps 60" in dialog.error_label.text()
    _export(dialog, qtbot, tmp_path / "g.gif", fps_box=50.0)
    assert not dialog.error_label.isVisible()


def test_the_window_stays_responsive_while_exporting(dialog, qtbot, tmp_path):
    """Between two frames the event loop runs: no gap over 150 ms at 256 px once the first frame is out.

    The first frame of every export waits for the off-screen renderer to start (a new
    OpenGL context and its shaders: 0.3 to 0.5 s here, seconds the first time in a process),
    which :func:`~vaeviewer.render.animation.interpolation_frames` does in one call. The
    decoding before it runs on a worker thread and costs the event loop nothing.
    """
    from PySide6.QtCore import QTimer

    _export(dialog, qtbot, tmp_path / "warm.gif")  # the first off-screen window of the process is slower still
    ticks, first_frame_at = [], []
    timer = QTimer(dialog)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    dialog.progress_bar.valueChanged.connect(
        lambda frame: frame == 1 and not first_frame_at and first_frame_at.append(time.perf_counter()))
    timer.start()
    try:
        started = time.perf_counter()
        # 96 frames: long enough (a few hundred ms) for the 10 ms timer to tick between many of them.
        _export(dialog, qtbot, tmp_path / "h.gif", size=256, steps_box=96)
    finally:
        timer.stop()
    ticks = np.array(ticks)
    steady = np.diff(ticks[ticks >= first_frame_at[0]])
    assert len(steady) > 10
    assert steady.max() < 0.150, f"the event loop stalled for {steady.max() * 1000:.0f} ms between frames"
    # The stall that the renderer's start-up causes ends with the first tick after the first frame.
    startup = np.diff(ticks[: np.searchsorted(ticks, first_frame_at[0]) + 1]).max(initial=0.0)
    print(f"export at 256 px: first frame after {(first_frame_at[0] - started) * 1000:.0f} ms, longest stall "
          f"before it {startup * 1000:.0f} ms, longest between frames {steady.max() * 1000:.0f} ms")
