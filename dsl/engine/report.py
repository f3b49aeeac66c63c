"""Presenting an evaluation: the published JSON, an aligned table, and a subject's trace."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.compile.runtime import round_to
from dsl.engine.evaluate import Evaluation
from dsl.engine.results import SubjectResult


def results_json(ev: Evaluation) -> dict[str, Any]:
    """`{"ruleset": {...}, "period": ..., "results": [...]}` with decimals as strings."""
    c = ev.compiled
    return {
        "ruleset": {"name": c.name, "year": c.year, "digest": c.digest},
        "period": str(ev.period),
        "results": [r.as_json(c.places, c.round_mode) for r in ev.results],
    }


def results_table(ev: Evaluation) -> str:
    """Results for people: one block per scorecard, aligned, by rank."""
    c = ev.compiled
    lines = [f"{c.name} · {ev.period} · digest {c.digest[:12]}"]
    by_card: dict[str, list[SubjectResult]] = {}
    for r in ev.results:
        by_card.setdefault(r.scorecard, []).append(r)
    for card, rows in by_card.items():
        title = c.scorecards[card].title or card
        lines.append("")
        lines.append(f"{card} {title}")
        header = [
            "rank",
            "subject",
            "final",
            "base",
            "bonus",
            "penalty",
            "joint",
            "tier",
            "grade",
            "missing",
        ]
        table = [header]
        for r in rows:
            j = r.as_json(c.places, c.round_mode)
            table.append(
                [
                    "" if r.rank is None else str(r.rank),
                    r.subject,
                    *(
                        j.get(k) or ""
                        for k in ("final", "base", "bonus", "penalty", "joint", "tier", "grade")
                    ),
                    ",".join(j.get("missing") or []),
                ]
            )
        widths = [max(_width(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            cells = [
                _pad(v, w, right=i in (0, 2, 3, 4, 5, 6))
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def _pad(s: str, w: int, right: bool) -> str:
    fill = " " * (w - _width(s))
    return fill + s if right else s + fill


def _show(v: Any, places: int, mode: str) -> str:
    if isinstance(v, Fraction):
        exact = f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator)
        return f"{round_to(v, places, mode)} (= {exact})" if v.denominator != 1 else exact
    if isinstance(v, Decimal):
        return str(v)
    return "—" if v is None else str(v)


def explain_json(ev: Evaluation, subject: str) -> dict[str, Any]:
    """A subject's results with their trace lines, JSON-ready."""
    c = ev.compiled
    out = []
    for r in ev.for_subject(subject):
        out.append(
            {**r.as_json(c.places, c.round_mode), "trace": [t.as_json() for t in r.trace or []]}
        )
    return {
        "ruleset": {"name": c.name, "year": c.year, "digest": c.digest},
        "period": str(ev.period),
        "subject": subject,
        "results": out,
    }


def explain_text(ev: Evaluation, subject: str) -> str:
    """A subject's trace, readable by a rule author: each value, its rule and its facts."""
    c = ev.compiled
    lines: list[str] = []
    for r in ev.for_subject(subject):
        j = r.as_json(c.places, c.round_mode)
        lines.append(
            f"{subject} · {r.scorecard} · {ev.period} · final {j['final']}"
            + (f" · rank {r.rank} of {r.n}" if r.rank is not None else "")
            + (f" · tier {r.tier}" if r.tier else "")
            + (f" · grade {r.grade}" if r.grade else "")
        )
        for t in r.trace or []:
            value = _show(t.value, c.places, c.round_mode)
            parts = [f"  {t.what:<48} {value}"]
            if t.where:
                parts.append(f"  [{t.where}]")
            if t.facts:
                parts.append(f"  facts: {', '.join(t.facts)}")
            if t.note:
                parts.append(f"  — {t.note}")
            lines.append("".join(parts))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
