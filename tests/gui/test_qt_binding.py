"""The Qt binding the window runs on keeps Python's reference counts intact.

PySide6 6.12.0 returns None from void methods and True/False from ``Signal.emit``
without taking a reference; before Python 3.12 those objects are not immortal and
the interpreter aborts after a few thousand calls. pyproject.toml keeps that release
out; this test catches any binding that brings the bug back.
"""

from __future__ import annotations

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None, True and False are immortal from Python 3.12")
def test_void_calls_and_emits_keep_the_reference_counts(qapp):
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLabel

    class Emitter(QObject):
        fired = Signal()

    label, emitter = QLabel(), Emitter()
    none_before, true_before, false_before = (sys.getrefcount(v) for v in (None, True, False))
    for _ in range(200):
        label.setText("x")
        emitter.fired.emit()
    # Other threads may take or drop a few references meanwhile; the bug takes 200.
    assert sys.getrefcount(None) > none_before - 50
    assert sys.getrefcount(True) > true_before - 50 and sys.getrefcount(False) > false_before - 50
