"""Sharing an amount over a group by weight, to a rounding unit, by the largest remainder.

Every money allocation a bureau makes (a bonus pool, a budget over departments) follows one rule:
each exact share is rounded down to the unit; the units left over go one each to the largest
remainders, ties broken by declared keys. The amounts then add up to the total exactly, and no
one's amount is more than one unit away from their exact share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

Number = Decimal | Fraction | int


class AllocationError(ValueError):
    """Weights or a unit that no allocation can use (a negative weight, a unit that is not > 0)."""


@dataclass(frozen=True)
class Share:
    """One member's part of an allocation, with every step that led to it."""

    subject: str
    weight: Fraction
    exact: Fraction  # total × weight / Σ weights
    down: Fraction  # the exact share rounded down to the unit
    remainder: Fraction  # exact − down
    extra: bool  # received one leftover unit
    amount: Fraction  # down (+ one unit)


@dataclass(frozen=True)
class Allocation:
    """An allocation over a group: each member's share, the leftover units and what was paid."""

    total: Fraction
    unit: Fraction
    weight_sum: Fraction
    shares: tuple[Share, ...]  # in the group's order
    leftover: int  # units given by largest remainder
    allocated: Fraction  # Σ amounts: the total, or 0 when every weight is 0

    def of(self, subject: str) -> Share:
        """The share of one member."""
        return next(s for s in self.shares if s.subject == subject)


def allocate(
    total: Number,
    weights: Mapping[str, Number],
    unit: Number,
    tie_key: Callable[[str], Sequence[Any]] = lambda s: (s,),
) -> Allocation:
    """Shares `total` in proportion to `weights`, to multiples of `unit`, by largest remainder.

    Equal remainders go in the order of `tie_key` (smallest first). A member of weight 0 gets 0
    and no leftover unit; when every weight is 0, nothing is paid.
    """
    p, u = Fraction(total), Fraction(unit)
    if u <= 0:
        raise AllocationError(f"the rounding unit must be above 0, not {unit}")
    ws = {s: Fraction(w) for s, w in weights.items()}
    negative = sorted(s for s, w in ws.items() if w < 0)
    if negative:
        raise AllocationError(f"negative weight for {', '.join(negative)}")
    wsum = sum(ws.values(), Fraction(0))
    if wsum == 0:
        zero = Fraction(0)
        shares = tuple(Share(s, w, zero, zero, zero, False, zero) for s, w in ws.items())
        return Allocation(p, u, wsum, shares, 0, zero)
    exact = {s: p * w / wsum for s, w in ws.items()}
    down = {s: (e // u) * u for s, e in exact.items()}
    # The units left over; fewer than the members whose share is not a whole number of units.
    leftover = int((p - sum(down.values(), Fraction(0))) // u)
    order = sorted(
        (s for s in ws if ws[s] > 0 and exact[s] != down[s]),
        key=lambda s: (-(exact[s] - down[s]), *tie_key(s)),
    )
    lucky = set(order[:leftover])
    shares = tuple(
        Share(
            s,
            ws[s],
            exact[s],
            down[s],
            exact[s] - down[s],
            s in lucky,
            down[s] + (u if s in lucky else 0),
        )
        for s in ws
    )
    return Allocation(p, u, wsum, shares, leftover, sum((x.amount for x in shares), Fraction(0)))
