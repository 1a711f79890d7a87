"""Pixel tests shared by the render tests: which pixels are drawn, and in which colour."""

from __future__ import annotations

import numpy as np


def sphere(n: int, seed: int) -> np.ndarray:
    """``n`` random points on the unit sphere, float32 (n, 3)."""
    points = np.random.default_rng(seed).normal(size=(n, 3))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def chair() -> np.ndarray:
    """A built-in chair (Y up, front towards +Z), 2048 points, made in a fraction of a second."""
    from vaeviewer.data.procedural import sample_shape, shape_rng

    return sample_shape("chair", shape_rng(0, "train", "chair", 0), 2048)


def y_up_to_z_up(points: np.ndarray) -> np.ndarray:
    """Stand a Y-up cloud the way raw ModelNet stands: +Y becomes +Z, the +Z front becomes -Y."""
    x, y, z = np.asarray(points).T
    return np.stack([x, -z, y], axis=1).astype(np.float32)


def drawn(image: np.ndarray, background: int = 250) -> np.ndarray:
    """Pixels that are not the white background."""
    return (image[..., :3] < background).any(axis=2)


def extent(mask: np.ndarray) -> tuple[int, int]:
    """Height and width in pixels of the box around the ``True`` pixels."""
    ys, xs = np.nonzero(mask)
    return int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


def is_grey(image: np.ndarray) -> np.ndarray:
    rgb = image[..., :3].astype(int)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    return (spread < 12) & (rgb.mean(axis=2) > 60) & (rgb.mean(axis=2) < 215)


def is_green(image: np.ndarray) -> np.ndarray:
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return (g > r + 40) & (g > b + 40)


def is_low_viridis(image: np.ndarray) -> np.ndarray:
    """The dark purple end of viridis (small values): blue over green, dark."""
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return (b > g + 25) & (b > 40) & (r + g + b < 450)


def is_high_viridis(image: np.ndarray) -> np.ndarray:
    """The yellow-green end of viridis (large values): green and red well over blue."""
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return (g > b + 70) & (r > b + 40)
