"""The published scores: pairwise Chamfer, generation (MMD, COV, 1-NNA) and linear-SVM accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaeviewer.model import chamfer_distance
from vaeviewer.workflows.quality import (
    balanced_sample,
    class_mean_accuracy,
    confused_pairs,
    generation_scores,
    linear_svm_accuracy,
    linear_svm_predictions,
    pairwise_chamfer,
)


def _clouds(n: int, points: int = 128, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, points, 3)).astype(np.float32) * 0.3


def test_pairwise_chamfer_matches_the_training_loss() -> None:
    a, b = _clouds(4, seed=1), _clouds(5, seed=2)
    matrix = pairwise_chamfer(a, b)
    assert matrix.shape == (4, 5)
    for i, j in ((0, 0), (3, 4), (2, 1)):
        expected = float(chamfer_distance(torch.from_numpy(a[i : i + 1]), torch.from_numpy(b[j : j + 1]))[0])
        assert matrix[i, j] == pytest.approx(expected, rel=1e-5)


def test_pairwise_chamfer_of_a_set_with_itself_is_symmetric_with_a_zero_diagonal() -> None:
    a = _clouds(6)
    matrix = pairwise_chamfer(a)
    np.testing.assert_allclose(matrix, matrix.T)
    assert np.all(np.diag(matrix) == 0) and np.all(matrix[~np.eye(6, dtype=bool)] > 0)
    np.testing.assert_allclose(matrix, pairwise_chamfer(a, a.copy()), atol=1e-12)


def test_generation_scores_of_a_set_against_a_copy_of_itself() -> None:
    references = _clouds(10)
    scores = generation_scores(references.copy(), references)
    assert scores.mmd_cd == pytest.approx(0.0, abs=1e-12)
    assert scores.cov_cd == 1.0
    # Every cloud's nearest other cloud is its twin in the other set: the classifier is always wrong.
    assert scores.nna_cd == 0.0


def test_generation_scores_of_samples_far_from_the_references() -> None:
    references = _clouds(10)
    samples = _clouds(10, seed=5) + np.array([3.0, 0.0, 0.0], dtype=np.float32)
    scores = generation_scores(samples, references)
    assert scores.mmd_cd > 5.0
    assert scores.nna_cd == 1.0  # the two sets are told apart perfectly
    assert scores.cov_cd <= 0.5  # far samples pile onto few references


def test_linear_svm_accuracy_separable_and_random() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 4
    labels = np.repeat(np.arange(3), 40)
    features = centres[labels] + rng.normal(size=(120, 16))
    accuracy, c = linear_svm_accuracy(features[::2], labels[::2], features[1::2], labels[1::2])
    assert accuracy > 0.95 and c > 0
    noise = rng.normal(size=(120, 16))
    accuracy, _ = linear_svm_accuracy(noise[::2], labels[::2], noise[1::2], labels[1::2])
    assert accuracy < 0.6


def test_linear_svm_search_in_parallel_processes_gives_the_same_figures() -> None:
    """Overlapping classes in 64 dimensions, where the choice of C matters: the folds fit in two worker
    processes choose the same C and score the same as in one."""
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(4), 60)
    features = rng.normal(size=(4, 64))[labels] * 0.4 + rng.normal(size=(240, 64))
    alone = linear_svm_accuracy(features[::2], labels[::2], features[1::2], labels[1::2], seed=2)
    side_by_side = linear_svm_accuracy(features[::2], labels[::2], features[1::2], labels[1::2], seed=2, jobs=2)
    assert side_by_side == alone
    assert 0.4 < alone[0] < 1.0


def test_linear_svm_ignores_unlabelled_shapes_and_needs_two_classes() -> None:
    features = np.random.default_rng(1).normal(size=(20, 4))
    labels = np.array([0, 1] * 10)
    labels[:4] = -1
    accuracy, _ = linear_svm_accuracy(features, labels, features, labels)
    assert 0.0 <= accuracy <= 1.0
    accuracy, _ = linear_svm_accuracy(features, np.zeros(20, int), features, labels)
    assert np.isnan(accuracy)


def test_class_mean_accuracy_weighs_every_class_alike() -> None:
    # 8 shapes of class 0 all right, 2 of class 1 both wrong: 80 % of the shapes, 50 % per class.
    labels = np.array([0] * 8 + [1] * 2 + [-1])
    predicted = np.array([0] * 8 + [0, 0] + [1])
    assert (predicted[:10] == labels[:10]).mean() == 0.8
    assert class_mean_accuracy(labels, predicted) == 0.5
    assert class_mean_accuracy(labels, labels) == 1.0
    assert np.isnan(class_mean_accuracy(np.full(3, -1), np.zeros(3, int)))


def test_confused_pairs_count_both_directions_most_first() -> None:
    names = ("bed", "dresser", "night_stand", "table")
    labels = np.array([1, 1, 1, 2, 2, 3, 3, 0, -1, 2])
    predicted = np.array([2, 2, 1, 1, 2, 0, 3, 3, 2, -1])
    pairs = confused_pairs(labels, predicted, names)
    # dressers as night stands twice and a night stand as a dresser: 3; a table as a bed and a bed as a table: 2;
    # the unlabelled shape and the one without a prediction are not errors
    assert pairs == [{"classes": ["dresser", "night_stand"], "errors": 3, "as_first": 1},
                     {"classes": ["bed", "table"], "errors": 2, "as_first": 1}]
    assert confused_pairs(labels, predicted, names, top=1) == pairs[:1]
    assert confused_pairs(labels, labels, names) == []


def test_linear_svm_predictions_agree_with_its_accuracy() -> None:
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 30)
    features = rng.normal(size=(3, 8))[labels] * 0.7 + rng.normal(size=(90, 8))
    predicted, c = linear_svm_predictions(features[::2], labels[::2], features[1::2])
    assert predicted.shape == (45,) and set(predicted.tolist()) <= {0, 1, 2}
    accuracy, same_c = linear_svm_accuracy(features[::2], labels[::2], features[1::2], labels[1::2])
    assert accuracy == (predicted == labels[1::2]).mean() and same_c == c
    assert 0.5 < accuracy < 1.0
    assert linear_svm_predictions(features, np.zeros(90, int), features) == (None, pytest.approx(np.nan, nan_ok=True))


def test_balanced_sample_spreads_over_classes() -> None:
    labels = np.array([0] * 50 + [1] * 10 + [2] * 40)
    chosen = balanced_sample(labels, 30, seed=3)
    assert len(chosen) == 30 and len(set(chosen)) == 30
    counts = np.bincount(labels[chosen], minlength=3)
    assert counts.tolist() == [10, 10, 10]
    assert np.array_equal(chosen, balanced_sample(labels, 30, seed=3))
    assert len(balanced_sample(labels, 500)) == 100


def test_latent_mixture_samples_where_the_codes_are() -> None:
    from vaeviewer.workflows.quality import latent_mixture

    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(size=(200, 8)) * 0.05 + 1.0, rng.normal(size=(200, 8)) * 0.05 - 1.0])
    drawn, _ = latent_mixture(codes, components=4, seed=0).sample(300)
    assert drawn.shape == (300, 8)
    # Every draw lies near one of the two clusters, none in the empty middle a wide prior would fill.
    nearest = np.minimum(np.linalg.norm(drawn - 1.0, axis=1), np.linalg.norm(drawn + 1.0, axis=1))
    assert np.quantile(nearest, 0.99) < 0.5
