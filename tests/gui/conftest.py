"""Fixtures of the window's tests: the real session, viewport and window under Xvfb, and leak checks.

Every test here fails if it leaves a worker thread running, a pyvista plotter
open, a visible window or an active timer behind.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")


@pytest.fixture(autouse=True)
def _no_leaks(qapp):
    """Fail a test that leaves a worker thread, plotter, visible window or active timer behind."""
    from tests.gui.leaks import LeakCheck

    check = LeakCheck(qapp)
    yield
    problems = check.problems()
    if problems:
        pytest.fail("; ".join(problems))
