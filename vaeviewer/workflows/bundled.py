"""The bundled models: their names, their classes and where they are installed; no torch needed.

The window lists them (Compare's model B) before torch is loaded; :mod:`vaeviewer.workflows.models`
opens them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vaeviewer.errors import OptionError

__all__ = ["BUNDLED_MODELS", "bundled_checkpoint", "bundled_models", "choose_checkpoint"]


def _resources() -> Path:
    """Where the bundled models are: the installed package ``vaeviewer.resources``, or a checkout's ``resources/``."""
    try:
        from importlib.resources import files

        folder = files("vaeviewer.resources")
        return Path(str(folder))
    except ModuleNotFoundError:  # run from a checkout that was not installed (PYTHONPATH)
        return Path(__file__).resolve().parents[2] / "resources"


#: The models shipped in ``resources/models/``, by name, with the classes each was trained on:
#: ``demo`` on the built-in data set (Y up), ``modelnet10`` on ModelNet10's train split (Z up).
BUNDLED_MODELS: dict[str, tuple[str, ...]] = {
    "demo": ("airplane", "bed", "bench", "bottle", "chair", "lamp", "monitor", "mug", "sofa", "table"),
    "modelnet10": ("bathtub", "bed", "chair", "desk", "dresser", "monitor", "night_stand", "sofa", "table",
                   "toilet"),
}


def bundled_checkpoint(name: str = "demo") -> Path | None:
    """The bundled checkpoint ``name`` (see :data:`BUNDLED_MODELS`), or None if it is not installed."""
    path = _resources() / "models" / f"{name}.pt"
    return path if name in BUNDLED_MODELS and path.is_file() else None


def bundled_models() -> dict[str, Path]:
    """The bundled checkpoints that are installed, by name."""
    found = {name: bundled_checkpoint(name) for name in BUNDLED_MODELS}
    return {name: path for name, path in found.items() if path is not None}


def choose_checkpoint(checkpoint: str | Path | None, class_names: Sequence[str] = ()) -> Path:
    """The checkpoint file meant by ``checkpoint``.

    A path names itself. The name of a bundled model (``demo``, ``modelnet10``)
    that is not also a file names that model. None picks the bundled model
    that knows most of ``class_names`` (the data set's classes: ModelNet10 or
    ModelNet40 get ``modelnet10``), the demo model on a tie or without classes.

    Raises
    ------
    OptionError
        When None or a bundled name is asked for and no such model is installed.
    """
    if checkpoint is not None:
        text = str(checkpoint)
        if text in BUNDLED_MODELS and not Path(text).exists():
            path = bundled_checkpoint(text)
            if path is None:
                raise OptionError(f"--checkpoint {text}: the bundled model {text!r} is not installed")
            return path
        return Path(checkpoint)
    installed = bundled_models()
    if not installed:
        raise OptionError("--checkpoint is required: no bundled model is installed")
    wanted = {name.lower() for name in class_names}
    # max() keeps the first of equals: the demo model (listed first) wins ties.
    best = max(installed, key=lambda name: len(wanted & set(BUNDLED_MODELS[name])))
    return installed[best]
