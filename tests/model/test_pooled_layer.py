"""The fused last encoder layer: same values, gradients and running statistics as the layers written out, less memory."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from vaeviewer.model import PointNetEncoder
from vaeviewer.model.pooled_layer import can_fuse, max_pooled_conv_bn_relu, reference_conv_bn_relu_max


def _layers(in_channels: int = 6, channels: int = 10, seed: int = 0, momentum: float | None = 0.1):
    torch.manual_seed(seed)
    conv = nn.Conv1d(in_channels, channels, 1, bias=False).double()
    bn = nn.BatchNorm1d(channels, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.uniform_(-1.0, 1.0)
        bn.weight[:2] = 0.0  # gamma == 0: every point ties for the max
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-1.0, 1.0)
        bn.running_var.uniform_(0.5, 2.0)
    return conv, bn


def _run(function, x, conv, bn):
    x = x.clone().requires_grad_()
    out = function(x, conv, bn)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=out.dtype)
    conv.zero_grad(set_to_none=True)
    bn.zero_grad(set_to_none=True)
    (out * weights).sum().backward()
    return out.detach(), x.grad, conv.weight.grad, bn.weight.grad, bn.bias.grad


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_values_gradients_and_running_statistics_match_the_layers_written_out(training: bool, momentum) -> None:
    conv, bn = _layers(momentum=momentum)
    conv_ref, bn_ref = copy.deepcopy(conv), copy.deepcopy(bn)
    bn.train(training)
    bn_ref.train(training)
    x = torch.rand(3, 50, 6, dtype=torch.float64)
    for _ in range(2):  # twice: the running statistics build on each other
        fused = _run(max_pooled_conv_bn_relu, x, conv, bn)
        reference = _run(reference_conv_bn_relu_max, x, conv_ref, bn_ref)
        for ours, theirs in zip(fused, reference):
            torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-11)
        torch.testing.assert_close(bn.running_mean, bn_ref.running_mean, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(bn.running_var, bn_ref.running_var, rtol=1e-9, atol=1e-12)
        assert int(bn.num_batches_tracked) == int(bn_ref.num_batches_tracked)


# A cloud here is 10 channels x 50 points x 8 bytes = 4,000 bytes of features.
@pytest.mark.parametrize("budget", [1_000, 4_000, 9_000, 10**9], ids=["rows", "one-cloud", "two-clouds", "all"])
def test_every_way_of_cutting_the_features_into_blocks_gives_the_same_result(monkeypatch, budget: int) -> None:
    from vaeviewer.model import blocks

    monkeypatch.setattr(blocks, "CPU_BLOCK_BYTES", budget)
    conv, bn = _layers(seed=5)
    x = torch.rand(5, 50, 6, dtype=torch.float64)  # 5 clouds: the last group of two is short
    fused = _run(max_pooled_conv_bn_relu, x, conv, bn)
    reference = _run(reference_conv_bn_relu_max, x, copy.deepcopy(conv), copy.deepcopy(bn))
    for ours, theirs in zip(fused, reference):
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-11)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_encoder_on_cuda_matches_its_reference_on_the_cpu() -> None:
    torch.manual_seed(0)
    encoder = PointNetEncoder(latent_dim=16).double().train()
    twin = copy.deepcopy(encoder).cuda()
    points = torch.rand(32, 2048, 3, dtype=torch.float64)
    mu, logvar = encoder.forward_reference(points)
    (mu.square().sum() + logvar.sum()).backward()
    mu_cuda, logvar_cuda = twin(points.cuda())
    (mu_cuda.square().sum() + logvar_cuda.sum()).backward()
    torch.testing.assert_close(mu_cuda.cpu(), mu, rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(logvar_cuda.cpu(), logvar, rtol=1e-9, atol=1e-11)
    for (name, p), p_cuda in zip(encoder.named_parameters(), twin.parameters()):
        torch.testing.assert_close(p_cuda.grad.cpu(), p.grad, rtol=1e-7, atol=1e-9, msg=name)


def test_duplicated_points_give_the_parameters_the_same_gradients() -> None:
    # amax splits the gradient between tied maxima, the fused layer gives it to one of them;
    # the tied rows are equal, so the parameters cannot tell.
    conv, bn = _layers(seed=3)
    x = torch.rand(2, 20, 6, dtype=torch.float64)
    x[:, 10:] = x[:, :10]
    fused = _run(max_pooled_conv_bn_relu, x, conv, bn)
    reference = _run(reference_conv_bn_relu_max, x, copy.deepcopy(conv), copy.deepcopy(bn))
    torch.testing.assert_close(fused[0], reference[0])
    for ours, theirs in zip(fused[2:], reference[2:]):
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-11)
    # What reaches the input differs per row but adds up to the same per pair of twins.
    torch.testing.assert_close(fused[1][:, :10] + fused[1][:, 10:], reference[1][:, :10] + reference[1][:, 10:])


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-9), (torch.float32, 2e-4)])
def test_the_encoder_matches_its_module_by_module_reference(dtype: torch.dtype, tolerance: float) -> None:
    torch.manual_seed(0)
    encoder = PointNetEncoder(latent_dim=16).to(dtype).train()
    twin = copy.deepcopy(encoder)
    points = torch.rand(4, 300, 3, dtype=dtype)
    results = []
    for model, forward in ((encoder, encoder.forward), (twin, twin.forward_reference)):
        mu, logvar = forward(points)
        (mu.square().sum() + logvar.sum()).backward()
        results.append((mu.detach(), logvar.detach(), {n: p.grad for n, p in model.named_parameters()}))
    (mu, logvar, grads), (mu_ref, logvar_ref, grads_ref) = results
    torch.testing.assert_close(mu, mu_ref, rtol=tolerance, atol=tolerance)
    torch.testing.assert_close(logvar, logvar_ref, rtol=tolerance, atol=tolerance)
    for name, grad in grads.items():
        scale = grads_ref[name].abs().max().clamp(min=1e-12)
        assert ((grad - grads_ref[name]).abs().max() / scale) < tolerance * 10, name
    for name, buffer in encoder.named_buffers():
        torch.testing.assert_close(buffer, dict(twin.named_buffers())[name], rtol=tolerance, atol=tolerance)


def _saved_elements(forward, points: torch.Tensor) -> list[int]:
    sizes: list[int] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        sizes.append(tensor.numel())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        mu, _ = forward(points)
    mu.sum().backward()
    return sizes


def test_the_backward_pass_keeps_no_point_by_1024_tensor() -> None:
    torch.manual_seed(0)
    batch, count = 4, 512
    encoder = PointNetEncoder(latent_dim=8).train()
    points = torch.rand(batch, count, 3)
    wide = batch * count * 1024
    ours = _saved_elements(encoder.forward, points)
    written_out = _saved_elements(encoder.forward_reference, points)
    assert max(ours) <= batch * count * 128  # the last layer's input, which the layer before keeps anyway
    assert sum(size >= wide for size in written_out) >= 2  # the convolution's and the ReLU's outputs
    assert sum(ours) < sum(written_out) / 3


def test_state_dict_keys_are_those_of_the_layers() -> None:
    encoder = PointNetEncoder(latent_dim=8)
    keys = list(encoder.state_dict())
    assert "features.12.weight" in keys and "features.13.running_var" in keys
    assert all(not key.startswith("pooled") for key in keys)


def test_an_unsupported_input_falls_back_to_the_layers_written_out() -> None:
    torch.manual_seed(0)
    encoder = PointNetEncoder(latent_dim=8).eval()
    points = torch.rand(2, 64, 3)
    with pytest.raises(ValueError):
        max_pooled_conv_bn_relu(points.half(), encoder.features[-3], encoder.features[-2])
    # Under autocast there is no fused path: the encoder runs its layers as written.
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mu, _ = encoder(points)
        expected, _ = encoder.forward_reference(points)
    torch.testing.assert_close(mu, expected)


def test_a_training_synchronised_batch_norm_is_not_fused() -> None:
    """SyncBatchNorm normalises with every process's batch, which the fused layer cannot see."""
    conv, bn = _layers()
    x = torch.randn(2, 16, 6, dtype=torch.float64)
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(bn))[0]
    assert can_fuse(x, conv, bn)
    assert not can_fuse(x, conv, synced.train())
    assert can_fuse(x, conv, synced.eval())


def test_the_pooled_feature_is_what_the_heads_read() -> None:
    torch.manual_seed(1)
    encoder = PointNetEncoder(latent_dim=8).double().eval()
    points = torch.rand(4, 300, 3, dtype=torch.float64)
    with torch.no_grad():
        feature = encoder.pooled(points)
        mu, logvar = encoder(points)
        reference_mu, _ = encoder.forward_reference(points)
    assert feature.shape == (4, 1024) and (feature >= 0).all()  # after ReLU and the max over points
    torch.testing.assert_close(encoder.mean(feature), mu)
    torch.testing.assert_close(encoder.logvar(feature), logvar)
    torch.testing.assert_close(mu, reference_mu, rtol=1e-9, atol=1e-11)
