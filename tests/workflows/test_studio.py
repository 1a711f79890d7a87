"""The latent studio's verbs on the real model: sample, retrieve, edit, and the cached index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import assert_user_error, vaeviewer
from vaeviewer.data import open_dataset
from vaeviewer.data.shape_files import read_shape_file


def _run_json(*args: str) -> dict:
    result = vaeviewer(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sample_is_reproducible_and_names_each_ones_nearest_training_shape(tmp_path: Path) -> None:
    from vaeviewer.workflows.quality import pairwise_chamfer

    first = _run_json("sample", "--count", "6", "--seed", "3", "--out", str(tmp_path / "a"))
    again = _run_json("sample", "--count", "6", "--seed", "3", "--out", str(tmp_path / "b"))
    other = _run_json("sample", "--count", "6", "--seed", "4", "--out", str(tmp_path / "c"))
    clouds = [[read_shape_file(row["file"]).vertices for row in run["samples"]] for run in (first, again, other)]
    assert len(clouds[0]) == 6
    for a, b in zip(clouds[0], clouds[1]):
        np.testing.assert_array_equal(a, b)
    assert not any(np.allclose(a, c, atol=1e-3) for a, c in zip(clouds[0], clouds[2]))
    with open_dataset("builtin") as dataset:
        train = dataset.split("train")
        row = first["samples"][0]
        assert row["nearest"]["name"] == train.shape_name(row["nearest"]["index"])
        nearest = train.points(row["nearest"]["index"], len(clouds[0][0]))
        assert pairwise_chamfer(clouds[0][0][None], nearest[None])[0, 0] == pytest.approx(row["chamfer"], rel=1e-4)


def test_samples_from_the_aggregate_posterior_lie_nearer_the_data_than_prior_samples(tmp_path: Path) -> None:
    prior = _run_json("sample", "--count", "6", "--seed", "0", "--out", str(tmp_path / "p"))
    mixture = _run_json("sample", "--count", "6", "--seed", "0", "--prior", "mixture", "--out", str(tmp_path / "m"))
    assert np.median([s["chamfer"] for s in mixture["samples"]]) < np.median([s["chamfer"] for s in prior["samples"]])
    # Beside them, the same distance for unseen shapes: the yardstick of generating against copying.
    unseen = mixture["unseen_to_train"]
    assert unseen["split"] == "test" and unseen["shapes"] == 20 and len(unseen["chamfer"]) == 20
    assert unseen["median"] == pytest.approx(np.median(unseen["chamfer"])) and unseen["median"] > 0


def test_retrieve_finds_the_shape_a_file_holds_and_caches_the_split(tmp_path: Path) -> None:
    with open_dataset("builtin") as dataset:
        np.save(tmp_path / "shape17.npy", dataset.split("train").points(17))
    query = str(tmp_path / "shape17.npy")
    cold = _run_json("retrieve", "--query", query, "--k", "4", "--no-cache")
    first = _run_json("retrieve", "--query", query, "--k", "4")  # writes the split's cache (or reads it, if made before)
    warm = _run_json("retrieve", "--query", query, "--k", "4")
    assert not cold["cached"] and warm["cached"]
    for run in (cold, first, warm):
        neighbours = run["queries"][0]["neighbours"]
        assert len(neighbours) == 4 and neighbours[0]["index"] == 17 and neighbours[0]["distance"] < 1e-3
        assert [n["distance"] for n in neighbours] == sorted(n["distance"] for n in neighbours)
        assert [n["index"] for n in neighbours] == [n["index"] for n in cold["queries"][0]["neighbours"]]


def test_edit_moves_a_shape_along_a_principal_direction_and_a_class_difference(tmp_path: Path) -> None:
    for direction, amount in (("pc1", "0"), ("pc1", "2"), ("chair-table", "1")):
        out = tmp_path / f"{direction}_{amount}.ply"
        result = vaeviewer("edit", "--index", "4", "--direction", direction, "--amount", amount, "--save-cloud", str(out))
        assert result.returncode == 0, result.stderr
    still, moved = (read_shape_file(tmp_path / f"pc1_{a}.ply").vertices for a in ("0", "2"))
    recon = tmp_path / "recon.npy"
    assert vaeviewer("reconstruct", "--index", "4", "--save-cloud", str(recon)).returncode == 0
    np.testing.assert_allclose(still, read_shape_file(recon).vertices, atol=1e-4)  # amount 0: the reconstruction
    assert np.abs(moved - still).mean() > 1e-3
    assert_user_error(vaeviewer("edit", "--index", "4", "--direction", "chair-spaceship", "--amount", "1",
                                "--save-cloud", str(tmp_path / "x.ply")), "--direction chair-spaceship")


def test_on_modelnet10_the_nearest_training_shape_mostly_has_the_right_class(modelnet10: Path) -> None:
    """bars/11: for 40 test shapes, the nearest training shape (latent space) has the right class for at least 32."""
    from vaeviewer.workflows.models import open_model
    from vaeviewer.workflows.quality import balanced_sample
    from vaeviewer.workflows.studio import build_index, retrieve

    with open_dataset(modelnet10) as dataset:
        model, checkpoint = open_model("modelnet10", "cpu", dataset.class_names)
        index = build_index(model, dataset.split("train"), checkpoint=checkpoint.source, data=modelnet10)
        test = dataset.split("test")
        chosen = balanced_sample(np.asarray(test.labels), 40, seed=0)
        clouds = [test.points(int(i), model.config.num_points) for i in chosen]
        found = retrieve(model, index, clouds, k=1)
        right = sum(index.labels[rows[0][0]] == test.labels[int(i)] for i, rows in zip(chosen, found))
        # A file holding train shape 17 finds it.
        (own,) = retrieve(model, index, [dataset.split("train").points(17, model.config.num_points)], k=1)
    assert right >= 32, f"{right} of 40"
    assert int(index.indices[own[0][0]]) == 17


def test_the_editor_encodes_once_and_moves_as_edit_shape_does() -> None:
    from vaeviewer.workflows.models import open_model
    from vaeviewer.workflows.studio import (
        LatentEditor,
        build_index,
        edit_shape,
        group_direction,
        principal_edit_directions,
    )

    with open_dataset("builtin") as dataset:
        model, _ = open_model(None, "cpu", dataset.class_names)
        train = dataset.split("train")
        index = build_index(model, train, cache=False)
        cloud = dataset.split("test").points(4, model.config.num_points)
    pcs = principal_edit_directions(index, 3)
    assert [d.name for d in pcs] == ["pc1", "pc2", "pc3"] and pcs[0].unit == "σ"
    # One unit is one standard deviation of the codes along the direction.
    centred = index.latents - index.latents.mean(axis=0)
    unit = pcs[0].step / np.linalg.norm(pcs[0].step)
    assert np.linalg.norm(pcs[0].step) == pytest.approx(float((centred @ unit).std(ddof=1)), rel=1e-4)
    chairs, tables = (index.latents[index.labels == index.class_names.index(name)] for name in ("chair", "table"))
    attribute = group_direction(chairs, tables, "chair-table")
    editor = LatentEditor(model)
    editor.set_directions([*pcs, attribute])
    editor.start(cloud)
    editor.set_amount("pc2", 1.5)
    editor.set_amount("chair-table", -0.5)
    expected = edit_shape(model, cloud, 1.5 * pcs[1].step - 0.5 * attribute.step, [1.0])[0]
    np.testing.assert_allclose(editor.decode(), expected, atol=1e-5)
    # Apply: the moved code is the start from now on.
    code = editor.apply()
    assert not editor.amounts.any()
    np.testing.assert_allclose(editor.decode(), expected, atol=1e-5)
    np.testing.assert_array_equal(editor.code(), code)
    # A sweep along pc1 from -2 to +2 sigma, titled with its amounts, centred on the shape.
    swept = editor.sweep("pc1", 2.0, 5)
    assert swept.steps == 5 and swept.titles == ("pc1 -2.00σ", "pc1 -1.00σ", "pc1 +0.00σ", "pc1 +1.00σ", "pc1 +2.00σ")
    np.testing.assert_allclose(swept.frames[2], expected, atol=1e-5)
    np.testing.assert_array_equal(swept.input_a, swept.frames[0])
    with pytest.raises(Exception, match="both groups"):
        group_direction(chairs[:0], tables, "empty")


def test_edit_writes_the_sweep_as_an_animation(tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "sweep.gif"
    result = vaeviewer("edit", "--index", "4", "--direction", "chair-table", "--amount", "1", "--gif", str(out),
                       "--steps", "6", "--size", "64", "--layout", "triptych")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        assert gif.n_frames == 6 and gif.size == (192, 64)
    assert_user_error(vaeviewer("edit", "--index", "4", "--direction", "pc1", "--amount", "1"), "--save-cloud")
    assert_user_error(vaeviewer("edit", "--index", "4", "--direction", "pc1", "--amount", "0", "--gif",
                                str(tmp_path / "zero.gif")), "--amount 0")
    assert not (tmp_path / "zero.gif").exists()
