"""The point-cloud VAE: encoder, decoder and the optional latent classifier."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from vaeviewer.model.classifier import LatentClassifier
from vaeviewer.model.config import ModelConfig
from vaeviewer.model.decoder import PointDecoder
from vaeviewer.model.encoder import PointNetEncoder

__all__ = ["LOGVAR_RANGE", "PointCloudVAE", "VAEOutput"]

#: Bounds the encoder's log-variance is clamped to. exp(10) ~ 2.2e4 and
#: exp(-20) ~ 2e-9 are far beyond any useful posterior width, yet keep
#: ``exp`` finite and the KL term away from inf/NaN when an untrained or
#: diverging encoder emits huge values.
LOGVAR_RANGE: tuple[float, float] = (-20.0, 10.0)


@dataclass(frozen=True)
class VAEOutput:
    """Everything one forward pass of :class:`PointCloudVAE` produces.

    Attributes
    ----------
    reconstruction : torch.Tensor
        Decoded clouds from the sampled codes, shape (B, num_points, 3).
    mu : torch.Tensor
        Posterior means, shape (B, D).
    logvar : torch.Tensor
        Posterior log-variances, clamped to :data:`LOGVAR_RANGE`, shape (B, D).
    z : torch.Tensor
        The sampled codes that were decoded, shape (B, D).
    log_probs : torch.Tensor or None
        Class log-probabilities of the classifier applied to ``mu``, shape
        (B, C); ``None`` when the model has no classifier.
    """

    reconstruction: Tensor
    mu: Tensor
    logvar: Tensor
    z: Tensor
    log_probs: Tensor | None


class PointCloudVAE(nn.Module):
    """Variational autoencoder for point clouds with an optional latent classifier.

    The encoder is a :class:`~vaeviewer.model.PointNetEncoder`, the decoder a
    :class:`~vaeviewer.model.PointDecoder`; with ``config.num_classes > 0`` a
    :class:`~vaeviewer.model.LatentClassifier` reads the latent mean.

    Parameters
    ----------
    config : ModelConfig
        Sizes and prior of the model.

    Attributes
    ----------
    config : ModelConfig
        The configuration the model was built from.
    encoder : PointNetEncoder
    decoder : PointDecoder
    classifier : LatentClassifier or None
        ``None`` when ``config.num_classes == 0``.

    Notes
    -----
    The encoder (and classifier) use batch normalisation: call ``eval()``
    before encoding single clouds or for reproducible reconstructions. In
    training mode a model with a classifier needs at least two clouds per batch.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = PointNetEncoder(config.latent_dim)
        self.decoder = PointDecoder(config.latent_dim, config.num_points, config.decoder_widths)
        self.classifier: LatentClassifier | None = None
        if config.num_classes > 0:
            self.classifier = LatentClassifier(
                config.latent_dim, config.num_classes, dropout=config.classifier_dropout
            )

        self._frozen: tuple[str, ...] = ()

    def freeze_all_but_decoder(self) -> None:
        """Keep the encoder and the classifier as they are: no gradients, batch norm in evaluation mode for good.

        For a second training stage that sharpens the reconstructions of a model
        whose latent is settled: the latent means, and everything computed from
        them, stay exactly as they were. ``train()`` leaves the frozen parts in
        evaluation mode, so their batch-norm statistics never move.
        """
        self._frozen = tuple(name for name in ("encoder", "classifier") if getattr(self, name) is not None)
        for name in self._frozen:
            getattr(self, name).requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True) -> PointCloudVAE:
        """Set training or evaluation mode; frozen parts (:meth:`freeze_all_but_decoder`) stay in evaluation mode."""
        super().train(mode)
        for name in getattr(self, "_frozen", ()):
            getattr(self, name).eval()
        return self

    def encode(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and log-variance of clouds.

        Parameters
        ----------
        points : torch.Tensor
            Clouds of shape (B, N, 3), any N.

        Returns
        -------
        mu : torch.Tensor
            Shape (B, D).
        logvar : torch.Tensor
            Shape (B, D), clamped to :data:`LOGVAR_RANGE`.
        """
        mu, logvar = self.encoder(points)
        return mu, logvar.clamp(*LOGVAR_RANGE)

    def reparameterize(
        self, mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Sample z = mu + exp(logvar / 2) * eps with eps ~ N(0, I).

        It always samples, in training and evaluation mode alike; use ``mu``
        itself (see :meth:`reconstruct`) for deterministic results.

        Parameters
        ----------
        mu, logvar : torch.Tensor
            Posterior parameters, shape (B, D).
        generator : torch.Generator, optional
            Source of ``eps`` (on ``mu``'s device); the global one if omitted.

        Returns
        -------
        torch.Tensor
            Samples of shape (B, D), differentiable in ``mu`` and ``logvar``.
        """
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: Tensor) -> Tensor:
        """Decode latent codes of shape (B, D) into clouds of shape (B, num_points, 3)."""
        return self.decoder(z)

    def classify(self, latent: Tensor) -> Tensor:
        """Class log-probabilities (B, C) of latent codes (B, D).

        Raises
        ------
        RuntimeError
            If the model was built without a classifier (``num_classes == 0``).
        """
        if self.classifier is None:
            raise RuntimeError("this model has no classifier (it was built with num_classes = 0)")
        return self.classifier(latent)

    def forward(
        self,
        points: Tensor,
        *,
        detach_classifier_input: bool = True,
        generator: torch.Generator | None = None,
    ) -> VAEOutput:
        """Encode, sample, decode and classify a batch of clouds.

        Parameters
        ----------
        points : torch.Tensor
            Clouds of shape (B, N, 3).
        detach_classifier_input : bool
            Feed the classifier a detached copy of ``mu``, so that the
            classification loss trains only the classifier. This is the
            intended design: the VAE stays unsupervised, which keeps
            evaluations on its latent space (such as a latent SVM) fair,
            while the classifier still trains jointly on the latent mean.
        generator : torch.Generator, optional
            Source of the sampling noise; see :meth:`reparameterize`.

        Returns
        -------
        VAEOutput
        """
        mu, logvar = self.encode(points)
        z = self.reparameterize(mu, logvar, generator=generator)
        log_probs = None
        if self.classifier is not None:
            log_probs = self.classifier(mu.detach() if detach_classifier_input else mu)
        return VAEOutput(
            reconstruction=self.decode(z), mu=mu, logvar=logvar, z=z, log_probs=log_probs
        )

    def reconstruct(self, points: Tensor) -> Tensor:
        """The deterministic reconstruction ``decode(mu)``, without sampling.

        Gradients are tracked as usual; wrap the call in ``torch.no_grad()``
        when only viewing the result.

        Parameters
        ----------
        points : torch.Tensor
            Clouds of shape (B, N, 3).

        Returns
        -------
        torch.Tensor
            Shape (B, num_points, 3).
        """
        mu, _ = self.encode(points)
        return self.decode(mu)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Decode ``n`` codes drawn from the prior N(0, prior_std^2 I).

        Parameters
        ----------
        n : int
            Number of clouds.
        generator : torch.Generator, optional
            Source of the codes (on the model's device).

        Returns
        -------
        torch.Tensor
            Shape (n, num_points, 3).
        """
        weight = self.decoder.out.weight
        shape = (n, self.config.latent_dim)
        z = torch.randn(shape, generator=generator, dtype=weight.dtype, device=weight.device)
        return self.decode(z * self.config.prior_std)
