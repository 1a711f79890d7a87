"""Start the window: ``vaeviewer`` with no arguments, or ``vaeviewer gui``.

The data set is opened and its first shape drawn before the model loads (the
model needs torch, whose import is the slowest part of a start), so that the
window appears at once; the model follows a moment later. With ``screenshot``
the window waits until every panel has finished its background work, saves a
picture of itself and closes: for the README and for tests.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vaeviewer.errors import OptionError

__all__ = ["run_app", "check_display"]

#: How long ``--screenshot`` waits for the panels' background work before it takes the picture anyway.
SCREENSHOT_TIMEOUT_S = 180.0


def check_display() -> None:
    """Raise :class:`OptionError` when there is no display to open a window on (Linux without X or Wayland)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise OptionError(
            "no display to open the window on (DISPLAY is not set): run it in a desktop session, "
            "or under xvfb-run for --screenshot"
        )


def run_app(
    data: str = "builtin",
    checkpoint: str | None = None,
    *,
    up: str | None = None,
    screenshot: str | None = None,
    panel: str | None = None,
    settings_file: str | None = None,
    split: str | None = None,
    index: int | None = None,
    pair: Sequence[int] | None = None,
    run: str | None = None,
) -> int:
    """Open the window and run until it is closed; return the exit status.

    Parameters
    ----------
    data : str
        Data set path, or ``builtin``.
    checkpoint : str, optional
        Model checkpoint; the bundled demo model by default.
    up : str, optional
        The clouds' up axis, ``y`` or ``z`` (``y`` by default).
    screenshot : str, optional
        Save a PNG of the whole window here once everything is drawn, then exit.
    panel : str, optional
        The panel brought to the front (and given the viewport) at start.
    settings_file : str, optional
        An INI file for the window's settings instead of the user's (tests, screenshots).
    split : str, optional
        The split shown (the data set's default split otherwise).
    index : int, optional
        The shape shown first.
    pair : sequence of two int, optional
        Shapes A and B of the interpolation.
    run : str, optional
        A training run folder the training panel follows.

    Raises
    ------
    OptionError, DataFileError, CheckpointError
        Before the window opens, for a bad option, data set or checkpoint.
    """
    from vaeviewer.gui.main_window import PANEL_NAMES
    from vaeviewer.gui.panels.studio import STUDIO_PAGES

    if panel is not None and panel not in PANEL_NAMES + STUDIO_PAGES:
        raise OptionError(f"--panel {panel}: one of {', '.join(PANEL_NAMES + STUDIO_PAGES)}")
    if screenshot is not None:
        target = Path(screenshot)
        if target.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise OptionError(f"--screenshot {screenshot}: save it as .png or .jpg")
        if not target.parent.resolve().is_dir():
            raise OptionError(f"--screenshot {screenshot}: folder {target.parent} does not exist")
    check_display()
    from vaeviewer.gui.heap import collector_paused

    # Imports and the window's construction add hundreds of thousands of long-lived objects; the
    # garbage collector would scan them all several times over while they arrive.
    with collector_paused():
        window, app = _open_window(data, checkpoint, up=up, panel=panel, settings_file=settings_file, split=split,
                                   index=index, pair=pair, run=run)
    from PySide6.QtCore import QTimer

    status = {"code": 0}
    if screenshot is not None:
        _take_screenshot_when_ready(window, screenshot, panel, status)

    # Qt's event loop does not let Python see Ctrl-C; a slow timer gives it the chance to.
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    ticker = QTimer(window)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)
    try:
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        ticker.stop()
    return status["code"]


def _open_window(data: str, checkpoint: str | None, *, up: str | None, panel: str | None, settings_file: str | None,
                 split: str | None, index: int | None, pair: Sequence[int] | None, run: str | None) -> tuple[Any, Any]:
    """The session on ``data`` (and ``checkpoint``), the application and the shown main window."""
    from vaeviewer.workflows.session import ViewerSession

    session = ViewerSession()
    if run is not None and not (Path(run) / "history.csv").is_file() and not (Path(run) / "run.json").is_file():
        raise OptionError(f"--run {run}: holds no training run (no run.json or history.csv)")
    session.open_data(data)
    _choose_shapes(session, split, index, pair)
    if checkpoint is not None:
        session.open_checkpoint(checkpoint)  # a bad file is reported before any window opens

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from vaeviewer.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "vaeviewer"])
    app.setApplicationName("vaeviewer")
    app.setOrganizationName("vaeviewer")
    settings = QSettings(settings_file, QSettings.Format.IniFormat) if settings_file else None
    window = MainWindow(session, settings)
    if up is not None:
        session.set_up(up, remember=False)  # this launch's: over the data set's own and a choice the window kept
    window.show()
    if run is not None:
        window.panels["training"].follow_run(run)
    if panel is not None:
        _show_panel(window, panel)
    if checkpoint is None:
        # After the first shape is on screen: loading torch and the model takes a second or two.
        QTimer.singleShot(0, lambda: window.open_checkpoint(None))
    return window, app


def _show_panel(window: Any, name: str) -> Any:
    """Bring panel ``name`` to the front and return it; a latent studio page's name shows the studio at that page."""
    from vaeviewer.gui.panels.studio import STUDIO_PAGES

    if name in STUDIO_PAGES:
        window.show_panel("studio")
        studio = window.panels["studio"]
        studio.show_page(name)
        return studio
    window.show_panel(name)
    return window.panels[name]


def _choose_shapes(session: Any, split: str | None, index: int | None, pair: Sequence[int] | None) -> None:
    """Apply ``--split``, ``--index`` and ``--pair`` to a session with its data open (OptionError if out of range)."""
    if split is not None:
        if split not in session.dataset.split_names:
            raise OptionError(f"--split {split}: the data set has {', '.join(session.dataset.split_names)}")
        session.set_split(split)
    size = len(session.split)
    for option, value in (("--index", index), *((("--pair", k) for k in pair) if pair is not None else ())):
        if value is not None and not 0 <= value < size:
            raise OptionError(f"{option} {value} is out of range: split {session.split.name!r} has {size} shapes")
    if index is not None:
        session.select(index)
    if pair is not None:
        session.set_pair("a", pair[0])
        session.set_pair("b", pair[1])


def _take_screenshot_when_ready(window, path: str, panel: str | None, status: dict) -> None:
    """Poll until the model is loaded, no panel is busy and the viewport has drawn; then save and close."""
    from PySide6.QtCore import QTimer

    began = time.monotonic()
    calm = {"ticks": 0}
    poll = QTimer(window)

    def check() -> None:
        ready = window.session.model is not None and not window.busy_panels() and window.viewport.frames_drawn > 0
        calm["ticks"] = calm["ticks"] + 1 if ready else 0
        late = time.monotonic() - began > SCREENSHOT_TIMEOUT_S
        if calm["ticks"] < 3 and not late:
            return
        poll.stop()
        if late:
            print(f"vaeviewer: warning: still busy ({', '.join(window.busy_panels())}) after "
                  f"{SCREENSHOT_TIMEOUT_S:.0f} s; saving the window as it is", file=sys.stderr)
        if panel is not None:
            _show_panel(window, panel).prepare_screenshot()  # again: the model may have arrived since
        window.viewport.image()  # one more render of the final state
        if window.save_screenshot(path):
            print(f"vaeviewer: wrote {path}", file=sys.stderr)
        else:
            print(f"vaeviewer: error: {window.last_error}", file=sys.stderr)
            status["code"] = 2
        window.close()

    poll.timeout.connect(check)
    poll.start(100)
