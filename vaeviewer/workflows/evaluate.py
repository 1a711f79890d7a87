"""Score a model on a whole split of a data set.

Reconstruction (Chamfer), the KL term and the latent classifier on the split;
with the training split also the linear-SVM accuracy of the latent means; and,
when asked, generation scores of prior samples against the split (see
:mod:`vaeviewer.workflows.quality` for the protocols).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from vaeviewer.data import ShapeSet, ShapeSplit
from vaeviewer.data.dataset import SubsetSplit
from vaeviewer.errors import OptionError
from vaeviewer.model import PointCloudVAE
from vaeviewer.model.guard import exclusive
from vaeviewer.training import score_clouds
from vaeviewer.workflows.compare import chosen_shapes
from vaeviewer.workflows.models import labels_for_model
from vaeviewer.workflows.quality import (
    LATENT_SAMPLERS,
    balanced_sample,
    class_mean_accuracy,
    confused_pairs,
    generation_scores,
    labelled_accuracy,
    latent_mixture,
    linear_svm_accuracy,
    linear_svm_predictions,
)

__all__ = ["HOLDOUT_SPLIT", "active_dimensions", "evaluate_split", "held_out_splits", "pooled_features"]

#: The split name that scores a run on the part of its training split it held out (``train --holdout``).
HOLDOUT_SPLIT = "holdout"

#: A latent dimension is active when its mean varies across shapes by more than this share of the
#: prior's variance (Burda et al. 2016's active units, 0.01 for a unit prior).
ACTIVE_SHARE = 0.01


def active_dimensions(latents: np.ndarray, prior_std: float) -> int:
    """How many latent dimensions carry information: Var over shapes of the mean > 0.01 prior_std**2."""
    if len(latents) < 2:
        return 0
    return int((np.asarray(latents, dtype=np.float64).var(axis=0) > ACTIVE_SHARE * prior_std**2).sum())


def held_out_splits(dataset: ShapeSet, run_settings: dict[str, Any], num_points: int,
                    source: str = "the checkpoint") -> tuple[ShapeSplit, ShapeSplit]:
    """The part of the training split a run trained on and the part it held out, as that run chose them.

    The choice is :func:`~vaeviewer.training.subsets.training_indices` of the run's own
    ``holdout``, ``max_shapes`` and ``seed`` (kept in every checkpoint), on the readable
    shapes of its training split: scoring there keeps the test split out of every
    decision taken while developing a recipe. Raises
    :class:`~vaeviewer.errors.OptionError` when the run held nothing out.
    """
    from vaeviewer.training.subsets import training_indices

    fraction = float(run_settings.get("holdout") or 0.0)
    if fraction <= 0:
        raise OptionError(f"--split {HOLDOUT_SPLIT}: {source} comes from a run that held nothing out "
                          "(train --holdout F keeps a part of the train split to score on)")
    parent = dataset.training_split(str(run_settings.get("train_split") or "train"))
    parent.drop_unreadable(num_points)
    subset, held = training_indices(np.asarray(parent.labels), fraction, int(run_settings.get("max_shapes") or 0),
                                    int(run_settings.get("seed") or 0))
    assert held is not None
    fit = SubsetSplit(parent, subset if subset is not None else np.arange(len(parent)), parent.name)
    return fit, SubsetSplit(parent, held, HOLDOUT_SPLIT)


def pooled_features(model: PointCloudVAE, clouds: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """The encoder's max-pooled global feature of each cloud, float32 (n, 1024), in eval mode."""
    device = next(model.parameters()).device
    parts = []
    with torch.no_grad():
        for start in range(0, len(clouds), batch_size):
            with exclusive(model):
                parts.append(model.encoder.pooled(clouds[start : start + batch_size].to(device)).float().cpu())
    return torch.cat(parts).numpy() if parts else np.zeros((0, 1024), dtype=np.float32)


def evaluate_split(
    model: PointCloudVAE,
    split: ShapeSplit,
    class_names: tuple[str, ...],
    *,
    train_split: ShapeSplit | None = None,
    generation_shapes: int = 0,
    sampler: str = "prior",
    svm: bool = True,
    seed: int = 0,
    limit: int = 0,
    pooled: bool = False,
    jobs: int = 1,
) -> dict[str, Any]:
    """Reconstruction, classification and (optionally) generation figures of ``model`` on ``split``.

    ``class_names`` are the model's classes; the split's labels are matched to
    them by name, so a model trained on other classes scores only on shared ones.

    Parameters
    ----------
    model, split, class_names
        The model (eval mode), the evaluated split and the model's classes.
    train_split : ShapeSplit, optional
        A labelled training split (another split of the same data set): adds
        ``svm_accuracy``, a linear SVM fit on its latent means and scored on ``split``'s.
    generation_shapes : int
        When > 0: decode this many draws of the prior and compare them with as many
        shapes of ``split`` (class-balanced, drawn with ``seed``): adds ``mmd_cd``,
        ``cov_cd``, ``nna_cd`` and ``generation_shapes``.
    sampler : {"prior", "gmm"}
        Where the generated codes come from: the prior N(0, σ²I), or a Gaussian mixture fit to
        ``train_split``'s latent means (see :func:`~vaeviewer.workflows.quality.latent_mixture`).
    seed : int
        Seed of the draws and of the reference shapes.
    svm : bool
        Whether to fit the linear SVM (when ``train_split`` is given).
    pooled : bool
        With ``train_split`` and ``svm``, also fit the SVM on the encoder's max-pooled 1024-d
        feature (``svm_pooled_accuracy``, ``svm_pooled_c``), the feature most published figures use.
    limit : int
        When > 0, score only this many shapes of ``split``, drawn evenly across classes
        (:func:`~vaeviewer.workflows.compare.chosen_shapes`, the shapes ``compare --limit`` scores).
    jobs : int
        Processes of the SVMs' search for ``C`` (-1: one per core; see
        :func:`~vaeviewer.workflows.quality.linear_svm_accuracy`).

    Returns
    -------
    dict
        ``shapes``, ``split``, ``chamfer_mean`` (mean Chamfer distance between
        each shape and the decoding of its latent mean), ``chamfer_median``,
        ``kl_mean``, ``classifier_accuracy`` (None without a classifier or
        shared classes), ``classifier_class_accuracy`` (the mean of its per-class accuracies,
        :func:`~vaeviewer.workflows.quality.class_mean_accuracy`), ``classifier_confusions`` (its
        most confused pairs of classes, :func:`~vaeviewer.workflows.quality.confused_pairs`) and
        ``num_points``; ``svm_accuracy``, ``svm_class_accuracy``, ``svm_c`` and ``svm_confusions``
        with ``train_split``; the generation scores with ``generation_shapes``.
        Figures that cannot be computed are None.
    """
    split.drop_unreadable(model.config.num_points)
    indices = chosen_shapes(split, limit)
    split_labels = np.asarray(split.labels)[indices]
    if len(indices) == len(split):
        clouds = torch.from_numpy(split.load_all(model.config.num_points))
    else:
        clouds = torch.from_numpy(np.stack([split.points(int(i), model.config.num_points) for i in indices]))
    labels = labels_for_model(split_labels, split.class_names, class_names)
    scores = score_clouds(model, clouds, labels)
    accuracy = scores.classifier_accuracy
    model_labels = labels.numpy()
    figures: dict[str, Any] = {
        "shapes": len(indices),
        "split": split.name,
        "num_points": model.config.num_points,
        "chamfer_mean": scores.chamfer_mean,
        "chamfer_median": float(torch.from_numpy(scores.chamfer).median()) if len(scores.chamfer) else math.nan,
        "kl_mean": scores.kl_mean,
        "kl_per_dimension": [float(v) for v in scores.kl_per_dimension],
        "active_dimensions": active_dimensions(scores.latents, model.config.prior_std),
        "classifier_accuracy": None if math.isnan(accuracy) else accuracy,
        "classifier_class_accuracy": None if math.isnan(accuracy) else class_mean_accuracy(model_labels,
                                                                                            scores.predictions),
        "classifier_confusions": [] if math.isnan(accuracy) else confused_pairs(model_labels, scores.predictions,
                                                                                class_names),
    }
    if sampler not in LATENT_SAMPLERS:
        raise OptionError(f"--sampler {sampler}: one of {', '.join(LATENT_SAMPLERS)}")
    if sampler == "gmm" and generation_shapes > 0 and (train_split is None or train_split.name == split.name):
        raise OptionError("--sampler gmm fits the training split's codes: "
                          "the data set needs a train split besides the evaluated one")
    train_latents = None
    if train_split is not None and train_split.name != split.name:
        train_split.drop_unreadable(model.config.num_points)
        train_clouds = torch.from_numpy(train_split.load_all(model.config.num_points))
        train_scores = score_clouds(model, train_clouds)
        train_latents = train_scores.latents
        if svm:
            predicted, c = linear_svm_predictions(train_latents, train_split.labels, scores.latents,
                                                  seed=seed, jobs=jobs)
            accuracy_svm = labelled_accuracy(split_labels, predicted) if predicted is not None else math.nan
            usable = not math.isnan(accuracy_svm)
            figures.update(svm_accuracy=accuracy_svm if usable else None,
                           svm_class_accuracy=class_mean_accuracy(split_labels, predicted) if usable else None,
                           svm_c=c if usable else None, svm_train_shapes=len(train_split),
                           svm_confusions=confused_pairs(split_labels, predicted, split.class_names) if usable else [])
            if pooled:
                train_pooled = pooled_features(model, train_clouds)
                accuracy_pooled, c_pooled = linear_svm_accuracy(train_pooled, train_split.labels,
                                                                pooled_features(model, clouds), split_labels, seed=seed,
                                                                jobs=jobs)
                figures.update(svm_pooled_accuracy=None if math.isnan(accuracy_pooled) else accuracy_pooled,
                               svm_pooled_c=None if math.isnan(c_pooled) else c_pooled)
    if generation_shapes > 0 and len(split):
        chosen = balanced_sample(split_labels, generation_shapes, seed)
        references = clouds[torch.from_numpy(chosen)].numpy()
        device = next(model.parameters()).device
        with torch.no_grad(), exclusive(model):
            if sampler == "gmm":
                codes, _ = latent_mixture(train_latents, seed=seed).sample(len(chosen))
                weight = model.decoder.out.weight
                samples = model.decode(torch.as_tensor(codes, dtype=weight.dtype, device=device))
            else:
                samples = model.sample_prior(len(chosen), torch.Generator(device=device).manual_seed(seed))
        generated = generation_scores(samples.float().cpu().numpy(), references)
        figures.update(mmd_cd=generated.mmd_cd, cov_cd=generated.cov_cd, nna_cd=generated.nna_cd,
                       generation_shapes=len(chosen), sampler=sampler)
    return figures
