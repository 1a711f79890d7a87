"""One reused off-screen plotter that turns point clouds into images."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

__all__ = ["CloudLayer", "OffscreenRenderer", "configure_headless", "CAMERA_DIRECTIONS"]

#: Where the camera looks from, for a Y-up cloud centred at the origin.
CAMERA_DIRECTIONS = {
    "isometric": (1.0, 0.8, 1.4),
    "front": (0.0, 0.0, 1.0),
    "side": (1.0, 0.0, 0.0),
    "top": (0.0, 1.0, 0.0),
}


def configure_headless() -> None:
    """Make VTK render through EGL when there is no X or Wayland display.

    Without it VTK first tries X, prints a warning about a bad X connection,
    then falls back to EGL. Must run before VTK creates its first window.
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


@dataclass(frozen=True)
class CloudLayer:
    """One cloud to draw: float (n, 3) points in one colour, as shaded spheres."""

    points: np.ndarray
    color: str | tuple[float, float, float]
    point_size: float = 5.0


class OffscreenRenderer:
    """Render clouds to RGB images with one plotter that is reused for every frame.

    Parameters
    ----------
    size : tuple of int
        Width and height of the images in pixels.
    background : str
        Background colour.
    view : str
        Camera direction, one of :data:`CAMERA_DIRECTIONS`.
    up : str
        The clouds' up axis: ``y`` (ShapeNet, PointNet's h5, the built-in set) or ``z`` (raw ModelNet).
    """

    def __init__(
        self, size: tuple[int, int] = (512, 512), background: str = "white", view: str = "isometric", up: str = "y"
    ) -> None:
        if view not in CAMERA_DIRECTIONS:
            raise ValueError(f"unknown view {view!r}; one of {', '.join(CAMERA_DIRECTIONS)}")
        if up not in ("y", "z"):
            raise ValueError(f"up axis must be 'y' or 'z', got {up!r}")
        configure_headless()
        import pyvista as pv

        self._pv = pv
        self._plotter = pv.Plotter(off_screen=True, window_size=list(size))
        self._plotter.set_background(background)
        self._plotter.enable_parallel_projection()
        self._layers = 0
        self.view = view
        self.up = up

    def render(self, layers: list[CloudLayer], title: str = "", azimuth: float = 0.0) -> np.ndarray:
        """Draw ``layers`` (replacing what was drawn before) and return the image, uint8 (h, w, 3).

        ``azimuth`` turns the camera about the up axis by that many degrees (for orbits).
        """
        plotter = self._plotter
        for k in range(len(layers), self._layers):
            plotter.remove_actor(f"cloud{k}", render=False)
        for k, layer in enumerate(layers):
            plotter.add_points(
                np.asarray(layer.points, dtype=np.float32),
                color=layer.color,
                point_size=layer.point_size,
                render_points_as_spheres=True,
                name=f"cloud{k}",
                reset_camera=False,
            )
        self._layers = len(layers)
        if title:
            plotter.add_text(title, position="upper_edge", font_size=10, color="black", name="title")
        else:
            plotter.remove_actor("title", render=False)
        self._frame_camera(azimuth)
        plotter.render()
        return plotter.screenshot(return_img=True)

    def _frame_camera(self, azimuth: float = 0.0) -> None:
        x, y, z = CAMERA_DIRECTIONS[self.view]
        angle = np.radians(azimuth)
        # Turn about the Y axis, then map Y-up directions to Z-up ones when the clouds are Z-up.
        x, z = x * np.cos(angle) + z * np.sin(angle), -x * np.sin(angle) + z * np.cos(angle)
        direction = np.array([x, y, z] if self.up == "y" else [x, -z, y], dtype=float)
        direction /= np.linalg.norm(direction)
        up = np.array([0.0, 1.0, 0.0]) if self.up == "y" else np.array([0.0, 0.0, 1.0])
        if self.view == "top":
            up = np.array([0.0, 0.0, -1.0]) if self.up == "y" else np.array([0.0, 1.0, 0.0])
        camera = self._plotter.camera
        camera.focal_point = (0.0, 0.0, 0.0)
        camera.position = tuple(4.0 * direction)
        camera.up = tuple(up)
        # Clouds are scaled to the unit sphere: a fixed parallel scale frames every one alike.
        camera.parallel_scale = 1.08
        self._plotter.renderer.ResetCameraClippingRange()

    def close(self) -> None:
        """Release the plotter and its VTK objects."""
        self._plotter.close()

    def __enter__(self) -> "OffscreenRenderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
