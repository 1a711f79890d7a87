"""Colours of the render layer: the fixed colours of clouds and the colour maps of per-point values."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "INPUT_GREY",
    "RECONSTRUCTION_GREEN",
    "ERROR_CMAP",
    "ERROR_TITLE",
    "colormap_table",
]

#: The original work's colours: input grey, reconstruction green.
INPUT_GREY = (0.62, 0.62, 0.62)
RECONSTRUCTION_GREEN = (0.18, 0.68, 0.25)

#: Colour map of per-point errors. Perceptually uniform, so equal steps of error look like equal
#: steps of colour, and readable by colour-blind users; its light end is kept off white (see
#: :func:`colormap_table`) so that the worst points stay visible on the white background.
ERROR_CMAP = "viridis"

#: Title of the colour bar of errors: the unit is the Chamfer distance's, a squared distance
#: between clouds scaled to the unit sphere.
ERROR_TITLE = "squared distance"

# The top 8 % of viridis and its relatives is a pale yellow that shaded spheres on white barely
# separate from the background; those are exactly the points a user looks for.
_LIGHT_END = 0.92


def colormap_table(cmap: str, values: int = 256) -> Any:
    """A VTK lookup table with the colours of a matplotlib colour map.

    Parameters
    ----------
    cmap : str
        A matplotlib colour map name, e.g. ``"viridis"``; ``"viridis_r"`` reverses it.
    values : int
        Number of colours in the table.

    Returns
    -------
    vtkmodules.vtkCommonCore.vtkLookupTable
        The table; its range is set by the mapper that uses it.

    Raises
    ------
    ValueError
        When matplotlib does not know ``cmap``.
    """
    import matplotlib  # a dependency of pyvista (the viewport); loaded only when a cloud is coloured by values
    from vtkmodules.vtkCommonCore import vtkLookupTable

    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f"unknown colour map {cmap!r}") from None
    reverse = cmap.endswith("_r")
    stops = np.linspace(1.0 - _LIGHT_END if reverse else 0.0, 1.0 if reverse else _LIGHT_END, values)
    rgba = colormap(stops)
    table = vtkLookupTable()
    table.SetNumberOfTableValues(values)
    for k, (r, g, b, a) in enumerate(rgba):
        table.SetTableValue(k, float(r), float(g), float(b), float(a))
    table.Build()
    return table

