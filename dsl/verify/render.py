"""The text `jixiao verify` prints: a table per scorecard, then the findings."""

from __future__ import annotations

import unicodedata

from dsl.verify.model import Report, Row


def width(text: str) -> int:
    """Columns a text takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, cols: int) -> str:
    return text + " " * max(cols - width(text), 0)


def table(card: str, title: str, rows: list[Row]) -> str:
    """One scorecard's table, grouped by section."""
    out = [f"scorecard {card} {title}".rstrip()]
    section = ""
    cols = [0, 0, 0]
    for r in rows:
        if r.section != section:
            section = r.section
            out.append(f"  {section}")
            mine = [x for x in rows if x.section == section]
            cols = [max(width(getattr(x, f)) for x in mine) for f in ("what", "value", "declared")]
        cells = [_pad(r.what, cols[0]), _pad(r.value, cols[1]), _pad(r.declared, cols[2]), r.how]
        out.append(("    " + "  ".join(cells)).rstrip())
    return "\n".join(out)


def render(report: Report, label: str) -> str:
    """Every scorecard's table of a ruleset."""
    prog = report.ctx.prog
    header = prog.header.name if prog.header is not None else ""
    parts = [f"== {label} · {header}".rstrip(" ·")]
    for card, rows in report.rows.items():
        decl = prog.scorecards.get(card)
        parts.append(table(card, decl.title or "" if decl else "", rows))
    return "\n\n".join(parts) + "\n"
