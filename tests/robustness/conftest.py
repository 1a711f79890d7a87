"""Fixtures of the robustness tests: the corpus of bad inputs, and stricter leak checks for the window.

``qt_leak_check`` is the window tests' leak check (worker threads, threads,
plotters, visible windows, active timers) plus widgets and the VTK objects
Python holds: a test that uses it fails if any of those outlives it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.robustness.corpus import CORPUS


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Every input of the corpus written once: ``{name: (path to open, path the error must name)}``."""
    root = tmp_path_factory.mktemp("corpus")
    built = {}
    for case in CORPUS:
        folder = root / case.name
        folder.mkdir()
        built[case.name] = case.make(folder)
    return built


@pytest.fixture
def qt_leak_check(qapp):
    """Fail a test that leaves a worker thread, thread, plotter, window, timer, widget or VTK object behind."""
    pytest.importorskip("pytestqt")
    from tests.gui.leaks import LeakCheck

    check = LeakCheck(qapp, widgets=True, vtk_objects=True)
    yield check
    problems = check.problems()
    if problems:
        pytest.fail("; ".join(problems))


def resident_mb() -> float:
    """The process's resident memory now, in MB, from /proc/self/statm."""
    import os

    with open("/proc/self/statm") as stream:
        pages = int(stream.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
