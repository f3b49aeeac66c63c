"""The bounds every fact (and organisation record) is held to on entry, whatever its type says.

A fact type's declaration bounds its own numbers (`number in 0..100`); these bound everything
else, so that no single record can stop a database write or an evaluation:

- text: no NUL character (PostgreSQL's text cannot hold it), no lone surrogate (it is not
  Unicode and cannot be encoded), and at most a length (`MAX_ID` for ids, `MAX_TEXT` for
  evidence and text fields);
- numbers: at most `MAX_FRACTION_DIGITS` digits after the point and a magnitude below
  10^`MAX_INTEGER_DIGITS` (so at most 35 significant digits): the engine computes exactly with
  200 digits, and a value with hundreds of digits (or 1e400) could not be scored exactly.
"""

from __future__ import annotations

from decimal import Decimal

MAX_ID = 200  # a fact's id, `supersedes`, a unit's or person's id, a token's name
MAX_NAME = 400  # a unit's or person's name
MAX_KIND = 100  # a unit's kind
MAX_TEXT = 10_000  # a fact's `evidence`, a text field of its data, a retraction's reason
MAX_INTEGER_DIGITS = 15  # |value| < 10^15
MAX_FRACTION_DIGITS = 20


def text_problem(text: str, limit: int) -> str:
    """Why a string may not be stored, or an empty string."""
    if len(text) > limit:
        return f"longer than {limit} characters ({len(text)})"
    if "\x00" in text:
        return "contains a NUL character (U+0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            return f"contains a lone surrogate (U+{ord(text[e.start]):04X}): not valid Unicode"
    return ""


def text_ok(text: str, limit: int) -> bool:
    """True when `text_problem` finds nothing (the common case, cheaply)."""
    if len(text) > limit or "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def number_problem(d: Decimal) -> str:
    """Why a finite decimal is beyond the global bounds, or an empty string."""
    if d.is_zero():
        return ""
    if d.adjusted() >= MAX_INTEGER_DIGITS:
        return f"too large: at most {MAX_INTEGER_DIGITS} digits before the point"
    _, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    zeros = len(digits) - len(bytes(digits).rstrip(b"\x00"))
    if -(exp + zeros) > MAX_FRACTION_DIGITS:
        return f"too many digits: at most {MAX_FRACTION_DIGITS} after the point"
    return ""


def printable(text: str, limit: int = MAX_ID) -> str:
    """A string as a message may quote it: itself when it may be stored, else escaped and cut."""
    if text_ok(text, limit):
        return text
    return ascii(text[:limit])
