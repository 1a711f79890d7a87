"""Long runs in the window: 2,000 training steps through the Training panel and 1,000 viewport updates.

Neither may grow the resident memory by more than 150 MB after a warm-up, nor
leave VTK objects, widgets, threads or timers behind (``qt_leak_check``). The
figures (memory growth, time) are printed; run with ``-s`` to read them.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.gui.leaks import live_vtk_objects
from tests.gui.test_training_panel import fill_form
from tests.robustness.conftest import resident_mb
from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.scene import CloudLayer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("qt_leak_check")]

MAX_GROWTH_MB = 150
TRAINING_STEPS = 2000
VIEWPORT_UPDATES = 1000


@pytest.fixture
def one_torch_thread():
    """Train on one thread: two threads on a 2-core machine that other work shares wait on each other.

    Measured on the project's machine under load: 1.0 s a step with two threads, 0.07 s with one.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _view_props(viewport) -> list[int]:
    return [renderer.GetViewProps().GetNumberOfItems() for renderer in viewport.interactor.renderers]


@pytest.mark.timeout(900)
def test_2000_training_steps_in_the_panel_leak_nothing(qtbot, session, viewport, tmp_path, one_torch_thread):
    from vaeviewer.gui.panels.training import TrainingPanel
    from vaeviewer.training import StepEnded

    panel = TrainingPanel(session, viewport)
    qtbot.addWidget(panel)
    panel.show()
    panel.set_active(True)  # its previews are drawn in the viewport
    # The brief's tiny model; 80 shapes (10 steps an epoch, 200 epoch ends with their checkpoints, history and
    # previews) rather than 16 (1,000 epoch ends, each writing a 12 MB checkpoint).
    fill_form(panel, tmp_path / "run", epochs=TRAINING_STEPS // 10, preview_every=20, validation="none", points="64",
              latent=8, shapes=80, lr=None)
    marks = {}

    def on_event(event):
        if isinstance(event, StepEnded) and event.global_step in (200, TRAINING_STEPS):
            marks[event.global_step] = (time.perf_counter(), resident_mb())

    panel.run_event.connect(on_event)
    started = time.perf_counter()
    panel.start()
    qtbot.waitUntil(lambda: 200 in marks, timeout=300_000)
    vtk_after_warm_up, props = live_vtk_objects(), _view_props(viewport)
    with qtbot.waitSignal(panel.run_ended, timeout=900_000):
        pass
    ended = time.perf_counter()
    assert panel.record.finished.status == "completed", panel.record.finished.message
    assert panel.record.global_step == TRAINING_STEPS
    (warm_at, warm_rss), (last_at, last_rss) = marks[200], marks[TRAINING_STEPS]
    growth = max(last_rss, resident_mb()) - warm_rss
    print(f"\n{TRAINING_STEPS} training steps in the panel: {ended - started:.0f} s in all, "
          f"{1000 * (last_at - warm_at) / (TRAINING_STEPS - 200):.0f} ms a step after the warm-up; resident memory "
          f"{warm_rss:.0f} MB after 200 steps, {last_rss:.0f} MB after {TRAINING_STEPS} (+{growth:.1f} MB)")
    assert growth < MAX_GROWTH_MB
    assert live_vtk_objects() == vtk_after_warm_up and _view_props(viewport) == props
    panel.shutdown()


def _cloud(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.normal(size=(n, 3)) * rng.uniform(0.5, 1.5, size=3)).astype(np.float32)


def _panes(k: int, rng: np.random.Generator):
    """Update ``k``: one or two panes, 512 to 2048 points (new actors when the count changes), scalars or not."""
    from vaeviewer.gui.viewport import Pane

    n = (512, 1024, 2048)[(k // 2) % 3]
    first = _cloud(rng, n)
    if k % 4 < 2:
        layers = (CloudLayer(first, INPUT_GREY), CloudLayer(_cloud(rng, n), RECONSTRUCTION_GREEN, point_size=3.0))
    else:
        errors = np.linalg.norm(first, axis=1)
        layers = (CloudLayer(first, scalars=errors, scalar_title="distance"),)
    if k % 2:
        return [Pane(layers, caption=f"update {k}", footer="left"), Pane((CloudLayer(_cloud(rng, 300)),))]
    return [Pane(layers, caption=f"update {k}")]


@pytest.mark.timeout(900)
def test_1000_viewport_updates_leak_nothing(qtbot, viewport):
    rng = np.random.default_rng(0)
    for k in range(100):  # warm-up: every kind of update has been drawn, OpenGL has its buffers
        viewport.show_panes(_panes(k, rng))
    qtbot.wait(10)
    vtk_before, props, rss_before = live_vtk_objects(), _view_props(viewport), resident_mb()
    frames, started = viewport.frames_drawn, time.perf_counter()
    for k in range(100, 100 + VIEWPORT_UPDATES):
        viewport.show_panes(_panes(k, rng))
        if k % 50 == 0:
            qtbot.wait(1)  # let the event loop run, as in the window
    seconds = time.perf_counter() - started
    growth = resident_mb() - rss_before
    print(f"\n{VIEWPORT_UPDATES} viewport updates: {1000 * seconds / VIEWPORT_UPDATES:.1f} ms each; resident memory "
          f"{rss_before:.0f} MB after the warm-up, +{growth:.1f} MB after them")
    assert viewport.frames_drawn - frames == VIEWPORT_UPDATES
    assert growth < MAX_GROWTH_MB
    assert live_vtk_objects() == vtk_before and _view_props(viewport) == props
