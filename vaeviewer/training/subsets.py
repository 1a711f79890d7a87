"""Which shapes of the training split train, which are held out to validate, and how each class weighs: numpy only."""

from __future__ import annotations

import numpy as np

__all__ = ["balanced_class_weights", "balanced_subset", "holdout_indices", "training_indices"]


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Each class's weight in the classifier's loss under ``--class-weights balanced``: n / (K * n_c).

    ``n`` counts the labelled shapes (label >= 0), ``K`` the classes among them and ``n_c``
    those of class c (scikit-learn's ``class_weight="balanced"``): a batch's weighted
    loss then treats every class as if drawn as often as the others. A class with no
    shape gets 0. float64 (num_classes,).
    """
    labels = np.asarray(labels)
    known = labels[labels >= 0]
    counts = np.bincount(known, minlength=num_classes)[:num_classes].astype(np.float64)
    weights = np.zeros(num_classes)
    present = counts > 0
    if present.any():
        weights[present] = len(known) / (present.sum() * counts[present])
    return weights


def balanced_subset(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of ``count`` shapes taken round-robin over classes, in a seeded order."""
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == c)).tolist() for c in np.unique(labels)]
    chosen: list[int] = []
    while len(chosen) < min(count, len(labels)):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(pool.pop())
    return np.sort(np.asarray(chosen, dtype=np.int64))


def holdout_indices(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split a training split's shapes into the part that trains and the part held out to validate.

    Stratified: each class (and the unlabelled shapes, label -1, as one group)
    gives ``round(fraction * its count)`` shapes, at least one from a group of
    two or more, so a class of a few shapes still trains. The choice depends
    only on the labels, the fraction and the seed. Both index arrays are sorted.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x4F1D]))
    held: list[np.ndarray] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        take = int(round(fraction * len(members)))
        if len(members) >= 2:
            take = min(max(take, 1), len(members) - 1)
        else:
            take = 0
        held.append(rng.permutation(members)[:take])
    validation = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
    training = np.setdiff1d(np.arange(len(labels)), validation)
    return training.astype(np.int64), validation.astype(np.int64)


def training_indices(labels: np.ndarray, holdout: float, max_shapes: int,
                     seed: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The training split's shapes that train (None: all) and those held out to validate (None: no holdout).

    The holdout (a fraction, 0 for none) is taken first, from the whole split;
    ``max_shapes`` (0: all) then chooses a class-balanced subset of what is left.
    """
    subset = held_out = None
    if holdout > 0:
        subset, held_out = holdout_indices(labels, holdout, seed)
    base = subset if subset is not None else np.arange(len(labels))
    if max_shapes and max_shapes < len(base):
        subset = base[balanced_subset(labels[base], max_shapes, seed)]
    return subset, held_out
