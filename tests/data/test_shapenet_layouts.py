"""The field's public ShapeNet layouts: PointFlow's PC15k, Point-BERT's ShapeNet-55/34, AnTao97's h5 with json names."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from vaeviewer.data import open_dataset
from vaeviewer.workflows.inspect import inspect_dataset

CHAIR, TABLE, AIRPLANE = "03001627", "04379243", "02691156"


def _cloud(rng: np.random.Generator, points: int) -> np.ndarray:
    return (rng.normal(size=(points, 3)) * 0.3).astype(np.float32)


def test_pointflow_pc15k_has_train_val_test_and_classes_by_name(tmp_path: Path) -> None:
    root, rng = tmp_path / "ShapeNetCore.v2.PC15k", np.random.default_rng(0)
    for synset in (CHAIR, TABLE):
        for split, count in (("train", 3), ("val", 1), ("test", 2)):
            (root / synset / split).mkdir(parents=True)
            for k in range(count):
                np.save(root / synset / split / f"model{k}.npy", _cloud(rng, 1500))
    with open_dataset(root) as dataset:
        assert dataset.split_names == ("train", "val", "test")
        assert dataset.class_names == ("chair", "table")
        assert dataset.class_ids == {"chair": CHAIR, "table": TABLE}
        summary = inspect_dataset(dataset)
    assert summary["splits"] == {"train": 6, "val": 2, "test": 4}
    assert summary["points"] == {"min": 1500, "max": 1500} and summary["class_ids"]["chair"] == CHAIR


def test_pointbert_shapenet55_splits_come_from_its_lists(tmp_path: Path) -> None:
    root, rng = tmp_path / "ShapeNet55-34", np.random.default_rng(1)
    (root / "shapenet_pc").mkdir(parents=True)
    names = [f"{synset}-m{k}.npy" for synset in (CHAIR, AIRPLANE) for k in range(3)]
    for name in names:
        np.save(root / "shapenet_pc" / name, _cloud(rng, 8192))
    for folder, lists in (("ShapeNet-55", {"train": names[:4], "test": names[4:]}),
                          ("ShapeNet-34", {"train": names[:2], "test": names[2:3], "unseen": names[3:]})):
        (root / folder).mkdir()
        for split, listed in lists.items():
            (root / folder / f"{split}.txt").write_text("\n".join(listed) + "\n")
    with open_dataset(root) as dataset:
        assert dataset.format == "shapenet-55"
        assert dataset.split_names == ("train", "test", "34-train", "34-test", "34-unseen")
        assert [len(dataset.split(s)) for s in dataset.split_names] == [4, 2, 2, 1, 3]
        assert set(dataset.class_names) == {"chair", "airplane"}
        test = dataset.split("test")
        assert [test.class_names[k] for k in test.labels] == ["airplane", "airplane"]
        assert test.points(0).shape == (8192, 3)


def test_antao_shapenet_h5_takes_class_names_from_its_json(tmp_path: Path) -> None:
    root, rng = tmp_path / "shapenetcorev2_hdf5_2048", np.random.default_rng(2)
    root.mkdir()
    classes = ["airplane", "chair", "table"]
    for split, labels in (("train", [0, 1, 2, 1]), ("val", [2, 0]), ("test", [1, 1, 0])):
        with h5py.File(root / f"{split}0.h5", "w") as handle:
            handle["data"] = np.stack([_cloud(rng, 2048) for _ in labels])
            handle["label"] = np.array(labels, dtype=np.int64)[:, None]
        (root / f"{split}0_id2name.json").write_text(json.dumps([classes[k] for k in labels]))
        (root / f"{split}0_id2file.json").write_text(json.dumps([f"{classes[k]}/m{i}.ply" for i, k in enumerate(labels)]))
    with open_dataset(root) as dataset:
        assert dataset.split_names == ("train", "val", "test")
        assert dataset.class_names == tuple(classes)
        assert [len(dataset.split(s)) for s in dataset.split_names] == [4, 2, 3]
        assert dataset.split("val").shape_name(0) == "m0"
