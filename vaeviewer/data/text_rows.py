"""Which row of a text table of numbers is broken: the one-line error the text readers give."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from vaeviewer.errors import DataFileError

__all__ = ["first_bad_row"]


def first_bad_row(path: Path, rows: Iterable[tuple[str, list[str]]], width_problem: Callable[[int], str | None]) -> DataFileError:
    """The error naming the first row with a wrong number of values or a value that is no number.

    Readers parse a whole table at once and call this only when that failed,
    to say where. ``rows`` are (where, tokens) pairs (``"line 12"``);
    ``width_problem`` says what is wrong with a row of that many values, or None.
    """
    for where, tokens in rows:
        problem = width_problem(len(tokens))
        if problem:
            return DataFileError(path, f"{where} {problem}")
        for token in tokens:
            try:
                float(token)
            except ValueError:
                return DataFileError(path, f"{where}: {token[:20]!r} is not a number")
    return DataFileError(path, "the numbers cannot be read")
