"""Reading a torch file that may be damaged, foreign or malicious.

Everything goes through ``torch.load(..., weights_only=True)``, whose
unpickler builds only tensors and plain containers and refuses any other
import; nothing in the file is ever executed. What this module adds is a
diagnosis of the failures, so that the user reads one line saying whether the
file is missing, broken, or refused as unsafe.
"""

from __future__ import annotations

import pickletools
import re
import warnings
from pathlib import Path
from typing import IO, Any

import torch

from vaeviewer.errors import CheckpointError

__all__ = ["NOT_A_TORCH_FILE", "one_line_reason", "read_untrusted_torch_file"]

#: The problem reported for a file torch cannot parse.
NOT_A_TORCH_FILE = "not a checkpoint (truncated or not a torch file)"


def one_line_reason(exc: BaseException) -> str:
    """A short reason for an exception: the OS's wording, or the first line of the message."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _unsafe(name: str) -> str:
    return f"refused to load an unsafe file: it would import {name}, which could run code"


def _first_global_in_pickle(stream: IO[bytes]) -> str | None:
    """Name the first global a plain pickle would import, or ``None``.

    ``pickletools.genops`` only parses opcodes; nothing is imported or called.
    Needed because torch's safe loader stops at opcodes it does not know
    (such as the FRAME of protocol 4) before it sees a malicious global.
    """
    recent_strings: list[str] = []
    try:
        for count, (opcode, arg, _) in enumerate(pickletools.genops(stream)):
            if count > 100_000:
                return None
            if opcode.name in ("GLOBAL", "INST"):
                return str(arg).replace(" ", ".")
            if opcode.name == "STACK_GLOBAL":
                # Its module and name are the two strings pushed just before.
                return ".".join(recent_strings[-2:]) or "an object"
            if opcode.name in ("EXT1", "EXT2", "EXT4"):
                return "a registered extension type"
            if isinstance(arg, str):
                recent_strings = [*recent_strings[-1:], arg]
    except Exception:  # noqa: BLE001 - genops raises various errors on garbage
        return None
    return None


def _diagnose(stream: IO[bytes], exc: Exception, is_zip: bool) -> str:
    """Turn a failure of ``torch.load`` into a short description of the file."""
    text = f"{exc}\n{exc.__context__ or ''}"
    match = re.search(r"GLOBAL ([\w.]+)", text)
    if match:
        return _unsafe(match.group(1))
    if "deserialize object on" in text:
        return f"cannot be loaded on this machine: {one_line_reason(exc)}"
    if not is_zip:
        stream.seek(0)
        name = _first_global_in_pickle(stream)
        if name is not None:
            return _unsafe(name)
    return NOT_A_TORCH_FILE


def _safe_torch_load(stream: IO[bytes], map_location: Any, is_zip: bool) -> Any:
    if is_zip:
        return torch.load(stream, map_location=map_location, weights_only=True)
    # Only pre-zip (legacy or plain pickle) files come here, and we never write
    # those; torch warns about their pickle protocol, which is noise for a file
    # that is rejected either way.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.load(stream, map_location=map_location, weights_only=True)


def read_untrusted_torch_file(source: Path, *, map_location: Any = "cpu") -> Any:
    """Load a file written by ``torch.save`` without ever running code from it.

    Parameters
    ----------
    source : pathlib.Path
        The file.
    map_location : str, torch.device or callable
        Passed to ``torch.load``.

    Returns
    -------
    object
        What the file holds: tensors and plain values only.

    Raises
    ------
    CheckpointError
        If the file is missing, a folder, unreadable, not a torch file (or
        truncated), or would import anything that safe loading does not allow
        (the message then says "refused ... unsafe").
    """
    if source.is_dir():
        raise CheckpointError(source, "is a folder, not a checkpoint file")
    try:
        stream = open(source, "rb")
    except FileNotFoundError as exc:
        raise CheckpointError(source, "no such file") from exc
    except OSError as exc:
        raise CheckpointError(source, f"cannot read: {one_line_reason(exc)}") from exc
    with stream:
        try:
            # torch picks its zip reader by these magic bytes too; a truncated
            # zip still starts with them and must not be parsed as a pickle.
            is_zip = stream.read(4) == b"PK\x03\x04"
            stream.seek(0)
        except OSError as exc:
            raise CheckpointError(source, f"cannot read: {one_line_reason(exc)}") from exc
        try:
            return _safe_torch_load(stream, map_location, is_zip)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001
            # torch's readers raise a zoo of types on a bad file (RuntimeError,
            # UnpicklingError, EOFError, KeyError, OSError, ...). The file could
            # be opened, so whatever goes wrong inside torch.load is the file's.
            problem = _diagnose(stream, exc, is_zip)
            raise CheckpointError(source, problem) from exc
