"""Reading one cell as the value a fact takes: what Excel stores, or what a person typed.

A cell holds what the reader gives: text, a float (Excel keeps every number as one), a bool, a
date or a datetime, or "" when empty. `read_cell` turns it into the JSON value of the column's
key (ids for enum titles and names, ISO text for dates, an exact Decimal for numbers) or says
why it cannot; the raw text is passed on then, so the fact's other problems are still found.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.excel.choices import QUARTER_TITLES
from app.excel.columns import Column

EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug kept)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_QUARTER = re.compile(r"^(\d{4})\s*(?:[Qq]\s*([1-4])|年\s*第?\s*([1-4一二三四])\s*季度?)$")
_YEAR = re.compile(r"^(\d{4})\s*(?:年度?)?$")
_CN_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}
# Excel shows 15 significant digits; a computed cell (=0.1+0.2) keeps 17 and reads as the
# 15 a person sees.
_SHOWN_DIGITS = 15


class CellError(ValueError):
    """A cell that cannot be read as its column's value; the message names what was there."""


def is_empty(v: Any) -> bool:
    """True for an empty cell (or one holding only spaces)."""
    return v is None or (isinstance(v, str) and not v.strip())


def text_of(v: Any) -> str:
    """A cell as text: whole numbers without `.0`, dates as ISO."""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else format(v, f".{_SHOWN_DIGITS}g")
    if isinstance(v, datetime) and v.time() == time():
        return v.date().isoformat()
    if isinstance(v, date | datetime | time):
        return v.isoformat()
    return str(v)


def read_cell(col: Column, v: Any) -> Any:
    """The JSON value of a non-empty cell for its column; CellError if it does not fit."""
    kind = col.kind
    if type(v) is str:  # the common cases first: a title, a name, an id, plain text
        choices = col.choices
        if choices is not None:
            got = choices.lookup.get(v)
            if got is not None:
                return got
        elif kind == "text":
            return v.strip()
    if kind in ("number", "integer"):
        return number(v)
    if kind == "date":
        return day(v)
    if kind == "period":
        return period(v)
    text = text_of(v)
    if col.choices is None:
        return text
    got = col.choices.resolve(text)
    if got is not None:
        return got
    shared = col.choices.shared.get(text)
    if shared:
        raise CellError(f"{text!r} is the name of {len(shared)}: {', '.join(shared)}; give the id")
    if kind == "enum":
        raise CellError(f"{text!r} is not one of {', '.join(col.choices.labels)}")
    return text  # an unknown subject or indicator: the validator words it


def number(v: Any) -> int | float | Decimal:
    """A number cell as JSON would carry it (a whole number as an int, else the float of the
    digits Excel shows), or numeric text (`97.5`, `１,234`) as an exact decimal."""
    if isinstance(v, bool | date | time | timedelta):
        raise CellError(f"expected a number, got {text_of(v)!r}")
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 2**53:
            return int(v)
        return float(format(v, f".{_SHOWN_DIGITS}g"))
    text = _plain(text_of(v)).replace(",", "").replace(" ", "")
    if text.endswith("%"):
        raise CellError(f"{text!r}: write the number without % (98.5, not 98.5%)")
    if not _NUMBER.match(text):
        raise CellError(f"expected a number, got {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as e:  # pragma: no cover - the pattern admits only decimals
        raise CellError(f"expected a number, got {text!r}") from e


def day(v: Any) -> str:
    """A date cell, an Excel serial number, or `2025-02-14`, `2025/2/14`, `2025年2月14日`."""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float | int) and not isinstance(v, bool):
        if float(v).is_integer() and 0 < v < 2958466:
            return (EXCEL_EPOCH + timedelta(days=int(v))).isoformat()
        raise CellError(f"expected a date, got {text_of(v)!r}")
    text = _plain(text_of(v))
    m = _DAY.match(text)
    if m is not None:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            pass
    raise CellError(f"expected a date such as 2025-02-14, got {text!r}")


def period(v: Any) -> str:
    """A period: `2025Q1`, `2025`, `2025年第一季度`, `2025年度`."""
    text = _plain(text_of(v))
    m = _QUARTER.match(text)
    if m is not None:
        q = m[2] or m[3]
        return f"{m[1]}Q{_CN_DIGITS.get(q, q)}"
    m = _YEAR.match(text)
    if m is not None:
        return m[1]
    raise CellError(f"expected a period such as 2025Q1 or 2025, got {text!r}")


def _plain(text: str) -> str:
    """Full-width digits and letters as ASCII (`２０２５Ｑ１` is 2025Q1)."""
    return unicodedata.normalize("NFKC", text)


def period_title(text: str) -> str:
    """`2025Q1` → `2025年第一季度`, `2025` → `2025年度`."""
    if "Q" in text:
        year, q = text.split("Q")
        return f"{year}年{QUARTER_TITLES[int(q) - 1]}"
    return f"{text}年度"
