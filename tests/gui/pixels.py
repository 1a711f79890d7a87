"""Reading pixels of Qt images in tests: is the cloud there, and in which colour."""

from __future__ import annotations

import numpy as np


def _pixels(image) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.bytesPerLine() * height)
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).copy()


def _greenish(pixels: np.ndarray) -> int:
    r, g, b = (pixels[..., k].astype(int) for k in range(3))
    return int(((g - r > 40) & (g - b > 40)).sum())


def _greyish(pixels: np.ndarray) -> int:
    r, g, b = (pixels[..., k].astype(int) for k in range(3))
    return int(((abs(r - g) < 12) & (abs(g - b) < 12) & (r < 200) & (r > 40)).sum())
