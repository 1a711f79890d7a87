"""Importing torch only when a verb runs, so that the window opens before torch has loaded.

torch takes about two seconds to import on a small machine; the window's
panels import the verbs at start-up but call them only once a model is open.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["without_grad"]

F = TypeVar("F", bound=Callable[..., Any])


def without_grad(function: F) -> F:
    """Like ``@torch.no_grad()``, but importing torch at the first call rather than at the definition."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import torch

        with torch.no_grad():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
