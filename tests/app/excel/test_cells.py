"""Reading one cell: numbers, dates and periods as people and spreadsheets write them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.excel.cells import CellError, day, number, period, period_title, text_of


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        (97.5, "97.5"),
        (3.0, "3"),
        (0.1 + 0.2, "0.3"),  # a computed cell: the 15 digits Excel shows
        (86.93, "86.93"),
        (7, "7"),
        ("97.5", "97.5"),
        (" 98.50 ", "98.50"),
        ("１２３.５", "123.5"),
        ("1,234.5", "1234.5"),
        ("-2", "-2"),
    ],
)
def test_numbers_are_exact(cell: Any, want: str) -> None:
    got = number(cell)
    assert not isinstance(got, float) or len(repr(got)) <= 15  # read exactly as JSON is
    assert str(got) == want
    assert Decimal(str(got)) == Decimal(want)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("98.5%", "'98.5%': write the number without % (98.5, not 98.5%)"),
        ("九十", "expected a number, got '九十'"),
        (True, "expected a number, got 'TRUE'"),
        (date(2025, 1, 2), "expected a number, got '2025-01-02'"),
    ],
)
def test_not_numbers(cell: Any, message: str) -> None:
    with pytest.raises(CellError) as e:
        number(cell)
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        (date(2025, 2, 14), "2025-02-14"),
        (datetime(2025, 2, 14, 9, 30), "2025-02-14"),
        (45702.0, "2025-02-14"),  # the serial number of an unformatted date cell
        ("2025-02-14", "2025-02-14"),
        ("2025/2/14", "2025-02-14"),
        ("2025.2.14", "2025-02-14"),
        ("2025年2月14日", "2025-02-14"),
    ],
)
def test_dates(cell: Any, want: str) -> None:
    assert day(cell) == want


@pytest.mark.parametrize("cell", ["2025-13-01", "2025-02-30", "14/2/2025", 45702.5, "明天"])
def test_not_dates(cell: Any) -> None:
    with pytest.raises(CellError, match="expected a date"):
        day(cell)


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        ("2025Q1", "2025Q1"),
        ("2025q4", "2025Q4"),
        (2025.0, "2025"),
        ("2025", "2025"),
        ("2025年", "2025"),
        ("2025年度", "2025"),
        ("2025年第一季度", "2025Q1"),
        ("2025年3季度", "2025Q3"),
        ("２０２５Ｑ２", "2025Q2"),
    ],
)
def test_periods(cell: Any, want: str) -> None:
    assert period(cell) == want


def test_not_a_period() -> None:
    with pytest.raises(CellError) as e:
        period("2025Q5")
    assert str(e.value) == "expected a period such as 2025Q1 or 2025, got '2025Q5'"


def test_text_of_cells() -> None:
    assert text_of(1001.0) == "1001"
    assert text_of("（更正）") == "（更正）"  # full-width punctuation in text is kept as typed
    assert text_of(datetime(2025, 1, 1)) == "2025-01-01"
    assert period_title("2025Q3") == "2025年第三季度"
    assert period_title("2025") == "2025年度"
