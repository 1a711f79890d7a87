"""Run the benchmark suite and record the results with the machine they ran on.

``python -m benchmarks`` (``make bench``) measures every figure of the issue's
targets in fresh processes, several times, with its baseline in the same run,
and writes BENCHMARKS.md: the machine (cores, processor, the float32
matrix-multiply rate measured at the start and the end of the run), the date,
the command, a table of medians with ratios, targets and whether they are met,
and the hand-written sections ``benchmarks/analysis.md`` (what dominates each
figure) and ``benchmarks/quality.md`` (the models' quality figures, measured
with ``vaeviewer evaluate``).

``--quick`` (``make bench-quick``) is a smoke run of every probe with one
repeat and few steps, in under two minutes; its figures are not the record.
``--only WORD`` runs the figures whose key contains WORD (for profiling one).
``--device cuda`` runs, on a CUDA device, the figures a GPU changes (training
against the seed's way, Chamfer, block sizes, a step's profile); its record
(``--out benchmarks/cuda.md``) is copied into BENCHMARKS.md by the CPU run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024.0


@dataclass
class Row:
    """One line of the table."""

    figure: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: str
    load: str


@dataclass
class Suite:
    """Runs probes in fresh processes and collects the table."""

    quick: bool
    only: str
    quiet_wait: float = 0.0
    rows: list[Row] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    temp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vaeviewer-bench-")))

    def wanted(self, key: str) -> bool:
        return not self.only or self.only in key

    def probe(self, name: str, runs: int = 1, *, display: bool = False, **kwargs: object) -> list[dict]:
        """Run probe ``name`` ``runs`` times, each in a new interpreter (under a display if asked)."""
        results = []
        for _ in range(runs):
            self.before_measurement()
            command = [sys.executable, "-m", "benchmarks.probes", name, json.dumps(kwargs)]
            if display:
                command = _with_display(command)
                if command is None:
                    raise RuntimeError("no display and no xvfb-run")
            out = _run(command)
            result = json.loads(out.strip().splitlines()[-1])
            if "load" in result:
                self.loads.append(result["load"])
            results.append(result)
        return results

    def window_probe(self, args: list[str], repeats: int) -> list[dict]:
        """Run a :mod:`benchmarks.window` probe under a display ``repeats`` times."""
        results = []
        # The launch time is taken by a shell inside the display, just before it becomes the Python
        # process: starting Xvfb does not count.
        script = 'name="$1"; shift; exec "$0" -m benchmarks.window "$name" "$(date +%s.%N)" "$@"'
        for _ in range(repeats):
            self.before_measurement()
            command = _with_display(["sh", "-c", script, sys.executable, *args])
            if command is None:
                raise RuntimeError("no display and no xvfb-run")
            out = _run(command)
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results

    def before_measurement(self) -> None:
        """Give other processes' bursts a chance to pass, and note how busy the machine was."""
        from benchmarks.machine import busy_cores, wait_until_quiet

        busy = wait_until_quiet(self.quiet_wait) if self.quiet_wait > 0 else busy_cores(0.2)
        self.busy.append(busy)

    def add(self, figure: str, ours: str, baseline: str, ratio: str, target: str, met: bool | None,
            loads: list[float]) -> None:
        if self.quick:
            met = None  # a smoke run's smaller sizes say nothing about the targets
        verdict = "—" if met is None else ("**yes**" if met else "**no**")
        load = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "—"
        self.rows.append(Row(figure, ours, baseline, ratio, target, verdict, load))
        print(f"  {figure}: {ours} | {baseline} | {ratio} | {target} | {verdict}", file=sys.stderr, flush=True)


def _run(command: list[str], env: dict | None = None) -> str:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _with_display(command: list[str]) -> list[str] | None:
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return command
    if shutil.which("xvfb-run") is None:
        return None
    return ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", *command]


def _median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def _loads(results: list[dict]) -> list[float]:
    return [r["load"] for r in results if "load" in r]


# ---- the figures ---------------------------------------------------------------------------------


def machine_rate(suite: Suite) -> tuple[dict, list[dict]]:
    describe = suite.probe("describe")[0]
    rates = suite.probe("sgemm", 1 if suite.quick else 3, size=2048 if suite.quick else 4096)
    return describe, rates


def training(suite: Suite, sgemm_gflops: float, device: str = "cpu") -> None:
    """Targets 1 (throughput against the seed, share of sgemm) and the N = 1024 figures."""
    # The smoke run trains smaller batches of smaller clouds: it checks the probes, not the targets.
    points_list = (1024,) if suite.quick else (2048, 1024)
    repeats = 1 if suite.quick else 3
    batch = 8 if suite.quick else 32
    gpu = device != "cpu"
    # A GPU step takes milliseconds: more of them. The seed's loader gets its 10 workers where the
    # machine has the cores (on 2 cores it loads in the main process); batches then come in waves,
    # so its figure is the mean over enough steps to span several.
    workers = min(10, (os.cpu_count() or 1) - 1) if gpu else 0
    for points in points_list:
        key = f"training N={points} {device}"
        if not suite.wanted(key):
            continue
        steps, warmup = (1, 1) if suite.quick else ((20, 5) if gpu else (6, 2))
        flops = suite.probe("flops", num_points=points)[0]["flops_per_sample"]
        ours = suite.probe("ours_training", repeats, num_points=points, batch=batch, steps=steps, warmup=warmup,
                           device=device)
        ours_rate = _median(ours, "samples_per_second")
        loads = _loads(ours)
        seed_steps, seed_warmup = (1, 1) if suite.quick else ((20, 8) if gpu else (3, 1))
        seed = suite.probe("seed_training", min(repeats, 2) if gpu else repeats, num_points=points, batch=batch, steps=seed_steps,
                           warmup=seed_warmup, workers=workers, device=device)
        seed_rate = _median(seed, "samples_per_second")
        ratio = ours_rate / seed_rate
        loader = f"{workers} loader workers" if workers else "loaded in the main process"
        suite.add(
            f"Training throughput, B={batch}, N={points} (fwd+bwd+Adam, data loading included, {device})",
            f"{ours_rate:.1f} samples/s ({_median(ours, 'seconds_per_step') * 1000:.1f} ms/step)",
            f"{seed_rate:.1f} samples/s ({_median(seed, 'seconds_per_step') * 1000:.0f} ms/step, of which "
            f"{_median(seed, 'data_seconds_per_step') * 1000:.0f} ms waiting for FPS in `__getitem__`, {loader})",
            f"{ratio:.1f}x", "≥ 4x" if points == 2048 and not gpu else "(reported)",
            ratio >= 4 if points == 2048 and not gpu else None, loads + _loads(seed),
        )
        share = flops * ours_rate / (sgemm_gflops * 1e9)
        suite.add(
            f"Share of the sgemm rate, N={points} ({device})",
            f"{flops / 1e9:.2f} GFLOP/sample x {ours_rate:.1f}/s = {flops * ours_rate / 1e9:.0f} GFLOP/s",
            f"sgemm {sgemm_gflops:.0f} GFLOP/s", f"{100 * share:.1f} %",
            "≥ 50 %" if points == 2048 and not gpu else "(reported)",
            share >= 0.5 if points == 2048 and not gpu else None, loads,
        )
        if gpu:
            suite.add(f"Peak GPU memory of a training run, B={batch}, N={points}",
                      f"{_median(ours, 'peak_gpu_mb'):.0f} MB (torch's allocator)", "—", "—", "(reported)", None,
                      loads)


def chamfer(suite: Suite, device: str = "cpu") -> None:
    """Target 2."""
    if not suite.wanted("chamfer"):
        return
    repeats = 1 if suite.quick else 3
    inner = 1 if suite.quick else (20 if device != "cpu" else 5)
    batch = 8 if suite.quick else 32
    ours = suite.probe("chamfer", repeats, variant="chunked", batch=batch, points=2048, repeats=inner, device=device)
    cdist = suite.probe("chamfer", repeats, variant="cdist", batch=batch, points=2048, repeats=inner, device=device)
    speed = _median(cdist, "seconds") / _median(ours, "seconds")
    memory = _median(cdist, "peak_extra_mb") / max(_median(ours, "peak_extra_mb"), 1.0)
    gpu = device != "cpu"
    suite.add(
        f"Chamfer fwd+bwd, B={batch}, N=2048" + (f" ({device})" if gpu else ""),
        f"{1000 * _median(ours, 'seconds'):.{1 if gpu else 0}f} ms, {_median(ours, 'peak_extra_mb'):.0f} MB extra",
        f"{1000 * _median(cdist, 'seconds'):.{1 if gpu else 0}f} ms, {_median(cdist, 'peak_extra_mb'):.0f} MB extra "
        "(`torch.cdist`)",
        f"{speed:.1f}x faster, 1/{memory:.0f} of the memory",
        "≥ 2.5x, ≤ 1/8 memory, same values and gradients (tests/model/test_losses.py)",
        speed >= 2.5 and memory >= 8, _loads(ours) + _loads(cdist),
    )


def blocks(suite: Suite, device: str) -> None:
    """How the block budget (vaeviewer.model.blocks) moves the Chamfer search and the fused encoder layer."""
    if not suite.wanted("blocks") or suite.quick:
        return
    import torch

    from vaeviewer.model.blocks import block_bytes

    default_mb = block_bytes(torch.device(device)) / 2**20
    sizes = sorted({8.0, 64.0, 256.0, default_mb})
    chamfer_runs = [suite.probe("chamfer", 1, variant="chunked", batch=32, points=2048, repeats=10, device=device,
                                block_mb=mb)[0] for mb in sizes]
    encoder_runs = [suite.probe("encoder", 1, variant="fused", batch=32, points=2048, repeats=10, device=device,
                                block_mb=mb)[0] for mb in sizes]
    reference = suite.probe("encoder", 1, variant="reference", batch=32, points=2048, repeats=10, device=device)[0]
    def cell(run: dict, memory_key: str) -> str:
        return f"{1000 * run['seconds']:.1f} ms, {run[memory_key]:.0f} MB"
    for mb, search, fused in zip(sizes, chamfer_runs, encoder_runs):
        mark = " (the default)" if mb == default_mb else ""
        suite.add(f"Blocks of {mb:.0f} MB{mark}, B=32, N=2048 ({device}): Chamfer fwd+bwd; encoder fwd+bwd",
                  f"Chamfer {cell(search, 'peak_extra_mb')} extra; encoder {cell(fused, 'peak_mb')} peak",
                  f"encoder as written: {cell(reference, 'peak_mb')} peak", "—", "(diagnosis)", None,
                  [search["load"], fused["load"]])


def profile(suite: Suite, device: str) -> None:
    """The torch profiler's table of one training step, kept in the record."""
    if not suite.wanted("profile") or suite.quick:
        return
    run = suite.probe("step_profile", points=2048, batch=32, device=device)[0]
    suite.notes.append(
        f"One training step (B=32, N=2048, {device}) under the torch profiler: {1000 * run['seconds']:.1f} ms "
        f"wall, {run['device_busy_ms']:.1f} ms of kernels, {run['kernel_launches']} kernel launches. "
        "Operators by their own time on the device:\n\n```\n" + run["table"].strip() + "\n```"
    )


def memory(suite: Suite) -> None:
    """Target 3 and the kernel-time story."""
    if suite.wanted("peak rss"):
        steps, batch = (1, 8) if suite.quick else (5, 32)
        ours = suite.probe("train_rss", 1 if suite.quick else 3, points=2048, batch=batch, steps=steps)
        peak = _median(ours, "peak_rss_mb")
        suite.add(
            f"Peak RSS of `vaeviewer train`, B={batch}, N=2048",
            f"{peak:.0f} MB", "—", "—", "≤ 2 GB (2048 MB)", peak <= 2048, _loads(ours),
        )
    if suite.wanted("malloc") and not suite.quick:
        for reference in (False, True):
            kept = suite.probe("malloc_step", 1, points=2048, batch=32, steps=4, keep=True, reference=reference)[0]
            default = suite.probe("malloc_step", 1, points=2048, batch=32, steps=4, keep=False, reference=reference)[0]
            encoder = "encoder as written (`forward_reference`)" if reference else "vaeviewer's encoder"
            suite.add(
                f"Training step, B=32, N=2048, {encoder}: malloc keeps freed memory (`keep_freed_memory`)",
                f"{kept['seconds_per_step']:.2f} s/step, system {kept['system_seconds_per_step']:.3f} s, "
                f"{kept['page_faults_per_step'] / 1000:.0f}k faults, peak {kept['peak_rss_mb']:.0f} MB",
                f"glibc default: {default['seconds_per_step']:.2f} s/step, system "
                f"{default['system_seconds_per_step']:.3f} s, {default['page_faults_per_step'] / 1000:.0f}k faults, "
                f"peak {default['peak_rss_mb']:.0f} MB",
                f"{default['seconds_per_step'] / kept['seconds_per_step']:.2f}x", "(diagnosis)", None,
                [kept["load"], default["load"]],
            )


def pictures(suite: Suite) -> None:
    """Targets 4 and the thumbnail rate of 6."""
    if suite.wanted("gif"):
        frames = 6 if suite.quick else 24
        repeats = 1 if suite.quick else 3
        ours = suite.probe("gif", repeats, display=True, way="vaeviewer", num_points=2048, frames=frames, size=512)
        mpl = suite.probe("gif", repeats, display=True, way="matplotlib", num_points=2048, frames=frames, size=512)
        ratio = _median(mpl, "seconds") / _median(ours, "seconds")
        suite.add(
            f"Interpolation GIF, {frames} frames, 512x512, 2048 points (decoded clouds to written file)",
            f"{_median(ours, 'seconds'):.2f} s", f"{_median(mpl, 'seconds'):.2f} s (matplotlib 3-D scatter per frame)",
            f"{ratio:.1f}x", "≥ 5x", ratio >= 5, _loads(ours) + _loads(mpl),
        )
    if suite.wanted("thumbnails"):
        count = 20 if suite.quick else 100
        ours = suite.probe("thumbnails", 1 if suite.quick else 3, display=True, way="vaeviewer", count=count)
        mpl = suite.probe("thumbnails", 1, way="matplotlib", count=count // 4)
        rate = _median(ours, "per_second")
        suite.add(
            "Thumbnails (128 px, 2048 points, off-screen)", f"{rate:.0f} per second",
            f"{_median(mpl, 'per_second'):.0f} per second (matplotlib)", f"{rate / _median(mpl, 'per_second'):.0f}x",
            "≥ 50 per second", rate >= 50, _loads(ours) + _loads(mpl),
        )


def data(suite: Suite) -> None:
    """Target 5."""
    if suite.wanted("h5"):
        shapes = 1000 if suite.quick else 12_311
        folder = suite.temp / "modelnet40-sized"
        made = suite.probe("make_h5", folder=str(folder), shapes=shapes)[0]
        try:
            repeats = 1 if suite.quick else 5
            ours = suite.probe("h5_open", repeats, folder=str(folder), way="vaeviewer")
            eager = suite.probe("h5_open", repeats, folder=str(folder), way="eager")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        seconds, grown = _median(ours, "seconds"), _median(ours, "memory_growth_mb")
        suite.add(
            f"PointNet h5 ({shapes:,} x 2048 x 3, {made['bytes'] / 2**20:.0f} MB): open + first 100 shapes ready",
            f"{1000 * seconds:.0f} ms, +{grown:.0f} MB",
            f"{1000 * _median(eager, 'seconds'):.0f} ms, +{_median(eager, 'memory_growth_mb'):.0f} MB (whole array read)",
            f"{_median(eager, 'seconds') / seconds:.0f}x", "≤ 1 s, ≤ 100 MB", seconds <= 1 and grown <= 100,
            _loads(ours) + _loads(eager),
        )
    if suite.wanted("pc15k"):
        shapes = 2000 if suite.quick else 35_708
        folder = suite.temp / "pc15k-sized"
        suite.probe("make_pc15k", folder=str(folder), shapes=shapes)
        try:
            runs = suite.probe("pc15k_open", 1 if suite.quick else 3, folder=str(folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        seconds = _median(runs, "seconds")
        suite.add(
            f"ShapeNet PC15k layout ({shapes:,} files of 15,000 points): open + first shape resampled to 2,048",
            f"{1000 * seconds:.0f} ms (open {1000 * _median(runs, 'open_seconds'):.0f} ms)", "—", "—", "≤ 1 s",
            seconds <= 1, _loads(runs),
        )
    if suite.wanted("retrieval"):
        shapes = 1000 if suite.quick else 12_000
        folder, cache = suite.temp / "retrieval-set", suite.temp / "retrieval-cache"
        suite.probe("make_h5", folder=str(folder), shapes=shapes)
        checkpoint = _model_2048(suite)
        try:
            args = dict(folder=str(folder), checkpoint=checkpoint, cache_dir=str(cache))
            cold = suite.probe("retrieval", 1, way="cold", **args)
            cached = suite.probe("retrieval", 1 if suite.quick else 3, way="cached", **args)
            brute = suite.probe("retrieval", 1, way="brute", **args)
            mixture = suite.probe("mixture", 1 if suite.quick else 3, **args)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
        seconds, baseline = _median(cached, "seconds"), _median(brute, "seconds")
        suite.add(
            f"Retrieval: the 5 nearest of {shapes:,} shapes (2048 points) to one query, codes cached (cold: encoded first)",
            f"{1000 * seconds:.0f} ms (cold {_median(cold, 'seconds'):.1f} s)",
            f"{baseline:.1f} s (Chamfer distance to every shape)", f"{baseline / seconds:.0f}x", "≤ 1 s cached",
            seconds <= 1 and all(run["found_17"] for run in cached + cold), _loads(cached) + _loads(cold) + _loads(brute),
        )
        first, later = _median(mixture, "first_seconds"), _median(mixture, "later_seconds")
        refit = _median(mixture, "refit_seconds")
        suite.add(
            f"Latent studio: 6 codes from the mixture (32 Gaussians, full covariances) of {shapes:,} codes: the first "
            "generation, which fits it (later generations in brackets)",
            f"{first:.1f} s ({1000 * later:.1f} ms)", f"{refit:.1f} s every generation (a fit each time)",
            f"{refit / later:.0f}x after the first", "(reported)", None, _loads(mixture),
        )
    if suite.wanted("builtin"):
        runs = suite.probe("builtin", 1 if suite.quick else 3)
        seconds = _median(runs, "seconds")
        suite.add("Built-in data set generated (1,250 shapes x 2048 points)", f"{seconds:.1f} s", "—", "—",
                  "≤ 10 s", seconds <= 10, _loads(runs))


def _model_2048(suite: Suite) -> str:
    """A checkpoint of an untrained 2048-point model in the suite's folder (made once): the data and window rows'."""
    checkpoint = suite.temp / "model-2048.pt"
    if not checkpoint.is_file():
        _run([sys.executable, "-c", _MAKE_CHECKPOINT, str(checkpoint)])
    return str(checkpoint)


def startup(suite: Suite) -> None:
    """Target 6."""
    repeats = 1 if suite.quick else 5
    if suite.wanted("help"):
        vaeviewer = Path(sys.executable).with_name("vaeviewer")
        ours, eager = [], []
        for _ in range(repeats):
            began = time.perf_counter()
            _run([str(vaeviewer), "--help"])
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            _run([sys.executable, "-c", "import torch, PySide6.QtWidgets, pyvista"])
            eager.append(time.perf_counter() - began)
            if suite.quick:
                break
        load = _machine_load()
        suite.add("`vaeviewer --help`", f"{statistics.median(ours):.2f} s",
                  f"{statistics.median(eager):.2f} s (importing torch, Qt and VTK up front)",
                  f"{statistics.median(eager) / statistics.median(ours):.0f}x", "≤ 0.3 s",
                  statistics.median(ours) <= 0.3, [load])
    if suite.wanted("window"):
        settings = suite.temp / "window.ini"
        runs = suite.window_probe(["startup", str(settings)], repeats)
        seconds = _median(runs, "first_shape_s")
        suite.notes.append(f"OpenGL renderer of the window figures: {runs[0]['renderer']}.")
        suite.add("Window: launch to first shape drawn (Xvfb, software OpenGL)", f"{seconds:.2f} s", "—", "—",
                  "≤ 3 s", seconds <= 3, [_machine_load()])
    if suite.wanted("playback"):
        settings = suite.temp / "playback.ini"
        runs = suite.window_probe(["playback", _model_2048(suite), str(settings)], 1 if suite.quick else 3)
        fps = _median(runs, "fps")
        suite.add(f"Interpolation playback in the window, {runs[0]['points']} points (asked for 120/s)",
                  f"{fps:.0f} frames/s", "—", "—", "≥ 30 frames/s", fps >= 30, [_machine_load()])
    if suite.wanted("editing"):
        runs = suite.window_probe(["editing", _model_2048(suite), str(suite.temp / "editing.ini")], 1 if suite.quick else 3)
        fps, baseline = _median(runs, "fps"), _median(runs, "baseline_fps")
        suite.add(f"Latent studio: editing in the window, {runs[0]['points']} points, the pc1 slider moved 120 times "
                  "a second", f"{fps:.0f} frames/s", f"{baseline:.0f} frames/s (encode and decode every frame)",
                  f"{fps / baseline:.1f}x", "≥ 30 frames/s", fps >= 30, [_machine_load()])
    if suite.wanted("map_drag"):
        runs = suite.window_probe(["map_drag", _model_2048(suite), str(suite.temp / "map.ini")], 1 if suite.quick else 3)
        fps, baseline = _median(runs, "fps"), _median(runs, "baseline_fps")
        suite.add(f"Latent map: a drag decodes the point under the mouse, {runs[0]['points']} points, the point "
                  "moved 120 times a second", f"{fps:.0f} frames/s",
                  f"{baseline:.0f} frames/s (the nearest shape's stored cloud, no decode)", f"{fps / baseline:.2f}x",
                  "≥ 30 frames/s", fps >= 30, [_machine_load()])
    if suite.wanted("responsive"):
        runs = suite.window_probe(["training", str(suite.temp / "training.ini"), str(suite.temp / "responsive-run")], 1)
        busy, gap = runs[0]["longest_busy_s"], runs[0]["longest_gap_s"]
        suite.add("Window during a training run: the GUI thread's longest work between two 10 ms ticks "
                  "(wall-clock gap in brackets)", f"{1000 * busy:.0f} ms ({1000 * gap:.0f} ms)", "—", "—",
                  "≤ 100 ms (≤ 150 ms)", busy <= 0.1 and gap <= 0.15, [_machine_load()])


_MAKE_CHECKPOINT = """
import sys, torch
from vaeviewer.model import Checkpoint, ModelConfig, PointCloudVAE, save_checkpoint
torch.manual_seed(0)
config = ModelConfig(num_points=2048, num_classes=10)
model = PointCloudVAE(config)
save_checkpoint(sys.argv[1], Checkpoint(config=config, model_state=model.state_dict(),
                class_names=tuple(f"class_{k}" for k in range(10))))
"""


def _machine_load() -> float:
    from benchmarks.machine import load_average

    return load_average()


# ---- the record ----------------------------------------------------------------------------------


def _busy_summary(busy: list[float]) -> str:
    values = sorted(b for b in busy if b == b)
    if not values:
        return "an unknown number of"
    return f"a median of {statistics.median(values):.1f} (at most {values[-1]:.1f})"


def render(suite: Suite, describe: dict, rates: list[dict], command: str, seconds: float, device: str = "cpu") -> str:
    gflops = statistics.median(r["gflops"] for r in rates)
    loads = suite.loads or [float("nan")]
    gpu = device != "cpu"
    rate_on = f"on {describe['cuda']}, TF32 off as torch leaves it" if gpu else "on the CPU"
    lines = [
        f"# Benchmarks on a GPU ({describe['cuda']})" if gpu else "# Benchmarks",
        "",
        f"Recorded {time.strftime('%Y-%m-%d %H:%M %Z')} with `{command}` ({seconds / 60:.0f} min).",
        "",
        f"**Machine:** {describe['system']}, {describe['cores']} cores ({describe['cpu']}), "
        f"torch {describe['torch']} with {describe['threads']} threads, Python {describe['python']}"
        f"{', CUDA: ' + describe['cuda'] if describe['cuda'] else ', no GPU'}. "
        f"**sgemm** (float32 {rates[0]['size']}x{rates[0]['size']} `torch.mm` {rate_on}): {gflops:.0f} GFLOP/s "
        f"(runs: {', '.join(format(r['gflops'], '.0f') for r in rates)}).",
        "",
        "Every figure is the median of several runs, each in a fresh process, with its baseline measured in the "
        f"same run. The 1-minute load average (other processes on the machine) ranged {min(loads):.1f}–"
        f"{max(loads):.1f} on {describe['cores']} cores; the column *load* gives it per figure. Before each "
        f"measurement the suite waited up to {suite.quiet_wait:.0f} s for the machine to go quiet; other "
        f"processes then kept {_busy_summary(suite.busy)} cores busy. Speed is never asserted in a test.",
        "",
        "| figure | vaeviewer | baseline | ratio | target | met? | load |",
        "|---|---|---|---|---|---|---|",
        *[f"| {r.figure} | {r.ours} | {r.baseline} | {r.ratio} | {r.target} | {r.met} | {r.load} |" for r in suite.rows],
        "",
        *[f"{note}" for note in suite.notes],
        "",
    ]
    # Hand-written sections kept with the suite: what dominates each figure, and the model quality
    # figures (measured by `vaeviewer evaluate`, not by this suite).
    if gpu:
        return "\n".join(lines)
    for name in ("analysis.md", "quality.md"):
        section = ROOT / "benchmarks" / name
        if section.is_file():
            lines += [section.read_text(encoding="utf-8").rstrip(), ""]
    # The record of the last run on a GPU machine (`python -m benchmarks --device cuda --out
    # benchmarks/cuda.md`), one heading level down.
    cuda = ROOT / "benchmarks" / "cuda.md"
    if cuda.is_file():
        text = cuda.read_text(encoding="utf-8").rstrip()
        lines += ["\n".join("#" + line if line.startswith("#") else line for line in text.splitlines()), ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, few steps: a smoke run in under 2 minutes")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="where to write the record")
    parser.add_argument("--only", default="", help="run only the figures whose key contains this word")
    parser.add_argument("--quiet-wait", type=float, default=None,
                        help="before each measurement wait up to this many seconds for other processes to go "
                             "quiet (default: 30, 0 with --quick)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="cuda: run the figures that a GPU changes (training, Chamfer, block sizes, a step's "
                             "profile) on the CUDA device instead of the CPU suite; record it with --out "
                             "benchmarks/cuda.md and the CPU record includes it")
    args = parser.parse_args()
    began = time.perf_counter()
    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (0.0 if args.quick else 30.0)
    suite = Suite(quick=args.quick, only=args.only, quiet_wait=quiet_wait)
    try:
        if args.device == "cuda":
            describe = suite.probe("describe")[0]
            if not describe["cuda"]:
                parser.error("--device cuda: no CUDA device is available on this machine")
            rates = suite.probe("sgemm", 1 if args.quick else 3, size=8192, device="cuda")
            training(suite, statistics.median(r["gflops"] for r in rates), device="cuda")
            chamfer(suite, device="cuda")
            blocks(suite, "cuda")
            profile(suite, "cuda")
            rates += suite.probe("sgemm", size=8192, device="cuda")
        else:
            describe, rates = machine_rate(suite)
            training(suite, statistics.median(r["gflops"] for r in rates))
            chamfer(suite)
            blocks(suite, "cpu")
            memory(suite)
            pictures(suite)
            data(suite)
            startup(suite)
            rates += suite.probe("sgemm", size=rates[0]["size"])  # the rate again at the end: did the machine change?
    finally:
        shutil.rmtree(suite.temp, ignore_errors=True)
    command = "python -m benchmarks" + (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    if args.quiet_wait is not None:
        command += f" --quiet-wait {args.quiet_wait:g}"
    if args.device != "cpu":
        command += f" --device {args.device}"
    text = render(suite, describe, rates, command, time.perf_counter() - began, device=args.device)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
