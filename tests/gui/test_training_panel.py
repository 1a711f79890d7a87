"""The Training panel: real runs on a tiny built-in subset, driven from its widgets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.pixels import _greenish, _greyish, _pixels
from vaeviewer.gui.panels.training import TrainingPanel
from vaeviewer.gui.workers import live_workers
from vaeviewer.model import load_checkpoint
from vaeviewer.training import (
    PreviewReady,
    RunPaused,
    RunResumed,
    RunStarted,
    StepEnded,
    TrainSettings,
    train,
)

# Runs here take a second or two per epoch: 16 shapes of 128 points, two steps of 8 per epoch.
RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def panel(qtbot, session, viewport):
    panel = TrainingPanel(session, viewport)
    qtbot.addWidget(panel)
    panel.resize(420, 900)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel
    panel.shutdown()


def fill_form(
    panel: TrainingPanel, out: Path, *, epochs: int = 2, preview_every: int | None = 1, validation: str = "test",
    points: str = "128", latent: int = 16, shapes: int = 16, lr: str | None = "1e-3",
) -> None:
    """Set up a tiny run through the form's widgets (None leaves that field at the form's default)."""
    panel.form.input("epochs").setValue(epochs)
    panel.form.input("batch_size").setValue(8)
    if lr is not None:
        panel.form.input("lr").setText(lr)
    panel.form.input("num_points").setCurrentText(points)
    panel.form.input("latent_dim").setValue(latent)
    panel.form.input("max_shapes").setValue(shapes)
    panel.form.input("val_split").setCurrentText(validation)
    panel.form.input("device").setCurrentText("cpu")
    if preview_every is not None:
        panel.form.input("preview_every_steps").setValue(preview_every)
    panel.out_edit.setText(str(out))


def is_event(kind):
    return lambda event: isinstance(event, kind)


def test_start_pause_resume_stop_and_resume_the_run(qtbot, panel, viewport, tmp_path):
    out = tmp_path / "run"
    fill_form(panel, out, epochs=50)
    panel.set_active(True)

    with qtbot.waitSignal(panel.run_event, timeout=RUN_TIMEOUT_MS, check_params_cb=is_event(RunStarted)):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        assert panel.state == "running" and panel.is_running
        assert not panel.start_button.isEnabled() and panel.pause_button.isEnabled()
        assert panel.stop_button.isEnabled() and not panel.resume_button.isEnabled()
        assert not panel.form.input("epochs").isEnabled()
    qtbot.waitUntil(lambda: panel.record.global_step >= 1, timeout=RUN_TIMEOUT_MS)
    # How long the event loop goes without a turn during a run is a benchmark (benchmarks/window.py, "responsive").
    qtbot.waitUntil(lambda: panel.record.global_step >= 4 and panel.preview_shown is not None, timeout=RUN_TIMEOUT_MS)

    with qtbot.waitSignal(panel.run_event, timeout=RUN_TIMEOUT_MS, check_params_cb=is_event(RunPaused)) as paused:
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
        assert panel.resume_button.isEnabled() and not panel.pause_button.isEnabled()
    assert panel.state == "paused"
    steps = panel.record.global_step
    assert steps == paused.args[0].global_step
    qtbot.wait(400)  # the event loop runs on; the run must not
    assert panel.record.global_step == steps
    assert "paused" in panel.progress_label.text()

    with qtbot.waitSignal(panel.run_event, timeout=RUN_TIMEOUT_MS, check_params_cb=is_event(RunResumed)):
        qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    assert panel.state == "running"
    qtbot.waitUntil(lambda: panel.record.global_step > steps + 1, timeout=RUN_TIMEOUT_MS)

    # The preview of the fixed shape: grey input on the left, green reconstruction on the right.
    qtbot.waitUntil(lambda: panel.preview_shown is not None, timeout=RUN_TIMEOUT_MS)
    preview = panel.preview_shown
    assert isinstance(preview, PreviewReady) and preview.input_points.shape == (128, 3)
    pixels = _pixels(viewport.image())
    half = pixels.shape[1] // 2
    assert _greyish(pixels[:, :half]) > 100 and _greenish(pixels[:, :half]) == 0
    assert _greenish(pixels[:, half:]) > 100
    caption = viewport.panes[1].caption
    assert caption.startswith(f"epoch {preview.epoch + 1}, step {preview.global_step} · Chamfer")

    # Progress and live curves.
    qtbot.waitUntil(lambda: "ETA" in panel.progress_label.text(), timeout=5_000)
    assert panel.progress.maximum() == 50 * 2 and panel.progress.value() >= steps
    x, y = panel.plots.curves["chamfer"].xData, panel.plots.curves["chamfer"].yData
    assert len(x) >= 3 and np.all(y > 0)
    assert len(panel.plots.curves["kl"].getData()[0]) >= 3

    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    finished = panel.record.finished
    assert finished is not None and finished.status == "stopped"
    assert panel.state == "idle" and not panel.is_running and not live_workers()
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    stopped = load_checkpoint(out / "last.pt")
    assert stopped.global_step == finished.global_step
    assert str(out / "last.pt") in panel.checkpoint_paths()
    # The stopped run is offered for resuming, and Start continues it where it stopped.
    assert panel.resume_check.isChecked()
    assert not panel.form.input("num_points").isEnabled()  # fixed by the run
    with qtbot.waitSignal(panel.run_event, timeout=RUN_TIMEOUT_MS, check_params_cb=is_event(RunStarted)) as started:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert started.args[0].resumed
    with qtbot.waitSignal(panel.run_event, timeout=RUN_TIMEOUT_MS, check_params_cb=is_event(StepEnded)) as step:
        pass
    assert step.args[0].global_step == finished.global_step + 1
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS):
        panel.stop()
    assert panel.record.finished.status == "stopped"


def test_a_finished_run_lists_its_checkpoints_and_loads_one_into_the_viewer(qtbot, panel, session, tmp_path):
    out = tmp_path / "run"
    fill_form(panel, out, epochs=1, preview_every=0)
    errors = []
    panel.error.connect(errors.append)
    model_before = session.model
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not errors
    assert panel.record.finished.status == "completed"
    assert [Path(p).name for p in panel.checkpoint_paths()] == ["last.pt", "best.pt"]
    assert panel.record.preview is not None  # at the epoch's end, even with step previews off
    assert len(panel.plots.curves["val_chamfer"].getData()[0]) == 1
    assert not panel.resume_check.isChecked()

    panel.checkpoints.list.setCurrentRow(1)
    with qtbot.waitSignal(panel.status):
        qtbot.mouseClick(panel.checkpoints.load_button, Qt.MouseButton.LeftButton)
    assert session.model is not model_before
    assert session.model.config.latent_dim == 16 and session.model.config.num_points == 128
    assert Path(session.checkpoint_path) == (out / "best.pt").resolve()

    # A second Start in the folder the panel chose itself takes a fresh folder; in the user's own it refuses.
    with qtbot.waitSignal(panel.error) as refused:
        panel.start()
    assert "already holds a run" in refused.args[0] and not panel.is_running


def test_a_bad_setting_is_an_error_and_starts_nothing(qtbot, panel, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    fill_form(panel, tmp_path / "file")
    with qtbot.waitSignal(panel.error) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "is a file" in blocker.args[0]
    assert not panel.is_running and not live_workers() and panel.state == "idle"

    fill_form(panel, tmp_path / "run")
    panel.form.input("lr").setText("fast")
    with qtbot.waitSignal(panel.error) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "Learning rate" in blocker.args[0] and not live_workers()

    panel.form.input("lr").setText("0")
    with qtbot.waitSignal(panel.error) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == "Learning rate must be positive"  # the form's words, not the command line's --lr


def test_the_form_has_a_row_for_every_setting_with_the_command_lines_help(panel):
    from vaeviewer.training.settings import SETTINGS

    for entry in SETTINGS:
        if entry.name in ("data", "out_dir"):
            continue  # rows of the panel's own: the window's data set, the folder with its Browse button
        tip = panel.form.input(entry.name).toolTip()
        assert tip.lower() == entry.help.lower(), entry.name
    panel.resume_check.setEnabled(True)
    panel.resume_check.setChecked(True)
    fixed = {entry.name for entry in SETTINGS if entry.fixed_on_resume and entry.name not in ("data", "out_dir")}
    assert fixed and all(not panel.form.input(name).isEnabled() for name in fixed)
    assert panel.form.input("epochs").isEnabled() and panel.form.input("lr").isEnabled()


def test_an_error_in_the_worker_is_reported_and_the_panel_goes_back_to_idle(qtbot, panel, tmp_path):
    fill_form(panel, tmp_path / "run", epochs=1)
    panel.form.input("max_shapes").setValue(1)  # passes the form's checks; the loop refuses it after reading the data
    with qtbot.waitSignal(panel.error, timeout=RUN_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "at least 2 shapes" in blocker.args[0]
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=RUN_TIMEOUT_MS)
    assert not live_workers() and panel.start_button.isEnabled()


def test_shutdown_mid_run_saves_and_leaves_no_thread(qtbot, session, viewport, tmp_path):
    panel = TrainingPanel(session, viewport)
    qtbot.addWidget(panel)
    out = tmp_path / "run"
    fill_form(panel, out, epochs=50)
    panel.start()
    qtbot.waitUntil(lambda: panel.record.global_step >= 1, timeout=RUN_TIMEOUT_MS)
    panel.shutdown()
    assert not live_workers() and not panel.is_running
    assert panel.record.finished is not None and panel.record.finished.status == "stopped"
    assert load_checkpoint(out / "last.pt").global_step >= 1


def test_open_run_follows_a_folder_written_by_another_process(qtbot, panel, tmp_path):
    out = tmp_path / "cli-run"
    settings = TrainSettings(data="builtin", out_dir=str(out), epochs=1, batch_size=8, num_points=128, latent_dim=16,
                             max_shapes=16, device="cpu", val_split="")
    list(train(settings))
    panel.follow_run(out)
    assert panel.followed_run == out
    assert [Path(p).name for p in panel.checkpoint_paths()] == ["last.pt", "best.pt"]
    assert len(panel.plots.curves["chamfer"].getData()[0]) == 1
    assert "epoch 1/1" in panel.progress_label.text()

    # The other process trains on: the panel notices the new history.csv by itself.
    list(train(settings.with_changes(epochs=2), resume=True))
    qtbot.waitUntil(lambda: len(panel.plots.curves["chamfer"].getData()[0]) == 2, timeout=10_000)
    assert "epoch 2/2" in panel.progress_label.text()

    with qtbot.waitSignal(panel.error) as blocker:
        panel.follow_run(tmp_path / "nothing-here")
    assert "not a folder" in blocker.args[0]


def _tiny_run(folder: Path, epochs: int, resume: bool = False) -> None:
    from vaeviewer.training import settings_for_resume

    settings = (settings_for_resume(folder, {"epochs": epochs}) if resume else
                TrainSettings(data="builtin", out_dir=str(folder), epochs=epochs, batch_size=8, num_points=128,
                              latent_dim=16, max_shapes=16, device="cpu", seed=1))
    assert list(train(settings, resume=resume))[-1].status == "completed"


def test_runs_laid_over_the_curves_one_colour_each_and_a_live_one_grows(qtbot, panel, tmp_path):
    from vaeviewer.training import History

    first, second = tmp_path / "first", tmp_path / "second"
    _tiny_run(first, 2)
    _tiny_run(second, 1)
    overlays = panel.overlays
    with qtbot.waitSignal(overlays.changed):
        assert overlays.add_run(first)
    assert overlays.add_run(second)
    assert [overlays.list.item(k).text() for k in range(2)] == ["first", "second"]
    drawn = panel.plots.overlays
    assert set(drawn) == {"first", "second"}
    history = History.read_csv(first / "history.csv")
    chamfer = drawn["first"][0]
    np.testing.assert_allclose(chamfer.xData, history.columns["global_step"])
    np.testing.assert_allclose(chamfer.yData, history.columns["train_chamfer"])
    colours = {drawn[name][0].opts["pen"].color().name() for name in drawn}
    assert len(colours) == 2  # one colour a run
    legend = [label.text for _, label in panel.plots.loss_plot.legend.items]
    assert "first" in legend and "second" in legend

    # The second run goes on (another process, resumed): its curve grows at the next look.
    _tiny_run(second, 3, resume=True)
    with qtbot.waitSignal(overlays.changed, timeout=10_000):
        overlays.poll()
    assert len(drawn["second"][0].xData) == 3

    overlays.list.setCurrentRow(0)
    qtbot.mouseClick(overlays.remove_button, Qt.MouseButton.LeftButton)
    assert set(panel.plots.overlays) == {"second"}
    assert "first" not in [label.text for _, label in panel.plots.loss_plot.legend.items]

    errors = []
    overlays.error.connect(errors.append)
    assert not overlays.add_run(tmp_path)
    assert len(errors) == 1 and str(tmp_path) in errors[0] and "history.csv" in errors[0]


def test_the_buttons_stay_put_across_tabs_and_the_progress_reads_clearly(qtbot, panel, tmp_path):
    from PySide6.QtCore import QPoint

    def places() -> list[int]:
        return [button.mapTo(panel, QPoint(0, 0)).y() for button in
                (panel.start_button, panel.pause_button, panel.resume_button, panel.stop_button)] + [
            panel.progress.mapTo(panel, QPoint(0, 0)).y(), panel.progress_label.mapTo(panel, QPoint(0, 0)).y()]

    tab_bar = panel.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(0).center())
    settings_places = places()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(1).center())
    assert panel.tabs.currentIndex() == 1 and places() == settings_places

    legend = [label.text for _, label in panel.plots.loss_plot.legend.items]
    assert any("total" in text and "Chamfer + β·KL" in text and "classifier" in text for text in legend)

    fill_form(panel, tmp_path / "run", epochs=1, preview_every=0)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.progress.isTextVisible()  # no text over the bar's fill: the numbers are in the label
    assert panel.progress_label.text().startswith("100 % · ")
    assert places() == settings_places
