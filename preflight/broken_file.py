"""The one error for a file preflight cannot read: where it is broken and how, like a compiler says it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from preflight.capture import PROJECT_ROOT


def display_path(path: Path) -> str:
    """The path as a user types it from the project root (the full path for a file outside it)."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


class BrokenFileError(ValueError):
    """`<file>:<line>:<column>: <problem>`, the form editors and CI annotations link to the spot.

    Lines and columns count from 1; a problem with the whole file has neither.
    """

    def __init__(self, path: Path, problem: str, line: Optional[int] = None, column: Optional[int] = None):
        self.path, self.problem, self.line, self.column = path, problem, line, column
        where = display_path(path)
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {problem}")
