"""The shared verbs on real models and data: inspect, reconstruct, evaluate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vaeviewer.data import open_dataset
from vaeviewer.errors import OptionError
from vaeviewer.model import Checkpoint, ModelConfig, PointCloudVAE, chamfer_distance, save_checkpoint
from vaeviewer.workflows.evaluate import evaluate_split
from vaeviewer.workflows.inspect import format_inspection, grid_sample, inspect_dataset
from vaeviewer.workflows.models import labels_for_model, open_model
from vaeviewer.workflows.reconstruct import reconstruct_shape


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    classes = ("chair", "table", "lamp")
    model = PointCloudVAE(ModelConfig(num_points=128, latent_dim=8, num_classes=len(classes)))
    path = tmp_path_factory.mktemp("model") / "m.pt"
    save_checkpoint(path, Checkpoint(config=model.config, model_state=model.state_dict(), class_names=classes))
    return path


def test_inspect_counts_add_up() -> None:
    summary = inspect_dataset("builtin")
    assert summary["shapes"] == sum(summary["splits"].values())
    for split, per_class in summary["split_classes"].items():
        assert sum(per_class.values()) == summary["splits"][split]
    report = format_inspection(summary)
    assert "chair" in report and "builtin" in report


def test_grid_sample_takes_every_class() -> None:
    with open_dataset("builtin") as dataset:
        clouds, captions = grid_sample(dataset.split("train"), per_class=2)
    assert len(clouds) == 2 * len(dataset.class_names)
    assert {c.rsplit("_", 1)[0] for c in captions} == set(dataset.class_names)


def test_reconstruct_errors_are_consistent(model_file: Path) -> None:
    model, checkpoint = open_model(model_file)
    with open_dataset("builtin") as dataset:
        result = reconstruct_shape(model, dataset.split("test"), 5, checkpoint.class_names)
    assert result.input_points.shape == (128, 3) and result.reconstruction.shape == (128, 3)
    assert result.chamfer == pytest.approx(result.input_error.mean() + result.reconstruction_error.mean(), rel=1e-5)
    again = chamfer_distance(torch.from_numpy(result.input_points)[None], torch.from_numpy(result.reconstruction)[None])
    assert result.chamfer == pytest.approx(float(again), rel=1e-5)
    assert result.predicted_class in checkpoint.class_names
    with pytest.raises(OptionError, match="out of range"):
        with open_dataset("builtin") as dataset:
            reconstruct_shape(model, dataset.split("test"), 10**6)


def test_evaluate_scores_only_shared_classes(model_file: Path) -> None:
    model, checkpoint = open_model(model_file)
    with open_dataset("builtin") as dataset:
        split = dataset.split("test")
        figures = evaluate_split(model, split, checkpoint.class_names)
        labels = labels_for_model(split.labels, split.class_names, checkpoint.class_names).numpy()
    assert figures["shapes"] == len(split) and figures["chamfer_mean"] > 0
    assert 0.0 <= figures["classifier_accuracy"] <= 1.0
    shared = {split.class_names[k] for k in np.asarray(split.labels)} & set(checkpoint.class_names)
    assert (labels >= 0).sum() == sum(split.class_names[k] in shared for k in np.asarray(split.labels))
