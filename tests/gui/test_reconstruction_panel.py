"""The reconstruction panel on the bundled model and the built-in shapes: modes, numbers, keys, samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from tests.gui.test_viewport import _greenish, _greyish, _pixels
from vaeviewer.gui.panels.reconstruction import MAX_SAMPLES, ReconstructionPanel, sample_colors
from vaeviewer.render.colors import ERROR_TITLE, INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.workflows.reconstruct import reconstruct_shape


@pytest.fixture
def panel(qtbot, session, viewport):
    view = ReconstructionPanel(session, viewport)
    qtbot.addWidget(view)
    yield view
    view.shutdown()


@pytest.fixture
def active(panel):
    panel.set_active(True)
    return panel


def _bluish(pixels: np.ndarray) -> int:
    """Pixels of viridis' dark and middle part (purple, blue, teal): blue well above red."""
    r, b = pixels[..., 0].astype(int), pixels[..., 2].astype(int)
    return int((b - r > 30).sum())


def _layer_points(viewport) -> list[np.ndarray]:
    return [np.asarray(layer.points) for pane in viewport.panes for layer in pane.layers]


def test_overlay_draws_grey_input_and_green_reconstruction(active, viewport, session):
    pane, = viewport.panes
    assert [layer.color for layer in pane.layers] == [INPUT_GREY, RECONSTRUCTION_GREEN]
    pixels = _pixels(viewport.image())
    assert _greyish(pixels) > 500 and _greenish(pixels) > 500
    assert _bluish(pixels) == 0
    expected = reconstruct_shape(session.model, session.split, session.selection, session.checkpoint.class_names)
    assert active.chamfer == pytest.approx(expected.chamfer, rel=1e-6)
    assert active._chamfer_label.text() == f"{expected.chamfer:.5f}"
    assert pane.caption == f"{expected.class_name} {session.selection} · Chamfer {expected.chamfer:.5f}"
    assert f"predicted: {expected.predicted_class}" in pane.footer
    assert expected.class_name in active._class_label.text()
    assert f"predicted {expected.predicted_class}" in active._class_label.text()
    np.testing.assert_array_equal(pane.layers[1].points, expected.reconstruction)


def test_side_by_side_puts_input_left_and_reconstruction_right(active, viewport):
    active.set_mode("side")
    left, right = viewport.panes
    assert (left.caption, right.caption) == ("input", "reconstruction")
    pixels = _pixels(viewport.image())
    half = pixels.shape[1] // 2
    assert _greyish(pixels[:, :half]) > 500 and _greenish(pixels[:, :half]) == 0
    assert _greenish(pixels[:, half:]) > 500
    cameras = [viewport.interactor.renderers[k].GetActiveCamera() for k in (0, 1)]
    assert cameras[0] is cameras[1]


def test_error_mode_colours_both_clouds_on_one_scale_with_a_colour_bar(active, viewport):
    active.set_mode("error")
    assert active._mode_box.currentText() == "Error"
    left, right = viewport.panes
    (input_layer,), (output_layer,) = left.layers, right.layers
    result = active.result
    np.testing.assert_array_equal(input_layer.scalars, result.input_error)
    np.testing.assert_array_equal(output_layer.scalars, result.reconstruction_error)
    both = np.concatenate([result.input_error, result.reconstruction_error])
    assert input_layer.clim == output_layer.clim == pytest.approx((0.0, float(np.percentile(both, 99))))
    assert input_layer.scalar_title == output_layer.scalar_title == ERROR_TITLE
    assert viewport.scene_panes[1].bar_shown and not viewport.scene_panes[0].bar_shown
    pixels = _pixels(viewport.image())
    half = pixels.shape[1] // 2
    assert _bluish(pixels[:, :half]) > 300 and _bluish(pixels[:, half:]) > 300
    # The colour bar's light end, a yellow, at the right edge.
    strip = pixels[:, int(pixels.shape[1] * 0.9) :].astype(int)
    yellow = (strip[..., 0] > 150) & (strip[..., 1] > 170) & (strip[..., 2] < 100)
    assert yellow.sum() > 20


def test_arrow_keys_step_through_the_split_and_redraw(qtbot, active, viewport, session):
    active.show()
    active.activateWindow()
    active.setFocus()
    qtbot.waitUntil(active.hasFocus, timeout=5000)
    before_points = _layer_points(viewport)[0].copy()
    before = _pixels(viewport.image())
    start = session.selection
    qtbot.keyClick(active, Qt.Key.Key_Right)
    assert session.selection == start + 1
    after_points = _layer_points(viewport)[0]
    assert not np.array_equal(before_points, after_points)
    np.testing.assert_array_equal(after_points, session.split.points(start + 1, session.num_points))
    assert (np.abs(_pixels(viewport.image()).astype(int) - before.astype(int)).max(axis=2) > 60).sum() > 200
    qtbot.keyClick(active, Qt.Key.Key_Left)
    assert session.selection == start
    np.testing.assert_array_equal(_layer_points(viewport)[0], before_points)
    active.step(-1)  # wraps to the end of the split
    assert session.selection == len(session.split) - 1
    assert active._shape_label.text() == session.shape_label(len(session.split) - 1)


def test_arrow_keys_in_the_viewport_work_only_while_the_panel_owns_it(qtbot, panel, viewport, session):
    viewport.activateWindow()
    viewport.interactor.setFocus()
    qtbot.waitUntil(viewport.interactor.hasFocus, timeout=5000)
    qtbot.keyClick(viewport.interactor, Qt.Key.Key_Right)
    assert session.selection == 0
    panel.set_active(True)
    qtbot.keyClick(viewport.interactor, Qt.Key.Key_Right)
    assert session.selection == 1
    panel.set_active(False)
    qtbot.keyClick(viewport.interactor, Qt.Key.Key_Right)
    assert session.selection == 1


def test_posterior_samples_differ_and_repeat_for_a_seed(active, viewport):
    mean = active.result.reconstruction
    drawn = active.sample_posterior(4, seed=11)
    assert drawn is not None and drawn.clouds.shape == (4, len(mean), 3)
    pane, = viewport.panes
    assert len(pane.layers) == 5 and pane.layers[0].color == INPUT_GREY
    clouds = [np.asarray(layer.points) for layer in pane.layers[1:]]
    assert len({layer.color for layer in pane.layers[1:]}) == 4
    for k, cloud in enumerate(clouds):
        assert not np.allclose(cloud, mean, atol=1e-4)
        for other in clouds[:k]:
            assert not np.allclose(cloud, other, atol=1e-4)
    assert "4 posterior samples, seed 11" in pane.caption
    assert all(f"{c:.5f}" in pane.footer for c in drawn.chamfer)
    pixels = _pixels(viewport.image())
    assert _greenish(pixels) > 500 and _greyish(pixels) > 300

    again = active.sample_posterior(4, seed=11)
    np.testing.assert_array_equal(again.clouds, drawn.clouds)
    fresh = active.sample_posterior(4)  # the next seed: new clouds
    assert fresh.seed == 12 and not np.allclose(fresh.clouds, drawn.clouds)

    active.set_mode("side")
    left, right = viewport.panes
    assert len(left.layers) == 1 and len(right.layers) == 4

    assert active._mean_button.isEnabled()
    active._mean_button.click()
    assert active.samples is None and not active._mean_button.isEnabled()
    assert [len(p.layers) for p in viewport.panes] == [1, 1]
    np.testing.assert_array_equal(viewport.panes[1].layers[0].points, mean)


def test_the_spin_box_sets_how_many_samples_a_click_draws(active, viewport):
    active._count.setValue(2)
    active._sample_button.click()
    assert len(active.samples.clouds) == 2 and len(viewport.panes[0].layers) == 3
    active.session.step_selection(1)  # another shape: back to its mean
    assert active.samples is None and len(viewport.panes[0].layers) == 2


def test_sample_colours_are_distinct_greens():
    assert sample_colors(1) == [RECONSTRUCTION_GREEN]
    colours = sample_colors(MAX_SAMPLES)
    assert len(set(colours)) == MAX_SAMPLES
    for r, g, b in colours:
        assert g > max(r, b) + 0.1


def test_a_new_model_redraws(qtbot, tmp_path, active, viewport, session):
    from vaeviewer.model import Checkpoint, ModelConfig, PointCloudVAE, save_checkpoint

    before = active.chamfer
    torch.manual_seed(0)
    model = PointCloudVAE(ModelConfig(num_points=512, latent_dim=16, num_classes=len(session.class_names)))
    checkpoint = Checkpoint(config=model.config, model_state=model.state_dict(), class_names=session.class_names)
    path = save_checkpoint(tmp_path / "fresh.pt", checkpoint)
    frames = viewport.frames_drawn
    session.open_checkpoint(path)
    assert viewport.frames_drawn > frames
    grey, green = viewport.panes[0].layers
    assert len(grey.points) == len(green.points) == 512
    expected = reconstruct_shape(session.model, session.split, session.selection, session.class_names)
    assert active.chamfer == pytest.approx(expected.chamfer, rel=1e-6) and active.chamfer != before
    assert active._chamfer_label.text() == f"{expected.chamfer:.5f}"
    session.open_checkpoint(None)
    assert active.chamfer == pytest.approx(before, rel=1e-6)


def test_an_inactive_hidden_panel_waits_until_it_draws(panel, viewport, session):
    frames = viewport.frames_drawn
    session.select(5)
    assert viewport.frames_drawn == frames  # not ours to draw
    assert panel._chamfer_label.text() == "…"
    panel.set_active(True)
    assert panel.result.index == 5 and panel._chamfer_label.text() == f"{panel.chamfer:.5f}"
    assert panel.compute_seconds > 0


def test_without_a_model_or_data_the_panel_says_so_and_draws_the_input_it_has(qtbot, viewport):
    from vaeviewer.workflows.session import ViewerSession

    bare = ViewerSession()
    view = ReconstructionPanel(bare, viewport)
    qtbot.addWidget(view)
    try:
        view.set_active(True)
        assert "No data set" in view.message and view.chamfer is None
        assert [len(p.layers) for p in viewport.panes] == [0]
        view.show()
        assert view._message_label.isVisible() and not view._sample_button.isEnabled()
        assert view.sample_posterior() is None
        view.step(1)  # nothing to step through; no error
        bare.open_data("builtin")
        assert "No model" in view.message
        # The shape it would reconstruct, in grey, while the model loads (the window opens before torch does).
        assert [len(p.layers) for p in viewport.panes] == [1] and "No model" in viewport.panes[0].footer
        pixels = _pixels(viewport.image())
        assert _greenish(pixels) == 0 and _greyish(pixels) > 200
        bare.open_checkpoint(None)
        assert view.message == "" and not view._message_label.isVisible()
        assert [len(p.layers) for p in viewport.panes] == [2]
    finally:
        view.shutdown()
        bare.close()


def test_shutdown_stops_following_the_session(panel, viewport, session):
    panel.set_active(True)
    panel.shutdown()
    frames = viewport.frames_drawn
    session.select(7)
    assert viewport.frames_drawn == frames


def test_the_show_selector_says_what_is_drawn_around_posterior_samples(qtbot, active, viewport, session):
    """Samples are drawn beside the input, not coloured by error: with Show = Error the selector moves to Side by side
    while they are shown, and the error view comes back with the mean, or with the next shape."""
    from PySide6.QtWidgets import QComboBox, QPushButton

    selector = next(box for box in active.findChildren(QComboBox) if box.findData("error") >= 0)
    sample = next(b for b in active.findChildren(QPushButton) if b.text() == "Sample from the posterior")
    mean = next(b for b in active.findChildren(QPushButton) if b.text() == "Show mean")
    selector.setCurrentIndex(selector.findData("error"))
    assert viewport.panes[1].layers[0].scalars is not None  # coloured by error
    qtbot.mouseClick(sample, Qt.MouseButton.LeftButton)
    assert active.samples is not None
    assert selector.currentData() == "side" and active.mode == "side"
    assert viewport.panes[1].layers[0].scalars is None and len(viewport.panes) == 2
    qtbot.mouseClick(mean, Qt.MouseButton.LeftButton)
    assert active.samples is None and selector.currentData() == "error"
    assert viewport.panes[1].layers[0].scalars is not None

    qtbot.mouseClick(sample, Qt.MouseButton.LeftButton)
    assert selector.currentData() == "side"
    selector.setCurrentIndex(selector.findData("error"))  # asking for errors drops the samples
    assert active.samples is None and viewport.panes[1].layers[0].scalars is not None

    qtbot.mouseClick(sample, Qt.MouseButton.LeftButton)
    active.step(1)  # another shape: its mean decoding, in the error view the user chose
    assert active.samples is None and selector.currentData() == "error"
    assert viewport.panes[1].layers[0].scalars is not None
