"""Still pictures: input against reconstruction, and grids of shapes with their class names."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaeviewer.render.offscreen import CloudLayer, OffscreenRenderer

__all__ = ["INPUT_GREY", "RECONSTRUCTION_GREEN", "comparison_image", "shape_grid_image", "save_png"]

#: The original work's colours: input grey, reconstruction green.
INPUT_GREY = (0.62, 0.62, 0.62)
RECONSTRUCTION_GREEN = (0.18, 0.68, 0.25)


def comparison_image(input_points: np.ndarray, reconstruction: np.ndarray, title: str, size: int = 512) -> np.ndarray:
    """Input (grey) and reconstruction (green) side by side, then overlaid: uint8 (size, 3*size, 3)."""
    with OffscreenRenderer((size, size)) as renderer:
        grey = CloudLayer(input_points, INPUT_GREY)
        green = CloudLayer(reconstruction, RECONSTRUCTION_GREEN)
        panels = [
            renderer.render([grey], "input"),
            renderer.render([green], "reconstruction"),
            renderer.render([grey, green], title),
        ]
    return np.concatenate(panels, axis=1)


def shape_grid_image(clouds: Sequence[np.ndarray], captions: Sequence[str], columns: int = 6, cell: int = 200) -> np.ndarray:
    """A grid of clouds, each with its caption, drawn with one plotter: uint8 image."""
    rows = max(1, -(-len(clouds) // columns))
    image = np.full((rows * cell, columns * cell, 3), 255, dtype=np.uint8)
    with OffscreenRenderer((cell, cell)) as renderer:
        for k, (cloud, caption) in enumerate(zip(clouds, captions)):
            r, c = divmod(k, columns)
            image[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = renderer.render(
                [CloudLayer(cloud, INPUT_GREY, point_size=3.0)], caption
            )
    return image


def save_png(image: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an image as PNG atomically; an unwritable path raises :class:`OptionError`."""
    import imageio.v3 as iio

    from vaeviewer.errors import OptionError

    target = Path(path)
    if target.suffix.lower() != ".png":
        raise OptionError(f"{target}: the image must be a .png file")
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}.png")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(tmp, image)
        os.replace(tmp, target)
    except OSError as error:
        raise OptionError(f"{target}: cannot write: {error.strerror or error}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
