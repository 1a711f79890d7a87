"""Rendering of point clouds with VTK, without Qt and without torch.

Used by the command line (``reconstruct --out``, ``inspect --grid``) and by the
window (thumbnails, animations). Works with no display at all (EGL) and under
Xvfb. VTK objects belong to the thread that made them: render on one thread.
"""

from vaeviewer.render.colors import ERROR_CMAP, ERROR_TITLE, INPUT_GREY, RECONSTRUCTION_GREEN
from vaeviewer.render.figures import (
    COMPARISON_MODES,
    comparison_image,
    nearest_squared_distance,
    save_png,
    shape_grid_image,
)
from vaeviewer.render.offscreen import OffscreenRenderer, configure_headless
from vaeviewer.render.scene import CAMERA_DIRECTIONS, CLOUD_STYLES, UP_AXES, CloudLayer
from vaeviewer.render.thumbnails import (
    THUMBNAIL_STYLE_VERSION,
    ThumbnailCache,
    ThumbnailKey,
    ThumbnailRenderer,
    dataset_fingerprint,
    render_thumbnails,
    thumbnail_cache_dir,
)

__all__ = [
    "CloudLayer",
    "OffscreenRenderer",
    "configure_headless",
    "CAMERA_DIRECTIONS",
    "CLOUD_STYLES",
    "UP_AXES",
    "comparison_image",
    "COMPARISON_MODES",
    "nearest_squared_distance",
    "shape_grid_image",
    "save_png",
    "INPUT_GREY",
    "RECONSTRUCTION_GREEN",
    "ERROR_CMAP",
    "ERROR_TITLE",
    "render_thumbnails",
    "ThumbnailRenderer",
    "ThumbnailCache",
    "ThumbnailKey",
    "THUMBNAIL_STYLE_VERSION",
    "dataset_fingerprint",
    "thumbnail_cache_dir",
]
