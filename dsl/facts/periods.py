"""Periods: a year (`2025`) or a quarter (`2025Q1`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A year, or one quarter of it."""

    year: int
    quarter: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2025` → the year; `2025Q3` → its third quarter. Raises ValueError otherwise."""
        t = text.strip()
        if len(t) == 4 and t.isdigit():
            return cls(int(t))
        if len(t) == 6 and t[:4].isdigit() and t[4] == "Q" and t[5] in "1234":
            return cls(int(t[:4]), int(t[5]))
        raise ValueError(f"not a period: {text!r} (expected YYYY or YYYYQn)")

    @property
    def kind(self) -> str:
        """`quarter` or `year`."""
        return "year" if self.quarter is None else "quarter"

    def contains(self, d: date) -> bool:
        """True when the date falls in this period."""
        if d.year != self.year:
            return False
        return self.quarter is None or (d.month - 1) // 3 + 1 == self.quarter

    def first_day(self) -> date:
        """The first day of the period."""
        return date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    def last_day(self) -> date:
        """The last day of the period."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year, 12, 31)
        return date.fromordinal(date(self.year, 3 * self.quarter + 1, 1).toordinal() - 1)

    def quarters(self) -> tuple[Period, ...]:
        """The four quarters of this period's year."""
        return tuple(Period(self.year, q) for q in range(1, 5))

    def __str__(self) -> str:
        return f"{self.year}" if self.quarter is None else f"{self.year}Q{self.quarter}"
