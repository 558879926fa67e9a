"""Errors raised by ingest."""
from __future__ import annotations


class UnreadableFileError(ValueError):
    """A raw file that cannot be read at all (corrupt, binary, wrong header, ragged rows).

    The message always starts with the file's path relative to `raw/`, so an operator can find it.
    It never contains an e-mail address.
    """

    def __init__(self, source_file: str, problem: str):
        self.source_file = source_file
        self.problem = problem
        super().__init__(f"{source_file}: {problem}")
