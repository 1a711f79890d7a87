"""What the machine is and what it can do: its description, its load, and its matrix-multiply rate."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path


def cpu_model() -> str:
    """The processor's name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> float:
    """The one-minute load average (what other processes were doing), NaN where unknown."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def busy_cores(interval: float = 0.5) -> float:
    """How many cores were busy over the next ``interval`` seconds (from /proc/stat), NaN where unknown."""
    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields[:8]), idle

    try:
        total_a, idle_a = sample()
        time.sleep(interval)
        total_b, idle_b = sample()
    except (OSError, ValueError, IndexError):
        return float("nan")
    total = total_b - total_a
    return (os.cpu_count() or 1) * (1.0 - (idle_b - idle_a) / total) if total > 0 else float("nan")


def wait_until_quiet(timeout: float, threshold: float = 0.5) -> float:
    """Wait (up to ``timeout`` seconds) until fewer than ``threshold`` cores are busy; return the last reading."""
    deadline = time.monotonic() + timeout
    busy = busy_cores()
    while busy > threshold and time.monotonic() < deadline:
        time.sleep(2.0)
        busy = busy_cores()
    return busy


def describe() -> dict:
    """Cores, processor, torch and its threads, and any CUDA device."""
    import torch

    info = {
        "system": f"{platform.system()} {platform.machine()}",
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "",
    }
    return info


def sgemm(size: int = 4096, repeats: int = 5, device: str = "cpu") -> dict:
    """Float32 matrix-multiply rate: median of ``repeats`` products of two size x size matrices.

    2 size^3 floating-point operations per product. This is the machine's own
    yardstick for the training figures: a training sample's FLOPs over its
    time, divided by this rate, says how much of the machine the step uses.
    """
    import torch

    dev = torch.device(device)
    a = torch.rand(size, size, device=dev)
    b = torch.rand(size, size, device=dev)
    out = torch.empty(size, size, device=dev)
    torch.mm(a, b, out=out)  # warm-up: thread pool, caches, clocks
    times = []
    for _ in range(repeats):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        began = time.perf_counter()
        torch.mm(a, b, out=out)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
    seconds = statistics.median(times)
    return {"gflops": 2 * size**3 / seconds / 1e9, "seconds": seconds, "size": size, "load": load_average()}
