"""The PointNet encoder: a point cloud in, a Gaussian over latent codes out."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["POINTNET_WIDTHS", "PointNetEncoder"]

#: Output channels of the shared per-point layers (1x1 convolutions), in order.
POINTNET_WIDTHS: tuple[int, ...] = (64, 64, 64, 128, 1024)


class PointNetEncoder(nn.Module):
    """PointNet encoder mapping a cloud to the mean and log-variance of q(z | x).

    Every point goes through the same 1x1 convolutions 3-64-64-64-128-1024
    (each followed by batch normalisation and ReLU); a max over the points
    makes the 1024-wide global feature independent of point order and count;
    two linear heads turn it into the mean and the log-variance.

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
        if points.ndim != 3 or points.shape[-1] != 3 or points.shape[1] < 1:
            raise ValueError(f"expected clouds of shape (B, N, 3), got {tuple(points.shape)}")
        per_point = self.features(points.transpose(1, 2))  # (B, 1024, N)
        global_feature = torch.amax(per_point, dim=2)
        return self.mean(global_feature), self.logvar(global_feature)
