"""An impact report as text for a terminal and as a markdown report an auditor can file."""

from __future__ import annotations

from decimal import Decimal

from dsl.audit.diff_render import headline
from dsl.audit.impact_report import (
    ImpactReport,
    Standing,
    SubjectImpact,
    by_scorecard,
    gains,
    step_totals,
)
from dsl.engine.report import _pad, _width


def _signed(d: Decimal | None) -> str:
    return "" if d is None else (f"+{d}" if d > 0 else str(d))


def _band(s: Standing | None) -> str:
    if s is None:
        return ""
    return s.tier or s.grade or ""


def _row(s: SubjectImpact) -> list[str]:
    def cell(st: Standing | None, what: str) -> str:
        v = None if st is None else getattr(st, what)
        return "" if v is None else str(v)

    return [
        s.subject,
        s.scorecard,
        cell(s.old, "final"),
        cell(s.new, "final"),
        _signed(s.delta),
        cell(s.old, "rank"),
        cell(s.new, "rank"),
        _band(s.old),
        _band(s.new),
        "moved" if s.moved else "",
    ]


_HEAD = ["subject", "card", "old", "new", "change", "rank", "→", "tier/grade", "→", ""]
_RIGHT = {2, 3, 4, 5, 6}


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            _pad(v, w, i in _RIGHT) for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def _summary_lines(r: ImpactReport) -> list[str]:
    lines = [f"{sum(s.moved for s in r.subjects)} subject(s) moved tier or grade"]
    for card, info in by_scorecard(r.subjects).items():
        lines.append(
            f"{card}: {info['subjects']} subject(s), mean change {info['mean_change']}, "
            f"{info['moved']} moved"
        )
    for label, sign in (("largest gains", 1), ("largest losses", -1)):
        top = gains(r.subjects, sign)[:3]
        if top:
            shown = ", ".join(f"{s.subject} ({s.scorecard}) {_signed(s.delta)}" for s in top)
            lines.append(f"{label}: {shown}")
    for side, counts in r.unknown.items():
        if counts:
            shown = ", ".join(f"{t} ×{c}" for t, c in counts.items())
            lines.append(f"facts of types the '{side}' ruleset does not declare, left out: {shown}")
    for side, problems in r.invalid.items():
        if problems:
            lines.append(f"invalid facts skipped under '{side}': {len(problems)}")
    return lines


def one_side_lines(r: ImpactReport) -> list[str]:
    """Subjects that only one of the rulesets can score, grouped by why the other cannot."""
    lines: list[str] = []
    for side, _other in (("to", "from"), ("from", "to")):
        source = r.diff.new.source if side == "to" else r.diff.old.source
        other_source = r.diff.old.source if side == "to" else r.diff.new.source
        by_why: dict[str, list[str]] = {}
        for s, why in r.one_side(side):
            by_why.setdefault(why, []).append(f"{s.subject} ({s.scorecard})")
        for why, subjects in by_why.items():
            lines.append(
                f"scored only under {source}: {', '.join(subjects)} — {other_source} cannot "
                f"score them: {why}"
            )
    return lines


def pool_lines(r: ImpactReport) -> list[str]:
    """The pools of each side: what each group shares and what was paid."""
    lines: list[str] = []
    for side in ("from", "to"):
        source = r.diff.old.source if side == "from" else r.diff.new.source
        for subject, j in r.pools.get(side, []):
            shown = ", ".join(
                f"{k} {'—' if v is None else v}"
                for k, v in j.items()
                if k not in ("subject", "scorecard")
            )
            lines.append(f"pool under {source}: {subject}: {shown}")
    return lines


def _attribution_lines(r: ImpactReport) -> list[str]:
    if not r.attributed:
        return []
    lines = ["", "each change applied alone on top of the old rules:"]
    for st in step_totals(r):
        nums = ", ".join(f"#{i}" for i in st["changes"])
        what = st["error"] or f"{st['subjects']} subject(s), total {_signed(Decimal(st['total']))}"
        label = " with ".join([st["label"], *st["together_with"]])
        lines.append(f"  {label} ({nums}): {what}")
    if r.loose:
        lines.append("  not isolated: " + ", ".join(f"#{i}" for i in r.loose))
    for s in r.subjects:
        if not s.steps and not s.interaction:
            continue
        parts = [f"{_label(r, k)} {_signed(v)}" for k, v in s.steps.items()]
        if s.interaction:
            parts.append(f"interaction {_signed(s.interaction)}")
        lines.append(f"  {s.subject} ({s.scorecard}) {_signed(s.delta)} = " + "; ".join(parts))
    if any(s.interaction for s in r.subjects):
        lines.append("  (interaction: the changes together do not add up to each one alone)")
    return lines


def _label(r: ImpactReport, step_id: str) -> str:
    for res in r.steps:
        if res.step.id == step_id:
            return res.step.label
    return step_id


def impact_text(r: ImpactReport) -> str:
    """The comparison for a terminal: the subjects by size of change, then the summary."""
    d = r.diff
    lines = [
        f"impact {d.old.source} → {d.new.source} · {r.period}",
        f"digests {d.old.digest[:12]} → {d.new.digest[:12]}",
        f"{len(d.changes)} rule change(s):",
        *(f"  #{i} {headline(c)}" for i, c in enumerate(d.changes, 1)),
        "",
    ]
    lines += _table([_HEAD, *(_row(s) for s in r.subjects)])
    lines += ["", *_summary_lines(r), *one_side_lines(r), *pool_lines(r), *_attribution_lines(r)]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def impact_markdown(r: ImpactReport) -> str:
    """A self-contained markdown report of the comparison."""
    d = r.diff
    out = [f"# Impact of the rule changes: `{d.old.source}` → `{d.new.source}`, {r.period}", ""]
    out += [f"- from: {d.old.name} (`{d.old.digest}`)", f"- to: {d.new.name} (`{d.new.digest}`)"]
    out += ["", "## Rule changes", ""]
    out += [f"{i}. {_md(headline(c))}" for i, c in enumerate(d.changes, 1)] or ["None."]
    out += ["", "## Subjects, by size of change", ""]
    out += ["| subject | scorecard | old final | new final | change | old rank | new rank "]
    out[-1] += "| old tier/grade | new tier/grade | moved |"
    out.append("|---|---|---:|---:|---:|---:|---:|---|---|---|")
    out += ["| " + " | ".join(_md(c) for c in _row(s)) + " |" for s in r.subjects]
    summary = [*_summary_lines(r), *one_side_lines(r), *pool_lines(r)]
    out += ["", "## Summary", "", *(f"- {_md(x)}" for x in summary)]
    attribution = _attribution_lines(r)
    if attribution:
        out += ["", "## Attribution", "", *(f"- {_md(x.strip())}" for x in attribution[2:])]
    return "\n".join(out) + "\n"
