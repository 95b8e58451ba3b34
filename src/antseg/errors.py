"""Errors that the CLI reports as one clean line (exit code 2) instead of a traceback."""

from __future__ import annotations

from pathlib import Path


class AntsegInputError(Exception):
    """Bad user input: a file, folder or value that antseg cannot use.

    Args:
        path: the file or folder at fault (or None when the problem is not tied to a file).
        problem: what is wrong, in a few words.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)

    def __reduce__(self):  # keep (path, problem) across process pools
        return (type(self), (self.path, self.problem))
