"""Training on several processes with PyTorch's DistributedDataParallel, as ``torchrun`` starts them.

``torchrun --nproc_per_node K -m vaeviewer train ...`` starts K copies of the
command and tells each, through the environment variables ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``, who it is
and where to meet the others. :func:`join_process_group` reads them, picks the
device of the process (GPU ``LOCAL_RANK`` of its machine, or the CPU), joins
the process group (NCCL on GPUs, gloo on CPUs) and leaves it at the end, on
errors too. :class:`Ranks` is the run as one process sees it: its rank, and the
few collective operations the training loop needs (agreeing on a stop, summing
losses, relaying an error, letting rank 0 alone write the run folder).

Without those variables nothing here starts: :data:`SINGLE_PROCESS` makes every
operation a no-op and the loop runs exactly as it does in one process.

Batch norm across processes: on GPUs every ``BatchNorm1d`` becomes a
``SyncBatchNorm``, so each batch is normalised with the statistics of the
global batch, as in one process. On CPUs PyTorch has no synchronised batch
norm (``SyncBatchNorm`` raises "SyncBatchNorm expected input tensor to be on
GPU" and DistributedDataParallel refuses it: "SyncBatchNorm layers only work
with GPU modules", torch 2.13), so each process normalises its share of the
batch with its own statistics, and the running statistics that evaluation
uses are those of rank 0 (DistributedDataParallel copies rank 0's buffers to
every process before each forward pass; the loop does it again before
validating and saving).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

from vaeviewer.errors import OptionError, VaeviewerError

__all__ = [
    "DEBUG_SHARDS_VARIABLE",
    "SINGLE_PROCESS",
    "RankFailed",
    "Ranks",
    "TorchrunEnvironment",
    "join_process_group",
    "per_process_batch",
    "prepare_model",
    "record_shard",
    "shard_of_epoch",
    "torchrun_environment",
    "weights_digest",
    "wrap_model",
]

#: When set to a folder, every process appends the training-set indices it
#: trains on in each epoch to ``shards-rank<R>.jsonl`` there (a diagnostic).
DEBUG_SHARDS_VARIABLE = "VAEVIEWER_DEBUG_SHARDS"

T = TypeVar("T")


class RankFailed(VaeviewerError):
    """A process of a distributed run failed with a user error; rank 0 reports it.

    Rank 0 raises it with the failing rank's message; the other ranks raise it
    too (so that every process stops) and stay silent.
    """


@dataclass(frozen=True)
class TorchrunEnvironment:
    """Who this process is in a run that ``torchrun`` started (read from its environment variables)."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int


def torchrun_environment() -> TorchrunEnvironment | None:
    """This process's place in a ``torchrun`` run, or None when ``torchrun`` did not start it."""
    names = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
    if not all(name in os.environ for name in names):
        return None
    try:
        rank, world_size, local_rank = (int(os.environ[name]) for name in names)
        local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    except ValueError:
        raise OptionError(
            "RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers (torchrun sets them); got "
            + ", ".join(f"{name}={os.environ[name]!r}" for name in names)
        ) from None
    return TorchrunEnvironment(rank, world_size, local_rank, local_world_size)


@dataclass(frozen=True)
class Ranks:
    """The processes of a run, as one of them sees it, with the collective operations the loop uses.

    Every method that communicates must be called by all processes in the
    same order. With ``world_size`` 1 and no backend (:data:`SINGLE_PROCESS`)
    they do nothing.

    Attributes
    ----------
    rank, world_size, local_rank : int
        This process's rank, the number of processes, its rank on its machine.
    backend : str
        ``nccl``, ``gloo``, or ``""`` in a single process.
    device : torch.device or None
        Where this process trains (None in a single process: the loop decides).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""
    device: torch.device | None = None

    @property
    def distributed(self) -> bool:
        """Whether this process is one of a process group."""
        return bool(self.backend)

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the process that writes the run folder and reports."""
        return self.rank == 0

    def _tensor(self, values: Sequence[float], dtype: torch.dtype) -> torch.Tensor:
        # NCCL reduces only GPU tensors; gloo takes CPU tensors.
        device = self.device if self.backend == "nccl" else "cpu"
        return torch.tensor(list(values), dtype=dtype, device=device)

    def any(self, flag: bool) -> bool:
        """True on every process if ``flag`` is true on any (a stop request, say)."""
        if not self.distributed:
            return flag
        value = self._tensor([int(flag)], torch.int32)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def sum(self, values: Sequence[float]) -> list[float]:
        """The sums over all processes of ``values``, in float64."""
        if not self.distributed:
            return [float(v) for v in values]
        total = self._tensor(values, torch.float64)
        dist.all_reduce(total)
        return total.cpu().tolist()

    def gather(self, value: T) -> list[T]:
        """Every process's ``value`` (picklable), in rank order."""
        if not self.distributed:
            return [value]
        values: list = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def agree(self, work: Callable[[], T], *, main_only: bool = False) -> T | None:
        """Run ``work`` on every process (or on rank 0 only), then fail everywhere if it failed anywhere.

        A :class:`~vaeviewer.errors.VaeviewerError` on any process makes every
        process raise: rank 0 its own error, or a :class:`RankFailed` naming
        the failing rank; the others a :class:`RankFailed`. So a user's mistake
        stops all processes (none waits forever in a collective) and is
        reported once. Also a barrier: no process returns before ``work`` is
        done everywhere, so a checkpoint rank 0 writes is complete when any
        process goes on.

        Returns
        -------
        object
            What ``work`` returned (None on processes that did not run it).
        """
        if not self.distributed:
            return work()
        result = failure = None
        if self.is_main or not main_only:
            try:
                result = work()
            except VaeviewerError as error:
                failure = error
        messages = self.gather(None if failure is None else str(failure))
        failed = [rank for rank, message in enumerate(messages) if message is not None]
        if not failed:
            return result
        if self.is_main and failure is not None:
            raise failure
        first = failed[0]
        raise RankFailed(f"rank {first} of {self.world_size}: {messages[first]}")

    def on_main(self, work: Callable[[], T]) -> T | None:
        """Run ``work`` (a write to the run folder) on rank 0 only; see :meth:`agree`."""
        return self.agree(work, main_only=True)

    def broadcast_buffers(self, module: nn.Module) -> None:
        """Give every process rank 0's buffers (batch-norm running statistics)."""
        if not self.distributed:
            return
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


SINGLE_PROCESS = Ranks()


def _device_of_rank(name: str, env: TorchrunEnvironment) -> torch.device:
    """The device of a process: GPU ``LOCAL_RANK`` for ``auto``/``cuda`` on a machine with GPUs, else the CPU."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not name.startswith("cuda") and name != "auto":
        raise OptionError(f"--device must be auto, cpu or cuda[:k], got {name!r}")
    if not torch.cuda.is_available():
        raise OptionError(f"--device {name}: no CUDA device is available on this machine")
    count = torch.cuda.device_count()
    if name.startswith("cuda:"):
        if env.local_world_size > 1:
            raise OptionError(
                f"--device {name}: under torchrun each process uses the GPU of its local rank; "
                "pass --device cuda (choose the GPUs with CUDA_VISIBLE_DEVICES)"
            )
        return torch.device(name)
    if env.local_world_size > count:  # checked by every process of the machine, so its first one reports it
        raise OptionError(
            f"torchrun started {env.local_world_size} processes on this machine but it has {count} CUDA "
            f"device(s); use --nproc_per_node {count} or fewer"
        )
    return torch.device("cuda", env.local_rank)


@contextmanager
def join_process_group(device_name: str) -> Iterator[Ranks]:
    """Join the process group of a ``torchrun`` run for the duration of the ``with`` block.

    The backend is NCCL when the process trains on a GPU, gloo on the CPU.
    The group is left on exit, after an error too. A group that the caller
    created already is used as it is, and left to the caller.

    Parameters
    ----------
    device_name : str
        The ``--device`` setting: ``auto``, ``cpu``, ``cuda`` (each process
        takes the GPU of its local rank).

    Raises
    ------
    OptionError
        When not started by ``torchrun``, or the device cannot be used.
    """
    env = torchrun_environment()
    if env is None:
        raise OptionError("not started by torchrun (RANK, WORLD_SIZE and LOCAL_RANK are not set)")
    device = _device_of_rank(device_name, env)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    created = not dist.is_initialized()
    if created:
        _import_modules_that_bind_the_group()
        # env:// initialisation: MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE from torchrun.
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    try:
        yield Ranks(
            rank=dist.get_rank(),
            world_size=dist.get_world_size(),
            local_rank=env.local_rank,
            backend=str(dist.get_backend()),
            device=device,
        )
    finally:
        if created and dist.is_initialized():
            dist.destroy_process_group()


def _import_modules_that_bind_the_group() -> None:
    """Import, before the group exists, the torch modules that bind it as a default argument when imported.

    ``torch.distributed.nn.functional`` (imported by the first
    ``DistributedDataParallel``) gives ten functions ``group=group.WORLD``,
    evaluated at import. Imported while the group exists, they hold it for the
    life of the interpreter: ``destroy_process_group`` then leaves gloo's worker
    threads running, and one that releases a finished collective while the
    interpreter shuts down aborts the process ("terminate called without an
    active exception", exit -6 after a run that saved everything). Imported
    first, the defaults are None and leaving the group ends those threads.
    """
    import torch.distributed.nn.functional  # noqa: F401


def per_process_batch(batch_size: int, world_size: int) -> int:
    """The shapes per step of each process when a global batch is split over ``world_size`` processes.

    Raises
    ------
    OptionError
        When the batch does not split evenly, or leaves a process fewer than the
        two shapes batch norm needs.
    """
    if batch_size % world_size:
        raise OptionError(
            f"--batch-size {batch_size} does not split evenly over the {world_size} processes torchrun started; "
            f"use a multiple of {world_size}"
        )
    share = batch_size // world_size
    if share < 2:
        raise OptionError(
            f"--batch-size {batch_size} leaves {share} shape per process over {world_size} processes; batch norm "
            f"needs two: use --batch-size {2 * world_size} or more"
        )
    return share


def shard_of_epoch(size: int, shuffle_seed: int, rank: int, world_size: int) -> torch.Tensor:
    """The indices (into a training set of ``size`` shapes) that process ``rank`` trains on in one epoch.

    PyTorch's ``DistributedSampler`` over ``range(size)``, shuffled with the
    epoch's seed and without padding: the epoch's order is
    ``torch.randperm(size)`` from a generator seeded with ``shuffle_seed``
    (the order a single process uses), cut to a multiple of ``world_size``,
    and rank r takes every ``world_size``-th index from position r. So the
    shards are disjoint, and the step-s batches of all ranks together are
    positions ``[s B, (s + 1) B)`` of that order: the batch a single process
    takes at step s.
    """
    from torch.utils.data import DistributedSampler

    # The seed varies with the epoch already, so the sampler's own epoch stays 0.
    sampler = DistributedSampler(range(size), num_replicas=world_size, rank=rank, shuffle=True, seed=shuffle_seed,
                                 drop_last=True)
    return torch.tensor(list(sampler), dtype=torch.int64)


def prepare_model(model: nn.Module, ranks: Ranks) -> nn.Module:
    """The model a process trains: on GPUs of a process group, with synchronised batch norm.

    Call before creating the optimizer. The state dict keeps its keys, so its
    checkpoints load into a plain model. The PointNet encoder's fused last
    layer (:mod:`vaeviewer.model.pooled_layer`) cannot see the other
    processes' statistics, so with synchronised batch norm the encoder runs
    module by module while training (more GPU memory for that layer), so that
    every batch norm sees the global batch.
    """
    if not ranks.distributed or ranks.device is None or ranks.device.type != "cuda":
        return model
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def wrap_model(model: nn.Module, ranks: Ranks) -> nn.Module:
    """``model`` in DistributedDataParallel, which averages the gradients of all processes in the backward pass."""
    if ranks.device is not None and ranks.device.type == "cuda":
        index = ranks.device.index
        return nn.parallel.DistributedDataParallel(model, device_ids=[index], output_device=index)
    return nn.parallel.DistributedDataParallel(model)


def weights_digest(module: nn.Module) -> str:
    """A digest of a module's parameters and buffers, bit for bit: equal digests mean equal weights."""
    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def record_shard(epoch: int, rank: int, world_size: int, first_step: int, indices: Sequence[int]) -> None:
    """Append what a process trains on in an epoch to ``$VAEVIEWER_DEBUG_SHARDS/shards-rank<R>.jsonl``.

    A diagnostic that does nothing unless the variable names a folder:
    one JSON line per epoch, with the training-split indices of the shapes
    the process takes from step ``first_step`` on (after a mid-epoch resume,
    the steps still to do).
    """
    folder = os.environ.get(DEBUG_SHARDS_VARIABLE)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    line = {"epoch": epoch, "rank": rank, "world_size": world_size, "first_step": first_step,
            "indices": [int(i) for i in indices]}
    with open(Path(folder) / f"shards-rank{rank}.jsonl", "a") as handle:
        handle.write(json.dumps(line) + "\n")
