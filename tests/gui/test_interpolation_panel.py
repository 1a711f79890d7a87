"""The Interpolation panel: the decoded path of the pair, playback, the slider, swapping, the export button."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.pixels import _greenish, _pixels
from vaeviewer.workflows.interpolate import interpolate


@pytest.fixture
def panel(qtbot, session, viewport):
    """An active panel drawing into the viewport, shut down afterwards."""
    from vaeviewer.gui.panels.interpolation import InterpolationPanel

    panel = InterpolationPanel(session, viewport)
    qtbot.addWidget(panel)
    panel.set_active(True)
    yield panel
    panel.shutdown()


def test_frames_are_the_decoded_path_of_the_pair(panel, session):
    frames = panel.frames
    assert frames.shape == (24, session.num_points, 3)
    n = session.num_points
    expected = interpolate(session.model, session.cloud(0, n), session.cloud(1, n), 24)
    np.testing.assert_allclose(frames, expected.frames, atol=1e-5)
    assert panel.a_label.text() == session.shape_label(0)
    assert panel.b_label.text() == session.shape_label(1)
    panel.steps_box.setValue(6)
    assert panel.frames.shape[0] == 6
    assert panel.slider.maximum() == 5
    assert panel.frame_label.text().startswith("frame 1 / 6")


def test_the_slider_shows_that_frame_in_green(panel, viewport):
    panel.set_frame(7)
    assert panel.frame_index == 7
    np.testing.assert_allclose(viewport.scene_panes[0].layer_points(0), panel.frames[7])
    t = panel.interpolation.ts[7]
    assert viewport.panes[0].caption.endswith(f"t = {t:.2f}")
    assert panel.frame_label.text() == f"frame 8 / 24 · t = {t:.2f}"
    assert _greenish(_pixels(viewport.image())) > 300
    panel.slider.setValue(3)  # the user drags the slider
    np.testing.assert_allclose(viewport.scene_panes[0].layer_points(0), panel.frames[3])


def test_play_advances_frames_and_pause_stops(panel, qtbot, qapp, viewport):
    panel.play()
    assert panel.is_playing and panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: panel.frame_index >= 3, timeout=5000)
    actor = viewport.scene_panes[0].layer_actor(0)
    qtbot.waitUntil(lambda: panel.frame_index >= 5, timeout=5000)
    assert viewport.scene_panes[0].layer_actor(0) is actor  # frames update the actor in place
    panel.play_button.click()
    assert not panel.is_playing and panel.play_button.text() == "Play"
    shown, drawn = panel.frame_index, viewport.frames_drawn
    qapp.processEvents()
    assert panel.frame_index == shown and viewport.frames_drawn == drawn
    np.testing.assert_allclose(viewport.scene_panes[0].layer_points(0), panel.frames[shown])


def test_ping_pong_without_loop_plays_there_and_back_once(panel, qtbot):
    panel.steps_box.setValue(4)
    panel.fps_box.setValue(120)
    panel.loop_check.setChecked(False)
    panel.pingpong_check.setChecked(True)
    shown = []
    panel.frame_shown.connect(shown.append)
    panel.play()
    qtbot.waitUntil(lambda: not panel.is_playing, timeout=5000)
    assert shown == [0, 1, 2, 3, 2, 1, 0]  # the new path's first frame, then there and back


def test_one_way_clip_stops_at_the_end_and_plays_again_from_the_start(panel, qtbot):
    panel.steps_box.setValue(3)
    panel.fps_box.setValue(120)
    panel.loop_check.setChecked(False)
    panel.play()
    qtbot.waitUntil(lambda: not panel.is_playing, timeout=5000)
    assert panel.frame_index == 2
    shown = []
    panel.frame_shown.connect(shown.append)
    panel.play()
    qtbot.waitUntil(lambda: not panel.is_playing, timeout=5000)
    assert shown == [0, 1, 2]


def test_losing_the_viewport_stops_playback(panel):
    panel.play()
    assert panel.is_playing
    panel.set_active(False)
    assert not panel.is_playing


def test_lerp_and_slerp_share_the_ends_but_not_the_middle(panel):
    lerp = panel.frames.copy()
    panel.method_combo.setCurrentText("slerp")
    slerp = panel.frames
    assert panel.interpolation.method == "slerp"
    np.testing.assert_allclose(lerp[[0, -1]], slerp[[0, -1]], atol=1e-5)
    assert np.abs(lerp[12] - slerp[12]).max() > 1e-3


def test_swap_reverses_the_path_and_keeps_the_frame_on_show(panel, session, viewport):
    forward = panel.frames.copy()
    panel.set_frame(5)
    panel.swap_button.click()
    assert session.pair == {"a": 1, "b": 0}
    assert panel.a_label.text() == session.shape_label(1)
    backward = panel.frames
    np.testing.assert_allclose(backward, forward[::-1], atol=1e-4)
    assert panel.frame_index == 23 - 5
    panel.set_frame(panel.frame_index)
    np.testing.assert_allclose(viewport.scene_panes[0].layer_points(0), forward[5], atol=1e-4)


def test_ends_come_from_the_selected_shape(panel, session, qtbot):
    session.select(7)
    panel.set_a_button.click()
    session.select(3)
    panel.set_b_button.click()
    assert session.pair == {"a": 7, "b": 3}
    assert panel.b_label.text() == session.shape_label(3)
    assert panel.is_busy()  # decoding the new path waits for the clicks to settle
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=5000)
    np.testing.assert_array_equal(panel.interpolation.input_a, session.cloud(7, session.num_points))
    np.testing.assert_array_equal(panel.interpolation.input_b, session.cloud(3, session.num_points))


def test_another_split_gives_another_path(panel, session):
    assert len(panel.frames)  # the path of the first split is made before the split changes
    session.set_split("train")
    np.testing.assert_array_equal(panel.interpolation.input_a, session.cloud(0, session.num_points))
    assert panel.a_label.text() == session.shape_label(0)


def test_export_button_opens_the_dialog_filled_in(panel, session, qtbot):
    panel.steps_box.setValue(6)
    panel.method_combo.setCurrentText("slerp")
    panel.pingpong_check.setChecked(True)
    session.set_pair("b", 4)
    panel.export_button.click()
    dialog = panel.export_dialog
    assert dialog.isVisible() and not dialog.isModal()
    assert (dialog.a_box.value(), dialog.b_box.value()) == (0, 4)
    assert dialog.steps_box.value() == 6
    assert dialog.method_combo.currentText() == "slerp"
    assert dialog.pingpong_check.isChecked()
    assert dialog.fps_box.value() == panel.fps_box.value()
    dialog.close()
    assert not dialog.isVisible()


def test_without_a_model_the_panel_says_what_is_missing_until_one_opens(qtbot, viewport):
    from vaeviewer.gui.panels.interpolation import InterpolationPanel
    from vaeviewer.workflows.session import ViewerSession

    session = ViewerSession()
    session.open_data("builtin")
    panel = InterpolationPanel(session, viewport)
    qtbot.addWidget(panel)
    try:
        panel.set_active(True)
        assert panel.frames is None
        assert "open a model" in viewport.panes[0].caption
        assert not panel.play_button.isEnabled() and not panel.export_button.isEnabled()
        with qtbot.waitSignal(panel.status):
            panel.play()
        assert not panel.is_playing
        session.open_checkpoint(None)
        assert panel.frames.shape == (24, session.num_points, 3)
        assert panel.play_button.isEnabled()
        qtbot.waitUntil(lambda: not panel.is_busy(), timeout=5000)
        assert "t = 0.00" in viewport.panes[0].caption
    finally:
        panel.shutdown()
        session.close()
