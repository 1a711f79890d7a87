"""The fully connected decoder: a latent code in, a fixed-size point cloud out."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["DECODER_WIDTHS", "PointDecoder"]

#: Widths of the hidden layers, in order.
DECODER_WIDTHS: tuple[int, ...] = (256, 512, 1024)


class PointDecoder(nn.Module):
    """Multilayer perceptron D-256-512-1024-(3 num_points) with ReLU between layers (other hidden widths on request).

    The last layer has no activation: coordinates may be negative. Its weight
    matrix (1024 x 3 num_points) holds most of the model's parameters.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code (D).
    num_points : int
        Points per decoded cloud (N).
    widths : tuple of int
        The hidden layers' widths (:data:`DECODER_WIDTHS` by default).

    Attributes
    ----------
    hidden : torch.nn.Sequential
        The hidden layers with their ReLUs.
    out : torch.nn.Linear
        The output layer (last hidden width) -> 3 N.
    num_points : int
        Points per decoded cloud.
    """

    def __init__(self, latent_dim: int, num_points: int, widths: tuple[int, ...] = DECODER_WIDTHS) -> None:
        super().__init__()
        self.num_points = num_points
        layers: list[nn.Module] = []
        in_features = latent_dim
        for width in widths:
            layers += [nn.Linear(in_features, width), nn.ReLU(inplace=True)]
            in_features = width
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(in_features, num_points * 3)

    def forward(self, z: Tensor) -> Tensor:
        """Decode latent codes.

        Parameters
        ----------
        z : torch.Tensor
            Latent codes, shape (B, D).

        Returns
        -------
        torch.Tensor
            Clouds of shape (B, N, 3).
        """
        if z.ndim != 2:
            raise ValueError(f"expected latent codes of shape (B, D), got {tuple(z.shape)}")
        return self.out(self.hidden(z)).reshape(z.shape[0], self.num_points, 3)
