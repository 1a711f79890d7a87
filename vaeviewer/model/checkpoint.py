"""Saving and loading checkpoints: atomic writes, safe reads, one error type.

A checkpoint file is what ``torch.save`` writes for a plain dict::

    {"format": "vaeviewer-checkpoint", "version": 1, "config": {...},
     "model_state": {...}, "optimizer_state": {...} or None, "epoch": int,
     "global_step": int, "history": {...}, "class_names": [...],
     "run_settings": {...}, "extra": {...}}

holding only tensors and plain values, so that it loads with
``torch.load(..., weights_only=True)``, which never runs code from the file.
Every way a file can be unusable becomes a one-line
:class:`~vaeviewer.errors.CheckpointError` naming the file.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vaeviewer.errors import CheckpointError
from vaeviewer.files import atomic_write, remove_quietly
from vaeviewer.model.config import ModelConfig
from vaeviewer.model.original import looks_original, original_state
from vaeviewer.model.safe_load import one_line_reason, read_untrusted_torch_file
from vaeviewer.model.vae import PointCloudVAE

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "build_model",
    "load_checkpoint",
    "load_model",
    "remove_stale_temporaries",
    "save_checkpoint",
]

#: Value of the ``"format"`` key that marks our files.
CHECKPOINT_FORMAT = "vaeviewer-checkpoint"
#: Newest layout version this code writes and reads.
CHECKPOINT_VERSION = 1

@dataclass
class Checkpoint:
    """A model's weights with everything needed to rebuild and resume it.

    Parameters
    ----------
    config : ModelConfig
        The model's configuration.
    model_state : dict of str to torch.Tensor
        The model's ``state_dict()``.
    optimizer_state : dict, optional
        The optimizer's ``state_dict()``, for resuming training.
    epoch : int
        Number of completed epochs.
    global_step : int
        Number of completed optimisation steps.
    history : dict of str to list of float
        Training curves: column name -> one value per epoch.
    class_names : tuple of str
        Names of the classes the classifier predicts (index = label).
    run_settings : dict
        Plain values (str, int, float, bool, None, lists, dicts) describing
        the run: data set, learning rate, seed, ...
    extra : dict
        Anything else made of plain values and tensors, such as RNG states.
    source : str
        The file this checkpoint was loaded from ("" if it was not); used in
        error messages and never saved.
    """

    config: ModelConfig
    model_state: dict[str, Tensor]
    optimizer_state: dict | None = None
    epoch: int = 0
    global_step: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    class_names: tuple[str, ...] = ()
    run_settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    source: str = field(default="", compare=False)


# --------------------------------------------------------------------- saving


def _check_plain(value: Any, where: str) -> None:
    """Raise ``TypeError`` if ``value`` holds anything ``weights_only`` loading rejects.

    Checked at save time because the alternative is a file that saves fine
    and then cannot be loaded. Exact type checks on purpose: subclasses such
    as ``numpy.float64`` (a float) or named tuples pickle as globals.
    """
    kind = type(value)
    if value is None or kind in (bool, int, float, str) or isinstance(value, Tensor):
        return
    if kind in (torch.dtype, torch.device, torch.Size):
        return
    if kind in (list, tuple):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if kind in (dict, OrderedDict):
        for key, item in value.items():
            if type(key) not in (str, int):
                raise TypeError(f"checkpoint field {where} has a key of type {type(key).__name__}")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"checkpoint field {where} holds a {kind.__module__}.{kind.__qualname__}; "
        "only tensors, str, int, float, bool, None, lists, tuples and dicts can be saved"
    )


def _to_payload(checkpoint: Checkpoint, *, half_precision: bool) -> dict[str, Any]:
    model_state = {}
    for name, tensor in checkpoint.model_state.items():
        tensor = tensor.detach()
        if half_precision and tensor.is_floating_point():
            half = tensor.to(torch.float16)
            if torch.isfinite(tensor).all() and not torch.isfinite(half).all():
                raise ValueError(f"{name} exceeds the float16 range; save it in full precision")
            tensor = half
        model_state[str(name)] = tensor
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": checkpoint.config.to_dict(),
        "model_state": model_state,
        # Moments in float16 would be useless for resuming, and half precision
        # exists for small bundled files, which are never resumed.
        "optimizer_state": None if half_precision else checkpoint.optimizer_state,
        "epoch": int(checkpoint.epoch),
        "global_step": int(checkpoint.global_step),
        "history": {str(k): list(v) for k, v in checkpoint.history.items()},
        "class_names": [str(name) for name in checkpoint.class_names],
        "run_settings": dict(checkpoint.run_settings),
        "extra": dict(checkpoint.extra),
    }
    for key, value in payload.items():
        _check_plain(value, key)
    return payload


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's), or the system cannot say: keep its files
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that writers killed mid-write left in ``folder``.

    :func:`save_checkpoint` (and the run folder's other atomic writers) write
    ``.NAME.tmp-PID[-K]`` and rename it over ``NAME`` when it is complete; a
    process killed in between (``kill -9``, a power cut) leaves the temporary
    file behind, as large as a checkpoint. Files of processes that are still
    running are kept.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    pattern = re.compile(r"^\..+\.tmp-(\d+)(-\d+)?$")
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _process_is_alive(int(match.group(1))):
            continue
        if entry.is_file():
            remove_quietly(entry)
            removed.append(entry)
    return removed


def save_checkpoint(path: str | os.PathLike[str], checkpoint: Checkpoint, *,
                    half_precision: bool = False) -> Path:
    """Write a checkpoint atomically.

    The file is written to a temporary file in the target folder, flushed to
    disk and then renamed over the target, so that a crash or a full disk
    never leaves a half-written checkpoint: the target is either the previous
    file or the complete new one.

    Parameters
    ----------
    path : str or path-like
        Where to write; missing parent folders are created.
    checkpoint : Checkpoint
        What to write (``checkpoint.source`` is ignored).
    half_precision : bool
        Store floating-point weights as float16 and drop the optimizer state:
        for small bundled checkpoints. Loading casts the weights back to float32.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    CheckpointError
        If the file cannot be written ("could not write: <reason>"); any
        previous file at ``path`` is then left untouched.
    TypeError
        If a field holds a value that safe loading would reject (a bug of the caller).
    ValueError
        If ``half_precision`` would turn a weight into infinity.
    """
    target = Path(path)
    payload = _to_payload(checkpoint, half_precision=half_precision)
    try:
        with atomic_write(target) as temp, open(temp, "wb") as stream:
            try:
                torch.save(payload, stream)
            except RuntimeError as exc:
                # torch's writer reports a failed write as "unexpected pos 707840 vs 707728": say why it failed.
                raise (_reason_writes_fail(stream) or exc) from exc
    except (OSError, RuntimeError) as exc:
        # torch reports a failed write (such as a full disk) as RuntimeError.
        raise CheckpointError(target, f"could not write: {one_line_reason(exc)}") from exc
    return target


def _reason_writes_fail(stream: Any) -> OSError | None:
    """The system's reason why writing to ``stream`` fails (a full disk, a file-size limit), found by trying."""
    try:
        stream.flush()
        os.write(stream.fileno(), b"\0")
    except OSError as error:
        return error
    return None


# -------------------------------------------------------------------- loading


def _looks_like_state_dict(payload: Any) -> bool:
    return isinstance(payload, dict) and bool(payload) and all(
        isinstance(v, Tensor) for v in payload.values()
    )


def _field(payload: dict, key: str, kinds: tuple[type, ...], source: Path,
           default: Any = ...) -> Any:
    """``payload[key]`` checked against ``kinds``; ``default`` if absent (required without one)."""
    if key not in payload:
        if default is ...:
            raise CheckpointError(source, f"damaged checkpoint: no {key!r} entry")
        return default
    value = payload[key]
    # bool is an int subclass, but True is no epoch count.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise CheckpointError(source, f"damaged checkpoint: {key!r} is a {type(value).__name__}")
    return value


def _from_original(payload: Any, source: Path) -> Checkpoint:
    """An original-work file as a checkpoint of vaeviewer's model (see :mod:`vaeviewer.model.original`)."""
    try:
        config, model_state, record = original_state(payload)
    except ValueError as exc:
        raise CheckpointError(source, f"a model of the original work that vaeviewer cannot represent: {exc}") from None
    epoch = record.get("epoch")
    return Checkpoint(config=config, model_state=model_state, epoch=int(epoch) + 1 if isinstance(epoch, int) else 0,
                      extra=record, source=str(source))


def _from_payload(payload: Any, source: Path) -> Checkpoint:
    if looks_original(payload) and not (isinstance(payload, dict) and "format" in payload):
        return _from_original(payload, source)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        hint = " (it looks like a bare state_dict)" if _looks_like_state_dict(payload) else ""
        raise CheckpointError(source, f"not a vaeviewer checkpoint{hint}")
    version = payload.get("version")
    if type(version) is not int or version < 1:
        raise CheckpointError(source, f"damaged checkpoint: unknown format version {version!r}")
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            source,
            f"checkpoint format version {version} is newer than this vaeviewer reads "
            f"(up to {CHECKPOINT_VERSION}); update vaeviewer",
        )
    try:
        config = ModelConfig.from_dict(_field(payload, "config", (dict,), source))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(source, f"invalid model config: {exc}") from exc

    raw_state = _field(payload, "model_state", (dict,), source)
    if not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in raw_state.items()):
        raise CheckpointError(source, "damaged checkpoint: model_state is not a dict of tensors")
    # Half-precision files are cast back: the model always computes in float32.
    model_state = {
        name: tensor.float() if tensor.dtype in (torch.float16, torch.bfloat16) else tensor
        for name, tensor in raw_state.items()
    }
    history = _field(payload, "history", (dict,), source, {})
    if not all(isinstance(values, (list, tuple)) for values in history.values()):
        raise CheckpointError(source, "damaged checkpoint: history columns are not lists")
    class_names = _field(payload, "class_names", (list, tuple), source, [])
    if not all(isinstance(name, str) for name in class_names):
        raise CheckpointError(source, "damaged checkpoint: class names are not all strings")
    return Checkpoint(
        config=config,
        model_state=model_state,
        optimizer_state=_field(payload, "optimizer_state", (dict, type(None)), source, None),
        epoch=_field(payload, "epoch", (int,), source, 0),
        global_step=_field(payload, "global_step", (int,), source, 0),
        history={str(k): list(v) for k, v in history.items()},
        class_names=tuple(class_names),
        run_settings=_field(payload, "run_settings", (dict,), source, {}),
        extra=_field(payload, "extra", (dict,), source, {}),
        source=str(source),
    )


def load_checkpoint(path: str | os.PathLike[str], *, map_location: Any = "cpu") -> Checkpoint:
    """Read a checkpoint safely.

    The file is read with ``torch.load(..., weights_only=True)``: a file that
    would import or call anything is refused, never executed.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.
    map_location : str, torch.device or callable
        Passed to ``torch.load``: where tensors are put.

    Returns
    -------
    Checkpoint
        With ``source`` set to ``path`` and float32 model weights.

    Raises
    ------
    CheckpointError
        With a one-line message naming the file, if it is missing, a folder,
        unreadable, truncated or not a torch file, unsafe, not a vaeviewer
        checkpoint, of a newer format version, or holds an invalid config.
    """
    source = Path(path)
    return _from_payload(read_untrusted_torch_file(source, map_location=map_location), source)


# ---------------------------------------------------------------- the model


def _shape(tensor: Tensor) -> str:
    return "(" + ", ".join(str(size) for size in tensor.shape) + ")"


def _listing(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _mismatch(expected: dict[str, Tensor], found: dict[str, Tensor]) -> str | None:
    """Describe briefly how ``found`` differs from ``expected``, or return ``None``."""
    problems = []
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"missing {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected {_listing(unexpected)}")
    for name in expected:
        if name in found and found[name].shape != expected[name].shape:
            problems.append(
                f"{name} has shape {_shape(found[name])}, expected {_shape(expected[name])}"
            )
            break  # one shape is enough to show that the architecture differs
    return "; ".join(problems) or None


def build_model(checkpoint: Checkpoint) -> PointCloudVAE:
    """Rebuild the model of a checkpoint, with its weights, ready for inference.

    Parameters
    ----------
    checkpoint : Checkpoint
        A loaded (or freshly made) checkpoint.

    Returns
    -------
    PointCloudVAE
        In eval mode, float32, on the device of the checkpoint's tensors
        (set by ``map_location`` when loading).

    Raises
    ------
    CheckpointError
        If the weights do not fit the configured architecture (missing or
        unexpected entries, different shapes).
    """
    where = checkpoint.source or "<checkpoint in memory>"
    model = PointCloudVAE(checkpoint.config)
    problem = _mismatch(model.state_dict(), checkpoint.model_state)
    if problem:
        raise CheckpointError(where, f"weights do not match the model: {problem}")
    state = {
        name: tensor.float() if tensor.is_floating_point() else tensor
        for name, tensor in checkpoint.model_state.items()
    }
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        problem = one_line_reason(exc)
        raise CheckpointError(where, f"weights do not match the model: {problem}") from exc
    device = next(iter(state.values())).device if state else torch.device("cpu")
    return model.to(device).eval()


def load_model(
    path: str | os.PathLike[str], *, map_location: Any = "cpu"
) -> tuple[PointCloudVAE, Checkpoint]:
    """Load a checkpoint and build its model.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.
    map_location : str, torch.device or callable
        Where tensors (and hence the model) are put.

    Returns
    -------
    model : PointCloudVAE
        See :func:`build_model`.
    checkpoint : Checkpoint
        See :func:`load_checkpoint`.

    Raises
    ------
    CheckpointError
        For any of the reasons of :func:`load_checkpoint` and :func:`build_model`.
    """
    checkpoint = load_checkpoint(path, map_location=map_location)
    return build_model(checkpoint), checkpoint
