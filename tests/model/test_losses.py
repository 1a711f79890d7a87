"""Chamfer distance (against the cdist reference), KL divergence and classifier NLL."""

from __future__ import annotations

import math

import pytest
import torch

from vaeviewer.model import (
    chamfer_distance,
    chamfer_per_point,
    classifier_nll,
    kl_divergence,
    nearest_neighbors,
)
from vaeviewer.model.losses import KD_TREE_MIN_POINTS, chamfer_distance_cdist


def _clouds(batch: int, n: int, m: int, dtype: torch.dtype, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(batch, n, 3, generator=generator, dtype=dtype).requires_grad_()
    b = torch.randn(batch, m, 3, generator=generator, dtype=dtype).requires_grad_()
    return a, b


def _value_and_grads(loss_fn, a, b, **kwargs):
    weights = torch.arange(1, a.shape[0] + 1, dtype=a.dtype, device=a.device)  # one per cloud
    value = loss_fn(a, b, **kwargs)
    grads = torch.autograd.grad((value * weights).sum(), [a, b])
    return value.detach(), grads


# ------------------------------------------------------------------- Chamfer


@pytest.mark.parametrize("n, m", [(200, 200), (150, 230), (1, 40), (64, 1)])
@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64, 10_000])
def test_chamfer_matches_cdist_reference_in_float64(n: int, m: int, chunk_size: int | None) -> None:
    a, b = _clouds(3, n, m, torch.float64)
    value, grads = _value_and_grads(chamfer_distance, a, b, chunk_size=chunk_size)
    ref_value, ref_grads = _value_and_grads(chamfer_distance_cdist, a, b)
    assert value.shape == (3,) and value.dtype == torch.float64
    torch.testing.assert_close(value, ref_value, rtol=1e-10, atol=1e-12)
    for grad, ref_grad in zip(grads, ref_grads):
        torch.testing.assert_close(grad, ref_grad, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("chunk_size", [None, 33])
def test_chamfer_matches_cdist_reference_in_float32(chunk_size: int | None) -> None:
    a, b = _clouds(4, 1000, 700, torch.float32, seed=1)
    value, grads = _value_and_grads(chamfer_distance, a, b, chunk_size=chunk_size)
    ref_value, ref_grads = _value_and_grads(chamfer_distance_cdist, a, b)
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, ref_value, rtol=1e-4, atol=1e-6)
    for grad, ref_grad in zip(grads, ref_grads):
        torch.testing.assert_close(grad, ref_grad, rtol=1e-3, atol=1e-6)


def test_chamfer_of_identical_clouds_is_zero() -> None:
    a, _ = _clouds(2, 300, 1, torch.float32)
    permuted = a.detach()[:, torch.randperm(300)]
    assert torch.equal(chamfer_distance(a, a.detach().clone()), torch.zeros(2))
    assert torch.equal(chamfer_distance(a, permuted), torch.zeros(2))


def test_chamfer_hand_example() -> None:
    # a -> b: (0,0,0) is on b (0); (1,0,0) is 1 from (0,0,0) (squared 1)  -> mean 0.5
    # b -> a: (0,0,0) is on a (0); (0,2,0) is 2 from (0,0,0) (squared 4)  -> mean 2.0
    a = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    b = torch.tensor([[[0.0, 0.0, 0.0], [0.0, 2.0, 0.0]]])
    per_a, per_b = chamfer_per_point(a, b)
    assert torch.equal(per_a, torch.tensor([[0.0, 1.0]]))
    assert torch.equal(per_b, torch.tensor([[0.0, 4.0]]))
    assert torch.equal(chamfer_distance(a, b), torch.tensor([2.5]))
    assert torch.equal(chamfer_distance(b, a), torch.tensor([2.5]))


def test_per_point_distances_add_up_to_chamfer() -> None:
    a, b = _clouds(3, 120, 90, torch.float64, seed=2)
    per_a, per_b = chamfer_per_point(a, b, chunk_size=11)
    assert per_a.shape == (3, 120) and per_b.shape == (3, 90)
    torch.testing.assert_close(per_a.mean(-1) + per_b.mean(-1), chamfer_distance(a, b))
    squared = torch.cdist(a, b).pow(2)
    torch.testing.assert_close(per_a, squared.min(dim=2).values)
    torch.testing.assert_close(per_b, squared.min(dim=1).values)


def test_nearest_neighbors_match_brute_force() -> None:
    a, b = _clouds(2, 130, 70, torch.float64, seed=3)
    idx_ab, idx_ba = nearest_neighbors(a, b, chunk_size=16)
    squared = torch.cdist(a, b).pow(2)
    assert idx_ab.dtype == idx_ba.dtype == torch.int64
    assert torch.equal(idx_ab, squared.argmin(dim=2))
    assert torch.equal(idx_ba, squared.argmin(dim=1))
    assert not idx_ab.requires_grad


@pytest.mark.parametrize("n, m, chunk_size", [(300, 1024, None), (1000, 256, 37), (257, 2048, 64)])
def test_nearest_neighbors_match_brute_force_on_long_rows(n: int, m: int, chunk_size: int | None) -> None:
    # Rows of 256 points and more take the two-stage min; the last block of rows may be short.
    a, b = _clouds(2, n, m, torch.float64, seed=7)
    idx_ab, idx_ba = nearest_neighbors(a, b, chunk_size=chunk_size)
    squared = torch.cdist(a, b).pow(2)
    assert torch.equal(idx_ab, squared.argmin(dim=2))
    assert torch.equal(idx_ba, squared.argmin(dim=1))


def test_chamfer_is_accurate_far_from_the_origin() -> None:
    # Without centring, |x|^2 ~ 1e6 would swamp float32 distances of ~1e-3.
    a, b = _clouds(2, 400, 400, torch.float64, seed=4)
    offset = torch.tensor([1000.0, -500.0, 250.0], dtype=torch.float64)
    reference = chamfer_distance(a, b)
    shifted = chamfer_distance((a + offset).float(), (b + offset).float())
    torch.testing.assert_close(shifted.double(), reference, rtol=1e-3, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_measured_in_float32(dtype: torch.dtype) -> None:
    a, b = _clouds(2, 100, 80, torch.float32, seed=5)
    a_half, b_half = a.detach().to(dtype), b.detach().to(dtype)
    value = chamfer_distance(a_half, b_half)
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, chamfer_distance(a_half.float(), b_half.float()))


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((2, 10, 3), (3, 10, 3)), ((10, 3), (10, 3)), ((2, 10, 2), (2, 10, 2)),
     ((2, 0, 3), (2, 5, 3))],
)
def test_chamfer_rejects_bad_shapes(a_shape, b_shape) -> None:
    with pytest.raises(ValueError):
        chamfer_distance(torch.zeros(a_shape), torch.zeros(b_shape))


def _largest_saved_tensor(loss_fn, a, b) -> int:
    sizes: list[int] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        sizes.append(tensor.numel())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = loss_fn(a, b).sum()
    loss.backward()
    return max(sizes)


def test_chamfer_backward_keeps_no_distance_matrix() -> None:
    batch, n = 4, 2048
    a, b = _clouds(batch, n, n, torch.float32, seed=6)
    assert _largest_saved_tensor(chamfer_distance, a, b) <= batch * n * 3
    # The hook does see the matrix that the reference keeps for its backward.
    assert _largest_saved_tensor(chamfer_distance_cdist, a, b) >= batch * n * n


# ------------------------------------------------------------------------ KL


def test_kl_is_zero_at_the_prior() -> None:
    prior_std = 0.2
    mu = torch.zeros(3, 16)
    logvar = torch.full((3, 16), math.log(prior_std**2))
    torch.testing.assert_close(kl_divergence(mu, logvar, prior_std), torch.zeros(3))


@pytest.mark.parametrize("prior_std", [0.2, 1.0, 3.0])
def test_kl_matches_torch_distributions(prior_std: float) -> None:
    generator = torch.Generator().manual_seed(8)
    mu = torch.randn(5, 12, generator=generator, dtype=torch.float64)
    logvar = torch.randn(5, 12, generator=generator, dtype=torch.float64)
    posterior = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.full_like(mu, prior_std))
    expected = torch.distributions.kl_divergence(posterior, prior).sum(-1)
    actual = kl_divergence(mu, logvar, prior_std)
    assert actual.shape == (5,)
    torch.testing.assert_close(actual, expected)
    assert (actual > 0).all()


# ---------------------------------------------------------------- classifier


def test_classifier_nll_ignores_unlabelled_samples() -> None:
    log_probs = torch.log_softmax(torch.randn(6, 4, generator=torch.Generator().manual_seed(9)), -1)
    labels = torch.tensor([2, -1, 0, -1, 3, 1])
    known = labels != -1
    expected = -log_probs[known, labels[known]].mean()
    torch.testing.assert_close(classifier_nll(log_probs, labels), expected)


def test_classifier_nll_with_class_weights_is_the_weighted_mean() -> None:
    log_probs = torch.log_softmax(torch.randn(6, 3, generator=torch.Generator().manual_seed(4)), -1)
    labels = torch.tensor([0, 0, 0, 1, -1, 2])
    weights = torch.tensor([0.5, 2.0, 4.0])
    known = labels != -1
    w = weights[labels[known]]
    expected = -(w * log_probs[known, labels[known]]).sum() / w.sum()
    torch.testing.assert_close(classifier_nll(log_probs, labels, weights), expected)
    torch.testing.assert_close(classifier_nll(log_probs, labels, torch.ones(3)), classifier_nll(log_probs, labels))
    assert classifier_nll(log_probs, torch.full((6,), -1), weights).item() == 0.0
    with pytest.raises(ValueError, match="class_weights"):
        classifier_nll(log_probs, labels, torch.ones(4))


def test_classifier_nll_without_labels_is_a_differentiable_zero() -> None:
    logits = torch.randn(3, 4, requires_grad=True)
    loss = classifier_nll(torch.log_softmax(logits, -1), torch.full((3,), -1))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros(3, 4))


@pytest.mark.parametrize("chunk_size", [7, 64, None])
def test_the_one_pass_column_search_of_gpus_matches_brute_force(monkeypatch, chunk_size: int | None) -> None:
    """GPUs take the columns' minima with indices as they go; checked here on the CPU."""
    from vaeviewer.model import losses

    monkeypatch.setattr(losses, "_column_indices_in_one_pass", lambda device: True)
    a, b = _clouds(3, 70, 90, torch.float64, seed=12)
    idx_ab, idx_ba = nearest_neighbors(a, b, chunk_size=chunk_size if chunk_size else 70)
    distances = torch.cdist(a.detach(), b.detach())
    torch.testing.assert_close(distances.gather(2, idx_ab[..., None]).squeeze(-1), distances.amin(dim=2))
    torch.testing.assert_close(distances.gather(1, idx_ba[:, None, :]).squeeze(1), distances.amin(dim=1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("chunk_size", [64, None])
def test_chamfer_on_cuda_matches_cpu(chunk_size: int | None) -> None:
    a, b = _clouds(4, 500, 300, torch.float32, seed=10)
    value, grads = _value_and_grads(chamfer_distance, a, b)
    a_cuda = a.detach().cuda().requires_grad_()
    b_cuda = b.detach().cuda().requires_grad_()
    cuda_value, cuda_grads = _value_and_grads(chamfer_distance, a_cuda, b_cuda, chunk_size=chunk_size)
    torch.testing.assert_close(cuda_value.cpu(), value, rtol=1e-4, atol=1e-6)
    for grad, cuda_grad in zip(grads, cuda_grads):
        torch.testing.assert_close(cuda_grad.cpu(), grad, rtol=1e-3, atol=1e-6)


def test_the_k_d_tree_search_and_the_block_search_agree() -> None:
    """Large CPU clouds are searched with k-d trees; a chunk size forces the block search: same distances."""
    torch.manual_seed(3)
    a, b = torch.rand(6, 2048, 3) - 0.5, torch.randn(6, 1500, 3) * 0.3
    assert min(a.shape[1], b.shape[1]) >= KD_TREE_MIN_POINTS
    by_trees = chamfer_per_point(a, b)
    by_blocks = chamfer_per_point(a, b, chunk_size=64)
    for trees, blocks in zip(by_trees, by_blocks):
        torch.testing.assert_close(trees, blocks, rtol=1e-5, atol=1e-7)
    # A cloud with a NaN cannot go into a tree: the block search runs and the NaN shows in the loss.
    a[0, 5] = math.nan
    assert torch.isnan(chamfer_distance(a, b)[0]) and torch.isfinite(chamfer_distance(a, b)[1:]).all()
