"""Rendering of point clouds with pyvista/VTK, without Qt and without torch.

Used by the command line (``reconstruct --out``, ``inspect --grid``) and, later,
by the window. Works with no display at all (EGL) and under Xvfb.
"""

from vaeviewer.render.offscreen import CloudLayer, OffscreenRenderer, configure_headless
from vaeviewer.render.figures import INPUT_GREY, RECONSTRUCTION_GREEN, comparison_image, save_png, shape_grid_image

__all__ = [
    "CloudLayer",
    "OffscreenRenderer",
    "configure_headless",
    "comparison_image",
    "shape_grid_image",
    "save_png",
    "INPUT_GREY",
    "RECONSTRUCTION_GREEN",
]
