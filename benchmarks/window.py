"""Window figures, each run in a child process under a display (Xvfb on a machine without one).

``python -m benchmarks.window startup LAUNCH_TIME SETTINGS_INI`` opens the
window the way ``vaeviewer`` does (:func:`vaeviewer.gui.app.run_app` on the
built-in set and the bundled model) and prints, as JSON, the seconds from
``LAUNCH_TIME`` (``time.time()`` taken by the parent just before it started this
process) to the first render of the viewport with a shape in it. Nothing in the
product is patched: an event filter on the application sees the viewport being
shown and connects to its ``drawn`` signal.

``python -m benchmarks.window playback LAUNCH_TIME CHECKPOINT SETTINGS_INI`` opens the
window on a 2048-point model, plays a 24-frame interpolation with frames
requested at 120 per second, and prints the rate the panel measured.
``python -m benchmarks.window map_drag LAUNCH_TIME CHECKPOINT SETTINGS_INI`` drags the
decoding point across the latent map and prints the decoded shapes shown per second.
``python -m benchmarks.window editing LAUNCH_TIME CHECKPOINT SETTINGS_INI`` moves the
Latent studio's edit slider at 120 steps a second on that model and prints the frames
shown per second, with a baseline that encodes and decodes every frame.
"""

from __future__ import annotations

import json
import re
import sys
import time


def _renderer_name(viewport) -> str:
    """The OpenGL renderer VTK reports ("llvmpipe ..." is Mesa's software renderer)."""
    capabilities = viewport.interactor.ren_win.ReportCapabilities() or ""
    found = re.search(r"OpenGL renderer string:\s*(.+)", capabilities)
    return found.group(1).strip() if found else "unknown"


def startup(launch_time: float, settings_file: str) -> dict:
    """Seconds from process launch to the first viewport render showing a shape."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    result: dict = {}

    class FirstShape(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.viewport = None

        def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
            if self.viewport is None and event.type() == QEvent.Type.Show and type(watched).__name__ == "Viewport":
                self.viewport = watched
                watched.drawn.connect(self.on_drawn)
            return False

        def on_drawn(self) -> None:
            if "first_shape_s" in result or not any(pane.layers for pane in self.viewport.panes):
                return
            result["first_shape_s"] = time.time() - launch_time
            result["renderer"] = _renderer_name(self.viewport)
            window = self.viewport.window()
            QTimer.singleShot(0, window.close)

    watcher = FirstShape()
    app.installEventFilter(watcher)
    QTimer.singleShot(120_000, app.quit)  # a watchdog: never hang the suite

    from vaeviewer.gui.app import run_app

    run_app("builtin", settings_file=settings_file)
    app.removeEventFilter(watcher)
    if "first_shape_s" not in result:
        raise RuntimeError("the viewport never drew a shape")
    return result


def _open_window(settings_file: str, checkpoint: str | None) -> tuple:
    """The application, a session on the built-in data set with ``checkpoint`` (None: the bundled model), the window shown."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from vaeviewer.gui.main_window import MainWindow
    from vaeviewer.workflows.session import ViewerSession

    app = QApplication([sys.argv[0]])
    session = ViewerSession()
    session.open_data("builtin")
    session.open_checkpoint(checkpoint)
    window = MainWindow(session, QSettings(settings_file, QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    return app, session, window


def _wait(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _rate(step, count, seconds: float) -> float:
    """Per second, how much ``count()`` grows while a timer calls ``step`` 120 times a second for ``seconds``."""
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(8)
    timer.timeout.connect(step)
    before, start = count(), time.perf_counter()
    timer.start()
    _wait(int(seconds * 1000))
    timer.stop()
    return (count() - before) / (time.perf_counter() - start)


def _close(app, session, window) -> None:
    window.close()
    app.processEvents()
    session.close()


def playback(checkpoint: str, settings_file: str, seconds: float = 4.0) -> dict:
    """Frames per second the interpolation panel shows at 2048 points, playing as fast as it is asked (120/s)."""
    app, session, window = _open_window(settings_file, checkpoint)
    window.show_panel("interpolation")
    session.set_pair("a", 0)
    session.set_pair("b", 30)
    panel = window.panels["interpolation"]
    panel.steps_box.setValue(24)
    panel.fps_box.setValue(120)
    panel.loop_check.setChecked(True)

    # Playback is measured once the other panels' start-up work (thumbnails, latent map) is done.
    began = time.monotonic()
    _wait(500)
    while window.busy_panels() and time.monotonic() - began < 120:
        _wait(200)
    panel.play()
    _wait(int(seconds * 1000))
    fps = panel.measured_fps
    points = int(panel.frames.shape[1])
    renderer = _renderer_name(window.viewport)
    panel.pause()
    _close(app, session, window)
    return {"fps": fps, "points": points, "renderer": renderer}


def editing(checkpoint: str, settings_file: str, seconds: float = 4.0) -> dict:
    """Frames per second the Latent studio's Edit page shows at 2048 points while its pc1 slider moves.

    A timer moves the slider one step at 120 per second, as a fast drag does; the page
    decodes the moved code and redraws. The baseline, in the same window, draws the same
    amounts the way a script would: each frame encodes the shape and decodes it moved
    (``edit_shape``), without reusing the encoding.
    """
    from vaeviewer.gui.viewport import Pane
    from vaeviewer.render.colors import INPUT_GREY, RECONSTRUCTION_GREEN
    from vaeviewer.render.scene import CloudLayer
    from vaeviewer.workflows.studio import edit_shape

    app, session, window = _open_window(settings_file, checkpoint)
    window.show_panel("studio")
    studio = window.panels["studio"]
    studio.show_page("edit")
    page = studio.edit

    began = time.monotonic()
    _wait(500)
    while (window.busy_panels() or not page.sliders["pc1"].isEnabled()) and time.monotonic() - began < 300:
        _wait(200)
    slider = page.sliders["pc1"]
    state = {"value": 0, "sign": 1, "frames": 0}

    def next_value() -> int:
        if abs(state["value"] + 5 * state["sign"]) > slider.maximum():
            state["sign"] *= -1
        state["value"] += 5 * state["sign"]
        return state["value"]

    def ours() -> None:
        slider.setValue(next_value())
        state["frames"] += 1

    fps = _rate(ours, lambda: state["frames"], seconds)
    measured = page.measured_fps
    cloud, model = session.cloud(session.selection, session.num_points), session.model
    step_vector = page.editor.directions[0].step

    def baseline() -> None:
        amount = next_value() / 100
        edited = edit_shape(model, cloud, step_vector, [amount])[0]
        window.viewport.show_panes([Pane((CloudLayer(cloud, INPUT_GREY),)),
                                    Pane((CloudLayer(edited, RECONSTRUCTION_GREEN),), footer=f"pc1 {amount:+.2f}")])
        state["frames"] += 1

    baseline_fps = _rate(baseline, lambda: state["frames"], seconds)
    points = int(page.edited.shape[0])
    _close(app, session, window)
    return {"fps": fps, "page_fps": measured, "baseline_fps": baseline_fps, "points": points}


def map_drag(checkpoint: str, settings_file: str, seconds: float = 4.0) -> dict:
    """Decoded shapes shown per second while a drag crosses the latent map (PCA) at 2048 points.

    A timer moves the decoding point 120 times a second back and forth across the map, as a
    fast drag does (the decoder keeps only the latest point waiting). The baseline, in the same
    window, shows instead the stored cloud of the dot nearest each point: what a click on the
    map showed before it could decode.
    """
    from vaeviewer.gui.viewport import Pane
    from vaeviewer.render.colors import INPUT_GREY
    from vaeviewer.render.scene import CloudLayer

    app, session, window = _open_window(settings_file, checkpoint)
    window.show_panel("latent")
    panel = window.panels["latent"]

    began = time.monotonic()
    while (panel.current_map is None or window.busy_panels()) and time.monotonic() - began < 300:
        _wait(200)
    shown = panel.current_map
    panel.decoder.check.setChecked(True)
    low, high = shown.coords.min(axis=0), shown.coords.max(axis=0)
    state = {"k": 0, "frames": 0}

    def point() -> tuple[float, float]:
        state["k"] += 1
        t = abs((state["k"] % 240) / 120 - 1)  # back and forth, 2 s each way
        return tuple(low + t * (high - low))

    decoded = []
    panel.decoder.decoded.connect(lambda x, y: decoded.append((x, y)))
    fps = _rate(lambda: panel.decoder.decode_at(*point()), lambda: len(decoded), seconds)

    def baseline() -> None:
        x, y = point()
        row = int(((shown.coords - (x, y)) ** 2).sum(axis=1).argmin())
        cloud = session.cloud(int(shown.encoded.indices[row]), session.num_points)
        window.viewport.show_panes([Pane((CloudLayer(cloud, INPUT_GREY),), caption="nearest shape")])
        state["frames"] += 1

    baseline_fps = _rate(baseline, lambda: state["frames"], seconds)
    points = int(session.num_points)
    _close(app, session, window)
    return {"fps": fps, "baseline_fps": baseline_fps, "points": points}


def training_responsiveness(settings_file: str, run_dir: str) -> dict:
    """How long the event loop goes without a turn while the Training panel runs a tiny model (previews each step).

    A 10 ms timer ticks from the run's first step until its fourth step and a preview
    are drawn: the longest wall-clock gap between two ticks, and the most CPU time
    the GUI thread spent between two (work done on the event loop, which other
    processes on the machine do not inflate).
    """
    from PySide6.QtCore import QEventLoop, QTimer

    app, session, window = _open_window(settings_file, None)
    window.show_panel("training")
    panel = window.panels["training"]
    form = panel.form
    form.input("epochs").setValue(2)
    form.input("batch_size").setValue(8)
    form.input("lr").setText("1e-3")
    form.input("num_points").setCurrentText("128")
    form.input("latent_dim").setValue(16)
    form.input("max_shapes").setValue(16)
    form.input("device").setCurrentText("cpu")
    form.input("preview_every_steps").setValue(1)
    panel.out_edit.setText(run_dir)
    gaps = {"last": None, "longest": 0.0, "busy": 0.0}

    def tick() -> None:
        now, busy = time.perf_counter(), time.thread_time()
        if gaps["last"] is not None:
            gaps["longest"] = max(gaps["longest"], now - gaps["last"][0])
            gaps["busy"] = max(gaps["busy"], busy - gaps["last"][1])
        gaps["last"] = (now, busy)

    def wait_until(condition, limit_s: float = 300.0) -> None:
        began = time.monotonic()
        while not condition():
            if time.monotonic() - began > limit_s:
                raise RuntimeError("the run did not get that far")
            loop = QEventLoop()
            QTimer.singleShot(10, loop.quit)
            loop.exec()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    panel.start()
    # From the first step on: the first run in a process also imports modules on its worker thread.
    wait_until(lambda: panel.record.global_step >= 1)
    timer.start()
    wait_until(lambda: panel.record.global_step >= 4 and panel.preview_shown is not None)
    timer.stop()
    _close(app, session, window)
    return {"longest_gap_s": gaps["longest"], "longest_busy_s": gaps["busy"]}


if __name__ == "__main__":
    name, launched, *args = sys.argv[1:]
    if name == "startup":
        print(json.dumps(startup(float(launched), args[0])))
    elif name == "playback":
        print(json.dumps(playback(args[0], args[1])))
    elif name == "editing":
        print(json.dumps(editing(args[0], args[1])))
    elif name == "map_drag":
        print(json.dumps(map_drag(args[0], args[1])))
    elif name == "training":
        print(json.dumps(training_responsiveness(args[0], args[1])))
    else:
        raise SystemExit(f"unknown probe {name}")
    sys.stdout.flush()
