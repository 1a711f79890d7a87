"""Training under torchrun: shards, agreed stops, exact resume, rank-0-only output, and the match
with a single-process run.

Two CPU processes with gloo: once as a user starts them (``torchrun ... -m vaeviewer train``), once
spawned by the test around :func:`~vaeviewer.training.train`, where every event of both ranks can be
looked at. OMP_NUM_THREADS=1 keeps two processes on two cores from fighting over threads.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from vaeviewer.data import open_dataset
from vaeviewer.errors import OptionError, VaeviewerError
from vaeviewer.model import PointCloudVAE, build_model, load_checkpoint
from vaeviewer.model.config import ModelConfig
from vaeviewer.training import (
    History,
    StepEnded,
    TaskControl,
    TrainSettings,
    balanced_subset,
    settings_for_resume,
    train,
)
from vaeviewer.training.distributed import (
    DEBUG_SHARDS_VARIABLE,
    SINGLE_PROCESS,
    Ranks,
    per_process_batch,
    prepare_model,
    shard_of_epoch,
    torchrun_environment,
    weights_digest,
)
from vaeviewer.training.loop import _epoch_seed

# The tiny run of the tests here: 32 built-in shapes of 64 points, a global batch of 8, 4 steps per epoch
# (without validation where only the training matters: resampling the 250 test shapes is most of a run).
TINY = {"data": "builtin", "batch_size": 8, "num_points": 64, "latent_dim": 8, "max_shapes": 32, "seed": 3,
        "device": "cpu", "val_split": ""}
CLI_TINY = ["--data", "builtin", "--batch-size", "8", "--points", "64", "--latent-dim", "8", "--max-shapes", "32",
            "--seed", "3", "--device", "cpu"]


# ---------------------------------------------------------------------------------- pieces


@pytest.mark.parametrize("size", [32, 31])
@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_shards_are_disjoint_and_together_make_the_single_process_batches(size: int, world_size: int) -> None:
    seed = _epoch_seed(3, 1)
    single = torch.randperm(size, generator=torch.Generator().manual_seed(seed))  # what one process trains on
    shards = [shard_of_epoch(size, seed, rank, world_size) for rank in range(world_size)]
    used = (size // world_size) * world_size
    assert all(len(shard) == size // world_size for shard in shards)
    assert sorted(torch.cat(shards).tolist()) == sorted(single[:used].tolist())  # disjoint, and the epoch's shapes
    if world_size == 1:
        assert torch.equal(shards[0], single)
    share = 2  # shapes per process and step: the step-s batches of all ranks are the single process's step-s batch
    for step in range(size // (share * world_size)):
        together = torch.cat([shard[step * share : (step + 1) * share] for shard in shards])
        batch = single[step * share * world_size : (step + 1) * share * world_size]
        assert sorted(together.tolist()) == sorted(batch.tolist())
    assert not torch.equal(shard_of_epoch(size, _epoch_seed(3, 2), 0, world_size), shards[0])  # a new order each epoch


def test_the_global_batch_must_split_evenly() -> None:
    assert per_process_batch(8, 2) == 4 and per_process_batch(32, 8) == 4
    with pytest.raises(OptionError, match="--batch-size 10 does not split evenly over the 4 processes"):
        per_process_batch(10, 4)
    with pytest.raises(OptionError, match="batch norm needs two: use --batch-size 8"):
        per_process_batch(4, 4)


def test_torchrun_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert torchrun_environment() is None
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    env = torchrun_environment()
    assert env is not None and (env.rank, env.world_size, env.local_rank, env.local_world_size) == (3, 4, 1, 2)
    monkeypatch.setenv("RANK", "three")
    with pytest.raises(OptionError, match="RANK"):
        torchrun_environment()


def test_one_process_needs_no_collectives() -> None:
    ranks = SINGLE_PROCESS
    assert not ranks.distributed and ranks.is_main and ranks.world_size == 1
    assert ranks.any(True) and not ranks.any(False)
    assert ranks.sum([1.5, 2]) == [1.5, 2.0] and ranks.gather("x") == ["x"]
    assert ranks.agree(lambda: 7) == 7 and ranks.on_main(lambda: 8) == 8

    def fail() -> None:
        raise OptionError("bad")

    with pytest.raises(OptionError, match="bad"):
        ranks.agree(fail)


def test_synchronised_batch_norm_keeps_the_checkpoint_and_the_values() -> None:
    """On GPUs the model gets SyncBatchNorm layers and the encoder runs module by module while training.

    Checked on the CPU with no process group, where SyncBatchNorm normalises like BatchNorm1d: same
    state-dict keys (checkpoints load into a plain model), same outputs as the plain model.
    """
    config = ModelConfig(num_points=64, latent_dim=8, num_classes=3)
    torch.manual_seed(0)
    plain = PointCloudVAE(config)
    synced = PointCloudVAE(config)
    synced.load_state_dict(plain.state_dict())
    synced = prepare_model(synced, Ranks(rank=0, world_size=2, backend="nccl", device=torch.device("cuda", 0)))
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in synced.modules())
    assert not any(type(m) is torch.nn.BatchNorm1d for m in synced.modules())
    assert list(synced.state_dict()) == list(plain.state_dict())
    PointCloudVAE(config).load_state_dict(synced.state_dict())
    clouds = torch.randn(4, 64, 3)
    for mode in (True, False):
        plain.train(mode)
        synced.train(mode)
        a, b = plain.encode(clouds), synced.encode(clouds)
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)
    # On the CPU (gloo) nothing changes: PyTorch has no synchronised batch norm there.
    cpu = PointCloudVAE(config)
    assert prepare_model(cpu, Ranks(rank=0, world_size=2, backend="gloo", device=torch.device("cpu"))) is cpu
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in cpu.modules())


def test_the_weights_digest_sees_one_bit() -> None:
    torch.manual_seed(0)
    model = PointCloudVAE(ModelConfig(num_points=64, latent_dim=8, num_classes=0))
    before = weights_digest(model)
    assert weights_digest(model) == before
    with torch.no_grad():
        weight = next(model.parameters()).view(-1)
        weight[0] = torch.nextafter(weight[0], torch.tensor(math.inf))  # one unit in the last place
    assert weights_digest(model) != before


# ------------------------------------------------------------------ two processes, spawned


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawned_rank(rank: int, port: int, folder: str) -> None:
    """One of two processes: three runs under one gloo group, its events written to ``folder``."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    importlib.import_module("torch.distributed.nn.functional")  # before the group, as join_process_group does

    dist.init_process_group("gloo")  # train() uses a group that exists, and leaves it to its creator
    try:
        report: dict[str, object] = {}
        whole = TrainSettings(out_dir=f"{folder}/whole", epochs=2, **TINY)
        events = list(train(whole))
        report["whole_steps"] = [(e.global_step, e.loss, e.chamfer, e.kl, e.classifier_loss)
                                 for e in events if isinstance(e, StepEnded)]
        report["whole_end"] = events[-1].status

        # Only rank 1 asks to stop, after global step 3 (in the middle of epoch 1); rank 0 must follow.
        control = TaskControl()
        for event in train(whole.with_changes(out_dir=f"{folder}/split"), control):
            if rank == 1 and isinstance(event, StepEnded) and event.global_step == 3:
                control.stop()
        report["split_end"] = (event.status, event.global_step)
        stopped = load_checkpoint(f"{folder}/split/last.pt")
        report["stopped"] = (stopped.epoch, stopped.global_step, stopped.extra["step_in_epoch"],
                             stopped.extra["world_size"], len(stopped.extra["torch_rng_ranks"]))
        resumed = list(train(settings_for_resume(f"{folder}/split", {}), resume=True))
        report["resumed_steps"] = [e.global_step for e in resumed if isinstance(e, StepEnded)]
        report["resumed_end"] = resumed[-1].status

        # A user error is raised by every process, so that none waits for the others in a collective;
        # rank 0 raises its own, or one naming the rank that failed; the others stay quiet (RankFailed).
        for name, settings in (
            ("bad_batch", whole.with_changes(out_dir=f"{folder}/bad_batch", batch_size=9)),
            ("rank1_without_data", whole.with_changes(out_dir=f"{folder}/no_data",
                                                      data=f"{folder}/no_such_data" if rank == 1 else "builtin")),
        ):
            try:
                next(train(settings))
            except VaeviewerError as error:
                report[name] = (type(error).__name__, str(error))
        Path(folder, f"rank{rank}.json").write_text(json.dumps(report))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def spawned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    folder = tmp_path_factory.mktemp("spawned")
    torch.multiprocessing.spawn(_spawned_rank, args=(_free_port(), str(folder)), nprocs=2, join=True)
    reports = [json.loads((folder / f"rank{r}.json").read_text()) for r in range(2)]
    return folder, reports[0], reports[1]


@pytest.fixture(scope="module")
def single_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[StepEnded]]:
    """The same run in one process: batch 8 from the same seed and data."""
    run = tmp_path_factory.mktemp("single") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each of the two processes: on a busy 2-core machine, 2 threads are 10x slower
    try:
        events = list(train(TrainSettings(out_dir=str(run), epochs=2, **TINY)))
    finally:
        torch.set_num_threads(threads)
    return run, [e for e in events if isinstance(e, StepEnded)]


def test_every_rank_reports_the_global_means(spawned: tuple[Path, dict, dict]) -> None:
    _, rank0, rank1 = spawned
    assert rank0["whole_end"] == rank1["whole_end"] == "completed"
    assert len(rank0["whole_steps"]) == 8
    assert rank0["whole_steps"] == rank1["whole_steps"]  # the all-reduced losses, not each rank's own


def test_a_stop_asked_by_one_rank_stops_all_after_the_same_step(spawned: tuple[Path, dict, dict]) -> None:
    _, rank0, rank1 = spawned
    assert rank0["split_end"] == rank1["split_end"] == ["stopped", 3]
    assert rank0["stopped"] == rank1["stopped"] == [0, 3, 3, 2, 2]  # epoch, step, step in epoch, ranks, RNG states


def test_a_user_error_stops_every_process_and_rank_0_reports_it(spawned: tuple[Path, dict, dict]) -> None:
    folder, rank0, rank1 = spawned
    message = "--batch-size 9 does not split evenly over the 2 processes torchrun started; use a multiple of 2"
    assert rank0["bad_batch"] == ["OptionError", message]
    assert rank1["bad_batch"] == ["RankFailed", f"rank 0 of 2: {message}"]
    kind, text = rank0["rank1_without_data"]
    assert kind == "RankFailed" and text.startswith(f"rank 1 of 2: {folder}/no_such_data")
    assert rank1["rank1_without_data"][0] == "RankFailed"
    assert not (folder / "bad_batch").exists() and not (folder / "no_data" / "run.json").exists()


def test_resume_under_two_processes_ends_bit_for_bit_where_the_whole_run_ends(spawned: tuple[Path, dict, dict]) -> None:
    folder, rank0, rank1 = spawned
    assert rank0["resumed_end"] == rank1["resumed_end"] == "completed"
    assert rank0["resumed_steps"] == [4, 5, 6, 7, 8]
    whole, split = load_checkpoint(folder / "whole" / "last.pt"), load_checkpoint(folder / "split" / "last.pt")
    for name, tensor in whole.model_state.items():
        assert torch.equal(tensor, split.model_state[name]), name
    for column in ("train_loss", "train_chamfer", "train_kl"):
        assert whole.history[column] == pytest.approx(split.history[column], rel=1e-9), column
    record = json.loads((folder / "whole" / "run.json").read_text())
    assert record["world_size"] == 2 and record["backend"] == "gloo"
    assert record["rank_check"] == {"epoch": 2, "global_step": 8, "identical_weights": True}


def test_two_processes_match_one_process_with_the_same_global_batch(
    spawned: tuple[Path, dict, dict], single_run: tuple[Path, list[StepEnded]]
) -> None:
    """Same weights, same global batch: the first step's losses agree to within 1 %.

    Not exactly: on the CPU each process normalises its half of the batch with its own batch-norm
    statistics, and the processes draw their own sampling noise and dropout. Measured here:
    Chamfer 0.05 %, KL 0.24 %, classifier NLL 0.13 % apart (a different half of the data would be
    several per cent off: the steps' Chamfer distances differ by 5 to 30 %). After that the runs
    part the way two single-process runs with different sampling noise part; their per-epoch
    losses stay within the spread of such runs (measured: epoch 1 train Chamfer 0.18 to 0.24 for
    one process under three noise draws, 0.18 for two processes).
    """
    folder, rank0, _ = spawned
    single_folder, single_steps = single_run
    first = rank0["whole_steps"][0]
    reference = single_steps[0]
    assert first[0] == reference.global_step == 1
    for value, expected in zip(first[1:], (reference.loss, reference.chamfer, reference.kl, reference.classifier_loss)):
        assert value == pytest.approx(expected, rel=0.01)
    two = load_checkpoint(folder / "whole" / "last.pt").history
    one = load_checkpoint(single_folder / "last.pt").history
    assert two["train_chamfer"] == pytest.approx(one["train_chamfer"], rel=0.5)
    assert two["train_chamfer"][1] < two["train_chamfer"][0]  # it learns


def _rank_that_joins_by_itself(rank: int, port: int, folder: str) -> None:
    """One of two processes that let ``train()`` create the group and leave it, as under torchrun."""
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    before = len(os.listdir("/proc/self/task"))
    end = list(train(TrainSettings(out_dir=f"{folder}/run", epochs=1, **TINY)))[-1].status
    report = {"end": end, "threads": [before, len(os.listdir("/proc/self/task"))], "joined": dist.is_initialized()}
    Path(folder, f"rank{rank}.json").write_text(json.dumps(report))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc/self/task")
def test_leaving_the_group_ends_its_threads(tmp_path: Path) -> None:
    """After ``train()`` leaves the group it created, gloo's worker threads are gone.

    Left running (the group held by a torch module imported after it existed), one of them could
    release a finished collective while the interpreter shuts down and abort the process: torchrun
    then reported a failed run after everything had been saved.
    """
    torch.multiprocessing.spawn(_rank_that_joins_by_itself, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        report = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert report["end"] == "completed" and not report["joined"]
        before, after = report["threads"]
        assert after == before, f"rank {rank}: {after - before} threads left running"


# --------------------------------------------------------------------- torchrun, as a user runs it


def _torchrun(*args: str, shards: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", DEBUG_SHARDS_VARIABLE: str(shards)}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "vaeviewer",
         "train", *args],
        capture_output=True, text=True, timeout=240, env=env, check=False,
    )


@pytest.fixture(scope="module")
def torchrun_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """``torchrun --nproc_per_node 2 -m vaeviewer train --epochs 1``, then ``--resume --epochs 2``."""
    folder = tmp_path_factory.mktemp("torchrun")
    run, shards = folder / "run", folder / "shards"
    first = _torchrun("--out", str(run), "--epochs", "1", *CLI_TINY, shards=shards)
    assert first.returncode == 0, first.stderr
    second = _torchrun("--out", str(run), "--resume", "--epochs", "2", shards=shards)
    assert second.returncode == 0, second.stderr
    return run, shards, [first.stderr, second.stderr]


def test_torchrun_trains_and_resumes_with_one_voice(torchrun_run: tuple[Path, Path, list[str]]) -> None:
    run, _, (first, second) = torchrun_run
    assert "Traceback" not in first + second
    assert first.count("vaeviewer: training on 32 shapes") == 1
    assert "on 2 processes (CPU, 4 shapes per process and step)" in first
    assert second.count("vaeviewer: resuming on 32 shapes") == 1
    assert first.count("epoch 1/1: Chamfer") == 1 and second.count("epoch 2/2: Chamfer") == 1
    assert first.count("vaeviewer: trained 1 epochs") == 1 and second.count("vaeviewer: trained 2 epochs") == 1

    record = json.loads((run / "run.json").read_text())
    assert record["world_size"] == 2 and record["backend"] == "gloo" and record["batch_per_process"] == 4
    assert record["sync_batch_norm"] is False
    assert record["rank_check"] == {"epoch": 2, "global_step": 8, "identical_weights": True}
    # What the window's "Open run…" reads: the settings in run.json, history.csv, the checkpoints.
    assert TrainSettings.from_dict(record["settings"]).epochs == 2
    history = History.read_csv(run / "history.csv")
    assert history.columns["epoch"] == [1, 2] and history.columns["global_step"] == [4, 8]
    assert all(v > 0 for v in history.columns["val_chamfer"])
    names = sorted(p.name for p in run.iterdir())
    logs = [name for name in names if "tfevents" in name]
    assert [name for name in names if name not in logs] == ["best.pt", "history.csv", "last.pt", "run.json"]
    # Rank 0 alone writes the TensorBoard log: one event file per session, the epochs at their global steps.
    assert len(logs) == 2
    log = EventAccumulator(str(run), size_guidance={"scalars": 0}).Reload()
    assert [e.step for e in log.Scalars("train/loss")] == [4, 8]
    assert [e.step for e in log.Scalars("step/loss")] == list(range(1, 9))
    assert [e.value for e in log.Scalars("val/chamfer")] == pytest.approx(history.columns["val_chamfer"], rel=1e-5)

    last = load_checkpoint(run / "last.pt")
    model = build_model(last)
    assert last.epoch == 2 and last.global_step == 8 and last.config.num_points == 64
    assert model(torch.zeros(2, 64, 3)).reconstruction.shape == (2, 64, 3)


def test_torchrun_ranks_train_on_disjoint_shards(torchrun_run: tuple[Path, Path, list[str]]) -> None:
    _, shards, _ = torchrun_run
    lines = {r: [json.loads(x) for x in (shards / f"shards-rank{r}.jsonl").read_text().splitlines()] for r in range(2)}
    assert [x["epoch"] for x in lines[0]] == [x["epoch"] for x in lines[1]] == [0, 1]
    with open_dataset("builtin") as dataset:
        subset = balanced_subset(np.asarray(dataset.split("train").labels), 32, 3)
    for epoch in (0, 1):
        mine, yours = lines[0][epoch]["indices"], lines[1][epoch]["indices"]
        assert len(mine) == len(yours) == 16 and not set(mine) & set(yours)
        single = subset[torch.randperm(32, generator=torch.Generator().manual_seed(_epoch_seed(3, epoch))).numpy()]
        for step in range(4):  # rank 0's and rank 1's step-s shapes are the single-process step-s batch
            together = mine[step * 4 : (step + 1) * 4] + yours[step * 4 : (step + 1) * 4]
            assert sorted(together) == sorted(single[step * 8 : (step + 1) * 8].tolist())
