"""One thread at a time runs a model: the guard every verb takes before it computes with one.

The window runs one model from several threads: the GUI thread reconstructs
the selected shape while the export dialog decodes a path and the latent map
encodes a whole split, each on a worker. Running one module's forward pass on
two threads at once is not something torch promises to survive (its CPU
kernels and their caches are not all reentrant), and every verb also flips
the model's mode (``eval()`` for batch normalisation's running statistics,
then back), which changes what a pass running on another thread computes.
Together they crashed the window with a segmentation fault in the encoder
on a worker thread.

:func:`exclusive` holds the model's own re-entrant lock for the whole of one
verb's computation: the mode it needs is set, the passes run, the mode is put
back, and only then may another thread use the model. Locks are per model,
so a training run (its own model, on its own thread) never waits for the
viewer's. A verb holds the lock for one batch at a time, never across a
``yield``, so that a long task (encoding 10,000 shapes) lets the GUI thread's
reconstruction in between two of its batches.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

__all__ = ["exclusive", "model_lock"]

_LOCKS: weakref.WeakKeyDictionary[nn.Module, threading.RLock] = weakref.WeakKeyDictionary()
_REGISTRY = threading.Lock()


def model_lock(model: nn.Module) -> threading.RLock:
    """The lock of ``model``: the same object for the model's whole life, made on first use."""
    with _REGISTRY:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


@contextmanager
def exclusive(model: nn.Module, mode: str = "eval") -> Iterator[nn.Module]:
    """Run the block as the only user of ``model``, in ``mode``; the previous mode comes back after it.

    Parameters
    ----------
    model : torch.nn.Module
    mode : {"eval", "train"}
        The mode the block needs (``eval``: batch normalisation uses its
        running statistics, so a shape's code does not depend on its batch).

    Yields
    ------
    torch.nn.Module
        ``model``.

    Notes
    -----
    Re-entrant: a verb that calls another under the guard does not wait for
    itself. Other threads wait until the outermost block ends.
    """
    if mode not in ("eval", "train"):
        raise ValueError(f"mode must be 'eval' or 'train', got {mode!r}")
    with model_lock(model):
        was_training = model.training
        model.train(mode == "train")
        try:
            yield model
        finally:
            model.train(was_training)
