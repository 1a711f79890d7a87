"""Every command end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REAL

HEAVY = ("torch", "PySide6", "vtkmodules", "pyvista", "pyvistaqt", "pyqtgraph")


def vaeviewer(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vaeviewer", *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )


def loaded_modules(code: str) -> set[str]:
    probe = code + f"\nimport sys\nprint('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    line = next(x for x in out.stdout.splitlines() if x.startswith("LOADED:"))
    return set(filter(None, line.removeprefix("LOADED:").split(",")))


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vaeviewer: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_loads_no_heavy_module() -> None:
    assert loaded_modules("from vaeviewer.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass") == set()
    assert loaded_modules("import vaeviewer") == set()


def test_core_packages_load_no_qt_or_vtk() -> None:
    assert loaded_modules("import vaeviewer.model, vaeviewer.data, vaeviewer.training, vaeviewer.workflows.evaluate") <= {"torch"}


def test_help_lists_the_commands() -> None:
    result = vaeviewer("--help")
    assert result.returncode == 0
    for command in ("inspect", "train", "reconstruct", "evaluate"):
        assert command in result.stdout


def test_train_offers_every_setting_of_the_table_with_its_bounds() -> None:
    from vaeviewer.training.settings import SETTINGS

    result = vaeviewer("train", "--help")
    assert result.returncode == 0
    flags = [entry.flag for entry in SETTINGS if entry.flag]
    assert len(flags) == len(SETTINGS) - 1  # the preview interval is the window's alone
    for flag in flags:
        assert flag in result.stdout
    refused = vaeviewer("train", "--out", "unused", "--batch-size", "1")
    assert_user_error(refused, "--batch-size must be at least 2")


def test_inspect_builtin_json() -> None:
    result = vaeviewer("inspect", "builtin", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["format"] == "builtin"
    assert set(summary["splits"]) == {"train", "test"}
    assert summary["shapes"] == sum(summary["splits"].values()) == sum(summary["classes"].values())
    assert len(summary["classes"]) >= 8 and {"chair", "table", "airplane"} <= set(summary["classes"])
    assert summary["points"] == {"min": 2048, "max": 2048}
    assert summary["warnings"] == []


def test_inspect_text_report() -> None:
    result = vaeviewer("inspect", "builtin")
    assert result.returncode == 0, result.stderr
    assert "chair" in result.stdout and "train" in result.stdout


def test_inspect_modelnet10(modelnet10: Path) -> None:
    summary = json.loads(vaeviewer("inspect", str(modelnet10), "--json").stdout)
    assert summary["format"] == "pointnet-h5"
    assert summary["splits"] == {"train": 3991, "test": 908}
    assert len(summary["classes"]) == 10 and summary["classes"]["chair"] > 0
    assert summary["points"] == {"min": 1024, "max": 1024}


def test_inspect_every_real_file(real_files: list[Path]) -> None:
    for path in real_files:
        result = vaeviewer("inspect", str(path), "--json", timeout=120)
        assert result.returncode == 0, (path, result.stderr)
        summary = json.loads(result.stdout)
        assert summary["shapes"] == 1 and summary["points"]["min"] > 0, path


def test_inspect_real_folder(real_files: list[Path]) -> None:
    summary = json.loads(vaeviewer("inspect", str(REAL / "modelnet10_pcd_molivas"), "--json").stdout)
    assert summary["shapes"] == 13 and summary["classes"]["chair"] == 2


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["inspect", "/no/such/folder"], ["/no/such/folder"]),
        (["train", "--data", "builtin", "--out", "{tmp}/run", "--points", "0"], ["--points"]),
        (["train", "--data", "/no/such.h5", "--out", "{tmp}/run"], ["/no/such.h5"]),
        (["train", "--out", "{tmp}/run", "--resume"], ["nothing to resume"]),
        (["reconstruct", "--checkpoint", "{tmp}/junk.pt", "--index", "0"], ["junk.pt"]),
        (["evaluate", "--checkpoint", "{tmp}/missing.pt"], ["missing.pt"]),
        (["inspect"], ["PATH"]),
        (["train", "--out", "{tmp}/junk.pt"], ["--out", "junk.pt", "is a file"]),
        (["train", "--out", "{tmp}/run", "--epochs", "many"], ["--epochs"]),
    ],
)
def test_user_mistakes_give_one_line_and_status_2(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    (tmp_path / "junk.pt").write_bytes(b"this is not a checkpoint")
    result = vaeviewer(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_user_error(result, *fragments)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("cli") / "run"
    result = vaeviewer(
        "train", "--data", "builtin", "--out", str(run), "--epochs", "2", "--batch-size", "8", "--points", "256",
        "--latent-dim", "16", "--max-shapes", "40", "--seed", "1", "--device", "cpu",
    )
    assert result.returncode == 0, result.stderr
    assert "epoch 2/2" in result.stderr
    return run


def test_train_writes_the_run_folder(trained_run: Path) -> None:
    assert {"last.pt", "best.pt", "history.csv", "run.json"} <= {p.name for p in trained_run.iterdir()}
    assert len((trained_run / "history.csv").read_text().strip().splitlines()) == 3


def test_train_resume_continues(trained_run: Path, tmp_path: Path) -> None:
    result = vaeviewer("train", "--out", str(trained_run), "--resume", "--epochs", "3")
    assert result.returncode == 0, result.stderr
    assert "resuming" in result.stderr
    assert len((trained_run / "history.csv").read_text().strip().splitlines()) == 4


def test_reconstruct_json(trained_run: Path) -> None:
    result = vaeviewer("reconstruct", "--checkpoint", str(trained_run / "best.pt"), "--data", "builtin", "--index", "3", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["index"] == 3 and out["class"] and out["chamfer"] > 0


def test_reconstruct_index_out_of_range(trained_run: Path) -> None:
    result = vaeviewer("reconstruct", "--checkpoint", str(trained_run / "best.pt"), "--index", "100000")
    assert_user_error(result, "--index 100000")


def test_evaluate_json(trained_run: Path) -> None:
    result = vaeviewer("evaluate", "--checkpoint", str(trained_run / "best.pt"), "--data", "builtin", "--split", "test",
                       "--gen-shapes", "12", "--sampler", "gmm", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["shapes"] > 0 and out["chamfer_mean"] > 0
    assert 0.0 <= out["classifier_accuracy"] <= 1.0
    # The linear SVM is fit on the train split's latent means and scored on the test split.
    assert 0.0 <= out["svm_accuracy"] <= 1.0 and out["svm_train_shapes"] == 1000
    # Each scorer's most confused pairs of classes: errors in both directions, never more than it made.
    for scorer in ("svm", "classifier"):
        assert 0.0 <= out[f"{scorer}_class_accuracy"] <= 1.0  # the built-in test split's classes are even:
        assert out[f"{scorer}_class_accuracy"] == pytest.approx(out[f"{scorer}_accuracy"])  # the same figure
        pairs, errors = out[f"{scorer}_confusions"], round((1 - out[f"{scorer}_accuracy"]) * out["shapes"])
        assert bool(pairs) == (errors > 0) and sum(p["errors"] for p in pairs) <= errors
        assert all(len(set(p["classes"])) == 2 and 0 <= p["as_first"] <= p["errors"] for p in pairs)
    assert out["generation_shapes"] == 12 and out["sampler"] == "gmm" and out["mmd_cd"] > 0
    assert 0.0 < out["cov_cd"] <= 1.0 and 0.0 <= out["nna_cd"] <= 1.0


def test_evaluate_reports_the_latent_kind_its_dimensions_and_the_pooled_feature(trained_run: Path,
                                                                              tmp_path: Path) -> None:
    """On a small PointNet-layout folder cut from the built-in shapes (the SVM on 1024-d features is slow on
    the whole built-in set): the KL per dimension sums to the mean, the pooled-feature SVM is reported."""
    import h5py

    from vaeviewer.data import open_dataset

    folder = tmp_path / "small"
    folder.mkdir()
    with open_dataset("builtin") as dataset:
        (folder / "shape_names.txt").write_text("\n".join(dataset.class_names) + "\n")
        for name, step in (("train", 10), ("test", 10)):
            split = dataset.split(name)
            chosen = range(0, len(split), step)
            with h5py.File(folder / f"ply_data_{name}0.h5", "w") as handle:
                handle["data"] = np.stack([split.points(i, 256) for i in chosen])
                handle["label"] = np.asarray(split.labels)[list(chosen)]
            (folder / f"{name}_files.txt").write_text(f"ply_data_{name}0.h5\n")
    result = vaeviewer("evaluate", "--checkpoint", str(trained_run / "best.pt"), "--data", str(folder), "--json",
                       "--gen-shapes", "0", "--pooled")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["shapes"] == 25 and out["svm_train_shapes"] == 100
    assert 0.0 <= out["svm_accuracy"] <= 1.0 and 0.0 <= out["svm_pooled_accuracy"] <= 1.0
    assert len(out["kl_per_dimension"]) == 16 and sum(out["kl_per_dimension"]) == pytest.approx(out["kl_mean"], rel=1e-6)
    assert 0 <= out["active_dimensions"] <= 16  # a model of two epochs on 40 shapes may use none yet
    assert out["latent_training"] == "unsupervised"
    text = vaeviewer("evaluate", "--checkpoint", str(trained_run / "best.pt"), "--data", str(folder),
                     "--gen-shapes", "0", "--pooled")
    assert text.returncode == 0, text.stderr
    assert "pooled 1024-d feature" in text.stdout and "latent unsupervised" in text.stdout
    assert ("classes the linear SVM takes for each other" in text.stdout) == bool(out["svm_confusions"])
    assert "active dimensions" in text.stdout


def test_evaluate_on_the_part_the_run_held_out(trained_run: Path, tmp_path: Path) -> None:
    """--split holdout scores the very shapes the run validated on (its last epoch's figures come back), and fits
    the SVM on the shapes it trained on; a run without a holdout, or another data set, is refused in one line."""
    run = tmp_path / "held"
    result = vaeviewer("train", "--data", "builtin", "--out", str(run), "--epochs", "1", "--batch-size", "8",
                       "--points", "256", "--latent-dim", "16", "--max-shapes", "40", "--holdout", "0.25",
                       "--seed", "1", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    lines = (run / "history.csv").read_text().strip().splitlines()
    header, last = lines[0], lines[-1]
    history = dict(zip(header.split(","), map(float, last.split(",")), strict=True))
    result = vaeviewer("evaluate", "--checkpoint", str(run / "last.pt"), "--split", "holdout", "--json",
                       "--gen-shapes", "0")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    recorded = json.loads((run / "run.json").read_text())["data"]
    assert out["split"] == "holdout" and out["shapes"] == recorded["val_shapes"] == 250
    assert out["svm_train_shapes"] == recorded["train_shapes"] == 40
    assert out["chamfer_mean"] == pytest.approx(history["val_chamfer"], rel=1e-5)
    assert out["kl_mean"] == pytest.approx(history["val_kl"], rel=1e-5)
    assert out["classifier_accuracy"] == pytest.approx(history["val_accuracy"], abs=1e-6)
    assert_user_error(vaeviewer("evaluate", "--checkpoint", str(trained_run / "best.pt"), "--split", "holdout"),
                      "held nothing out")
    other = tmp_path / "cloud.npy"
    np.save(other, np.random.default_rng(0).normal(size=(256, 3)).astype(np.float32))
    assert_user_error(vaeviewer("evaluate", "--checkpoint", str(run / "last.pt"), "--split", "holdout", "--data",
                                str(other)), "trained on builtin", "cloud.npy")


def test_evaluate_on_modelnet10_with_a_builtin_model(trained_run: Path, modelnet10: Path) -> None:
    result = vaeviewer("evaluate", "--checkpoint", str(trained_run / "best.pt"), "--data", str(modelnet10), "--json",
                       "--no-svm", "--gen-shapes", "0")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["shapes"] == 908 and out["chamfer_mean"] > 0


def test_reconstruct_each_real_file(trained_run: Path, real_files: list[Path]) -> None:
    for path in real_files[::4]:
        result = vaeviewer("reconstruct", "--checkpoint", str(trained_run / "best.pt"), "--data", str(path),
                           "--index", "0", "--json")
        assert result.returncode == 0, (path, result.stderr)
        assert json.loads(result.stdout)["chamfer"] > 0


def test_ctrl_c_stops_after_the_step_and_saves(tmp_path: Path) -> None:
    import signal
    import time

    run = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "vaeviewer", "train", "--data", "builtin", "--out", str(run), "--epochs", "50",
         "--batch-size", "8", "--points", "128", "--latent-dim", "8", "--max-shapes", "32", "--device", "cpu"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 120
        while not (run / "run.json").exists():  # written once the run is set up, just before its first step
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "stopped at epoch" in stderr and "Traceback" not in stderr
    from vaeviewer.model import load_checkpoint

    assert load_checkpoint(run / "last.pt").epoch < 50


def test_pack_halves_the_checkpoint_and_keeps_the_model(trained_run: Path, tmp_path: Path) -> None:
    packed = tmp_path / "packed.pt"
    result = vaeviewer("pack", "--checkpoint", str(trained_run / "best.pt"), "--out", str(packed), "--half")
    assert result.returncode == 0, result.stderr
    assert packed.stat().st_size < 0.6 * (trained_run / "best.pt").stat().st_size
    scores = [
        json.loads(vaeviewer("evaluate", "--checkpoint", str(path), "--split", "test", "--json", "--no-svm",
                             "--gen-shapes", "0").stdout)["chamfer_mean"]
        for path in (trained_run / "best.pt", packed)
    ]
    assert scores[1] == pytest.approx(scores[0], rel=1e-2)


def test_pack_keeps_what_the_run_recorded_and_drops_the_optimizer(trained_run: Path, tmp_path: Path) -> None:
    """As the window's Save As does: ``extra`` (the run's own record) stays, the optimizer state goes."""
    from vaeviewer.model import load_checkpoint

    packed = tmp_path / "packed.pt"
    result = vaeviewer("pack", "--checkpoint", str(trained_run / "last.pt"), "--out", str(packed))
    assert result.returncode == 0, result.stderr
    original, copy = load_checkpoint(trained_run / "last.pt"), load_checkpoint(packed)
    assert original.optimizer_state is not None and copy.optimizer_state is None
    assert original.extra and sorted(copy.extra) == sorted(original.extra)
    assert copy.extra["step_in_epoch"] == original.extra["step_in_epoch"]
