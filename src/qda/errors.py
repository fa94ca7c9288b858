"""Exception types of the qda package.

Every error a user can cause carries four parts and prints as one line::

    FILE: WHERE: WHAT IS WRONG; HOW TO FIX IT

so that the command line can show it as is (exit code 2) and a notebook shows a
message that names the file, the place and the fix, never a traceback from deep
inside pandas or lxml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class QDAError(Exception):
    """Base class: a problem with the user's input, reported in one line."""

    def __init__(self, file: str | Path | None, where: str, what: str, fix: str):
        self.file = str(file) if file is not None else "<input>"
        self.where = where
        self.what = what
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message ``FILE: WHERE: WHAT; FIX``."""
        return f"{self.file}: {self.where}: {self.what}; {self.fix}"


class DataError(QDAError):
    """A data file (CSV, YAML, transcript) cannot be read as the data dictionary says."""


class SchemaError(DataError):
    """A table lacks a column or holds a value of the wrong type."""


class ReferenceIntegrityError(DataError):
    """A row refers to something that does not exist (participant, code, coder, source)."""


class RefiError(QDAError):
    """A REFI-QDA file (.qdpx, .qde, .qdc) is malformed or violates the standard."""


class UnsafeInputError(RefiError):
    """Input that looks hostile: XML entities, zip-slip paths, zip bombs."""


class LimitExceededError(UnsafeInputError):
    """Input larger than a configured safety limit (size, entries, depth)."""


class ConfidentialityError(QDAError):
    """A project holds identifying data that has not been marked as reviewed."""


@dataclass
class Problem:
    """One violation found by a validator."""

    file: str
    where: str
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.file}: {self.where}: {self.what}; {self.fix}"


@dataclass
class ValidationError(QDAError):
    """Raised once with *every* violation a validator found.

    ``str(err)`` lists one problem per line; ``err.problems`` holds them as
    :class:`Problem` objects for programs.
    """

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        first = self.problems[0] if self.problems else Problem("<study>", "-", "invalid", "see the data dictionary")
        self.file, self.where, self.what, self.fix = first.file, first.where, first.what, first.fix
        Exception.__init__(self, self.line())

    #: How many problems the message lists; ``.problems`` always holds them all.
    max_listed: int = 1000

    def line(self) -> str:
        head = f"{len(self.problems)} problem(s) found:"
        shown = [p.line() for p in self.problems[: self.max_listed]]
        more = len(self.problems) - len(shown)
        tail = [f"... and {more} more (see the exception's .problems)"] if more > 0 else []
        return "\n".join([head] + shown + tail)

    def __str__(self) -> str:
        return self.line()
