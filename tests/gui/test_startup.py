"""The window shows itself and its first shape before torch is imported (the start-up target of 3 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CODE = """
import sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from vaeviewer.gui.main_window import MainWindow
from vaeviewer.workflows.session import ViewerSession
session = ViewerSession()
session.open_data("builtin")
window = MainWindow(session, QSettings(sys.argv[1], QSettings.Format.IniFormat))
window.show()
session.select(0)
for _ in range(20):
    app.processEvents()
drawn = sum(len(pane.layers) for pane in window.viewport.panes)
print(drawn, "torch" in sys.modules)
window.close()
session.close()
"""


def test_the_window_and_its_first_shape_need_no_torch(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", _CODE, str(tmp_path / "settings.ini")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    drawn, torch_loaded = result.stdout.split()
    assert int(drawn) >= 1
    assert torch_loaded == "False"
