"""A 2-D map of a split's latent means: encode every shape, then project by PCA or t-SNE.

Qt-free. :func:`encode_split` and :func:`latent_map` are generators: each
``yield`` is a small frozen dataclass (progress, then the result) and a place
where a :class:`~vaeviewer.tasks.TaskControl` can stop the work. The window
runs :func:`latent_map` on a worker thread; a script can simply iterate it.

Costs, measured on a 2-core machine shared with a training run, bundled model
(N = 1024, D = 128): encoding reads and resamples every shape (about 15 ms a
shape for the built-in set) and runs the encoder (about 17 ms a shape on one
thread), so 250 shapes take 7-10 s and 1,000 take 30-37 s. PCA of the codes
is a thin SVD: 15-30 ms. t-SNE (scikit-learn, Barnes-Hut) takes about 1 s for
250 codes and 3.5 s for 1,000 in this process; :func:`project_stoppable` adds
the 1.5-2 s it takes a fresh Python process to import scikit-learn.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vaeviewer.errors import DataFileError, OptionError

if TYPE_CHECKING:
    from vaeviewer.data import ShapeSplit
    from vaeviewer.model import PointCloudVAE
    from vaeviewer.tasks import TaskControl

__all__ = [
    "PROJECTION_METHODS",
    "EncodeProgress",
    "EncodedSplit",
    "LatentMap",
    "MapInverse",
    "ProjectionStarted",
    "encode_split",
    "explained_variance_ratio",
    "latent_map",
    "pca_plane",
    "project",
    "project_stoppable",
]

#: Ways to flatten the codes to two dimensions, with the names the window shows.
PROJECTION_METHODS = {"pca": "PCA", "tsne": "t-SNE"}

# t-SNE's usual perplexity; a small set needs a smaller one (scikit-learn requires
# perplexity < n, and a neighbourhood of about a third of the set keeps it meaningful).
_TSNE_PERPLEXITY = 30.0
# Below this many codes t-SNE has no neighbourhoods to keep: the map is PCA's.
_TSNE_MIN_SHAPES = 5


@dataclass(frozen=True)
class EncodeProgress:
    """``done`` of ``total`` shapes of the split are encoded."""

    done: int
    total: int


@dataclass(frozen=True)
class EncodedSplit:
    """The latent means of a split's shapes.

    Attributes
    ----------
    split : str
        The split's name.
    indices : numpy.ndarray
        int64 (n,), the index in the split of each encoded shape (every shape,
        in order, unless some could not be read or the work was stopped).
    latents : numpy.ndarray
        float32 (n, D), the encoder means.
    labels : numpy.ndarray
        int64 (n,), the class of each shape in the split's ``class_names`` (-1: unknown).
    skipped : tuple of str
        One line per shape that could not be read (left out of ``indices``).
    stopped : bool
        Whether the work was stopped before the end of the split.
    """

    split: str
    indices: np.ndarray
    latents: np.ndarray
    labels: np.ndarray
    skipped: tuple[str, ...] = ()
    stopped: bool = False


@dataclass(frozen=True)
class ProjectionStarted:
    """The codes are encoded; the projection ``method`` is running (t-SNE takes seconds)."""

    method: str
    shapes: int


@dataclass(frozen=True)
class LatentMap:
    """Where each shape of a split lands on the 2-D map of its latent means.

    Attributes
    ----------
    encoded : EncodedSplit
        The codes the map was made from (its ``indices`` and ``labels`` go with ``coords``).
    method : str
        ``pca`` or ``tsne``.
    coords : numpy.ndarray
        float32 (n, 2).
    explained : tuple of float
        For PCA, the fraction of the codes' variance along each axis; empty for t-SNE.
    """

    encoded: EncodedSplit
    method: str
    coords: np.ndarray
    explained: tuple[float, ...] = ()


def encode_split(
    model: PointCloudVAE, split: ShapeSplit, batch_size: int = 64, control: TaskControl | None = None
) -> Iterator[EncodeProgress | EncodedSplit]:
    """Encode every shape of ``split`` to its latent mean, a batch at a time.

    The model runs in eval mode (batch normalisation uses its running
    statistics, so a shape's code does not depend on the rest of its batch)
    under its guard (:func:`~vaeviewer.model.guard.exclusive`), taken for one
    batch at a time, so that other threads may use the model between two
    batches. Each shape is resampled to the model's ``num_points``.

    Parameters
    ----------
    model : PointCloudVAE
    split : ShapeSplit
    batch_size : int
        Shapes per forward pass, and between two progress events.
    control : TaskControl, optional
        Checked before every shape is read: once it asks to stop, the
        generator ends with what it has encoded so far (``stopped=True``).

    Yields
    ------
    EncodeProgress
        After every batch, starting with ``EncodeProgress(0, len(split))``.
    EncodedSplit
        Last, once.

    Raises
    ------
    OptionError
        For a batch size below 1.
    """
    import torch  # here, not at the top: the t-SNE process imports this module and needs no torch

    from vaeviewer.model.guard import exclusive
    from vaeviewer.workflows.thread_limits import openmp_threads

    if batch_size < 1:
        raise OptionError(f"batch size {batch_size}: must be at least 1")
    total = len(split)
    num_points = model.config.num_points
    all_labels = np.asarray(split.labels, dtype=np.int64)
    indices: list[int] = []
    codes: list[np.ndarray] = []
    skipped: list[str] = []
    stopped = False
    device = next(model.parameters()).device
    yield EncodeProgress(0, total)
    start = 0
    while start < total and not stopped:
        batch_indices, clouds = [], []
        for index in range(start, min(start + batch_size, total)):
            # Checked per shape, not per batch: reading a shape is the slow part.
            if control is not None and control.should_stop:
                stopped = True
                break
            try:
                clouds.append(split.points(index, num_points))
            except DataFileError as error:
                skipped.append(str(error))
                continue
            batch_indices.append(index)
        if clouds:
            batch = torch.from_numpy(np.stack(clouds).astype(np.float32, copy=False)).to(device)
            # Grad mode and OpenMP's thread limit are per thread, and the model is shared
            # with the window: all three only around the pass, never across a yield.
            # Fewer threads than cores: spinning OpenMP threads that wait for a core
            # busy with the window or a training run make encoding slower, not faster.
            with torch.no_grad(), openmp_threads(_worker_threads()), exclusive(model):
                codes.append(model.encode(batch)[0].float().cpu().numpy())
            indices.extend(batch_indices)
        start += batch_size
        if not stopped:
            yield EncodeProgress(min(start, total), total)
    latent_dim = model.config.latent_dim
    index_array = np.asarray(indices, dtype=np.int64)
    yield EncodedSplit(
        split=split.name,
        indices=index_array,
        latents=np.concatenate(codes) if codes else np.zeros((0, latent_dim), np.float32),
        labels=all_labels[index_array],
        skipped=tuple(skipped),
        stopped=stopped,
    )


def _pca(latents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores on the first two principal axes and every axis' share of the variance.

    The axes are the eigenvectors of the (D, D) scatter matrix rather than an
    SVD of the (n, D) codes: one matrix product and a tiny eigenproblem, 6 ms
    for 12,000 codes of 128 dimensions where the SVD took 47 ms, and 12 ms
    rather than 160 ms beside a busy core (2-core Xeon). That also needs no
    limit on BLAS's threads, which is process-wide and unsafe to change while
    another thread computes (:mod:`vaeviewer.workflows.thread_limits`).
    """
    centred = latents.astype(np.float64) - latents.mean(axis=0, dtype=np.float64)
    variance, axes = _principal_axes(centred)
    scores = centred @ axes[:2].T
    coords = np.zeros((len(latents), 2))
    coords[:, : min(2, scores.shape[1])] = scores[:, :2]
    total = variance.sum()
    ratios = variance / total if total > 0 else np.zeros_like(variance)
    return coords.astype(np.float32), ratios


def _principal_axes(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The variances and the signed principal axes (rank, D), largest first, of centred codes."""
    eigenvalues, vectors = np.linalg.eigh(centred.T @ centred)
    # Largest first; an (n, D) matrix has at most min(n, D) nonzero variances.
    rank = min(centred.shape)
    variance = np.clip(eigenvalues[::-1][:rank], 0.0, None)
    axes = vectors[:, ::-1][:, :rank].T  # (rank, D), one axis a row
    # An axis' sign is arbitrary; pointing each along its largest loading keeps the
    # map from flipping between models or runs whose codes barely differ.
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    signs[signs == 0] = 1.0
    return variance, axes * signs[:, None]


def pca_plane(latents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The map's plane in latent space: the codes' mean (D,) and its two axes (2, D), signed as :func:`project`
    signs them, so that ``mean + coords @ axes`` is the point of the plane at map position ``coords``."""
    latents = np.asarray(latents, dtype=np.float64)
    mean = latents.mean(axis=0)
    _variance, axes = _principal_axes(latents - mean)
    plane = np.zeros((2, latents.shape[1]))
    plane[: min(2, len(axes))] = axes[:2]
    return mean, plane


class MapInverse:
    """From a point of the map back to a latent code, to decode any point of it.

    PCA's map has an inverse: the point of the plane it shows (the other
    dimensions at the codes' mean). t-SNE's has none; a point stands for the
    mean of the codes of the ``k`` dots nearest it, each weighted by the
    inverse square of its distance on the map (a dot itself gives its own code).
    :attr:`how` says which, in words.
    """

    def __init__(self, shown: LatentMap, k: int = 8) -> None:
        self.map, self.k = shown, int(k)
        self._latents = np.asarray(shown.encoded.latents, dtype=np.float64)
        if shown.method == "pca":
            self._mean, self._plane = pca_plane(self._latents)
            self.how = "PCA's inverse: the point of the map's plane, the other directions at the codes' mean"
        else:
            self._mean = self._plane = None
            self.how = f"t-SNE has no inverse: the codes of the {self.k} nearest shapes, weighted by closeness"

    def code(self, x: float, y: float) -> np.ndarray:
        """The latent code (float32 (D,)) for map position (x, y)."""
        if self._plane is not None:
            return (self._mean + np.array([x, y]) @ self._plane).astype(np.float32)
        coords = np.asarray(self.map.coords, dtype=np.float64)
        distances = np.hypot(coords[:, 0] - x, coords[:, 1] - y)
        k = min(self.k, len(distances))
        nearest = np.argpartition(distances, k - 1)[:k]
        if distances[nearest].min() < 1e-9:
            return self._latents[nearest[distances[nearest].argmin()]].astype(np.float32)
        weights = 1.0 / distances[nearest] ** 2
        return (weights @ self._latents[nearest] / weights.sum()).astype(np.float32)


def explained_variance_ratio(latents: np.ndarray, components: int = 2) -> tuple[float, ...]:
    """The fraction of the codes' variance along each of the first ``components`` principal axes."""
    latents = np.asarray(latents)
    if len(latents) < 2:
        return (0.0,) * components
    ratios = _pca(latents)[1]
    return tuple(float(ratios[k]) if k < len(ratios) else 0.0 for k in range(components))


def project(latents: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Flatten latent codes to two dimensions.

    Parameters
    ----------
    latents : numpy.ndarray
        (n, D) codes.
    method : {"pca", "tsne"}
        ``pca``: the scores on the first two principal axes (a thin SVD of the
        centred codes; milliseconds for thousands of codes). Distances on the
        map are true distances in that plane, so clusters that overlap may
        still be apart in the other dimensions.
        ``tsne``: scikit-learn's Barnes-Hut t-SNE started from the PCA map,
        perplexity ``min(30, (n - 1) / 3)``. It keeps neighbourhoods, not
        distances: clusters separate clearly but their sizes and the gaps
        between them mean little. It costs seconds (about 3.5 s for 1,000 codes
        on two cores), memory linear in n, and cannot be interrupted. Fewer
        than 5 codes get the PCA map.
    seed : int
        t-SNE's random state: the same codes and seed give the same map.

    Returns
    -------
    numpy.ndarray
        float32 (n, 2).

    Raises
    ------
    OptionError
        For an unknown method.
    """
    if method not in PROJECTION_METHODS:
        raise OptionError(f"projection {method!r}: one of {', '.join(PROJECTION_METHODS)}")
    latents = np.asarray(latents, dtype=np.float32)
    if latents.ndim != 2:
        raise ValueError(f"latents must have shape (n, D), got {latents.shape}")
    n = len(latents)
    if n < 2:
        return np.zeros((n, 2), dtype=np.float32)
    if method == "pca" or n < _TSNE_MIN_SHAPES:
        return _pca(latents)[0]
    from sklearn.manifold import TSNE  # a second or so to import; only t-SNE needs it

    from vaeviewer.workflows.thread_limits import process_threads

    tsne = TSNE(
        n_components=2,
        perplexity=min(_TSNE_PERPLEXITY, (n - 1) / 3),
        init="pca",
        learning_rate="auto",
        random_state=seed,
    )
    # OpenMP threads that wait for each other by spinning are ruinous on a busy
    # machine (measured on 2 cores next to a training run: 60 codes took 10 s with
    # both cores, 0.2 s with one), and a training run often shares the machine.
    # Process-wide limits: t-SNE runs in a process that computes nothing else meanwhile
    # (the window's child process, or the command line without a map given to it).
    with process_threads(_worker_threads()):
        return np.asarray(tsne.fit_transform(latents.astype(np.float64)), dtype=np.float32)


def _worker_threads() -> int:
    """Threads for encoding and t-SNE: half the cores, leaving the rest to the window and any training.

    OpenMP's limit is per calling thread, so this does not slow other threads' torch.
    """
    return max(1, (os.cpu_count() or 2) // 2)


def _tsne_process_main(folder: str, seed: int) -> None:
    """Entry point of the t-SNE process: ``latents.npy`` in ``folder`` to ``coords.npy`` there."""
    latents = np.load(os.path.join(folder, "latents.npy"))
    coords = project(latents, "tsne", seed=seed)
    # Written under another name and renamed: the parent never reads half a file.
    np.save(os.path.join(folder, "coords.part.npy"), coords)
    os.replace(os.path.join(folder, "coords.part.npy"), os.path.join(folder, "coords.npy"))


def project_stoppable(latents: np.ndarray, method: str, seed: int, control: TaskControl) -> np.ndarray | None:
    """:func:`project`, but a stop request ends t-SNE at once; returns None when stopped.

    scikit-learn's t-SNE has no place to stop, so it runs in a child Python
    process that is killed on a stop request (the parent checks the flag every
    50 ms). Starting the child costs about a second: it imports numpy and
    scikit-learn. A plain subprocess rather than :mod:`multiprocessing`: a
    forked copy of a process running Qt and OpenMP threads can deadlock, and
    ``spawn`` re-imports the caller's main script. The map is the one
    :func:`project` makes in this process. PCA runs here.

    Raises
    ------
    RuntimeError
        When the child fails or dies (out of memory), with its last error line.
    """
    latents = np.ascontiguousarray(latents, dtype=np.float32)
    if control.should_stop:
        return None
    if method != "tsne" or len(latents) < _TSNE_MIN_SHAPES:
        return project(latents, method, seed=seed)
    import subprocess
    import sys
    import tempfile

    import vaeviewer

    with tempfile.TemporaryDirectory(prefix="vaeviewer-tsne-") as folder:
        np.save(os.path.join(folder, "latents.npy"), latents)
        env = dict(os.environ)
        # The child must import this very package, wherever it was imported from.
        package_root = os.path.dirname(os.path.dirname(os.path.abspath(vaeviewer.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH", "")]))
        program = (
            "import sys; from vaeviewer.workflows.latent_map import _tsne_process_main; "
            "_tsne_process_main(sys.argv[1], int(sys.argv[2]))"
        )
        with open(os.path.join(folder, "stderr.txt"), "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-c", program, folder, str(int(seed))],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
            )
            try:
                while process.poll() is None:
                    if control.should_stop:
                        return None
                    try:
                        process.wait(timeout=0.05)
                    except subprocess.TimeoutExpired:
                        pass
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        result = os.path.join(folder, "coords.npy")
        if process.returncode != 0 or not os.path.exists(result):
            with open(os.path.join(folder, "stderr.txt"), "rb") as stderr_file:
                lines = stderr_file.read().decode(errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit status {process.returncode}, out of memory?"
            raise RuntimeError(f"t-SNE failed: {reason}")
        return np.load(result)


def latent_map(
    model: PointCloudVAE,
    split: ShapeSplit,
    method: str = "pca",
    *,
    encoded: EncodedSplit | None = None,
    batch_size: int = 64,
    control: TaskControl | None = None,
    seed: int = 0,
) -> Iterator[EncodeProgress | EncodedSplit | ProjectionStarted | LatentMap]:
    """Encode ``split`` (unless ``encoded`` is given) and project its codes: the map's whole work.

    Yields what :func:`encode_split` yields (unless ``encoded`` is given), then
    :class:`ProjectionStarted` and the :class:`LatentMap`. Once ``control``
    asks to stop, it ends early: after a partial :class:`EncodedSplit` while
    encoding, at once while projecting (see :func:`project_stoppable`).
    """
    if method not in PROJECTION_METHODS:
        raise OptionError(f"projection {method!r}: one of {', '.join(PROJECTION_METHODS)}")
    if encoded is None:
        for item in encode_split(model, split, batch_size=batch_size, control=control):
            yield item
            if isinstance(item, EncodedSplit):
                encoded = item
        assert encoded is not None
        if encoded.stopped:
            return
    if control is not None and control.should_stop:
        return
    yield ProjectionStarted(method, len(encoded.indices))
    if control is None:
        coords = project(encoded.latents, method, seed=seed)
    else:
        coords = project_stoppable(encoded.latents, method, seed, control)
        if coords is None:
            return
    explained = explained_variance_ratio(encoded.latents) if method == "pca" else ()
    yield LatentMap(encoded=encoded, method=method, coords=coords, explained=explained)
