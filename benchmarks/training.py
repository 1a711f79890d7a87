"""Training figures: throughput of ``vaeviewer train``, FLOPs per sample, Chamfer, malloc, peak memory."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import load_average


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours_training_steps(num_points: int, batch: int, steps: int, warmup: int, device: str = "cpu") -> dict:
    """Seconds per step of vaeviewer's own training loop (:func:`vaeviewer.training.train`).

    The run trains on ``batch * (warmup + steps)`` shapes of the built-in set
    for one epoch; a step is the time from one ``StepEnded`` event to the next,
    which covers taking the batch from the loaded split (vaeviewer's data
    loading: the split is read and sampled once, before the first step),
    forward, backward and the optimizer. The one-time load is reported apart.
    """
    from vaeviewer.training import RunStarted, StepEnded, TrainSettings, train

    out = Path(tempfile.mkdtemp(prefix="vaeviewer-bench-train-"))
    try:
        settings = TrainSettings(
            data="builtin", out_dir=str(out / "run"), epochs=1, batch_size=batch, num_points=num_points,
            max_shapes=batch * (warmup + steps), val_split="", device=device,
        )
        stamps: list[float] = []
        began = time.perf_counter()
        load_seconds = float("nan")
        for event in train(settings):
            if isinstance(event, RunStarted):
                load_seconds = time.perf_counter() - began
                stamps.append(time.perf_counter())
            elif isinstance(event, StepEnded):
                stamps.append(time.perf_counter())
                if len(stamps) > warmup + steps:
                    break
        intervals = [b - a for a, b in zip(stamps, stamps[1:])][warmup:]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    seconds = statistics.median(intervals)
    return {
        "seconds_per_step": seconds,
        "samples_per_second": batch / seconds,
        "load_seconds": load_seconds,
        "steps": len(intervals),
        "peak_rss_mb": _peak_rss_mb(),
        "peak_gpu_mb": _peak_gpu_mb(device),
        "load": load_average(),
    }


def _peak_gpu_mb(device: str) -> float:
    """The most CUDA memory torch's allocator held for tensors in this process (0 off the GPU)."""
    import torch

    if not device.startswith("cuda"):
        return 0.0
    return torch.cuda.max_memory_allocated(torch.device(device)) / 2**20


def _set_block_mb(block_mb: float | None) -> None:
    """Override the block budget of :mod:`vaeviewer.model.blocks` (to compare block sizes)."""
    if block_mb is None:
        return
    from vaeviewer.model import blocks

    blocks.CPU_BLOCK_BYTES = blocks.GPU_BLOCK_BYTES = int(block_mb * 2**20)


def training_flops(num_points: int, batch: int = 2) -> dict:
    """Floating-point operations of one training sample, counted by ``torch.utils.flop_counter``.

    Forward and backward of the network written module by module (the
    encoder's 1x1 convolutions, the decoder's and the classifier's linear
    layers: everything that is a matrix product), per sample. Element-wise
    work (batch norm, ReLU, Adam) and the Chamfer distance are not counted, so
    FLOPs / time / sgemm rate is the share of the machine's matrix-multiply
    rate the step achieves on the work a straightforward implementation must
    do. (vaeviewer's fused last encoder layer skips two of the three large
    products of that layer; its FLOPs are still counted here, as the work done
    for the sample.)
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from vaeviewer.model import ModelConfig, PointCloudVAE

    torch.manual_seed(0)
    model = PointCloudVAE(ModelConfig(num_points=num_points, num_classes=10)).train()
    clouds = torch.rand(batch, num_points, 3)
    with FlopCounterMode(display=False) as counter:
        mu, logvar = model.encoder.forward_reference(clouds)
        z = model.reparameterize(mu, logvar)
        loss = model.decode(z).square().mean() + model.classifier(mu.detach()).mean() + logvar.mean()
        loss.backward()
    return {"flops_per_sample": counter.get_total_flops() / batch}


def chamfer(variant: str, batch: int, points: int, repeats: int, device: str = "cpu",
            block_mb: float | None = None) -> dict:
    """Forward + backward of one Chamfer implementation: median seconds and peak extra memory.

    The memory is resident memory on the CPU and torch's CUDA allocator on a
    GPU (peak during the runs minus what the inputs held before them).
    ``block_mb`` overrides the search's block budget.
    """
    import torch

    from vaeviewer.model import chamfer_distance
    from vaeviewer.model.losses import chamfer_distance_cdist

    _set_block_mb(block_mb)
    function = chamfer_distance if variant == "chunked" else chamfer_distance_cdist
    dev = torch.device(device)
    torch.manual_seed(0)
    a = torch.rand(batch, points, 3, device=dev, requires_grad=True)
    b = torch.rand(batch, points, 3, device=dev)
    cuda = dev.type == "cuda"
    if cuda:
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        baseline = torch.cuda.memory_allocated(dev) / 2**20
    else:
        baseline = _peak_rss_mb()
    times = []
    for _ in range(repeats + 1):
        a.grad = None
        began = time.perf_counter()
        function(a, b).mean().backward()
        if cuda:
            torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - began)
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else _peak_rss_mb()
    return {"seconds": statistics.median(times[1:]), "peak_extra_mb": peak - baseline, "load": load_average()}


def encoder(variant: str, batch: int, points: int, repeats: int, device: str = "cpu",
            block_mb: float | None = None) -> dict:
    """Forward + backward of the encoder (training mode): the fused last layer or the layers written out.

    Median seconds, and on a GPU the peak CUDA memory of the runs.
    """
    import torch

    from vaeviewer.model import PointNetEncoder

    _set_block_mb(block_mb)
    dev = torch.device(device)
    torch.manual_seed(0)
    model = PointNetEncoder(latent_dim=128).to(dev).train()
    forward = model if variant == "fused" else model.forward_reference
    clouds = torch.rand(batch, points, 3, device=dev)
    cuda = dev.type == "cuda"
    if cuda:
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    times = []
    for _ in range(repeats + 2):
        model.zero_grad(set_to_none=True)
        began = time.perf_counter()
        mu, logvar = forward(clouds)
        (mu.square().mean() + logvar.mean()).backward()
        if cuda:
            torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - began)
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else _peak_rss_mb()
    return {"seconds": statistics.median(times[2:]), "peak_mb": peak, "load": load_average()}


def step_profile(points: int, batch: int, device: str = "cpu", rows: int = 15) -> dict:
    """The operators of one training step (vaeviewer's), by their own time on the device, from the torch profiler."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    dev = torch.device(device)
    step = _synthetic_step(points, batch, dev)
    for _ in range(3):
        step()
    cuda = dev.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        began = time.perf_counter()
        step()
        seconds = time.perf_counter() - began
    sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    table = prof.key_averages().table(sort_by=sort, row_limit=rows, max_name_column_width=40)
    print(table, file=sys.stderr)
    events = prof.key_averages()
    # The kernels themselves (the operators' rows repeat their kernels' time).
    kernels = [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]
    device_us = sum(e.self_device_time_total for e in kernels)
    launches = sum(e.count for e in events if e.key.startswith("cudaLaunchKernel"))
    return {"seconds": seconds, "device_busy_ms": device_us / 1000, "kernel_launches": launches, "table": table}


def malloc_step(points: int, batch: int, steps: int, keep: bool, reference: bool = False) -> dict:
    """Training steps with and without :func:`vaeviewer.training.memory.keep_freed_memory`.

    User and system CPU time, minor page faults and peak RSS per step: the
    kernel's share of a step. ``reference`` runs the encoder as written
    (``forward_reference``) to show the story of the large activation buffers.
    """
    import torch

    if keep:
        from vaeviewer.training.memory import keep_freed_memory

        keep_freed_memory()
    step = _synthetic_step(points, batch, torch.device("cpu"), reference=reference)

    step()
    step()
    before = resource.getrusage(resource.RUSAGE_SELF)
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds_per_step": statistics.median(times),
        "user_seconds_per_step": (after.ru_utime - before.ru_utime) / steps,
        "system_seconds_per_step": (after.ru_stime - before.ru_stime) / steps,
        "page_faults_per_step": (after.ru_minflt - before.ru_minflt) / steps,
        "peak_rss_mb": _peak_rss_mb(),
        "load": load_average(),
    }


def train_command_peak_rss(points: int, batch: int, steps: int) -> dict:
    """Peak resident memory of the real ``vaeviewer train`` command (a child process), from wait4's rusage.

    Trains one epoch of ``steps`` steps on a class-balanced subset of the
    built-in set (``--max-shapes``), validating on its test split as it would.
    """
    out = Path(tempfile.mkdtemp(prefix="vaeviewer-bench-rss-"))
    command = [
        sys.executable, "-m", "vaeviewer", "train", "--data", "builtin", "--out", str(out / "run"),
        "--epochs", "1", "--batch-size", str(batch), "--points", str(points),
        "--max-shapes", str(batch * steps), "--device", "cpu",
    ]
    try:
        began = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        error = child.stderr.read().decode(errors="replace") if child.stderr else ""
        if child.returncode != 0:
            raise RuntimeError(f"vaeviewer train failed ({child.returncode}): {error[-2000:]}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"peak_rss_mb": usage.ru_maxrss / 1024, "seconds": seconds, "load": load_average()}


def _synthetic_step(points: int, batch: int, device, reference: bool = False):
    """A step function training a fresh model on one batch of random clouds, as ``vaeviewer train`` steps.

    Forward (the fused encoder, or the layers written out with ``reference``),
    Chamfer + KL + classifier loss, backward, Adam; the loss is read back, as
    the training loop does for its events.
    """
    import torch

    from vaeviewer.model import ModelConfig, PointCloudVAE, chamfer_distance, classifier_nll, kl_divergence
    from vaeviewer.model.vae import LOGVAR_RANGE

    torch.manual_seed(0)
    model = PointCloudVAE(ModelConfig(num_points=points, num_classes=10)).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    clouds = torch.rand(batch, points, 3, device=device)
    labels = torch.randint(0, 10, (batch,), device=device)
    encode = model.encoder.forward_reference if reference else model.encoder

    def step() -> None:
        mu, logvar = encode(clouds)
        logvar = logvar.clamp(*LOGVAR_RANGE)
        reconstruction = model.decode(model.reparameterize(mu, logvar))
        loss = chamfer_distance(reconstruction, clouds).mean() + 1e-5 * kl_divergence(mu, logvar, 0.2).mean()
        loss = loss + classifier_nll(model.classifier(mu.detach()), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        float(loss.detach())

    return step
