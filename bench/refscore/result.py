"""A subject's exact result, rounding as published, and its JSON as `jixiao score` prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Exact = Fraction | int


def cents(x: Exact) -> int:
    """`x` in hundredths, rounded half up (away from zero on a tie), as published."""
    if isinstance(x, int):
        return x * 100
    return cents_of(x.numerator, x.denominator)


def cents_of(num: int, den: int) -> int:
    """num/den (den > 0) in hundredths, rounded half up."""
    q, r = divmod(abs(num) * 100, den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def show(c: int) -> str:
    """Hundredths as the JSON string Jixiao publishes ("86.93")."""
    a = abs(c)
    return f"{'-' if c < 0 else ''}{a // 100}.{a % 100:02d}"


@dataclass
class Result:
    """One subject on one scorecard in one period; figures in hundredths, already rounded."""

    subject: str
    card: str
    final: int | None
    base: int = 0
    bonus: int = 0
    penalty: int = 0
    joint: int = 0
    parts: dict[str, int] = field(default_factory=dict)
    indicators: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    quarters: list[int] | None = None  # a person's year: the published quarterly finals
    sort: tuple[int, ...] = ()  # rank keys, larger first
    rank: int | None = None
    tier: str | None = None
    grade: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The result as Jixiao's results JSON holds it."""
        out: dict[str, Any] = {"subject": self.subject, "scorecard": self.card}
        out["final"] = None if self.final is None else show(self.final)
        if self.quarters is not None:
            out["quarters"] = [show(q) for q in self.quarters]
        else:
            for key in ("base", "bonus", "penalty", "joint"):
                out[key] = show(getattr(self, key))
            if self.indicators:
                out["categories"] = {k: show(v) for k, v in self.parts.items()}
                out["indicators"] = {k: show(v) for k, v in self.indicators.items()}
            else:
                out["components"] = {k: show(v) for k, v in self.parts.items()}
            out["missing"] = sorted(self.missing)
        out["rank"], out["tier"], out["grade"] = self.rank, self.tier, self.grade
        return out


def rank_all(results: list[Result]) -> None:
    """Ranks by the sort keys (larger first); full ties share the best rank (1, 1, 3)."""
    ranked = sorted((r for r in results if r.final is not None), key=lambda r: r.sort, reverse=True)
    prev: tuple[int, ...] | None = None
    rank = 0
    for i, r in enumerate(ranked, 1):
        if r.sort != prev:
            rank, prev = i, r.sort
        r.rank = rank


def quota(share_pct: int, n: int) -> int:
    """round_half_up(share × n) for a share in percent."""
    q, r = divmod(share_pct * n, 100)
    return q + (1 if 2 * r >= 100 else 0)


def tiers(results: list[Result], vetoed: set[str]) -> None:
    """§2.3: first = top 30%, third = bottom 10%, the rest second; a veto puts a unit third."""
    n = sum(1 for r in results if r.final is not None)
    first, third = quota(30, n), quota(10, n)
    for r in results:
        if r.final is None or r.rank is None:
            continue
        if r.subject in vetoed:
            r.tier = "third"
        elif r.rank <= first:
            r.tier = "first"
        elif r.rank > n - third:
            r.tier = "third"
        else:
            r.tier = "second"


def published_order(results: list[Result]) -> list[Result]:
    """Jixiao's order within a scorecard: by rank (unranked last), then by subject."""
    return sorted(results, key=lambda r: (r.rank if r.rank is not None else 10**9, r.subject))
