"""The published ways of scoring a point-cloud autoencoder beyond its reconstruction error.

- **Linear-SVM accuracy** (Achlioptas et al. 2018; FoldingNet, Yang et al. 2018): the
  latent means of a labelled training split are features for a linear SVM; its
  accuracy on the test split's latent means says how much class information the
  unsupervised code carries.
- **Generation** (Achlioptas et al. 2018; PointFlow, Yang et al. 2019): clouds decoded
  from draws of the prior are compared with a reference split by Chamfer distance:
  MMD (minimum matching distance: how close each reference shape's best match is),
  COV (coverage: the fraction of reference shapes that are some sample's nearest
  neighbour) and 1-NNA (leave-one-out 1-nearest-neighbour accuracy of telling
  samples from references; 50 % is ideal, 100 % means the two sets are apart).

Chamfer distance here is the product's own convention everywhere: squared
nearest-neighbour distances, averaged over each cloud, the two directions
summed, on clouds centred and scaled to the unit sphere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "GenerationScores",
    "LATENT_SAMPLERS",
    "balanced_sample",
    "class_mean_accuracy",
    "confused_pairs",
    "generation_scores",
    "labelled_accuracy",
    "latent_mixture",
    "linear_svm_accuracy",
    "linear_svm_predictions",
    "pairwise_chamfer",
]

#: Where generated codes come from: the VAE's prior, or a Gaussian mixture fit to the training
#: split's latent means (the "latent GMM" of Achlioptas et al. 2018).
LATENT_SAMPLERS = ("prior", "gmm")

#: Regularisation strengths tried for the linear SVM, chosen by cross-validation on the training split.
SVM_C_GRID = (0.001, 0.01, 0.1, 1.0)


def linear_svm_accuracy(
    train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray, test_labels: np.ndarray,
    *, seed: int = 0, jobs: int = 1,
) -> tuple[float, float]:
    """Fit a linear SVM on the training features and score it on the test features.

    The fit is :func:`linear_svm_predictions`'s; shapes of the test split without a label
    (-1) are left out of the score.

    Returns
    -------
    accuracy, c : float
        Test accuracy in 0..1 and the ``C`` chosen; NaN for both when it cannot be computed
        (fewer than two classes to fit, or no labelled test shape).
    """
    if not (np.asarray(test_labels) >= 0).any():
        return float("nan"), float("nan")
    predicted, c = linear_svm_predictions(train_features, train_labels, test_features, seed=seed, jobs=jobs)
    if predicted is None:
        return float("nan"), float("nan")
    return labelled_accuracy(test_labels, predicted), c


def labelled_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """The share of the labelled shapes (label >= 0) whose prediction is their label; NaN when none has one."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    known = labels >= 0
    return float((predicted[known] == labels[known]).mean()) if known.any() else float("nan")


def linear_svm_predictions(
    train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray,
    *, seed: int = 0, jobs: int = 1,
) -> tuple[np.ndarray | None, float]:
    """The class a linear SVM fit on the training features gives each test feature.

    Features are standardised with the training split's mean and spread; the SVM's
    ``C`` is chosen from :data:`SVM_C_GRID` by 5-fold cross-validation on the training
    split alone, so the test split is seen once, to be classified. Training shapes
    without a label (-1) are left out. ``jobs`` processes fit the folds and values of ``C`` side by
    side (-1: one per core; scikit-learn's ``n_jobs``): the figures are the same, each fit
    being deterministic. On ModelNet10's pooled 1024-d feature the search is 20 fits, the five
    at ``C`` = 1 taking minutes each: with cores for them all it lasts about as long as its slowest fit.

    Returns
    -------
    predicted : numpy.ndarray or None
        int64 (n,): the training labels' class of each test feature; None when the
        labelled training shapes hold fewer than two classes.
    c : float
        The ``C`` chosen (NaN with ``predicted`` None).
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    train_labels = np.asarray(train_labels)
    keep_train = train_labels >= 0
    x, y = np.asarray(train_features, dtype=np.float64)[keep_train], train_labels[keep_train]
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        return None, float("nan")
    # dual="auto": the primal when there are more shapes than features (the latent means), the dual otherwise
    # (the pooled 1024-d feature of a small split, where the primal takes minutes at C = 1).
    pipeline = make_pipeline(StandardScaler(), LinearSVC(dual="auto", max_iter=5000, random_state=seed))
    folds = int(min(5, counts.min()))
    if folds >= 2:
        search = GridSearchCV(pipeline, {"linearsvc__C": list(SVM_C_GRID)},
                              cv=StratifiedKFold(folds, shuffle=True, random_state=seed), n_jobs=jobs)
        search.fit(x, y)
        model, c = search.best_estimator_, float(search.best_params_["linearsvc__C"])
    else:
        c = 0.01
        model = pipeline.set_params(linearsvc__C=c).fit(x, y)
    predicted = model.predict(np.asarray(test_features, dtype=np.float64)) if len(test_features) else np.zeros(0)
    return np.asarray(predicted, dtype=np.int64), c


def class_mean_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """The mean over classes of each class's accuracy (PointNet's "avg. class accuracy").

    Every class present among the labels weighs the same, however many shapes it has: on a
    split whose classes are unevenly drawn (ModelNet10's train split has eight chairs for
    each bathtub) it says how a model does on a class-balanced one. Shapes without a
    label (-1) are left out; NaN when none has one.
    """
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    known = labels >= 0
    classes = np.unique(labels[known])
    if not len(classes):
        return float("nan")
    return float(np.mean([(predicted[labels == k] == k).mean() for k in classes]))


def confused_pairs(labels: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...] | list[str],
                   top: int = 5) -> list[dict[str, object]]:
    """The pairs of classes most often taken for each other, with how many shapes each pair cost.

    A pair counts its errors in both directions (a dresser called a night stand and a night
    stand called a dresser); shapes without a label or a prediction (-1) are left out.

    Returns
    -------
    list of dict
        At most ``top`` entries, most errors first (ties by class order): ``classes`` (the two
        names, in class order), ``errors`` (both directions) and ``as_first`` (shapes of the
        second class predicted as the first).
    """
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    wrong = (labels >= 0) & (predicted >= 0) & (labels != predicted)
    counts: dict[tuple[int, int], list[int]] = {}
    for truth, guess in zip(labels[wrong].tolist(), predicted[wrong].tolist()):
        first, second = min(truth, guess), max(truth, guess)
        entry = counts.setdefault((first, second), [0, 0])
        entry[0] += 1
        entry[1] += int(guess == first)
    ranked = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))[:top]
    return [{"classes": [str(class_names[a]), str(class_names[b])], "errors": n, "as_first": as_first}
            for (a, b), (n, as_first) in ranked]


def pairwise_chamfer(first: np.ndarray, second: np.ndarray | None = None, *, workers: int = -1) -> np.ndarray:
    """Chamfer distance between every cloud of ``first`` and every cloud of ``second``.

    Nearest neighbours come from one k-d tree per cloud (scipy), about 25x faster
    on a CPU than dense distance matrices at 1024 points. With ``second`` None the
    matrix of ``first`` with itself is computed once per pair and mirrored.

    Parameters
    ----------
    first, second : numpy.ndarray
        float (m, N, 3) and (n, N', 3) clouds.
    workers : int
        Threads of the k-d tree queries (-1: every core).

    Returns
    -------
    numpy.ndarray
        float64 (m, n).
    """
    first = np.asarray(first, dtype=np.float64)
    symmetric = second is None
    second = first if second is None else np.asarray(second, dtype=np.float64)
    # One query per tree, of every point of every cloud of the other set at once: the cost is the
    # m * n * N nearest-neighbour searches, not m * n calls.
    there = _mean_squared_nn(first, second, workers)  # (m, n): first[i] -> second[j]
    back = there.T if symmetric else _mean_squared_nn(second, first, workers).T
    out = there + back
    if symmetric:
        np.fill_diagonal(out, 0.0)
    return out


def _mean_squared_nn(queries: np.ndarray, targets: np.ndarray, workers: int) -> np.ndarray:
    """(m, n): mean over the points of ``queries[i]`` of the squared distance to the nearest point of ``targets[j]``."""
    from scipy.spatial import cKDTree

    m, n_points = len(queries), queries.shape[1]
    flat = queries.reshape(-1, 3)
    out = np.empty((m, len(targets)))
    for j, cloud in enumerate(targets):
        distances, _ = cKDTree(cloud).query(flat, k=1, workers=workers)
        out[:, j] = (distances.reshape(m, n_points) ** 2).mean(axis=1)
    return out


@dataclass(frozen=True)
class GenerationScores:
    """How clouds decoded from the prior compare with a reference set (see the module notes).

    Attributes
    ----------
    mmd_cd : float
        Mean over reference shapes of the Chamfer distance to the closest sample (lower is better).
    cov_cd : float
        Fraction of reference shapes that are the nearest reference of at least one sample (higher is better).
    nna_cd : float
        Leave-one-out 1-NN accuracy on samples + references (0.5 is ideal).
    samples, references : int
        Sizes of the two sets.
    """

    mmd_cd: float
    cov_cd: float
    nna_cd: float
    samples: int
    references: int


def generation_scores(samples: np.ndarray, references: np.ndarray) -> GenerationScores:
    """MMD-CD, COV-CD and 1-NNA-CD of generated ``samples`` against ``references``.

    Parameters
    ----------
    samples, references : numpy.ndarray
        float (m, N, 3) and (n, N, 3) clouds in the same frame (the unit sphere).
    """
    if len(samples) < 1 or len(references) < 1:
        raise ValueError("generation scores need at least one sample and one reference")
    cross = pairwise_chamfer(samples, references)  # (m, n)
    mmd = float(cross.min(axis=0).mean())
    cov = float(len(np.unique(cross.argmin(axis=1))) / len(references))
    within_samples = pairwise_chamfer(samples)
    within_references = pairwise_chamfer(references)
    m, n = len(samples), len(references)
    # Distances among all m + n clouds, a cloud never its own neighbour.
    full = np.block([[within_samples, cross], [cross.T, within_references]])
    np.fill_diagonal(full, np.inf)
    nearest = full.argmin(axis=1)
    is_sample = np.arange(m + n) < m
    nna = float((is_sample[nearest] == is_sample).mean())
    return GenerationScores(mmd_cd=mmd, cov_cd=cov, nna_cd=nna, samples=m, references=n)


def latent_mixture(latents: np.ndarray, components: int = 32, seed: int = 0):
    """A Gaussian mixture (full covariances) fit to latent means, to sample codes from.

    Achlioptas et al. (2018) found that a mixture fit to an autoencoder's codes generates
    shapes as well as a GAN in latent space. With a small KL weight a VAE's codes fill
    only part of its prior, and prior samples decode to blends no shape looks like; codes
    drawn from the mixture stay where the data is. ``components`` is capped at a tenth of
    the number of codes.

    Returns
    -------
    sklearn.mixture.GaussianMixture
        Fitted; ``sample(n)`` returns ``(codes, components)``.
    """
    from sklearn.mixture import GaussianMixture

    latents = np.asarray(latents, dtype=np.float64)
    count = int(max(1, min(components, len(latents) // 10)))
    mixture = GaussianMixture(count, covariance_type="full", reg_covar=1e-4, random_state=seed)
    return mixture.fit(latents)


def balanced_sample(labels: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Indices of ``count`` shapes drawn evenly across classes (all when ``count`` >= their number), sorted."""
    labels = np.asarray(labels)
    if count >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    # Round-robin over classes in the shuffled order: every class gets its share, and then some.
    by_class = [order[labels[order] == c] for c in np.unique(labels)]
    picked: list[int] = []
    depth = 0
    while len(picked) < count:
        for members in by_class:
            if depth < len(members) and len(picked) < count:
                picked.append(int(members[depth]))
        depth += 1
    return np.sort(np.asarray(picked))
