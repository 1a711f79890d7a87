"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
MODELNET10 = SHARED_DATA / "modelnet10_ply_hdf5_1024"
REAL = SHARED_DATA / "real"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generate the built-in data set once per test session, in a folder of the session's own.

    Set in the environment so that command-line subprocesses share it.
    """
    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("VAEVIEWER_CACHE_DIR")
    os.environ["VAEVIEWER_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("VAEVIEWER_CACHE_DIR", None)
    else:
        os.environ["VAEVIEWER_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def modelnet10() -> Path:
    """The real ModelNet10 benchmark in PointNet's layout; skips when ../shared is absent."""
    if not MODELNET10.is_dir():
        pytest.skip("../shared/data/modelnet10_ply_hdf5_1024 is not available")
    return MODELNET10


@pytest.fixture(scope="session")
def real_files() -> list[Path]:
    """Every real shape file in ../shared/data/real; skips when ../shared is absent."""
    if not REAL.is_dir():
        pytest.skip("../shared/data/real is not available")
    return sorted(p for p in REAL.rglob("*") if p.is_file() and p.name != "SOURCES.md")


# The window's fixtures, shared by tests/gui and tests/robustness (Qt and the model are imported when used).


@pytest.fixture
def session():
    """A session on the built-in data set (test split) with the bundled demo model."""
    from vaeviewer.workflows.session import ViewerSession

    session = ViewerSession()
    session.open_data("builtin")
    session.open_checkpoint(None)
    yield session
    session.close()


@pytest.fixture
def viewport(qtbot):
    """A shown viewport of its own, 640 x 480, shut down afterwards."""
    from vaeviewer.gui.viewport import Viewport

    view = Viewport()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()
