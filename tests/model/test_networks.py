"""Shapes, layer widths and behaviour of the encoder, decoder, classifier and VAE."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vaeviewer.model import (
    LatentClassifier,
    ModelConfig,
    PointCloudVAE,
    PointDecoder,
    PointNetEncoder,
    VAEOutput,
)
from vaeviewer.model.vae import LOGVAR_RANGE


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


def _layers(module: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


# -------------------------------------------------------------------- encoder


@pytest.mark.parametrize("num_points", [1, 37, 1024, 2048, 5000])
def test_encoder_accepts_any_number_of_points(num_points: int) -> None:
    encoder = PointNetEncoder(latent_dim=128)
    mu, logvar = encoder(torch.randn(2, num_points, 3))
    assert mu.shape == (2, 128)
    assert logvar.shape == (2, 128)


def test_encoder_layer_widths() -> None:
    encoder = PointNetEncoder(latent_dim=16)
    convs = _layers(encoder, nn.Conv1d)
    assert [(c.in_channels, c.out_channels) for c in convs] == [
        (3, 64), (64, 64), (64, 64), (64, 128), (128, 1024)
    ]
    assert all(c.kernel_size == (1,) for c in convs)
    assert [n.num_features for n in _layers(encoder, nn.BatchNorm1d)] == [64, 64, 64, 128, 1024]
    assert len(_layers(encoder, nn.ReLU)) == 5
    # Each convolution is followed by its batch norm and a ReLU.
    kinds = [type(m) for m in encoder.features]
    assert kinds == [nn.Conv1d, nn.BatchNorm1d, nn.ReLU] * 5
    assert (encoder.mean.in_features, encoder.mean.out_features) == (1024, 16)
    assert (encoder.logvar.in_features, encoder.logvar.out_features) == (1024, 16)


def test_encoder_ignores_point_order() -> None:
    encoder = PointNetEncoder(latent_dim=8).eval()
    points = torch.randn(3, 100, 3)
    shuffled = points[:, torch.randperm(100)]
    with torch.no_grad():
        for expected, actual in zip(encoder(points), encoder(shuffled)):
            torch.testing.assert_close(actual, expected)


@pytest.mark.parametrize("shape", [(10, 3), (2, 10, 2), (2, 0, 3)])
def test_encoder_rejects_wrong_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="shape"):
        PointNetEncoder(latent_dim=8)(torch.randn(*shape))


# -------------------------------------------------------------------- decoder


@pytest.mark.parametrize("num_points", [1024, 2048])
def test_decoder_output_shape_and_size(num_points: int) -> None:
    decoder = PointDecoder(latent_dim=128, num_points=num_points)
    clouds = decoder(torch.randn(4, 128))
    assert clouds.shape == (4, num_points, 3)
    assert decoder.out.weight.shape == (num_points * 3, 1024)
    hidden = [(layer.in_features, layer.out_features) for layer in _layers(decoder.hidden, nn.Linear)]
    assert hidden == [(128, 256), (256, 512), (512, 1024)]
    expected = (128 * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) + (
        1024 * num_points * 3 + num_points * 3
    )
    assert sum(p.numel() for p in decoder.parameters()) == expected


def test_decoder_output_has_no_activation() -> None:
    clouds = PointDecoder(latent_dim=8, num_points=64)(torch.randn(16, 8))
    assert (clouds < 0).any() and (clouds > 0).any()


# ----------------------------------------------------------------- classifier


def test_classifier_layers_and_log_probabilities() -> None:
    classifier = LatentClassifier(latent_dim=128, num_classes=10, dropout=0.25)
    kinds = [type(m) for m in classifier.layers]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout] * 2 + [nn.Linear]
    linears = [(layer.in_features, layer.out_features) for layer in _layers(classifier, nn.Linear)]
    assert linears == [(128, 64), (64, 32), (32, 10)]
    assert all(d.p == 0.25 for d in _layers(classifier, nn.Dropout))
    log_probs = classifier(torch.randn(5, 128))
    assert log_probs.shape == (5, 10)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(5))


def test_classifier_needs_a_class() -> None:
    with pytest.raises(ValueError):
        LatentClassifier(latent_dim=8, num_classes=0)


# ------------------------------------------------------------------------ VAE


@pytest.mark.parametrize("num_points", [1024, 2048])
def test_vae_forward_shapes(num_points: int) -> None:
    config = ModelConfig(num_points=num_points, latent_dim=32, num_classes=5)
    model = PointCloudVAE(config)
    out = model(torch.randn(3, 700, 3))
    assert isinstance(out, VAEOutput)
    assert out.reconstruction.shape == (3, num_points, 3)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (3, 32)
    assert out.log_probs is not None and out.log_probs.shape == (3, 5)
    assert model.config is config


def test_vae_without_classes_has_no_classifier() -> None:
    model = PointCloudVAE(ModelConfig(num_points=64, latent_dim=8))
    assert model.classifier is None
    assert model(torch.randn(2, 64, 3)).log_probs is None
    with pytest.raises(RuntimeError, match="no classifier"):
        model.classify(torch.randn(2, 8))


@pytest.mark.parametrize("detach", [True, False])
def test_classifier_gradient_reaches_encoder_only_without_detach(detach: bool) -> None:
    model = PointCloudVAE(ModelConfig(num_points=64, latent_dim=8, num_classes=3))
    out = model(torch.randn(4, 64, 3), detach_classifier_input=detach)
    out.log_probs.sum().backward()
    encoder_grads = [p.grad for p in model.encoder.parameters()]
    reached = any(g is not None and g.abs().sum() > 0 for g in encoder_grads)
    assert reached is not detach
    assert all(p.grad is not None for p in model.classifier.parameters())


def test_logvar_is_clamped() -> None:
    model = PointCloudVAE(ModelConfig(num_points=64, latent_dim=8)).eval()
    points = torch.randn(2, 64, 3)
    with torch.no_grad():
        model.encoder.logvar.bias.fill_(1e4)
        assert torch.equal(model.encode(points)[1], torch.full((2, 8), LOGVAR_RANGE[1]))
        assert torch.isfinite(model(points).z).all()
        model.encoder.logvar.bias.fill_(-1e4)
        assert torch.equal(model.encode(points)[1], torch.full((2, 8), LOGVAR_RANGE[0]))


def test_reparameterize_samples_with_the_right_spread() -> None:
    model = PointCloudVAE(ModelConfig(num_points=64, latent_dim=4)).eval()
    mu = torch.tensor([[1.0, -2.0, 0.0, 3.0]]).expand(20000, 4)
    logvar = torch.log(torch.tensor([0.25, 1.0, 4.0, 0.01])).expand(20000, 4)
    z = model.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(z.mean(0), mu[0], atol=0.05, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([0.5, 1.0, 2.0, 0.1]), atol=0.03, rtol=0)
    again = model.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(1))
    assert torch.equal(z, again)


def test_reconstruct_is_decode_of_mu_and_deterministic() -> None:
    model = PointCloudVAE(ModelConfig(num_points=128, latent_dim=8)).eval()
    points = torch.randn(2, 300, 3)
    with torch.no_grad():
        first = model.reconstruct(points)
        torch.testing.assert_close(first, model.decode(model.encode(points)[0]))
        assert torch.equal(first, model.reconstruct(points))
        assert not torch.equal(first, model(points).reconstruction)


def test_sample_prior_uses_prior_std() -> None:
    config = ModelConfig(num_points=128, latent_dim=8, prior_std=0.5)
    model = PointCloudVAE(config).eval()
    with torch.no_grad():
        clouds = model.sample_prior(3, generator=torch.Generator().manual_seed(7))
        z = torch.randn((3, 8), generator=torch.Generator().manual_seed(7)) * 0.5
        torch.testing.assert_close(clouds, model.decode(z))
    assert clouds.shape == (3, 128, 3)
