"""Text a request names outside a fact (a token's name, a reason, a note, a query's filter),
held to the same bounds as a fact's text (`dsl.facts.limits`): refused, naming the field."""

from __future__ import annotations

from app.errors import Invalid
from dsl.facts.limits import text_problem


def require_text(value: str, field: str, limit: int) -> str:
    """The value, or Invalid naming `field` (a NUL, a lone surrogate, more than `limit`)."""
    why = text_problem(value, limit)
    if why:
        err = Invalid(f"{field}: {why}")
        err.details = [{"field": field, "message": why}]
        raise err
    return value
