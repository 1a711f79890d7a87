"""Run the benchmark suite and record the results with the machine they ran on.

``python -m benchmarks`` (or ``make bench``) measures, each figure in a fresh
process and side by side with its baseline in the same run:

- Chamfer distance forward + backward at B = 32, N = 2048: the chunked version
  against ``torch.cdist``;
- training steps at B = 32, N = 1024 and 2048: with freed memory kept for reuse
  (what ``vaeviewer train`` does) against the allocator's default;

and writes BENCHMARKS.md. ``--quick`` runs fewer repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def probe(name: str, **kwargs: object) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.probes", name, json.dumps(kwargs)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({model}), torch {torch.__version__}, {torch.get_num_threads()} threads"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    steps = 3 if args.quick else 8

    rows = []
    chunked = probe("chamfer", variant="chunked", batch=32, points=2048, repeats=repeats)
    cdist = probe("chamfer", variant="cdist", batch=32, points=2048, repeats=repeats)
    rows.append(("Chamfer fwd+bwd, B=32, N=2048", f"{chunked['seconds']:.3f} s, {chunked['peak_extra_mb']:.0f} MB",
                 f"{cdist['seconds']:.3f} s, {cdist['peak_extra_mb']:.0f} MB (torch.cdist)",
                 f"{cdist['seconds'] / chunked['seconds']:.1f}x faster, {cdist['peak_extra_mb'] / max(chunked['peak_extra_mb'], 1):.0f}x less memory"))
    for points in (1024, 2048):
        kept = probe("train_step", points=points, batch=32, steps=steps, keep=True)
        default = probe("train_step", points=points, batch=32, steps=steps, keep=False)
        rows.append((
            f"training step, B=32, N={points}",
            f"{kept['samples_per_second']:.1f} samples/s, system time {kept['system_seconds_per_step']:.3f} s/step, "
            f"{kept['page_faults_per_step']:.0f} faults/step, peak {kept['peak_rss_mb']:.0f} MB",
            f"{default['samples_per_second']:.1f} samples/s, system time {default['system_seconds_per_step']:.3f} s/step, "
            f"{default['page_faults_per_step']:.0f} faults/step (malloc default)",
            f"{kept['samples_per_second'] / default['samples_per_second']:.2f}x",
        ))

    lines = [
        "# Benchmarks",
        "",
        f"Recorded {time.strftime('%Y-%m-%d')} on {machine()}, with `python -m benchmarks{' --quick' if args.quick else ''}`.",
        "Every figure is a median over repeats, each measurement in a fresh process, the baseline in the same run.",
        "",
        "| what | vaeviewer | baseline | ratio |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
