"""Domain errors of the application, below any HTTP layer.

AppError                 anything the application refuses, with a message for people
├── NotFound             a named record does not exist (a fact, a ruleset, a receipt)
├── Conflict             the request contradicts what is recorded (same id, other content)
├── Invalid              input that does not fit: `problems` lists every one
├── ReplayMismatch       a receipt recomputed to different results
├── Unauthorized         no credentials, or credentials that are not valid
└── Forbidden            valid credentials that do not allow this request
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dsl.facts.records import FactProblem


class AppError(Exception):
    """Base of the application's errors; `details` may point at the fields concerned."""

    details: Sequence[Mapping[str, Any]] = ()


class NotFound(AppError):
    """A named record does not exist."""


class Conflict(AppError):
    """The request contradicts what is already recorded."""


class Invalid(AppError):
    """Input that does not fit; `problems` lists every one found."""

    def __init__(self, message: str, problems: Sequence[FactProblem] = ()) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(message + (f":\n{shown}{tail}" if shown else ""))


class ReplayMismatch(AppError):
    """A receipt's evaluation recomputed to results with another digest."""


class Unauthorized(AppError):
    """No credentials, or credentials that name no valid token."""


class Forbidden(AppError):
    """The credentials are valid but do not allow this request (role or scope)."""
