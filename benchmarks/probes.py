"""Measurements that each run in a fresh subprocess, so that imports, peak memory and allocator state are their own.

Run as ``python -m benchmarks.probes NAME [JSON_ARGS]``; prints one JSON
object on its last line. The window's probes live in :mod:`benchmarks.window`
(they need a display).
"""

from __future__ import annotations

import importlib
import json
import sys

#: Probe name -> "module:function".
PROBES = {
    "sgemm": "benchmarks.machine:sgemm",
    "describe": "benchmarks.machine:describe",
    "ours_training": "benchmarks.training:ours_training_steps",
    "seed_training": "benchmarks.seed_baseline:seed_training_steps",
    "flops": "benchmarks.training:training_flops",
    "chamfer": "benchmarks.training:chamfer",
    "encoder": "benchmarks.training:encoder",
    "step_profile": "benchmarks.training:step_profile",
    "malloc_step": "benchmarks.training:malloc_step",
    "train_rss": "benchmarks.training:train_command_peak_rss",
    "gif": "benchmarks.matplotlib_gif:gif_export",
    "thumbnails": "benchmarks.matplotlib_gif:thumbnails",
    "make_h5": "benchmarks.data_sets:make_h5",
    "h5_open": "benchmarks.data_sets:h5_first_shapes",
    "builtin": "benchmarks.data_sets:builtin_generation",
    "make_pc15k": "benchmarks.data_sets:make_pc15k",
    "pc15k_open": "benchmarks.data_sets:pc15k_first_shape",
    "retrieval": "benchmarks.data_sets:retrieval",
    "mixture": "benchmarks.data_sets:mixture_sampling",
}


def run(name: str, kwargs: dict) -> dict:
    """Call probe ``name`` with ``kwargs`` in this process."""
    module, function = PROBES[name].split(":")
    return getattr(importlib.import_module(module), function)(**kwargs)


if __name__ == "__main__":
    probe_name, *raw = sys.argv[1:]
    print(json.dumps(run(probe_name, json.loads(raw[0]) if raw else {})))
