"""The PointNet encoder: a point cloud in, a Gaussian over latent codes out."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vaeviewer.model.pooled_layer import can_fuse, max_pooled_conv_bn_relu

__all__ = ["POINTNET_WIDTHS", "PointNetEncoder"]

#: Output channels of the shared per-point layers (1x1 convolutions), in order.
POINTNET_WIDTHS: tuple[int, ...] = (64, 64, 64, 128, 1024)


class PointNetEncoder(nn.Module):
    """PointNet encoder mapping a cloud to the mean and log-variance of q(z | x).

    Every point goes through the same 1x1 convolutions 3-64-64-64-128-1024
    (each followed by batch normalisation and ReLU); a max over the points
    makes the 1024-wide global feature independent of point order and count;
    two linear heads turn it into the mean and the log-variance.

    The layers are kept as ``Conv1d``/``BatchNorm1d`` modules (their state-dict
    keys are those of every checkpoint), but :meth:`forward` runs them on
    (B, N, C) features as matrix products, and the last layer, its batch norm,
    ReLU and the max over the points as one fused step
    (:func:`~vaeviewer.model.pooled_layer.max_pooled_conv_bn_relu`) that keeps
    no B x N x 1024 tensor for the backward pass. :meth:`forward_reference`
    is the same network run module by module, the way it is written.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code (D).

    Attributes
    ----------
    features : torch.nn.Sequential
        The shared per-point layers.
    mean : torch.nn.Linear
        Head 1024 -> D giving the mean.
    logvar : torch.nn.Linear
        Head 1024 -> D giving the log-variance (unclamped; see
        :meth:`~vaeviewer.model.PointCloudVAE.encode`).
    """

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for width in POINTNET_WIDTHS:
            # No bias: the batch norm right after subtracts the channel mean,
            # so a convolution bias would be cancelled and never learn anything.
            layers += [
                nn.Conv1d(in_channels, width, kernel_size=1, bias=False),
                nn.BatchNorm1d(width),
                nn.ReLU(inplace=True),
            ]
            in_channels = width
        self.features = nn.Sequential(*layers)
        self.mean = nn.Linear(in_channels, latent_dim)
        self.logvar = nn.Linear(in_channels, latent_dim)

    def forward(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Encode a batch of clouds.

        Parameters
        ----------
        points : torch.Tensor
            Clouds of shape (B, N, 3); N may be any positive number.

        Returns
        -------
        mu : torch.Tensor
            Means, shape (B, D).
        logvar : torch.Tensor
            Log-variances, shape (B, D).

        Raises
        ------
        ValueError
            If ``points`` is not of shape (B, N, 3).
        """
        global_feature = self.pooled(points)
        return self.mean(global_feature), self.logvar(global_feature)

    def pooled(self, points: Tensor) -> Tensor:
        """The max-pooled global feature (B, 1024) that the two heads read: what most published
        linear-SVM figures of point-cloud autoencoders are computed on."""
        self._check(points)
        layers = list(self.features)
        last_conv, last_bn = layers[-3], layers[-2]
        features = points
        if not (can_fuse(points, last_conv, last_bn) and all(
            isinstance(layer, nn.Conv1d) and layer.bias is None for layer in layers[0:-3:3]
        )):
            return self._pooled_reference(points)
        batch, count, _ = points.shape
        for conv, bn, relu in zip(layers[0:-3:3], layers[1:-3:3], layers[2:-3:3]):
            # A 1x1 convolution is one matrix product over all B x N points; batch norm over
            # (B N, C) rows has the same statistics as over (B, C, N).
            features = F.linear(features, conv.weight.squeeze(-1))
            features = relu(bn(features.reshape(batch * count, -1))).reshape(batch, count, -1)
        return max_pooled_conv_bn_relu(features, last_conv, last_bn)

    def forward_reference(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`forward` computed module by module on (B, C, N) tensors, as the layers are written.

        Same values and gradients as :meth:`forward` up to rounding, with more
        memory and time; the reference for the tests and the benchmarks.
        """
        self._check(points)
        global_feature = self._pooled_reference(points)
        return self.mean(global_feature), self.logvar(global_feature)

    def _pooled_reference(self, points: Tensor) -> Tensor:
        per_point = self.features(points.transpose(1, 2))  # (B, 1024, N)
        return torch.amax(per_point, dim=2)

    @staticmethod
    def _check(points: Tensor) -> None:
        if points.ndim != 3 or points.shape[-1] != 3 or points.shape[1] < 1:
            raise ValueError(f"expected clouds of shape (B, N, 3), got {tuple(points.shape)}")
