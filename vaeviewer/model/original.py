"""The original work's checkpoints (github.com/Suraj-000/Variational_Autoencoder_pytorch), opened as vaeviewer models.

Its training script saves ``{epoch, Loss, Recon_Loss, KLD_Loss, model_state_dict,
optimizer_state_dict}`` (``torch.save`` of a dict), and some of its users keep the
bare ``model_state_dict``. Its network differs from vaeviewer's in three ways,
each carried over exactly, so that a reconstruction equals what the original
network computes in eval mode up to float rounding:

- its 1x1 convolutions have biases, each followed by batch norm. A bias ``b``
  before a batch norm with running mean ``m`` is the same as no bias and a running
  mean ``m - b`` in eval mode, and is cancelled by the batch statistics in training
  mode: it is folded into the running mean;
- its decoder has the hidden layers (128, 256, 512, 1024), one more than the
  description says, and a latent of 64 by default: both are read from the weights;
- its decoder's output is reshaped ``view(-1, 3, N)``: all x, then all y, then all
  z. The rows of the last layer are reordered so that vaeviewer's (N, 3) reshape
  reads the same points.

Its inputs were centred on their mean and divided by their largest norm
(``pc_normalize``), which is vaeviewer's own normalisation.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import Tensor

from vaeviewer.model.config import ModelConfig
from vaeviewer.model.encoder import POINTNET_WIDTHS

__all__ = ["ORIGINAL_SOURCE", "looks_original", "original_state"]

#: Where the format comes from, recorded in the converted checkpoint.
ORIGINAL_SOURCE = "github.com/Suraj-000/Variational_Autoencoder_pytorch"

_DECODER_LAYER = re.compile(r"^decoder\.layers\.(\d+)\.weight$")


def looks_original(payload: Any) -> bool:
    """Whether a loaded file is one of the original work's (its dict, or a bare state dict of its modules)."""
    state = payload.get("model_state_dict", payload) if isinstance(payload, dict) else None
    return isinstance(state, dict) and "encoder.conv1.weight" in state and "decoder.layers.0.weight" in state


def _tensor(state: dict[str, Any], key: str) -> Tensor:
    value = state.get(key)
    if not isinstance(value, Tensor):
        raise ValueError(f"no {key} in the weights" if value is None else f"{key} is not a tensor")
    return value.float()


def original_state(payload: Any) -> tuple[ModelConfig, dict[str, Tensor], dict[str, Any]]:
    """The configuration, vaeviewer state dict and record of an original checkpoint.

    Raises
    ------
    ValueError
        With one line saying what differs from the original architecture (a layer
        missing, a width vaeviewer's encoder does not have, an output not 3 x N).
    """
    state = payload.get("model_state_dict", payload)
    converted: dict[str, Tensor] = {}
    in_channels = 3
    for k, width in enumerate(POINTNET_WIDTHS, start=1):
        weight = _tensor(state, f"encoder.conv{k}.weight")
        if tuple(weight.shape) != (width, in_channels, 1):
            raise ValueError(f"encoder.conv{k}.weight is {tuple(weight.shape)}; the PointNet encoder needs "
                             f"({width}, {in_channels}, 1) (3-64-64-64-128-1024, kernel 1)")
        bias = state.get(f"encoder.conv{k}.bias")
        conv, bn = f"encoder.features.{3 * (k - 1)}", f"encoder.features.{3 * (k - 1) + 1}"
        converted[f"{conv}.weight"] = weight
        for name in ("weight", "bias", "running_var"):
            converted[f"{bn}.{name}"] = _tensor(state, f"encoder.bn{k}.{name}")
        mean = _tensor(state, f"encoder.bn{k}.running_mean")
        converted[f"{bn}.running_mean"] = mean - bias.float() if isinstance(bias, Tensor) else mean
        batches = state.get(f"encoder.bn{k}.num_batches_tracked")
        converted[f"{bn}.num_batches_tracked"] = batches if isinstance(batches, Tensor) else torch.tensor(0)
        in_channels = width
    for ours, theirs in (("mean", "fc_mean"), ("logvar", "fc_logvar")):
        converted[f"encoder.{ours}.weight"] = _tensor(state, f"encoder.{theirs}.weight")
        converted[f"encoder.{ours}.bias"] = _tensor(state, f"encoder.{theirs}.bias")
    latent_dim = converted["encoder.mean.weight"].shape[0]

    indices = sorted(int(m.group(1)) for key in state if (m := _DECODER_LAYER.match(str(key))))
    if len(indices) < 2:
        raise ValueError("the decoder needs at least one hidden layer (decoder.layers.0 and a last layer)")
    widths = []
    previous = latent_dim
    for position, index in enumerate(indices):
        weight, bias = _tensor(state, f"decoder.layers.{index}.weight"), _tensor(state, f"decoder.layers.{index}.bias")
        if weight.shape[1] != previous:
            raise ValueError(f"decoder.layers.{index}.weight takes {weight.shape[1]} inputs, the layer before "
                             f"gives {previous}")
        last = position == len(indices) - 1
        name = "decoder.out" if last else f"decoder.hidden.{2 * position}"
        converted[f"{name}.weight"], converted[f"{name}.bias"] = weight, bias
        if not last:
            widths.append(int(weight.shape[0]))
        previous = weight.shape[0]
    outputs = converted["decoder.out.weight"].shape[0]
    if outputs % 3:
        raise ValueError(f"the decoder's last layer gives {outputs} values, not 3 per point")
    num_points = outputs // 3
    # Row c * N + n (channel-first) becomes row n * 3 + c (point-major).
    order = torch.arange(outputs).reshape(3, num_points).t().reshape(-1)
    converted["decoder.out.weight"] = converted["decoder.out.weight"][order].contiguous()
    converted["decoder.out.bias"] = converted["decoder.out.bias"][order].contiguous()

    used = {f"encoder.{part}{k}.{name}" for k in range(1, 6) for part, names in
            (("conv", ("weight", "bias")), ("bn", ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")))
            for name in names}
    used |= {f"encoder.{head}.{name}" for head in ("fc_mean", "fc_logvar") for name in ("weight", "bias")}
    used |= {f"decoder.layers.{index}.{name}" for index in indices for name in ("weight", "bias")}
    others = sorted(str(key) for key in state if key not in used)
    if others:
        listed = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise ValueError(f"holds layers the original network does not have: {listed}")
    config = ModelConfig(num_points=num_points, latent_dim=int(latent_dim), num_classes=0, prior_std=0.2,
                         decoder_widths=tuple(widths))
    record: dict[str, Any] = {"imported_from": ORIGINAL_SOURCE}
    for key in ("epoch", "Loss", "Recon_Loss", "KLD_Loss"):
        value = payload.get(key) if payload is not state else None
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            record[key] = value
    return config, converted, record
