"""Checks of names against an enum field's values: tables, `match` arms, compared names."""

from __future__ import annotations

from collections.abc import Sequence

from dsl.check.context import Ctx, head
from dsl.syntax import nodes as n
from dsl.syntax.errors import did_you_mean


def members(fd: n.FieldDecl) -> list[str]:
    """The values of an enum field, in declaration order."""
    return [v.id for v in fd.type.values]


def check_keys(
    ctx: Ctx,
    keys: Sequence[tuple[str, n.Span]],
    fd: n.FieldDecl,
    anchor: n.Span,
    codes: tuple[str, str],
    has_else: bool = False,
) -> None:
    """Keys must be values of `fd`, each once, and cover them all unless there is `else`."""
    values = members(fd)
    seen: set[str] = set()
    bad_code, short_code = codes
    for key, span in keys:
        where = head(span, len(key))
        if key in seen:
            ctx.report("E102", where, f"'{key}' appears twice")
        elif key not in values:
            hint = did_you_mean(key, values)
            ctx.report(
                bad_code,
                where,
                f"'{key}' is not a value of '{fd.name}'{hint}",
                f"'{fd.name}' is one of: {', '.join(values)}",
            )
        seen.add(key)
    missing = [v for v in values if v not in seen]
    if missing and not has_else:
        ctx.report(
            short_code,
            anchor,
            f"no entry for {', '.join(repr(m) for m in missing)} of '{fd.name}'",
        )


def check_table(ctx: Ctx, table: n.Table, fd: n.FieldDecl, anchor: n.Span) -> None:
    """A `by FIELD { key: number }` table: keys are the field's values; numbers positive."""
    keys = [(e.key, e.span) for e in table.entries]
    check_keys(ctx, keys, fd, anchor, ("E205", "E206"))
    for e in table.entries:
        if e.value.value <= 0:
            ctx.report("E312", e.value.span, f"'{e.key}' must be positive, not {e.value.text}")


def by_field(ctx: Ctx, fact: n.FactDecl, ref: n.Ref) -> n.FieldDecl | None:
    """The enum field that a `by FIELD` names, reporting an unknown or non-enum field."""
    fd = next((f for f in fact.fields if f.name == ref.name), None)
    if fd is None:
        ctx.unknown("E107", ref, "field", [f.name for f in fact.fields], fact.id)
        return None
    if not fd.type.is_enum:
        ctx.report("E212", ref.span, f"'{fact.id}.{fd.name}' is not an enum field")
        return None
    return fd
