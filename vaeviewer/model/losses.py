"""Losses of the point-cloud VAE: Chamfer distance, KL divergence, classifier NLL.

The Chamfer distance finds nearest neighbours without gradient, in blocks of
bounded size, and then differentiates only through the gathered neighbour
coordinates. Its backward pass therefore keeps O(B N) values instead of the
(B, N, M) distance matrix that a ``torch.cdist`` formulation holds on to, and
the gradients are the same, because the nearest-neighbour assignment is
piecewise constant in the coordinates.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vaeviewer.model.blocks import block_bytes

__all__ = [
    "chamfer_distance",
    "chamfer_distance_cdist",
    "chamfer_per_point",
    "classifier_nll",
    "kl_divergence",
    "nearest_neighbors",
]

#: Clouds of at least this many points are searched with k-d trees on the CPU (see
#: :func:`nearest_neighbors`); below it the block search is as fast.
KD_TREE_MIN_POINTS = 128


def _check_clouds(a: Tensor, b: Tensor) -> None:
    for name, cloud in (("a", a), ("b", b)):
        if cloud.ndim != 3 or cloud.shape[-1] != 3 or cloud.shape[1] < 1:
            raise ValueError(
                f"{name} must have shape (B, N, 3) with N >= 1, got {tuple(cloud.shape)}"
            )
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"batch sizes differ: a has {a.shape[0]} clouds, b has {b.shape[0]}")


def _loss_dtype(a: Tensor, b: Tensor) -> torch.dtype:
    # Half-precision inputs are measured in float32: squared distances of
    # nearby points underflow and round badly in float16/bfloat16.
    return torch.promote_types(torch.promote_types(a.dtype, b.dtype), torch.float32)


@torch.no_grad()
def nearest_neighbors(
    a: Tensor, b: Tensor, *, chunk_size: int | None = None
) -> tuple[Tensor, Tensor]:
    """Index of the nearest point of the other cloud, for every point of both clouds.

    Runs without gradient. On the CPU, for clouds of :data:`KD_TREE_MIN_POINTS`
    points or more with finite coordinates (and no ``chunk_size``), each pair
    of clouds is searched with k-d trees (``scipy.spatial.cKDTree``, exact, in
    float64), the clouds spread over ``torch.get_num_threads()`` threads (the
    trees release the GIL): B = 32, N = 2048 takes about a third of the time of
    the block search below on a 2-core Xeon, which does B x N x M work where
    the trees do about B N log M. Otherwise, and always on GPUs, the search runs
    over blocks of rows of ``a``. A block of squared
    distances ``|x|^2 + |y|^2 - 2 x.y`` to every point ``y`` of ``b`` is one
    batched matrix product (the squared norms ride along as two extra
    coordinates). Along its rows (the contiguous axis, which a min with indices
    reduces fastest) it gives each point of ``a`` its neighbour in ``b``;
    along its columns only the *values* are reduced (a min without indices,
    several times cheaper) and each point of ``b`` remembers the block where
    its nearest distance so far came from. At the end the few rows of that
    block are measured again to name the neighbour. A block is small enough to
    stay in the processor's cache while it is read. (On GPUs, where indices
    cost little and kernel launches much, the columns' minima are taken with
    their indices instead, and there is no second pass.)

    Parameters
    ----------
    a : torch.Tensor
        Clouds of shape (B, N, 3).
    b : torch.Tensor
        Clouds of shape (B, M, 3), on the same device.
    chunk_size : int, optional
        Rows of ``a`` per block. By default a block of B x rows x M distances
        takes at most :func:`vaeviewer.model.blocks.block_bytes` of the device.

    Returns
    -------
    idx_ab : torch.Tensor
        int64 of shape (B, N): ``b[i, idx_ab[i, j]]`` is the point of ``b[i]``
        nearest to ``a[i, j]``.
    idx_ba : torch.Tensor
        int64 of shape (B, M): the same from ``b`` to ``a``.

    Notes
    -----
    The search runs in float64 if either input is float64 and in float32
    otherwise. Both clouds are first shifted by the centroid of ``a``: the
    distances do not change, but the ``|x|^2`` terms shrink, which keeps the
    cancellation error of the expansion small for clouds far from the origin.
    Among neighbours at exactly the same distance, which one is named is not specified.
    """
    _check_clouds(a, b)
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    dtype = torch.float64 if torch.float64 in (a.dtype, b.dtype) else torch.float32
    a = a.detach().to(dtype)
    b = b.detach().to(dtype)
    if (
        chunk_size is None
        and a.device.type == "cpu"
        and min(a.shape[1], b.shape[1]) >= KD_TREE_MIN_POINTS
        and bool(torch.isfinite(a).all())
        and bool(torch.isfinite(b).all())
    ):
        return _nearest_neighbors_kd_tree(a, b)
    return _nearest_neighbors_in_blocks(a, b, chunk_size)


def _nearest_neighbors_in_blocks(a: Tensor, b: Tensor, chunk_size: int | None) -> tuple[Tensor, Tensor]:
    """The block search of :func:`nearest_neighbors` (its notes say how), on clouds of one float dtype."""
    dtype = a.dtype
    centroid = a.mean(dim=1, keepdim=True)
    a = a - centroid
    b = b - centroid
    batch, n, _ = a.shape
    m = b.shape[1]
    if chunk_size is None:
        chunk_size = max(1, block_bytes(a.device) // (batch * m * a.element_size()))
    rows = min(chunk_size, n)

    # [-2x, 1, |x|^2] . [y, |y|^2, 1] = |x - y|^2: the whole block in one product (K = 5).
    ones_a = torch.ones((batch, n, 1), dtype=dtype, device=a.device)
    ones_b = torch.ones((batch, m, 1), dtype=dtype, device=a.device)
    a_augmented = torch.cat([a * -2.0, ones_a, (a * a).sum(dim=-1, keepdim=True)], dim=2)  # (B, N, 5)
    b_augmented = torch.cat([b, (b * b).sum(dim=-1, keepdim=True), ones_b], dim=2)  # (B, M, 5)
    b_columns = b_augmented.transpose(1, 2)
    idx_ab = torch.empty((batch, n), dtype=torch.int64, device=a.device)
    best_ba = torch.full((batch, m), math.inf, dtype=dtype, device=a.device)
    block_ba = torch.zeros((batch, m), dtype=torch.int64, device=a.device)
    columns_with_indices = _column_indices_in_one_pass(a.device)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        block = torch.bmm(a_augmented[:, start:stop], b_columns)  # (B, rows, M)
        idx_ab[:, start:stop] = _argmin_last(block)
        if columns_with_indices:
            column_best, column_row = block.min(dim=1)
        else:
            column_best = block.amin(dim=1)
        # Strict comparison keeps the earliest block on ties, as a single min would.
        improved = column_best < best_ba
        best_ba = torch.where(improved, column_best, best_ba)
        if columns_with_indices:
            block_ba = torch.where(improved, column_row + start, block_ba)
        else:
            block_ba.masked_fill_(improved, start)
        del block  # freed now, or it would live on while the next block is filled
    if columns_with_indices:
        return idx_ab, block_ba
    return idx_ab, _nearest_row_of_block(a_augmented, b_augmented, block_ba, rows)


def _nearest_row_of_block(a_augmented: Tensor, b_augmented: Tensor, block_ba: Tensor, rows: int) -> Tensor:
    """Which of the ``rows`` rows of its block is the nearest point of a, for every point of b.

    ``block_ba`` (B, M) holds the first row of the block where each point of b
    found its nearest distance; the rows of that block are measured again.
    """
    batch, n, _ = a_augmented.shape
    m = b_augmented.shape[1]
    idx_ba = torch.empty((batch, m), dtype=torch.int64, device=a_augmented.device)
    offsets = torch.arange(rows, device=a_augmented.device)
    piece = max(1, block_bytes(a_augmented.device) // (batch * rows * 5 * a_augmented.element_size()))
    for begin in range(0, m, piece):
        end = min(begin + piece, m)
        candidates = block_ba[:, begin:end, None] + offsets  # (B, piece, rows)
        beyond = candidates >= n  # the last block may be short
        gathered = a_augmented.gather(1, candidates.clamp(max=n - 1).reshape(batch, -1, 1).expand(-1, -1, 5))
        distances = (gathered.reshape(batch, end - begin, rows, 5) * b_augmented[:, begin:end, None, :]).sum(dim=-1)
        distances.masked_fill_(beyond, math.inf)
        idx_ba[:, begin:end] = block_ba[:, begin:end] + distances.argmin(dim=-1)
    return idx_ba


def _nearest_neighbors_kd_tree(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """:func:`nearest_neighbors` with one k-d tree per cloud, clouds spread over threads (CPU)."""
    from scipy.spatial import cKDTree

    points_a, points_b = a.numpy(), b.numpy()
    idx_ab = np.empty(points_a.shape[:2], dtype=np.int64)
    idx_ba = np.empty(points_b.shape[:2], dtype=np.int64)

    def search(i: int) -> None:
        idx_ab[i] = cKDTree(points_b[i]).query(points_a[i])[1]
        idx_ba[i] = cKDTree(points_a[i]).query(points_b[i])[1]

    workers = max(1, min(torch.get_num_threads(), len(points_a)))
    if workers == 1:
        for i in range(len(points_a)):
            search(i)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="vaeviewer-chamfer") as pool:
            list(pool.map(search, range(len(points_a))))  # list(): raise what a search raised
    return torch.from_numpy(idx_ab), torch.from_numpy(idx_ba)


def _column_indices_in_one_pass(device: torch.device) -> bool:
    """Whether the search takes the columns' minima with their indices as it goes (GPUs).

    On a GPU a min with indices along the columns costs about what the plain
    min does, and it saves the second pass (about 40 more kernel launches at
    B = 32, N = 2048, in a search that launch overhead dominates). On a CPU the
    indices would triple the cost of the column reduction, so the second pass
    is cheaper there.
    """
    return device.type == "cuda"


def _argmin_last(block: Tensor) -> Tensor:
    """``block.argmin(dim=-1)``, in two stages where the last axis is long.

    On CPU a min with indices is three times slower than one without. So the
    row is cut into G interleaved parts, the plain min over the parts leaves
    M / G candidates, and only those (and the G values of the winner) go
    through a min with indices. On exact ties it may name a later position
    than argmin would.
    """
    length = block.shape[-1]
    if length < 256 or length % 8 or block.device.type != "cpu":
        return block.min(dim=-1).indices
    groups = 8
    width = length // groups
    parts = block.unflatten(-1, (groups, width))  # (..., G, M / G)
    column = parts.amin(dim=-2).min(dim=-1).indices  # (...,) position within a part
    values = parts.gather(-1, column[..., None, None].expand(*column.shape, groups, 1)).squeeze(-1)
    return values.min(dim=-1).indices * width + column


def _gather_points(cloud: Tensor, idx: Tensor) -> Tensor:
    return cloud.gather(1, idx.unsqueeze(-1).expand(-1, -1, 3))


def chamfer_per_point(
    a: Tensor, b: Tensor, *, chunk_size: int | None = None
) -> tuple[Tensor, Tensor]:
    """Squared distance of every point to the nearest point of the other cloud.

    Used to colour reconstruction errors, and the building block of
    :func:`chamfer_distance`. Differentiable in ``a`` and ``b``.

    Parameters
    ----------
    a : torch.Tensor
        Clouds of shape (B, N, 3).
    b : torch.Tensor
        Clouds of shape (B, M, 3).
    chunk_size : int, optional
        Passed to :func:`nearest_neighbors`.

    Returns
    -------
    per_point_a : torch.Tensor
        Shape (B, N): min over k of ``|a[i, j] - b[i, k]|^2``.
    per_point_b : torch.Tensor
        Shape (B, M): min over j of ``|b[i, k] - a[i, j]|^2``.

    Both are float32, or float64 when an input is float64.
    """
    idx_ab, idx_ba = nearest_neighbors(a, b, chunk_size=chunk_size)
    dtype = _loss_dtype(a, b)
    a = a.to(dtype)
    b = b.to(dtype)
    per_point_a = (a - _gather_points(b, idx_ab)).pow(2).sum(dim=-1)
    per_point_b = (b - _gather_points(a, idx_ba)).pow(2).sum(dim=-1)
    return per_point_a, per_point_b


def chamfer_distance(a: Tensor, b: Tensor, *, chunk_size: int | None = None) -> Tensor:
    r"""Chamfer distance between two batches of clouds, one value per pair.

    .. math::

        d_{CD}(A, B) = \frac{1}{|A|} \sum_{x \in A} \min_{y \in B} \|x - y\|_2^2
                     + \frac{1}{|B|} \sum_{y \in B} \min_{x \in A} \|x - y\|_2^2

    Squared nearest-neighbour distances, averaged per direction and summed over
    both directions: the convention of Achlioptas et al. (2018), "Learning
    Representations and Generative Models for 3D Point Clouds", and of
    PointFlow (Yang et al., 2019). It equals
    ``per_point_a.mean(-1) + per_point_b.mean(-1)`` of :func:`chamfer_per_point`.

    The backward pass keeps only O(B (N + M)) values; peak memory of the
    forward pass is one search block (:mod:`vaeviewer.model.blocks`). Values and
    gradients equal those of :func:`chamfer_distance_cdist` (up to rounding,
    and up to the choice among exactly tied neighbours).

    Parameters
    ----------
    a : torch.Tensor
        Clouds of shape (B, N, 3), float32/float64 (float16 and bfloat16 are
        promoted to float32).
    b : torch.Tensor
        Clouds of shape (B, M, 3); M may differ from N.
    chunk_size : int, optional
        Rows of ``a`` per search block; see :func:`nearest_neighbors`.

    Returns
    -------
    torch.Tensor
        Shape (B,).
    """
    per_point_a, per_point_b = chamfer_per_point(a, b, chunk_size=chunk_size)
    return per_point_a.mean(dim=-1) + per_point_b.mean(dim=-1)


def chamfer_distance_cdist(a: Tensor, b: Tensor) -> Tensor:
    """Chamfer distance through the full ``torch.cdist`` matrix: the naive baseline.

    Same definition as :func:`chamfer_distance`, written the obvious way. It
    materialises the (B, N, M) distance matrix and autograd keeps it for the
    backward pass (512 MB for B=32, N=M=2048 in float32). Kept as the
    reference for the tests and the baseline for the benchmarks; do not use it
    for training.

    Parameters
    ----------
    a : torch.Tensor
        Clouds of shape (B, N, 3).
    b : torch.Tensor
        Clouds of shape (B, M, 3).

    Returns
    -------
    torch.Tensor
        Shape (B,).
    """
    squared = torch.cdist(a, b).pow(2)
    return squared.min(dim=2).values.mean(dim=-1) + squared.min(dim=1).values.mean(dim=-1)


def kl_divergence(mu: Tensor, logvar: Tensor, prior_std: float) -> Tensor:
    r"""KL divergence of the diagonal Gaussian posterior from the isotropic prior.

    .. math::

        KL\big(N(\mu, \mathrm{diag}\, e^{\lambda}) \,\|\, N(0, s^2 I)\big)
        = \frac12 \sum_d \left( \frac{e^{\lambda_d} + \mu_d^2}{s^2}
          - 1 - \lambda_d + \log s^2 \right)

    with :math:`\lambda` = ``logvar`` and :math:`s` = ``prior_std``.

    Parameters
    ----------
    mu : torch.Tensor
        Posterior means, shape (B, D).
    logvar : torch.Tensor
        Posterior log-variances, shape (B, D).
    prior_std : float
        Standard deviation s of the prior, > 0.

    Returns
    -------
    torch.Tensor
        Shape (B,): the divergence summed over latent dimensions.
    """
    if not prior_std > 0:
        raise ValueError(f"prior_std must be > 0, got {prior_std!r}")
    prior_var = float(prior_std) ** 2
    terms = (logvar.exp() + mu.pow(2)) / prior_var - 1.0 - logvar + math.log(prior_var)
    return 0.5 * terms.sum(dim=-1)


def classifier_nll(log_probs: Tensor, labels: Tensor, class_weights: Tensor | None = None) -> Tensor:
    """Mean negative log-likelihood over the labelled samples of a batch.

    Parameters
    ----------
    log_probs : torch.Tensor
        Class log-probabilities, shape (B, C).
    labels : torch.Tensor
        Integer class of each sample, shape (B,); -1 marks an unlabelled
        sample, which does not count.
    class_weights : torch.Tensor, optional
        Shape (C,): each class's weight. The result is then the weighted mean,
        sum of w[y] * NLL over the sum of w[y] (PyTorch's ``nll_loss`` with
        ``weight``), so that a rare class weighed up counts as if it were drawn
        as often as the others.

    Returns
    -------
    torch.Tensor
        A scalar: the (weighted) mean NLL of the labelled samples, or a zero that is
        still connected to ``log_probs`` (so ``backward`` works) when the
        batch has no labelled sample.
    """
    if log_probs.ndim != 2 or labels.shape != log_probs.shape[:1]:
        raise ValueError(
            f"expected log_probs (B, C) and labels (B,), got {tuple(log_probs.shape)} "
            f"and {tuple(labels.shape)}"
        )
    if class_weights is not None and class_weights.shape != log_probs.shape[1:]:
        raise ValueError(f"expected class_weights ({log_probs.shape[1]},), got {tuple(class_weights.shape)}")
    labels = labels.long()
    total = F.nll_loss(log_probs, labels, weight=class_weights, ignore_index=-1, reduction="sum")
    # Dividing by the count (or the weights' sum) clamped above 0, rather than testing for "no labels",
    # avoids a device synchronisation and the NaN of an all-ignored mean.
    known = labels != -1
    if class_weights is None:
        return total / known.sum().clamp(min=1)
    weights = torch.where(known, class_weights.to(log_probs.dtype)[labels.clamp(min=0)], 0.0)
    return total / weights.sum().clamp(min=torch.finfo(log_probs.dtype).tiny)
