"""Tiers and grades: quotas for every head count n, bands that can be reached, and ties.

A band's condition is evaluated for each rank r and head count n with three-valued logic:
`rank`, `n` and `quota(P)` are known; anything else (`final >= 85`, a count of facts) may be
either, so a band is reachable where its condition may hold before any earlier band surely
holds. A band's quota at n is the number of ranks its rank conditions allow.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from dsl.compile.runtime import round_int
from dsl.syntax import nodes as n

MAX_N = 200
Tri = bool | None  # True, False, or unknown
_UNKNOWN = object()


def quota(p: Decimal, heads: int, mode: str) -> int:
    """P × n rounded to a whole number as the bands declare, by the engine's own rounding."""
    return round_int(p * heads, mode)


class Cond:
    """A band condition as a function of rank and head count."""

    def __init__(self, expr: n.Expr | None, mode: str) -> None:
        self.expr, self.mode = expr, mode
        self.uses_quota = expr is not None and any(
            isinstance(x, n.Call) and x.func == "quota" for x in n.walk(expr)
        )

    def holds(self, rank: int, heads: int, rank_only: bool = False) -> Tri:
        """Whether the condition holds for this rank and n (None: it depends on more)."""
        if self.expr is None:
            return True
        v = self._eval(self.expr, rank, heads, rank_only)
        return v if isinstance(v, bool) else None

    def _eval(self, e: n.Expr, r: int, heads: int, rank_only: bool) -> object:
        if isinstance(e, n.Num):
            return Fraction(e.value)
        if isinstance(e, n.Name) and e.id in ("rank", "n"):
            return Fraction(r if e.id == "rank" else heads)
        if isinstance(e, n.Call) and e.func == "quota" and isinstance(e.args[0].value, n.Num):
            return Fraction(quota(e.args[0].value.value, heads, self.mode))
        if isinstance(e, n.Binary):
            a = self._eval(e.left, r, heads, rank_only)
            b = self._eval(e.right, r, heads, rank_only)
            return _binary(e.op, a, b, rank_only)
        if isinstance(e, n.Unary) and e.op == "not":
            v = self._eval(e.operand, r, heads, rank_only)
            return (not v) if isinstance(v, bool) else _UNKNOWN
        return _UNKNOWN


def _binary(op: str, a: object, b: object, rank_only: bool) -> object:
    if op == "and":
        if a is False or b is False:
            return False
        return True if a is True and b is True else (True if rank_only else _UNKNOWN)
    if op == "or":
        if a is True or b is True:
            return True
        return False if a is False and b is False else _UNKNOWN
    if not isinstance(a, Fraction) or not isinstance(b, Fraction):
        return _UNKNOWN
    if op in ("+", "-", "*"):
        return a + b if op == "+" else a - b if op == "-" else a * b
    compare = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}
    return compare.get(op, _UNKNOWN)


def overfull(bands: n.Bands) -> tuple[int, list[tuple[str, int]]] | None:
    """The smallest n at which the bands' quotas add up to more than n, with each quota."""
    conds = [(b.id, Cond(b.cond, bands.round_mode.name)) for b in bands.bands]
    quota_bands = [(bid, c) for bid, c in conds if c.uses_quota]
    for heads in range(1, MAX_N + 1):
        counts = [
            (bid, sum(c.holds(r, heads, rank_only=True) is not False for r in range(1, heads + 1)))
            for bid, c in quota_bands
        ]
        if sum(k for _, k in counts) > heads:
            return heads, counts
    return None


def reachable(bands: n.Bands, vetoed: set[str]) -> dict[str, bool]:
    """For each band, whether some subject at some n up to 200 can get it."""
    conds = [(b.id, Cond(b.cond, bands.round_mode.name)) for b in bands.bands]
    seen = {bid: bid in vetoed for bid, _ in conds}
    for heads in range(1, MAX_N + 1):
        for r in range(1, heads + 1):
            for bid, c in conds:
                got = c.holds(r, heads)
                if got is not False:
                    seen[bid] = True
                if got is True:
                    break
        if all(seen.values()):
            break
    return seen


def ties(card: n.Scorecard) -> str:
    """Where ranking leaves ties: the keys that must all be equal for two subjects to tie (per
    period kind where `rank quarter ...` and `rank year ...` differ)."""
    if not card.ranks:
        return "not ranked"
    said = []
    for spec in card.ranks:
        keys = ", ".join(k.name.name for k in spec.keys)
        kind = f"{spec.period}s: " if spec.period is not None and len(card.ranks) > 1 else ""
        said.append(f"{kind}subjects equal in {keys} share a rank (1, 1, 3): not total")
    return "; ".join(said)
