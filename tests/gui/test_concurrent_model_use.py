"""One model, many tasks at once: exports, a latent map and reconstructions never run it on two threads together.

Several long tasks of the window read the session's model (the export dialog
decodes a path, the latent map encodes the split) while the GUI thread
reconstructs the selected shape. Two threads running one model at once was
what crashed the window (a segmentation fault in the encoder on a worker
thread); the model guard (:mod:`vaeviewer.model.guard`) lets one thread at a
time run it. These tests watch every forward pass of the model's encoder and
decoder, on whichever thread, and fail when two overlap or when the model's
mode changes under a running pass.
"""

from __future__ import annotations

import threading

import pytest


class ForwardWatch:
    """Records, through forward hooks, every overlap of two passes of one model and every mode change under one."""

    def __init__(self, model) -> None:
        self.model = model
        self._lock = threading.Lock()
        self.running: dict[int, str] = {}  # thread id -> the module it is in
        self.passes = 0
        self.threads: set[int] = set()
        self.overlaps: list[str] = []
        self.mode_changes: list[str] = []
        self._handles = []
        for name in ("encoder", "decoder"):
            module = getattr(model, name)
            self._handles.append(module.register_forward_pre_hook(self._enter(name)))
            self._handles.append(module.register_forward_hook(self._leave(name)))

    def _enter(self, name):
        def hook(module, args):
            me = threading.get_ident()
            with self._lock:
                others = {tid: what for tid, what in self.running.items() if tid != me}
                if others:
                    self.overlaps.append(f"{name} entered while {sorted(others.values())} ran on another thread")
                self.running[me] = name
                self.threads.add(me)
                self.passes += 1
            if self.model.training:
                self.mode_changes.append(f"{name} ran in training mode")

        return hook

    def _leave(self, name):
        def hook(module, args, output):
            if self.model.training:
                self.mode_changes.append(f"{name} ended in training mode")
            with self._lock:
                self.running.pop(threading.get_ident(), None)

        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


@pytest.fixture
def watch(session):
    watcher = ForwardWatch(session.model)
    yield watcher
    watcher.remove()


def test_overlapping_exports_maps_and_reconstructions_run_the_model_one_thread_at_a_time(
    qtbot, session, viewport, watch, tmp_path
):
    from vaeviewer.gui.export_dialog import ExportDialog
    from vaeviewer.gui.panels.latent import LatentMapPanel
    from vaeviewer.workflows.reconstruct import reconstruct_shape, sample_posterior

    panel = LatentMapPanel(session, viewport)
    qtbot.addWidget(panel)
    dialogs = []
    for k in range(3):
        dialog = ExportDialog(session, steps=24, fps=10, index_a=k, index_b=k + 5)
        qtbot.addWidget(dialog)
        dialog.size_box.setValue(32)
        dialogs.append(dialog)
    try:
        for round_ in range(3):
            panel.compute()  # encodes the whole split on a worker, a batch at a time
            for k, dialog in enumerate(dialogs):
                dialog.path_edit.setText(str(tmp_path / f"{round_}_{k}.gif"))
                dialog.start()  # decodes its path on a worker of its own
            # Meanwhile the GUI thread reconstructs and samples, as the reconstruction panel does.
            index = 0
            while panel.is_busy() or any(d.is_running for d in dialogs):
                result = reconstruct_shape(session.model, session.split, index % len(session.split))
                sample_posterior(session.model, result.input_points, 3, seed=index)
                index += 1
                qtbot.wait(1)
            panel.stop()
            assert all((tmp_path / f"{round_}_{k}.gif").is_file() for k in range(len(dialogs)))
    finally:
        for dialog in dialogs:
            dialog.shutdown()
            dialog.close()
        panel.shutdown()
    assert len(watch.threads) >= 3, "the tasks did not run on several threads: the test proves nothing"
    assert watch.passes > 50
    assert watch.overlaps == []
    assert watch.mode_changes == []


def test_a_task_that_sets_the_model_training_waits_for_the_running_pass(session, watch):
    """Changing the mode goes through the guard too: a pass never sees it flip."""
    import numpy as np

    from vaeviewer.model.guard import exclusive
    from vaeviewer.workflows.interpolate import interpolate

    clouds = [session.cloud(i, session.num_points) for i in range(2)]
    errors: list[BaseException] = []

    def flip() -> None:
        try:
            for _ in range(200):
                with exclusive(session.model, mode="train"):
                    assert session.model.training
                assert not session.model.training
        except BaseException as error:  # noqa: BLE001 (reported by the main thread)
            errors.append(error)

    thread = threading.Thread(target=flip)
    thread.start()
    for _ in range(30):
        result = interpolate(session.model, clouds[0], clouds[1], 4, "lerp")
        assert np.isfinite(result.frames).all()
    thread.join()
    assert errors == []
    assert watch.mode_changes == [] and watch.overlaps == []
