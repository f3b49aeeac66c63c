"""Interval arithmetic over exact rationals, with infinite bounds, for range analysis of rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

INF = float("inf")
Bound = Fraction | float  # a float bound is always +inf or -inf


def _mul(a: Bound, b: Bound) -> Bound:
    if a == 0 or b == 0:
        return Fraction(0)
    return a * b


def _div(a: Bound, b: Bound) -> Bound | None:
    if isinstance(b, float):
        return None if isinstance(a, float) else Fraction(0)
    return a / b


@dataclass(frozen=True)
class Interval:
    """A closed hull [lo, hi] of the values an expression can take; lo may be -inf, hi +inf."""

    lo: Bound
    hi: Bound

    @staticmethod
    def point(value: Decimal | int) -> Interval:
        """The interval holding one number."""
        f = Fraction(value)
        return Interval(f, f)

    @staticmethod
    def of(lo: Decimal | None, hi: Decimal | None) -> Interval:
        """An interval from optional bounds (None: unbounded)."""
        return Interval(-INF if lo is None else Fraction(lo), INF if hi is None else Fraction(hi))

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.lo - other.hi, self.hi - other.lo)

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __mul__(self, other: Interval) -> Interval:
        corners = [_mul(a, b) for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(corners), max(corners))

    def __truediv__(self, other: Interval) -> Interval:
        if other.lo <= 0 <= other.hi:
            # Division by something that can be (or approach) zero: only the sign survives.
            if other.lo >= 0 and self.lo >= 0:
                return Interval(Fraction(0), INF)
            if other.lo >= 0 and self.hi <= 0:
                return Interval(-INF, Fraction(0))
            return TOP
        corners = [
            q
            for a in (self.lo, self.hi)
            for b in (other.lo, other.hi)
            if (q := _div(a, b)) is not None
        ]
        return Interval(min(corners), max(corners)) if corners else TOP

    def hull(self, other: Interval) -> Interval:
        """The smallest interval holding both."""
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def maximum(self, other: Interval) -> Interval:
        """The interval of max(x, y)."""
        return Interval(max(self.lo, other.lo), max(self.hi, other.hi))

    def minimum(self, other: Interval) -> Interval:
        """The interval of min(x, y)."""
        return Interval(min(self.lo, other.lo), min(self.hi, other.hi))

    def clip(self, lo: Bound, hi: Bound) -> Interval | None:
        """The part of this interval inside [lo, hi], or None if empty."""
        new_lo, new_hi = max(self.lo, lo), min(self.hi, hi)
        return Interval(new_lo, new_hi) if new_lo <= new_hi else None


TOP = Interval(-INF, INF)
NONNEG = Interval(Fraction(0), INF)


def show(b: Bound) -> str:
    """A bound as rule authors write numbers: 36, 32.5, 33.33, or 'no limit'."""
    if isinstance(b, float):
        return "no limit" if b > 0 else "-no limit"
    if b.denominator == 1:
        return str(b.numerator)
    d = Decimal(b.numerator) / Decimal(b.denominator)
    exact = d.normalize()
    if Fraction(exact) == b and -exact.as_tuple().exponent <= 4:  # type: ignore[operator]
        return format(exact, "f")
    return format(d.quantize(Decimal("0.01")), "f")
