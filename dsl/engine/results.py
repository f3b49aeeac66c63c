"""Results of scoring: one per subject and scorecard, and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.compile.runtime import round_to
from dsl.engine.context import TraceLine
from dsl.syntax.errors import RuleRuntimeError

Number = Decimal | Fraction


@dataclass
class SubjectResult:
    """A subject's exact result on one scorecard for one period."""

    subject: str
    scorecard: str
    period: str
    kind: str  # "categories" | "components" | "annual" | "pool"
    parts: dict[str, Number] = field(default_factory=dict)
    indicators: dict[str, Number] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    # what each item gave, after its own caps (kept where an item table caps items)
    items: dict[str, Number] = field(default_factory=dict)
    # what each joint block passed, after its cap (kept where a block caps per year)
    joints: dict[str, Number] = field(default_factory=dict)
    # indicators (and categories) that do not apply to the subject (不涉及), left out
    not_applicable: list[str] = field(default_factory=list)
    base: Number | None = None
    bonus: Number | None = None
    penalty: Number | None = None
    joint: Number | None = None
    raw: Number | None = None
    final: Number | None = None
    rank: int | None = None
    n: int | None = None
    tier: str | None = None
    grade: str | None = None
    quarters: list[Decimal] | None = None
    trace: list[TraceLine] | None = None
    # why the final is missing (None while it is not)
    why_missing: str | None = None
    # amounts a pool gave the subject (`bonus_amount`), published beside its results
    amounts: dict[str, Number] = field(default_factory=dict)
    # a pool's own result: its group and shown values (numbers, counts, bands, or None)
    pool: dict[str, Any] = field(default_factory=dict)
    # a rule that failed on this subject's facts: the result is this error alone (`failed`)
    error: dict[str, Any] | None = None

    def fail(self, err: RuleRuntimeError) -> SubjectResult:
        """Makes this the error entry of a rule that failed on the subject's facts: no final,
        no rank nor band (the subject is left out of rankings, the error says why)."""
        span = err.span
        self.error = {
            "code": "R001",
            "at": f"{span.path}:{span.line}:{span.column}",
            "message": str(err),
            "facts": list(err.facts),
        }
        self.final = self.raw = None
        self.rank = self.n = None
        self.tier = self.grade = None
        self.why_missing = f"a rule failed, so left out of rankings: {err}"
        if "final" not in self.missing:
            self.missing.append("final")
        if self.trace is not None:
            self.trace.append(
                TraceLine("error", None, self.error["at"], list(err.facts), self.why_missing)
            )
        return self

    def as_json(self, places: int, mode: str) -> dict[str, Any]:
        """The published form: decimals as strings rounded to the ruleset's places."""

        def r(x: Number | None) -> str | None:
            return None if x is None else str(round_to(x, places, mode))

        out: dict[str, Any] = {"subject": self.subject, "scorecard": self.scorecard}
        if self.kind == "pool":
            for key, value in self.pool.items():
                out[key] = r(value) if isinstance(value, Decimal | Fraction) else value
            if self.error is not None:
                out["error"] = self.error
            return out
        out["final"] = r(self.final)
        if self.error is not None:
            out["error"] = self.error
        if self.kind == "annual":
            out["quarters"] = [r(q) for q in self.quarters or []]
        else:
            for key in ("base", "bonus", "penalty", "joint"):
                out[key] = r(getattr(self, key))
            if self.kind == "categories":
                out["categories"] = {k: r(v) for k, v in self.parts.items()}
                out["indicators"] = {k: r(v) for k, v in self.indicators.items()}
            else:
                out["components"] = {k: r(v) for k, v in self.parts.items()}
            out["missing"] = sorted(self.missing)
            if self.not_applicable:
                out["not_applicable"] = sorted(self.not_applicable)
        out["rank"] = self.rank
        out["tier"] = self.tier
        out["grade"] = self.grade
        for key, value in self.amounts.items():
            out[key] = r(value)
        return out
