"""Two models on the same shapes: the compare verb against evaluate, unlike models, the cache, CSV, cancel."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import assert_user_error, vaeviewer
from tests.training.test_loop import tiny
from vaeviewer.tasks import TaskControl
from vaeviewer.training import train


@pytest.fixture(scope="module")
def unlike_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model unlike the demo one: 128 points, a 16-d latent and no classifier."""
    run = tmp_path_factory.mktemp("compare") / "run"
    events = list(train(tiny(run, classifier_weight=0.0, epochs=1)))
    assert events[-1].status == "completed"
    return run / "last.pt"


def _json(*args: str) -> dict:
    result = vaeviewer(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_two_unlike_models_on_the_same_shapes_agree_with_evaluate(unlike_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "table.csv"
    found = _json("compare", "demo", str(unlike_model), "--data", "builtin", "--split", "test", "--limit", "30",
                  "--csv", str(out))
    assert found["models"] == ["demo", str(unlike_model)]
    assert [d["num_points"] for d in found["model_details"]] == [1024, 128]
    assert [d["latent_dim"] for d in found["model_details"]] == [128, 16]
    shapes = found["shapes"]
    assert len(shapes) == 30 and len({s["index"] for s in shapes}) == 30
    assert len({s["class"] for s in shapes}) == 10  # drawn evenly across the classes
    assert all(len(s["chamfer"]) == 2 and min(s["chamfer"]) > 0 for s in shapes)
    # A model without a classifier still reconstructs; its class column says why it is empty.
    assert all(s["predicted"][1] is None for s in shapes) and found["model_details"][1]["classes"] == "no classifier"
    summary = found["summary"]
    assert summary["classifier_accuracy"][1] is None and summary["classifier_accuracy"][0] > 0.8
    assert all(0 <= v <= 1 for v in summary["svm_accuracy"])
    assert summary["b_better"] == sum(s["chamfer"][1] < s["chamfer"][0] for s in shapes)

    for column, checkpoint in enumerate(("demo", str(unlike_model))):
        figures = _json("evaluate", "--checkpoint", checkpoint, "--data", "builtin", "--split", "test", "--limit", "30",
                        "--gen-shapes", "0", "--no-svm", "--device", "cpu")
        assert figures["shapes"] == 30
        mean = np.mean([s["chamfer"][column] for s in shapes])
        assert mean == pytest.approx(figures["chamfer_mean"], rel=1e-9)
        assert summary["chamfer_mean"][column] == pytest.approx(figures["chamfer_mean"], rel=1e-9)
    assert figures["latent_training"] == "unsupervised"

    rows = list(csv.reader(out.open()))
    assert rows[0][:6] == ["index", "name", "class", "chamfer demo", f"chamfer {unlike_model}", "difference (B - A)"]
    body = rows[1:31]
    assert [int(r[0]) for r in body] == [s["index"] for s in shapes]
    assert [float(r[5]) for r in body] == pytest.approx([s["chamfer"][1] - s["chamfer"][0] for s in shapes], rel=1e-6)
    assert {r[7] for r in body} == {"no classifier"}
    assert [r[1] for r in rows[31:]] == ["chamfer_mean", "chamfer_median", "classifier_accuracy", "svm_accuracy"]


def test_the_bundled_models_on_forty_built_in_shapes() -> None:
    found = _json("compare", "demo", "modelnet10", "--data", "builtin", "--split", "test", "--limit", "40")
    assert found["models"] == ["demo", "modelnet10"] and len(found["shapes"]) == 40
    assert all(len(s["chamfer"]) == 2 for s in found["shapes"])


def test_scores_are_cached_and_a_stopped_comparison_yields_nothing(unlike_model: Path) -> None:
    from vaeviewer.data import open_dataset
    from vaeviewer.workflows.compare import ComparedModel, CompareProgress, Comparison, compare_models
    from vaeviewer.workflows.models import bundled_checkpoint, open_model
    from vaeviewer.workflows.studio import data_location, latent_index_cache_dir

    with open_dataset("builtin") as dataset:
        split = dataset.split("test")
        models = []
        for checkpoint in (bundled_checkpoint("demo"), unlike_model):
            model, loaded = open_model(checkpoint, "cpu")
            models.append(ComparedModel(checkpoint.name, model, tuple(loaded.class_names), str(checkpoint)))
        data = data_location("builtin")
        control = TaskControl()
        stopped = []
        for item in compare_models(models, split, data=data, control=control):
            stopped.append(item)
            if isinstance(item, CompareProgress) and item.done > 0:
                control.stop()
        assert not any(isinstance(item, Comparison) for item in stopped)
        assert [(p.model, p.done) for p in stopped] == [(0, 0), (0, 128)]

        first = list(compare_models(models, split, data=data))
        cached = list(compare_models(models, split, data=data))
    assert len(list((latent_index_cache_dir().parent / "compare").glob("*.npz"))) >= 2
    assert all(isinstance(item, CompareProgress) for item in first[:-1]) and len(first) > 4
    assert len(cached) == 1  # nothing scored again
    a, b = first[-1], cached[-1]
    assert len(a.indices) == 250
    for old, new in zip(a.models, b.models):
        np.testing.assert_array_equal(old.chamfer, new.chamfer)
        assert old.predicted == new.predicted


def test_mistakes_are_one_line() -> None:
    assert_user_error(vaeviewer("compare", "demo", "nowhere.pt"), "nowhere.pt")
    assert_user_error(vaeviewer("compare", "demo", "modelnet10", "--limit", "-3"), "--limit -3")
    assert_user_error(vaeviewer("compare", "demo", "modelnet10", "--split", "val"), "--split val")
