"""A ruleset diff as text for a terminal and as a markdown report an auditor can file."""

from __future__ import annotations

from dsl.audit.diff_model import Change, Detail, RulesetDiff, SideInfo

_NONE = "(none)"


def _v(text: str | None) -> str:
    return _NONE if text is None else text


def _multiline(c: Change) -> bool:
    return "\n" in (c.old or "") or "\n" in (c.new or "") or c.attr == "rule"


def detail_text(d: Detail) -> str:
    """`17 → 12 in max(17, ...)`, `provincial: 3 → 2`, `quota 25% → 30% in quota(25%)`."""
    head = "" if d.key == "number" else f"{d.key}: "
    where = f" in {d.context}" if d.context else ""
    return f"{head}{_v(d.old)} → {_v(d.new)}{where}"


def headline(c: Change) -> str:
    """One line: what happened to which thing, and where."""
    if c.op == "added":
        return f"added    {c.where}  [{c.new_at}]"
    if c.op == "removed":
        return f"removed  {c.where}  [{c.old_at}]"
    places = f"  [{_v(c.old_at)} → {_v(c.new_at)}]"
    if _multiline(c):
        return f"{c.op:<8} {c.where}: {c.attr}{places}"
    return f"{c.op:<8} {c.where}: {c.attr} {_v(c.old)} → {_v(c.new)}{places}"


def _side(label: str, s: SideInfo) -> str:
    year = "" if s.year is None else f", year {s.year}"
    return f"{label} {s.source}: {s.name}{year}, digest {s.digest[:12]}"


def diff_text(d: RulesetDiff) -> str:
    """The diff for a terminal: one headline per change, rule texts indented below it."""
    lines = [_side("from", d.old), _side("to  ", d.new)]
    lines.append(f"{len(d.changes)} change(s)" if d.changes else "no changes of meaning")
    for c in d.changes:
        lines.append(headline(c))
        if _multiline(c):
            for label, text in (("old", c.old), ("new", c.new)):
                body = _v(text).split("\n")
                lines.append(f"           {label}: {body[0]}")
                lines.extend(f"                {x}" for x in body[1:])
        if c.details:
            lines.append("           numbers: " + "; ".join(detail_text(x) for x in c.details))
        if c.note:
            lines.append(f"           note: {c.note}")
    return "\n".join(lines) + "\n"


def _cell(text: str | None) -> str:
    return _v(text).replace("|", "\\|").replace("\n", "<br>")


def _code(text: str | None) -> str:
    return _NONE if text is None else "`" + text.replace("`", "'") + "`"


def diff_markdown(d: RulesetDiff) -> str:
    """A self-contained markdown report: both rulesets, a table of changes, the rule texts."""
    out = [f"# Rule changes: `{d.old.source}` → `{d.new.source}`", ""]
    out += ["| | from | to |", "|---|---|---|"]
    out.append(f"| ruleset | {_cell(d.old.name)} | {_cell(d.new.name)} |")
    out.append(f"| year | {d.old.year or ''} | {d.new.year or ''} |")
    out.append(f"| source | `{d.old.source}` | `{d.new.source}` |")
    out.append(f"| digest | `{d.old.digest}` | `{d.new.digest}` |")
    out.append("")
    if not d.changes:
        out.append("No changes of meaning: the two rulesets score every input alike.")
        return "\n".join(out) + "\n"
    out += [f"{len(d.changes)} change(s). Positions are `file:line`.", ""]
    out += ["| # | change | where | what changed | old | new | at (old → new) |"]
    out += ["|---|---|---|---|---|---|---|"]
    for i, c in enumerate(d.changes, 1):
        old = "see below" if _multiline(c) else _cell(c.old)
        new = "see below" if _multiline(c) else _cell(c.new)
        if c.op in ("added", "removed"):
            old = new = ""
        at = f"{_cell(c.old_at)} → {_cell(c.new_at)}"
        out.append(
            f"| {i} | {c.op} | {_cell(c.where)} | {c.attr or c.what} | {old} | {new} | {at} |"
        )
    texts = [(i, c) for i, c in enumerate(d.changes, 1) if _multiline(c) or c.details or c.note]
    if texts:
        out += ["", "## Details"]
    for i, c in texts:
        out += ["", f"### {i}. {c.where}: {c.attr}", ""]
        if _multiline(c):
            for label, text, place in (("Old", c.old, c.old_at), ("New", c.new, c.new_at)):
                out += [f"{label} ({_code(place)}):", "", "```", _v(text), "```", ""]
        for x in c.details:
            out.append(f"- {_code(x.old)} → {_code(x.new)}" + _detail_where(x))
        if c.note:
            out.append(f"- {c.note}")
    return "\n".join(out).rstrip("\n") + "\n"


def _detail_where(x: Detail) -> str:
    key = "" if x.key == "number" else f" ({x.key})"
    return key + (f" in {_code(x.context)}" if x.context else "")
