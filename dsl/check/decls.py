"""Declarations: the header, organisation, sequences, fact types, tests, and duplicate ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dsl.check.context import Ctx, head
from dsl.check.exprs import Exprs
from dsl.check.scope import Scope
from dsl.check.scorecards import ROUND_MODES
from dsl.syntax import nodes as n
from dsl.syntax.errors import candidates_note, did_you_mean

FIELD_TYPES = ("number", "integer", "text", "date", "person", "unit", "indicator")
_KEYWORD = {
    n.SequenceDecl: "sequence",
    n.FactDecl: "fact type",
    n.Scorecard: "scorecard",
    n.ItemTable: "item table",
    n.Joint: "joint",
    n.TestDecl: "test",
    n.TableDecl: "table",
    n.PoolDecl: "pool",
}


def check_duplicates(ctx: Ctx) -> None:
    """A second declaration of an id (or a second header) is reported; the first one wins."""
    prog = ctx.prog
    kept: list[n.Decl | None] = [prog.header, prog.organisation]
    kept += [*prog.sequences.values(), *prog.facts.values(), *prog.scorecards.values()]
    kept += [*prog.item_tables.values(), *prog.joints.values(), *prog.tests.values()]
    kept += [*prog.tables.values(), *prog.pools.values()]
    # By position: a union sequence is kept with its subject resolved (a copy of the node).
    keep = {(type(d), d.span) for d in kept if d is not None}
    for decl in prog.decls():
        if (type(decl), decl.span) in keep:
            continue
        if isinstance(decl, n.RulesetDecl | n.OrganisationDecl):
            what = "ruleset header" if isinstance(decl, n.RulesetDecl) else "organisation"
            first = prog.header if isinstance(decl, n.RulesetDecl) else prog.organisation
            at = f" (the first is at {first.span})" if first is not None else ""
            ctx.report("E102", head(decl.span, len(what.split()[0])), f"a second {what}{at}")
            continue
        first_span = _first(prog, decl).span
        kind = _KEYWORD[type(decl)]
        msg = f"{kind} '{decl.id}' is already declared at {first_span}"
        ctx.report("E102", ctx.name_after(decl.span, decl.id), msg)
    seen: dict[str, tuple[str, n.Span]] = {}
    for card, _, ind in prog.indicators():
        owner, first_at = seen.setdefault(ind.id, (card.id, ind.span))
        if owner != card.id:  # twice in one scorecard is the scorecard's own finding
            where = ctx.name_after(ind.span, ind.id)
            ctx.report("E102", where, f"indicator '{ind.id}' is already declared at {first_at}")


def _first(prog: object, decl: n.Decl) -> n.Decl:
    table = {
        n.SequenceDecl: "sequences",
        n.FactDecl: "facts",
        n.Scorecard: "scorecards",
        n.ItemTable: "item_tables",
        n.Joint: "joints",
        n.TestDecl: "tests",
        n.TableDecl: "tables",
        n.PoolDecl: "pools",
    }[type(decl)]
    found: n.Decl = getattr(prog, table)[getattr(decl, "id")]  # noqa: B009
    return found


def check_header(ctx: Ctx) -> None:
    """The ruleset header must exist and give the year, periods and rounding."""
    h = ctx.prog.header
    if h is None:
        path = ctx.prog.modules[0].path if ctx.prog.modules else str(ctx.loaded.root)
        ctx.report("E301", n.Span(path, 1, 1, 1, 2), 'no `ruleset "..." { ... }` header')
        return
    where = head(h.span, len("ruleset"))
    for missing, what in ((h.year is None, "year"), (not h.periods, "periods")):
        if missing:
            ctx.report("E302", where, f"the ruleset header has no `{what}`")
    if h.round_mode is None:
        ctx.report("E302", where, "the ruleset header has no `round`", "write `round 2 half_up`")
    elif h.round_mode.name not in ROUND_MODES:
        ctx.unknown("E114", h.round_mode, "rounding mode", ROUND_MODES)
    folder = ctx.loaded.root if ctx.loaded.root.is_dir() else ctx.loaded.root.parent
    if h.year is not None and re.fullmatch(r"\d{4}", folder.name) and int(folder.name) != h.year:
        msg = f"the ruleset is for {h.year}, but its folder is named {folder.name}"
        ctx.report("W303", where, msg)


def check_organisation(ctx: Ctx, ex: Exprs) -> None:
    """Unit kinds and person attributes, each once; sequences over declared kinds."""
    org = ctx.prog.organisation
    if org is not None:
        _unique(ctx, [(k.id, k.span) for k in org.kinds], "unit kind")
        _unique(ctx, [(a.name, a.span) for a in org.attrs], "person attribute")
        _unique(ctx, [(a.name, a.span) for a in org.unit_attrs], "unit attribute")
        for a in (*org.attrs, *org.unit_attrs):
            check_field_type(ctx, a)
    kinds = [k.id for k in org.kinds] if org is not None else []
    for seq in ctx.prog.sequences.values():
        for ref in (*seq.kinds, *seq.under):
            if ref.name not in kinds:
                ctx.unknown("E110", ref, "unit kind", kinds)
        check_parts(ctx, seq)
        if seq.where is not None:
            v = ex.check(seq.where, Scope("sequence", seq.subject))
            ex.expect(v, "bool", seq.where.span, "'where'")


def check_parts(ctx: Ctx, seq: n.SequenceDecl) -> None:
    """The parts of a union: sequences (not unions themselves) of one kind of subject."""
    seqs = ctx.prog.sequences
    subjects = set()
    for ref in seq.parts:
        part = seqs.get(ref.name)
        if part is None or ref.name == seq.id:
            ctx.unknown("E105", ref, "sequence", [s for s in seqs if s != seq.id])
        elif part.parts:
            ctx.report("E201", ref.span, f"'{ref.name}' is a union itself; name its parts")
        else:
            ctx.used_sequences.add(ref.name)
            subjects.add(part.subject)
    if len(subjects) > 1:
        msg = f"the parts of '{seq.id}' mix units and persons"
        ctx.report("E208", seq.span, msg)
    _unique(ctx, [(p.name, p.span) for p in seq.parts], f"part of '{seq.id}'")


def check_persons(ctx: Ctx) -> None:
    """`persons A | B`: person sequences that together must hold every person."""
    org = ctx.prog.organisation
    for ref in org.persons if org is not None else ():
        seq = ctx.prog.sequences.get(ref.name)
        if seq is None:
            ctx.unknown("E105", ref, "sequence", ctx.prog.sequences)
        elif seq.subject != "person":
            ctx.report("E208", ref.span, f"sequence '{ref.name}' holds units, not persons")
        else:
            ctx.used_sequences.add(ref.name)


def check_facts(ctx: Ctx) -> None:
    """Fields of each fact type: unique, of known types, with sensible ranges."""
    for fact in ctx.prog.facts.values():
        _unique(ctx, [(f.name, f.span) for f in fact.fields], f"field of '{fact.id}'")
        for fd in fact.fields:
            check_field_type(ctx, fd)
        if fact.counts_in is not None and fact.kind != "dated":
            # a period value names its period: it cannot be moved to another
            msg = f"only dated facts count in the next open period; '{fact.id}' is a period value"
            ctx.report("E215", fact.span, msg)


def check_field_type(ctx: Ctx, fd: n.FieldDecl) -> None:
    """A field's type is known; a range only on numbers, and not empty."""
    t = fd.type
    if t.is_enum:
        _unique(ctx, [(v.id, v.span) for v in t.values], f"value of '{fd.name}'")
        return
    if t.name not in FIELD_TYPES:
        span = ctx.name_after(t.span, t.name or "", skip=0)
        ctx.unknown("E112", n.Ref(t.name or "", span), "field type", FIELD_TYPES)
    r = t.range
    if r is None:
        return
    if t.name != "number":
        ctx.report("E213", r.span, f"a range applies to numbers only, not to '{t.name}'")
    elif r.low is not None and r.high is not None and r.low > r.high:
        ctx.report("E213", r.span, f"empty range: {r.low} is above {r.high}")


def _unique(ctx: Ctx, names: list[tuple[str, n.Span]], what: str) -> None:
    seen: set[str] = set()
    for name, span in names:
        if name in seen:
            ctx.report("E102", head(span, len(name)), f"{what} '{name}' is declared twice")
        seen.add(name)


_NUMERIC_RESULTS = ("final", "base", "bonus", "penalty", "joint", "rank")


_MISSING_SHOWN = 3  # missing test files reported one by one; more are grouped


def check_tests(ctx: Ctx) -> None:
    """Files that tests name must exist beside the rule file; expectations name real results."""
    parts: set[str] = set()  # indicators, categories, components
    bands: dict[str, set[str]] = {"tier": set(), "grade": set()}
    for sc in ctx.prog.scorecards.values():
        parts.update(c.id for c in sc.categories)
        parts.update(c.id for c in sc.components)
        parts.update(i.id for c in sc.categories for i in c.indicators)
        for kind, spec in (("tier", sc.tiers), ("grade", sc.grades)):
            if spec is not None:
                bands[kind].update(b.id for b in spec.bands)
    for pool in ctx.prog.pools.values():
        # A pool's results (its group's shown values) and the amount on each member's.
        parts.update(("head_count", "amount", "allocated", pool.into.name))
        parts.update(s.name for s in pool.shows if s.name not in bands)
    missing: list[tuple[n.TestDecl, n.Str, Path]] = []
    for test in ctx.prog.tests.values():
        base = Path(test.span.path).parent
        for s in (test.org, test.facts, *test.expect_files):
            if s is not None and not (base / s.value).is_file():
                missing.append((test, s, base))
        subjects = _org_subjects(base / test.org.value) if test.org is not None else None
        if subjects is not None:
            # a pool's result per group is `GROUP-POOL` (hengshan-pool)
            pools = [p.id for p in ctx.prog.pools.values()]
            subjects |= {f"{s}-{p}" for s in subjects for p in pools}
        for e in test.expects:
            _check_expect(ctx, test, e, parts, bands)
            if subjects is not None and e.subject not in subjects:
                assert test.org is not None
                msg = f"test '{test.id}': no subject '{e.subject}' in '{test.org.value}'"
                note = candidates_note(e.subject, subjects, "subject")
                span = ctx.name_after(e.span, e.subject)
                msg += did_you_mean(e.subject, subjects)
                ctx.report("E314", span, msg, *([note] if note else []))
    _report_missing_files(ctx, missing)


def _report_missing_files(ctx: Ctx, missing: list[tuple[n.TestDecl, n.Str, Path]]) -> None:
    """E313 for each file a test names that does not exist; more than a few (a ruleset copied
    without the files its tests name) are grouped into one, so that they do not bury the
    ruleset's own errors: `18 files that tests name do not exist`, each path in a note."""
    if len(missing) <= _MISSING_SHOWN:
        for test, s, base in missing:
            ctx.report("E313", s.span, f"test '{test.id}': no file '{s.value}' in {base}")
        return
    missing.sort(key=lambda m: m[1].span)
    tests = {t.id for t, _, _ in missing}
    by_value: dict[tuple[str, str], list[str]] = {}
    for _, s, _ in missing:
        by_value.setdefault((s.span.path, s.value), []).append(str(s.span.line))
    notes = [
        f"'{value}' (line{'s' if len(lines) > 1 else ''} {', '.join(lines)} of {path})"
        for (path, value), lines in by_value.items()
    ]
    bases = sorted({str(base) for _, _, base in missing})
    notes.append(f"a test's paths are relative to its file's folder: {', '.join(bases)}")
    first = missing[0][1]
    msg = (
        f"{len(missing)} files that tests name do not exist ({len(tests)} tests); "
        "was the ruleset copied without them?"
    )
    ctx.report("E313", first.span, msg, *notes)


def _org_subjects(path: Path) -> set[str] | None:
    """The ids of the units and persons of an organisation file; None if it cannot be read
    (a test naming it then fails with the reason when it runs)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    ids = set()
    for key in ("units", "persons"):
        for record in raw.get(key) or ():
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                ids.add(record["id"])
    return ids


def _check_expect(
    ctx: Ctx, test: n.TestDecl, e: n.Expectation, parts: set[str], bands: dict[str, set[str]]
) -> None:
    known = [*_NUMERIC_RESULTS, "tier", "grade", *sorted(parts)]
    if e.field not in known:
        msg = f"test '{test.id}': no result '{e.field}'{did_you_mean(e.field, known)}"
        note = candidates_note(e.field, known, "result")
        ctx.report("E314", e.span, msg, *([note] if note else []))
        return
    value = e.value
    if e.field in bands:
        if not isinstance(value, n.Ref) or value.name not in bands[e.field]:
            names = sorted(bands[e.field])
            shown = value.name if isinstance(value, n.Ref) else value.text
            msg = f"test '{test.id}': no {e.field} '{shown}'{did_you_mean(shown, names)}"
            note = candidates_note(shown, names, e.field)
            ctx.report("E314", value.span, msg, *([note] if note else []))
    elif isinstance(value, n.Ref) and not (value.name == "missing" and e.field in parts):
        msg = f"test '{test.id}': {e.field} is a number" + (
            "; only an indicator, category or component can be `missing`"
            if value.name == "missing"
            else ""
        )
        ctx.report("E314", value.span, msg)
