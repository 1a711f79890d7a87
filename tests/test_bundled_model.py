"""The demo model shipped in resources/: small, loadable, good on the built-in set, usable with no options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO
from vaeviewer.workflows.models import BUNDLED_MODELS, bundled_checkpoint, choose_checkpoint

DEMO = REPO / "resources" / "models" / "demo.pt"
MODELNET10_MODEL = REPO / "resources" / "models" / "modelnet10.pt"
MODELNET40_CLASSES = (
    "airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl", "car", "chair", "cone", "cup", "curtain",
    "desk", "door", "dresser", "flower_pot", "glass_box", "guitar", "keyboard", "lamp", "laptop", "mantel",
    "monitor", "night_stand", "person", "piano", "plant", "radio", "range_hood", "sink", "sofa", "stairs", "stool",
    "table", "tent", "toilet", "tv_stand", "vase", "wardrobe", "xbox",
)


def test_the_demo_model_is_bundled_and_small() -> None:
    assert bundled_checkpoint() == DEMO
    assert DEMO.stat().st_size < 10 * 2**20


def test_the_demo_model_loads_safely_and_describes_itself() -> None:
    from vaeviewer.data.builtin import BUILTIN_CLASSES
    from vaeviewer.model import load_model

    model, checkpoint = load_model(DEMO)
    assert checkpoint.config.num_points == 1024 and checkpoint.config.latent_dim == 128
    assert tuple(checkpoint.class_names) == tuple(BUILTIN_CLASSES)
    assert checkpoint.optimizer_state is None
    assert next(model.parameters()).dtype.is_floating_point


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaeviewer", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=os.environ.copy())


def test_export_gif_works_with_nothing_but_the_install(tmp_path: Path) -> None:
    result = run("export-gif", "--from", "0", "--to", "1", "--out", "a.gif", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 12 and gif.info.get("loop") == 0
        frames = []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    assert all((frame < 200).any() for frame in frames), "no frame is blank"
    assert np.abs(frames[0] - frames[-1]).sum() > 0, "the shape changes along the path"


def test_the_demo_model_reconstructs_the_builtin_test_split_well(tmp_path: Path) -> None:
    result = run("evaluate", "--split", "test", "--json", "--gen-shapes", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["shapes"] == 250
    assert figures["classifier_accuracy"] > 0.9
    assert figures["svm_accuracy"] > 0.9
    assert figures["chamfer_mean"] < 0.004


@pytest.mark.parametrize("name", sorted(BUNDLED_MODELS))
def test_each_bundled_model_is_small_and_knows_the_classes_it_is_listed_with(name: str) -> None:
    from vaeviewer.model import load_checkpoint

    path = bundled_checkpoint(name)
    assert path is not None and path.stat().st_size < 10 * 2**20
    checkpoint = load_checkpoint(path)
    assert tuple(checkpoint.class_names) == BUNDLED_MODELS[name]
    assert checkpoint.config.num_points == 1024 and checkpoint.optimizer_state is None


def test_the_bundled_model_that_suits_the_data_is_chosen(tmp_path: Path, monkeypatch) -> None:
    from vaeviewer.data.builtin import BUILTIN_CLASSES

    assert choose_checkpoint(None, BUILTIN_CLASSES) == DEMO
    assert choose_checkpoint(None, BUNDLED_MODELS["modelnet10"]) == MODELNET10_MODEL
    assert choose_checkpoint(None, MODELNET40_CLASSES) == MODELNET10_MODEL  # 10 of its classes against 9
    assert choose_checkpoint(None, ("chair",)) == DEMO  # a tie keeps the demo model
    assert choose_checkpoint(None, ()) == DEMO
    assert choose_checkpoint("modelnet10") == MODELNET10_MODEL
    assert choose_checkpoint("demo", BUNDLED_MODELS["modelnet10"]) == DEMO
    # A file of that name is the user's, not the bundled model.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").write_bytes(b"")
    assert choose_checkpoint("demo") == Path("demo")


def test_commands_on_modelnet10_use_the_modelnet10_model(tmp_path: Path, modelnet10: Path) -> None:
    result = run("evaluate", "--data", str(modelnet10), "--json", "--gen-shapes", "0", "--no-svm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["shapes"] == 908
    assert figures["classifier_accuracy"] > 0.85  # the demo model knows 5 of these classes
    assert figures["chamfer_mean"] < 0.0065
