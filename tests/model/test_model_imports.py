"""``vaeviewer.model`` stays headless: no Qt, pyvista or VTK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_model_package_imports_no_gui_or_rendering_modules() -> None:
    code = (
        "import sys, vaeviewer.model\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyvista', 'pyvistaqt', 'vtk', 'vtkmodules', 'pyqtgraph')]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
