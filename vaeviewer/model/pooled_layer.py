"""The encoder's last layer and its max-pool, fused: 1x1 convolution, batch norm, ReLU, max over points.

Written the obvious way, ``amax(relu(bn(conv(x))), points)`` on B clouds of N
points materialises (B, 1024, N) tensors (268 MB each at B = 32, N = 2048) and
autograd keeps two of them for the backward pass (the convolution's output,
which batch norm needs, and the ReLU's output, which the ReLU and the max
need); the backward pass then creates three more (the max's, the ReLU's and
batch norm's gradients) and runs two large matrix products on them. It was
most of a training step's memory and time.

:func:`max_pooled_conv_bn_relu` computes the same values and gradients while
keeping no (B, N, 1024) tensor at all:

* **Forward.** The features ``y = x W^T`` are computed one cloud at a time and
  only their maximum over the points (with its position) is kept; ReLU and
  the batch norm's affine map are monotonic in ``y`` per channel (increasing
  where the batch norm's scale ``gamma`` is positive, decreasing where it is
  negative), so the pooled output is ``relu(bn(max y))`` or ``relu(bn(min
  y))``, and the min is taken as the max of ``-y`` by flipping the signs of
  those weight rows. The batch statistics of ``y`` come from the statistics of
  ``x``: ``mean(y) = W mean(x)`` and ``var(y) = diag(W cov(x) W^T)``, with
  ``cov(x)`` (Cin x Cin) accumulated in float64.
* **Backward.** The gradient reaching ``y`` is nonzero at one point per cloud
  and channel (the maximum) plus the batch norm's term ``-a_c - b_c (y -
  mean_c)``, which is affine in ``y``. Its products with ``x`` and ``W`` are
  therefore a scatter or gather of B x C rows plus products with the Cin x Cin
  matrix ``cov(x)``: no large matrix product, no recomputation of ``y``.

What autograd keeps is ``x`` (which the previous layer keeps anyway), the
positions of the maxima and a few (B, C) and (Cin, Cin) tensors.

Where two points of a cloud tie for a channel's maximum (duplicated points),
the straightforward ``amax`` splits the gradient between them and this puts it
on one; the parameters' gradients are the same either way, because the tied
rows of ``x`` are equal.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vaeviewer.model.blocks import block_bytes

__all__ = ["can_fuse", "max_pooled_conv_bn_relu", "reference_conv_bn_relu_max"]


def reference_conv_bn_relu_max(x: Tensor, conv: nn.Conv1d, bn: nn.BatchNorm1d) -> Tensor:
    """``amax(relu(bn(conv(x))))`` over the points, written the obvious way (the reference for the tests).

    Parameters
    ----------
    x : torch.Tensor
        Per-point features, shape (B, N, Cin).
    conv, bn : torch.nn.Module
        The 1x1 convolution Cin -> C and the batch norm over its C channels.

    Returns
    -------
    torch.Tensor
        Shape (B, C).
    """
    return torch.amax(torch.relu(bn(conv(x.transpose(1, 2)))), dim=2)


def can_fuse(x: Tensor, conv: nn.Conv1d, bn: nn.BatchNorm1d) -> bool:
    """Whether :func:`max_pooled_conv_bn_relu` handles this input and these layers.

    It needs a bias-free 1x1 convolution, a batch norm with an affine map, a
    float32 or float64 input outside autocast, and more than one point per
    channel when batch statistics are used. A ``SyncBatchNorm`` that is
    training is refused: its statistics are those of every process's batch,
    which this function cannot see (in eval mode it normalises with its
    running statistics like any batch norm).
    """
    if isinstance(bn, nn.SyncBatchNorm) and bn.training:
        return False
    return (
        x.dtype in (torch.float32, torch.float64)
        and x.ndim == 3
        and conv.bias is None
        and conv.kernel_size == (1,)
        and conv.groups == 1
        and bn.affine
        and not torch.is_autocast_enabled(x.device.type)
    )


def _batch_statistics_mode(bn: nn.BatchNorm1d) -> tuple[bool, float]:
    """Whether ``bn`` normalises with batch statistics, and the running-average factor; as BatchNorm does."""
    factor = 0.0 if bn.momentum is None else float(bn.momentum)
    if bn.training and bn.track_running_stats and bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
        factor = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else float(bn.momentum)
    use_batch = bn.training or bn.running_mean is None
    return use_batch, factor


def max_pooled_conv_bn_relu(x: Tensor, conv: nn.Conv1d, bn: nn.BatchNorm1d) -> Tensor:
    """Max over the points of ``relu(bn(conv(x)))``, without materialising the per-point features.

    Same values and gradients as :func:`reference_conv_bn_relu_max` (up to
    rounding), and the same updates of ``bn``'s running statistics. See the
    module's notes for how.

    Parameters
    ----------
    x : torch.Tensor
        Per-point features, shape (B, N, Cin), float32 or float64.
    conv : torch.nn.Conv1d
        1x1 convolution Cin -> C without bias; its weight is used as a (C, Cin) matrix.
    bn : torch.nn.BatchNorm1d
        Batch norm over the C channels, with an affine map. In training mode
        (or without running statistics) it normalises with the batch's
        statistics over all B x N points and updates its running statistics.

    Returns
    -------
    torch.Tensor
        Shape (B, C).

    Raises
    ------
    ValueError
        If :func:`can_fuse` is false for these arguments, or batch statistics
        are needed from a single point.
    """
    if not can_fuse(x, conv, bn):
        raise ValueError("max_pooled_conv_bn_relu needs a float (B, N, Cin) input, a bias-free 1x1 conv and an affine batch norm")
    batch, points, _ = x.shape
    use_batch, factor = _batch_statistics_mode(bn)
    if use_batch and batch * points < 2:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}")
    weight = conv.weight.squeeze(-1)
    running = (bn.running_mean, bn.running_var) if bn.track_running_stats else (None, None)
    return _MaxPooledConvBnRelu.apply(
        x, weight, bn.weight, bn.bias, running[0], running[1], use_batch, factor, bn.eps
    )


class _MaxPooledConvBnRelu(torch.autograd.Function):
    """The autograd function behind :func:`max_pooled_conv_bn_relu`."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx,
        x: Tensor,
        weight: Tensor,
        gamma: Tensor,
        beta: Tensor,
        running_mean: Tensor | None,
        running_var: Tensor | None,
        use_batch: bool,
        factor: float,
        eps: float,
    ) -> Tensor:
        batch, points, in_channels = x.shape
        channels = weight.shape[0]
        dtype = x.dtype
        x = x.contiguous()
        # Rows where gamma < 0 are flipped, so that one max finds max(y) or min(y) as the pooling needs.
        sign = torch.where(gamma < 0, -1.0, 1.0).to(dtype)
        signed_weight = weight * sign[:, None]
        # Features y in blocks of at most block_bytes: whole clouds (several at once) where one
        # fits, else runs of points of one cloud.
        budget = block_bytes(x.device)
        cloud_bytes = channels * points * x.element_size()
        best_rows, where_rows = [], []
        if cloud_bytes <= budget:
            clouds = max(1, budget // cloud_bytes)
            for first in range(0, batch, clouds):
                # (clouds, C, N): the max runs along the contiguous axis, the fast one.
                value, index = torch.matmul(signed_weight, x[first : first + clouds].transpose(1, 2)).max(dim=2)
                best_rows.append(value)
                where_rows.append(index)
        else:
            rows = max(1, budget // (channels * x.element_size()))
            for b in range(batch):
                best = where = None
                for start in range(0, points, rows):
                    value, index = torch.mm(signed_weight, x[b, start : start + rows].T).max(dim=1)
                    if best is None:
                        best, where = value, index
                    else:
                        better = value > best
                        best = torch.where(better, value, best)
                        where = torch.where(better, index + start, where)
                best_rows.append(best[None])
                where_rows.append(where[None])
        best, where = torch.cat(best_rows), torch.cat(where_rows)
        selected = best * sign  # y at the pooled point

        total = batch * points
        x_mean_per_cloud = x.sum(dim=1).double() / points  # (B, Cin)
        weight64 = weight.double()
        if use_batch:
            x_mean = x_mean_per_cloud.mean(dim=0)
            # Each cloud's centred Gram matrix in x's precision, summed over the clouds in float64.
            centred = x - x_mean.to(dtype)
            scatter = torch.bmm(centred.transpose(1, 2), centred).double().sum(dim=0)
            del centred
            mean64 = weight64 @ x_mean
            var64 = ((weight64 @ scatter) * weight64).sum(dim=1).clamp_(min=0.0) / total
            if running_mean is not None and running_var is not None:
                with torch.no_grad():
                    unbiased = var64 * (total / max(total - 1, 1))
                    running_mean.mul_(1.0 - factor).add_(mean64.to(running_mean.dtype), alpha=factor)
                    running_var.mul_(1.0 - factor).add_(unbiased.to(running_var.dtype), alpha=factor)
            mean, invstd = mean64.to(dtype), torch.rsqrt(var64 + eps).to(dtype)
        else:
            x_mean = scatter = None
            mean, invstd = running_mean.to(dtype), torch.rsqrt(running_var.to(dtype) + eps)
        normalised = (selected - mean) * invstd  # (B, C): y-hat at the pooled point
        out = torch.relu(normalised * gamma + beta)

        ctx.use_batch = use_batch
        ctx.shape = (batch, points, in_channels)
        ctx.save_for_backward(x, weight, gamma, where, normalised, out, mean, invstd, x_mean_per_cloud)
        ctx.stats = (x_mean, scatter)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        x, weight, gamma, where, normalised, out, mean, invstd, x_mean_per_cloud = ctx.saved_tensors
        x_mean, scatter = ctx.stats
        batch, points, in_channels = ctx.shape
        total = batch * points
        dtype = x.dtype
        # The ReLU passes the gradient where its output is positive; the max sends it to one point.
        grad_z = grad_out * (out > 0)
        # The pooled y-hat; where gamma == 0 every point ties, amax spreads the gradient over all of
        # them, and what gamma sees is the cloud's mean y-hat. (Computed for every channel rather
        # than asking whether any gamma is 0: that question would wait for a GPU to catch up.)
        mean_y_hat = ((x_mean_per_cloud @ weight.double().T).to(dtype) - mean) * invstd
        y_hat = torch.where(gamma == 0, mean_y_hat, normalised)
        grad_gamma = (grad_z * y_hat).sum(dim=0)
        grad_beta = grad_z.sum(dim=0)

        # dL/dy = sparse[b, where, c] (+ with batch statistics: -a_c - b_c (y - mean_c)).
        sparse = grad_z * gamma * invstd  # (B, C)
        rows = (where + torch.arange(batch, device=x.device)[:, None] * points).reshape(-1)
        flat_x = x.reshape(total, in_channels)
        grad_x = grad_weight = None
        if ctx.needs_input_grad[1]:
            grad_weight = torch.einsum("bc,bck->ck", sparse, flat_x[rows].reshape(batch, -1, in_channels))
        if ctx.use_batch:
            # Means over all points of dL/dy-hat and of dL/dy-hat * y-hat (only the pooled points count).
            a = invstd * gamma * grad_z.sum(dim=0) / total
            b = invstd * invstd * gamma * (grad_z * normalised).sum(dim=0) / total
            weight64 = weight.double()
            if grad_weight is not None:
                correction = a.double()[:, None] * (total * x_mean)[None, :] + b.double()[:, None] * (weight64 @ scatter)
                grad_weight -= correction.to(dtype)
            if ctx.needs_input_grad[0]:
                # -(a + b (y - mean)) W = -a W - (x - mean_x) W^T diag(b) W, with a (Cin, Cin) kernel.
                kernel = ((weight64.T * b.double()) @ weight64).to(dtype)
                constant = x_mean.to(dtype) @ kernel - a @ weight
                grad_x = torch.addmm(constant[None, :], flat_x, kernel, alpha=-1.0)
        elif ctx.needs_input_grad[0]:
            grad_x = torch.zeros_like(flat_x)
        if grad_x is not None:
            grad_x.index_add_(0, rows, (sparse[:, :, None] * weight).reshape(-1, in_channels))
            grad_x = grad_x.reshape(batch, points, in_channels)
        return grad_x, grad_weight, grad_gamma, grad_beta, None, None, None, None, None
