"""The wheel: every package of the tree, the bundled models inside, and a plain install that uses them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def test_the_package_list_is_the_tree() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(REPO).parts) for path in (REPO / "vaeviewer").rglob("__init__.py")}
    assert listed - {"vaeviewer.resources", "vaeviewer.resources.models"} == found


def test_a_plain_install_of_the_wheel_reconstructs_with_its_bundled_model(tmp_path: Path) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "installed"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(wheels)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("vaeviewer-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"vaeviewer/resources/models/demo.pt", "vaeviewer/resources/models/modelnet10.pt"} <= names
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    # From another folder, with the installed copy first on the path: not the checkout's resources/.
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", "import vaeviewer, vaeviewer.workflows.models as m, sys;"
                          "print(vaeviewer.__file__); print(m.choose_checkpoint(None))"],
                         capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    module, model = run.stdout.split()
    assert module.startswith(str(target)) and model.startswith(str(target)) and model.endswith("demo.pt")
    result = subprocess.run([sys.executable, "-m", "vaeviewer", "reconstruct", "--index", "1", "--json"],
                            capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert '"chamfer"' in result.stdout
