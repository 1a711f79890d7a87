"""The latent studio's verbs: generate shapes, retrieve the nearest ones, edit a shape along a direction.

All three work on a :class:`LatentIndex`: the latent means of a split's shapes,
encoded once and cached on disk beside the thumbnails (keyed by the checkpoint's
bytes, the data set's files, the split and the model's point count), so that a
query on twelve thousand shapes costs one encode and one matrix product.

- :func:`sample_shapes` decodes codes drawn from the prior N(0, (T s)^2 I) (s: the
  model's prior std, T: the temperature) or from the *aggregate posterior*: a
  Gaussian mixture fit to the training codes, its covariances scaled by T^2. Each
  sample is given its nearest training shape by Chamfer distance: the memorisation
  check. The exact nearest shape among all would cost a Chamfer distance to every
  training cloud; the search is exact among the :data:`SHORTLIST` shapes whose
  codes are nearest the sample's own (encoded again), which holds the Chamfer
  nearest in practice and takes milliseconds.
- :func:`retrieve` encodes query clouds and lists the k shapes of the index whose
  latent means are nearest (Euclidean distance in latent space).
- :func:`edit_shape` moves a shape's code along a principal direction of the index
  (in units of its standard deviation) or along an attribute vector (the mean code
  of one class minus that of another) and decodes it. :class:`LatentEditor` is the
  same for the window's sliders: the shape is encoded once, and every move decodes
  one code; :func:`sweep` decodes a shape moved along one direction, frame by frame,
  as an :class:`~vaeviewer.workflows.interpolate.Interpolation` that the GIF
  exporter renders.
"""

from __future__ import annotations

import hashlib
import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaeviewer.data.dataset import ShapeSplit
from vaeviewer.errors import OptionError
from vaeviewer.files import atomic_write
from vaeviewer.model import PointCloudVAE
from vaeviewer.workflows.interpolate import Interpolation

__all__ = [
    "SHORTLIST",
    "EditDirection",
    "LatentEditor",
    "LatentIndex",
    "Sample",
    "build_index",
    "data_location",
    "draw_codes",
    "edit_direction",
    "decode_codes",
    "edit_shape",
    "encode_clouds",
    "fitted_mixture",
    "group_direction",
    "latent_index_cache_dir",
    "nearest_training_chamfer",
    "principal_directions",
    "principal_edit_directions",
    "reference_distances",
    "retrieve",
    "split_cache_key",
    "sample_shapes",
    "sweep",
]

#: Training shapes (nearest in latent space) among which a sample's nearest shape is found by Chamfer distance.
SHORTLIST = 32
#: The index format; a change makes old cache files stale.
_INDEX_VERSION = 1
# Fitted mixtures of codes (see fitted_mixture); the window's workers share them.
_MIXTURES: OrderedDict[str, object] = OrderedDict()
_MIXTURES_LOCK = threading.Lock()


@dataclass(frozen=True)
class LatentIndex:
    """The latent means of a split's readable shapes.

    Attributes
    ----------
    split : str
    indices : numpy.ndarray
        int64 (n,), each row's shape index in the split.
    latents : numpy.ndarray
        float32 (n, D).
    labels : numpy.ndarray
        int64 (n,), class indices into ``class_names`` (-1: unknown).
    class_names : tuple of str
    names : tuple of str
        Each row's shape name.
    cached : bool
        Whether it was read from the cache rather than encoded now.
    """

    split: str
    indices: np.ndarray
    latents: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    names: tuple[str, ...]
    cached: bool = False

    def class_of(self, row: int) -> str:
        """The class name of row ``row`` ("unknown" without a label)."""
        label = int(self.labels[row])
        return self.class_names[label] if 0 <= label < len(self.class_names) else "unknown"


def latent_index_cache_dir() -> Path:
    """Where latent indices are kept: ``<cache>/latent-index`` (``$VAEVIEWER_CACHE_DIR`` or the user cache folder)."""
    from vaeviewer.data.builtin import CACHE_DIR_ENV

    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override) / "latent-index"
    import platformdirs

    return Path(platformdirs.user_cache_dir("vaeviewer")) / "latent-index"


def data_location(data: str | os.PathLike[str] | None) -> str | None:
    """Where a data set is on disk, for the cache key: ``builtin`` is its generated folder; empty stays None."""
    if not data:
        return None
    if str(data) == "builtin":
        from vaeviewer.data.builtin import ensure_builtin_dataset

        return str(ensure_builtin_dataset())
    return str(data)


def split_cache_key(checkpoint: Path, data: Path, split: str, num_points: int) -> str:
    """The key of what a model computes on a split: the checkpoint's bytes, the data set's files, the split, N."""
    from vaeviewer.render.thumbnails import dataset_fingerprint

    digest = hashlib.sha256(f"v{_INDEX_VERSION}|{split}|{num_points}|{dataset_fingerprint(data)}".encode())
    with open(checkpoint, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def encode_clouds(model: PointCloudVAE, clouds: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Latent means (float32 (n, D)) of clouds already resampled to the model's point count and normalised."""
    import torch

    from vaeviewer.model.guard import exclusive

    batch = torch.from_numpy(np.asarray(clouds, dtype=np.float32))
    with torch.no_grad(), exclusive(model):
        return model.encode(batch.to(next(model.parameters()).device))[0].float().cpu().numpy()


def decode_codes(model: PointCloudVAE, codes: np.ndarray) -> np.ndarray:
    """Decode latent codes (n, D) into clouds (n, N, 3), float32, under the model's guard."""
    import torch

    from vaeviewer.model.guard import exclusive

    z = torch.from_numpy(np.asarray(codes, dtype=np.float32))
    with torch.no_grad(), exclusive(model):
        return model.decode(z.to(next(model.parameters()).device)).float().cpu().numpy()


def build_index(model: PointCloudVAE, split: ShapeSplit, *, checkpoint: str | os.PathLike[str] | None = None,
                data: str | os.PathLike[str] | None = None, cache: bool = True) -> LatentIndex:
    """The latent index of ``split``: read from the cache when the checkpoint file and data set are unchanged.

    Without ``checkpoint`` and ``data`` (a model or data set not from a file) nothing is cached.
    """
    from vaeviewer.workflows.latent_map import EncodedSplit, encode_split

    path = None
    if cache and checkpoint is not None and data is not None and Path(checkpoint).is_file() and Path(data).exists():
        key = split_cache_key(Path(checkpoint), Path(data), split.name, model.config.num_points)
        path = latent_index_cache_dir() / f"{key}.npz"
        found = _read_index(path, split)
        if found is not None:
            return found
    encoded = None
    for item in encode_split(model, split, batch_size=64):
        if isinstance(item, EncodedSplit):
            encoded = item
    assert encoded is not None
    names = tuple(split.shape_name(int(i)) for i in encoded.indices)
    index = LatentIndex(split.name, encoded.indices, encoded.latents, encoded.labels, tuple(split.class_names), names)
    if path is not None:
        try:
            with atomic_write(path, ".npz", durable=False) as temporary:
                np.savez(temporary, indices=index.indices, latents=index.latents, labels=index.labels,
                         names=np.array(names, dtype=str))
        except OSError:
            pass  # a cache that cannot be written costs the next query an encode, nothing else
    return index


def _read_index(path: Path, split: ShapeSplit) -> LatentIndex | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return LatentIndex(split.name, stored["indices"], stored["latents"].astype(np.float32), stored["labels"],
                               tuple(split.class_names), tuple(str(n) for n in stored["names"]), cached=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # a damaged cache file is made again


def retrieve(model: PointCloudVAE, index: LatentIndex, clouds: Sequence[np.ndarray], k: int = 5) -> list[list[tuple[int, float]]]:
    """For each query cloud, the ``k`` rows of ``index`` nearest in latent space: (row, distance), nearest first."""
    if k < 1:
        raise OptionError(f"--k {k}: must be at least 1")
    if not len(index.latents):
        raise OptionError(f"split {index.split!r} has no readable shape to search")
    queries = encode_clouds(model, clouds)
    return [_nearest_rows(index.latents, query, k) for query in queries]


def _nearest_rows(latents: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    distances = np.sqrt(np.maximum(((latents - query) ** 2).sum(axis=1), 0.0))
    k = min(k, len(distances))
    rows = np.argpartition(distances, k - 1)[:k]
    rows = rows[np.argsort(distances[rows], kind="stable")]
    return [(int(row), float(distances[row])) for row in rows]


@dataclass(frozen=True)
class Sample:
    """A generated shape and the training shape nearest it.

    Attributes
    ----------
    cloud : numpy.ndarray
        float32 (N, 3), in the model's frame.
    code : numpy.ndarray
        float32 (D,), the code it was decoded from.
    nearest_row : int
        Row of the nearest training shape in the index.
    nearest_chamfer : float
        Chamfer distance to it (squared distances, both directions, as everywhere in vaeviewer).
    """

    cloud: np.ndarray
    code: np.ndarray
    nearest_row: int
    nearest_chamfer: float


def draw_codes(model: PointCloudVAE, count: int, seed: int, temperature: float = 1.0, prior: str = "normal",
               index: LatentIndex | None = None, components: int = 32) -> np.ndarray:
    """``count`` codes, float32 (count, D): the same for the same seed and arguments."""
    if count < 1:
        raise OptionError(f"--count {count}: must be at least 1")
    if not temperature > 0:
        raise OptionError(f"--temperature {temperature}: must be positive")
    rng = np.random.default_rng(seed)
    dim = model.config.latent_dim
    if prior == "normal":
        return (rng.standard_normal((count, dim)) * model.config.prior_std * temperature).astype(np.float32)
    if prior != "mixture":
        raise OptionError(f"--prior {prior}: normal or mixture")
    if index is None or len(index.latents) < 2:
        raise OptionError("--prior mixture needs the training shapes' codes: a split with at least two shapes")
    mixture = fitted_mixture(index, components)
    chosen = rng.choice(len(mixture.weights_), size=count, p=mixture.weights_ / mixture.weights_.sum())
    factors = np.linalg.cholesky(mixture.covariances_)
    noise = rng.standard_normal((count, dim))
    codes = mixture.means_[chosen] + temperature * np.einsum("nij,nj->ni", factors[chosen], noise)
    return codes.astype(np.float32)


def fitted_mixture(index: LatentIndex, components: int = 32):
    """The Gaussian mixture of the index's codes (:func:`~vaeviewer.workflows.quality.latent_mixture`), fit once.

    Fitting takes seconds on thousands of codes; the last few fits are kept, keyed by the codes' bytes, so
    that every generation after the first only samples. The fit's own seed is fixed: a sample's seed
    chooses the sample, not the mixture.
    """
    from vaeviewer.workflows.quality import latent_mixture

    latents = np.ascontiguousarray(index.latents, dtype=np.float32)
    key = f"{hashlib.sha1(latents.tobytes()).hexdigest()}|{latents.shape}|{components}"
    with _MIXTURES_LOCK:
        found = _MIXTURES.get(key)
    if found is None:
        found = latent_mixture(latents, components=components, seed=0)
        with _MIXTURES_LOCK:
            _MIXTURES[key] = found
            while len(_MIXTURES) > 4:
                _MIXTURES.popitem(last=False)
    return found


def nearest_training_chamfer(model: PointCloudVAE, index: LatentIndex, training: ShapeSplit,
                             clouds: np.ndarray) -> list[tuple[int, float]]:
    """For each cloud (at the model's point count), its nearest training shape: (row of ``index``, Chamfer distance).

    Exact among the :data:`SHORTLIST` training shapes whose codes are nearest the cloud's own.
    """
    from vaeviewer.workflows.quality import pairwise_chamfer

    own = encode_clouds(model, clouds)
    num_points = model.config.num_points
    found = []
    for cloud, latent in zip(clouds, own):
        rows = [row for row, _ in _nearest_rows(index.latents, latent, SHORTLIST)]
        candidates = np.stack([training.points(int(index.indices[row]), num_points) for row in rows])
        distances = pairwise_chamfer(np.asarray(cloud, dtype=np.float32)[None], candidates)[0]
        best = int(np.argmin(distances))
        found.append((rows[best], float(distances[best])))
    return found


def reference_distances(model: PointCloudVAE, index: LatentIndex, training: ShapeSplit, test: ShapeSplit,
                        count: int, seed: int = 0) -> np.ndarray:
    """Chamfer distances of ``count`` test shapes (drawn evenly over classes) to their nearest training shapes.

    What a model that generates rather than copies should match: its samples should lie about as far from the
    training shapes as unseen shapes do, not much nearer.
    """
    from vaeviewer.workflows.quality import balanced_sample

    chosen = balanced_sample(np.asarray(test.labels), min(count, len(test)), seed=seed)
    clouds = np.stack([test.points(int(i), model.config.num_points) for i in chosen])
    return np.array([distance for _, distance in nearest_training_chamfer(model, index, training, clouds)])


def sample_shapes(model: PointCloudVAE, index: LatentIndex, training: ShapeSplit, count: int, seed: int,
                  temperature: float = 1.0, prior: str = "normal") -> list[Sample]:
    """Decode ``count`` codes (see :func:`draw_codes`) and find each one's nearest training shape (see the module)."""
    if not len(index.latents):
        raise OptionError(f"split {index.split!r} has no readable shape to compare samples with")
    codes = draw_codes(model, count, seed, temperature, prior, index)
    clouds = decode_codes(model, codes)
    nearest = nearest_training_chamfer(model, index, training, clouds)
    return [Sample(cloud, code, row, distance) for cloud, code, (row, distance) in zip(clouds, codes, nearest)]


def principal_directions(index: LatentIndex) -> tuple[np.ndarray, np.ndarray]:
    """Unit principal directions of the index's codes (rows, largest variance first) and each one's standard deviation."""
    latents = np.asarray(index.latents, dtype=np.float64)
    if len(latents) < 2:
        raise OptionError(f"split {index.split!r}: principal directions need at least two shapes")
    centred = latents - latents.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred / (len(latents) - 1))
    order = np.argsort(values)[::-1]
    return vectors[:, order].T, np.sqrt(np.maximum(values[order], 0.0))


def edit_direction(index: LatentIndex, direction: str) -> np.ndarray:
    """The step of one unit along ``direction``: ``pcK`` (one standard deviation along the K-th principal
    direction) or ``CLASS_A-CLASS_B`` (the mean code of class A minus that of class B).
    """
    text = direction.strip()
    if text.lower().startswith("pc") and text[2:].isdigit():
        k = int(text[2:])
        vectors, stds = principal_directions(index)
        if not 1 <= k <= len(stds):
            raise OptionError(f"--direction {text}: pc1 to pc{len(stds)}")
        return (vectors[k - 1] * stds[k - 1]).astype(np.float32)
    names = {name: k for k, name in enumerate(index.class_names)}
    for cut in range(1, len(text)):
        if text[cut] == "-" and text[:cut] in names and text[cut + 1:] in names:
            first, second = names[text[:cut]], names[text[cut + 1:]]
            means = [index.latents[index.labels == label].mean(axis=0) for label in (first, second)]
            if any(not np.isfinite(mean).all() for mean in means):
                raise OptionError(f"--direction {text}: a class has no shape in split {index.split!r}")
            return (means[0] - means[1]).astype(np.float32)
    known = ", ".join(index.class_names[:6]) + (", ..." if len(index.class_names) > 6 else "")
    raise OptionError(f"--direction {text}: pc1, pc2, ... or CLASS-CLASS with classes of the split ({known})")


def edit_shape(model: PointCloudVAE, cloud: np.ndarray, step: np.ndarray, amounts: Sequence[float]) -> np.ndarray:
    """``cloud``'s code moved by each of ``amounts`` times ``step``, decoded: float32 (len(amounts), N, 3)."""
    code = encode_clouds(model, [cloud])[0]
    codes = code[None] + np.asarray(amounts, dtype=np.float32)[:, None] * np.asarray(step, dtype=np.float32)[None]
    return decode_codes(model, codes)


@dataclass(frozen=True)
class EditDirection:
    """A direction to move shapes along: one unit of it, and what the unit is.

    Attributes
    ----------
    name : str
        ``pc1``, ``chair-table``, ``picked A-B``: how the window and the command line name it.
    step : numpy.ndarray
        float32 (D,), the move of one unit.
    unit : str
        ``σ`` (one standard deviation along a principal direction) or ``×`` (the whole difference of two means).
    """

    name: str
    step: np.ndarray
    unit: str


def principal_edit_directions(index: LatentIndex, count: int) -> list[EditDirection]:
    """The first ``count`` principal directions of the index's codes, one standard deviation each."""
    vectors, stds = principal_directions(index)
    return [EditDirection(f"pc{k + 1}", (vectors[k] * stds[k]).astype(np.float32), "σ")
            for k in range(min(count, len(stds)))]


def group_direction(first: np.ndarray, second: np.ndarray, name: str) -> EditDirection:
    """The mean of codes ``first`` minus the mean of codes ``second`` (float (n, D) each, n >= 1)."""
    if not len(first) or not len(second):
        raise OptionError(f"direction {name}: both groups need at least one shape")
    step = np.asarray(first, dtype=np.float64).mean(axis=0) - np.asarray(second, dtype=np.float64).mean(axis=0)
    return EditDirection(name, step.astype(np.float32), "×")


class LatentEditor:
    """A shape's code moved by some amount along each of a few directions; the window's edit sliders.

    The shape is encoded once (:meth:`start`); each change of an amount then costs
    one decode of one code, which is what lets a slider drag redraw at the screen's
    rate. :meth:`apply` makes the moved code the new starting point.

    Parameters
    ----------
    model : PointCloudVAE
    """

    def __init__(self, model: PointCloudVAE) -> None:
        self.model = model
        self.base: np.ndarray | None = None
        self.directions: list[EditDirection] = []
        self.amounts = np.zeros(0, dtype=np.float32)

    def start(self, cloud: np.ndarray | None = None, code: np.ndarray | None = None) -> None:
        """Edit ``cloud`` (encoded now, at the model's point count) or the code ``code``; the amounts go to zero."""
        self.base = np.asarray(code if code is not None else encode_clouds(self.model, [cloud])[0], dtype=np.float32)
        self.amounts = np.zeros(len(self.directions), dtype=np.float32)

    def set_directions(self, directions: Sequence[EditDirection]) -> None:
        """Move along ``directions`` from now on (the amounts of names kept are kept)."""
        old = {d.name: float(a) for d, a in zip(self.directions, self.amounts)}
        self.directions = list(directions)
        self.amounts = np.array([old.get(d.name, 0.0) for d in self.directions], dtype=np.float32)

    def set_amount(self, name: str, amount: float) -> None:
        """Move ``amount`` units along direction ``name``."""
        names = [d.name for d in self.directions]
        if name not in names:
            raise OptionError(f"direction {name}: not one of {', '.join(names)}")
        self.amounts[names.index(name)] = float(amount)

    def amount(self, name: str) -> float:
        """The amount along direction ``name`` (0 for one not in use)."""
        for direction, amount in zip(self.directions, self.amounts):
            if direction.name == name:
                return float(amount)
        return 0.0

    def code(self, skip: str | None = None) -> np.ndarray:
        """The moved code, float32 (D,); ``skip`` leaves that direction out."""
        if self.base is None:
            raise OptionError("no shape to edit")
        code = self.base.astype(np.float64)
        for direction, amount in zip(self.directions, self.amounts):
            if direction.name != skip and amount:
                code = code + float(amount) * direction.step
        return code.astype(np.float32)

    def decode(self) -> np.ndarray:
        """The moved shape, float32 (N, 3)."""
        return decode_codes(self.model, self.code()[None])[0]

    def apply(self) -> np.ndarray:
        """Keep the moved shape: its code becomes the start and the amounts go to zero; its code."""
        self.base = self.code()
        self.amounts[:] = 0.0
        return self.base

    def sweep(self, name: str, extent: float, steps: int) -> Interpolation:
        """The shape moved from ``-extent`` to ``+extent`` along ``name`` (the other amounts as they are)."""
        for direction in self.directions:
            if direction.name == name:
                return sweep(self.model, self.code(skip=name), direction.step, extent, steps, name, direction.unit)
        raise OptionError(f"direction {name}: not one of {', '.join(d.name for d in self.directions)}")


def sweep(model: PointCloudVAE, code: np.ndarray, step: np.ndarray, extent: float, steps: int,
          name: str = "", unit: str = "") -> Interpolation:
    """``code`` moved from ``-extent`` to ``+extent`` times ``step`` in ``steps`` frames, decoded.

    An :class:`~vaeviewer.workflows.interpolate.Interpolation` (a straight path, so ``lerp``) whose two side
    shapes are its end frames, each frame titled with its amount (``pc1 +1.50σ``, ``name`` and ``unit``): what
    :func:`~vaeviewer.workflows.export.write_interpolation` renders.
    """
    from vaeviewer.workflows.interpolate import check_path_options

    check_path_options(steps, "lerp")
    if not extent > 0:
        raise OptionError(f"--amount {extent:g}: a sweep needs a non-zero amount")
    amounts = np.linspace(-extent, extent, int(steps))
    codes = np.asarray(code, dtype=np.float32)[None] + amounts[:, None].astype(np.float32) * \
        np.asarray(step, dtype=np.float32)[None]
    frames = np.concatenate([decode_codes(model, codes[k:k + 32]) for k in range(0, len(codes), 32)])
    titles = tuple(f"{name} {amount:+.2f}{unit}".strip() for amount in amounts)
    return Interpolation("lerp", (amounts + extent) / (2 * extent), codes, frames, frames[0], frames[-1], titles)
