"""Pictures the way the seed made them (matplotlib 3-D scatter plots) against vaeviewer's VTK renderer.

The seed drew every interpolation frame as a new matplotlib figure with a 3-D
axes and one ``scatter`` of the cloud. :func:`write_matplotlib_gif` does that
for each frame, reads the figure's pixels back and writes the frames as a GIF
with Pillow (adaptive palette per frame). matplotlib is a benchmark-only
dependency (``pip install -e '.[bench]'``).

Both ways start from the same decoded clouds (an
:class:`~vaeviewer.workflows.interpolate.Interpolation` of an untrained
2048-point model between two shapes of the built-in set) and stop when the file
is written; decoding is not timed, and each way's drawing library is imported
before the clock starts. The clock does include vaeviewer's one-time set-up of
its off-screen OpenGL renderer.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import load_average


def _interpolation(num_points: int, frames: int):
    import torch

    from vaeviewer.data import open_dataset
    from vaeviewer.model import ModelConfig, PointCloudVAE
    from vaeviewer.workflows.interpolate import interpolate

    dataset = open_dataset("builtin")
    split = dataset.split("test")
    cloud_a, cloud_b = split.points(0, num_points), split.points(30, num_points)
    dataset.close()
    torch.manual_seed(0)
    model = PointCloudVAE(ModelConfig(num_points=num_points)).eval()
    return interpolate(model, cloud_a, cloud_b, frames)


def _matplotlib_frame(cloud: np.ndarray, size: int, point_size: float, title: str = "") -> np.ndarray:
    """One frame as the seed drew it: a new figure, 3-D axes (with their panes, grid and ticks), a scatter, a title."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(size / 100, size / 100), dpi=100)
    axes = figure.add_subplot(projection="3d")
    axes.scatter(cloud[:, 0], cloud[:, 2], cloud[:, 1], s=point_size, c="tab:green")
    if title:
        axes.set_title(title)
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()
    plt.close(figure)
    return image


def write_matplotlib_gif(clouds: np.ndarray, ts: np.ndarray, path: Path, size: int = 512, fps: float = 10) -> None:
    """One matplotlib 3-D scatter per frame, written to a looping GIF with Pillow."""
    import matplotlib

    matplotlib.use("Agg")
    from PIL import Image

    images = [Image.fromarray(_matplotlib_frame(cloud, size, 3.0, f"t = {t:.2f}")) for cloud, t in zip(clouds, ts)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)


def gif_export(way: str, num_points: int, frames: int, size: int) -> dict:
    """Seconds from the decoded clouds to the written GIF, ``way`` = ``vaeviewer`` or ``matplotlib``."""
    result = _interpolation(num_points, frames)
    # The drawing libraries (and vaeviewer's export code) are imported before the clock starts: the
    # window has them loaded already; a fresh `vaeviewer export-gif` adds their import (VTK's
    # rendering modules, 0.2 s; matplotlib's pyplot, 0.4 s) to either way.
    if way == "vaeviewer":
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (VTK's rendering modules)

        import vaeviewer.render.animation  # noqa: F401
        from vaeviewer.render.writers import open_animation_writer
        from vaeviewer.workflows.export import write_interpolation
    else:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    folder = Path(tempfile.mkdtemp(prefix="vaeviewer-bench-gif-"))
    target = folder / "clip.gif"
    try:
        began = time.perf_counter()
        if way == "vaeviewer":
            writer = open_animation_writer(target, 10)
            *_, progress = write_interpolation(result, writer, size=size)  # run it through; the last event says how it ended
            if progress.stage != "done":
                raise RuntimeError(f"export ended with {progress.stage}")
        else:
            write_matplotlib_gif(result.frames, result.ts, target, size=size)
        seconds = time.perf_counter() - began
        written = target.stat().st_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"seconds": seconds, "bytes": written, "frames": frames, "load": load_average()}


def thumbnails(way: str, count: int, size: int = 128) -> dict:
    """Thumbnails per second of 2048-point shapes of the built-in set (after two untimed ones)."""
    from vaeviewer.data import open_dataset

    dataset = open_dataset("builtin")
    split = dataset.split("test")
    clouds = [split.points(k % len(split)) for k in range(count + 2)]
    dataset.close()
    times = []
    if way == "vaeviewer":
        from vaeviewer.render.thumbnails import ThumbnailRenderer

        with ThumbnailRenderer(size) as renderer:
            for cloud in clouds:
                began = time.perf_counter()
                renderer.render(cloud)
                times.append(time.perf_counter() - began)
    else:
        import matplotlib

        matplotlib.use("Agg")
        for cloud in clouds:
            began = time.perf_counter()
            _matplotlib_frame(cloud, size, 0.5)
            times.append(time.perf_counter() - began)
    per_thumbnail = statistics.fmean(times[2:])
    return {"per_second": 1.0 / per_thumbnail, "load": load_average()}
