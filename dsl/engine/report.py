"""Presenting an evaluation: the published JSON, an aligned table, and a subject's trace."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson

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


def json_text(doc: Any) -> str:
    """`json.dumps(doc, ensure_ascii=False, indent=1)`, the same text, made by orjson where the
    document holds only strings, integers, booleans, None, lists and dicts with string keys
    (the results' JSON does): the standard library's encoder runs in Python when indenting.

    orjson indents by two spaces: each line's indent is halved, deepest first (a string's line
    breaks are escaped, so every line break is the layout's; a NUL marks an indent already
    halved, as no string holds a raw one). Anything else, or what orjson refuses (an integer
    beyond 64 bits, a lone surrogate), is left to the standard library."""
    if _plain(doc):
        try:
            out = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
        except orjson.JSONEncodeError:
            pass
        else:
            depth = 1
            while b"\n" + b"  " * depth in out:
                depth += 1
            for d in range(depth - 1, 0, -1):
                out = out.replace(b"\n" + b"  " * d, b"\n" + b"\0" * d)
            return out.replace(b"\0", b" ").decode()
    return json.dumps(doc, ensure_ascii=False, indent=1)


def _plain(v: Any) -> bool:
    """True if `v` holds only what `json_text` gives to orjson (no float: NaN would be null)."""
    t = type(v)
    if t is str or t is int or v is None or t is bool:
        return True
    if t is dict:
        return all(type(k) is str for k in v) and all(map(_plain, v.values()))
    if t is list:
        return all(map(_plain, v))
    return False


def results_table(ev: Evaluation) -> str:
    """Results for people: one block per scorecard, aligned, by rank."""
    c = ev.compiled
    lines = [f"{c.name} · {ev.period} · digest {c.digest[:12]}"]
    by_card: dict[str, list[SubjectResult]] = {}
    for r in ev.results:
        by_card.setdefault(r.scorecard, []).append(r)
    for card, rows in by_card.items():
        if card in c.pools and rows[0].kind == "pool":
            lines.extend(
                _pool_table(c.pools[card].title or card, card, rows, c.places, c.round_mode)
            )
            continue
        title = c.scorecards[card].title or card
        lines.append("")
        lines.append(f"{card} {title}")
        amounts = sorted({k for r in rows for k in r.amounts})
        header = ["rank", "subject", "final", "base", "bonus", "penalty", "joint", "tier", "grade"]
        header += [*amounts, "missing"]
        table = [header]
        for r in rows:
            j = r.as_json(c.places, c.round_mode)
            table.append(
                [
                    "" if r.rank is None else str(r.rank),
                    r.subject,
                    *(j.get(k) or "" for k in header[2:-1]),
                    ",".join(j.get("missing") or []),
                ]
            )
        right = {0, 2, 3, 4, 5, 6, *range(9, 9 + len(amounts))}
        lines.extend(_aligned(table, right))
    return "\n".join(lines)


def _aligned(table: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    return [
        "  ".join(
            _pad(v, w, right=i in right) for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    ]


def _pool_table(
    title: str, card: str, rows: list[SubjectResult], places: int, mode: str
) -> list[str]:
    """A pool's results: one line per group, with what the pool shows and what it paid."""
    keys = [k for k in rows[0].pool if k not in ("group", "amount", "allocated")]
    table = [["group", *keys, "amount", "allocated"]]
    for r in rows:
        j = r.as_json(places, mode)
        table.append([str(j.get(k) if j.get(k) is not None else "—") for k in table[0]])
    return ["", f"{card} {title}", *_aligned(table, set(range(1, len(table[0]))))]


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
