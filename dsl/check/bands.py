"""Values the checker knows of tables and of other scorecards' tiers and grades."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from dsl.check.context import Ctx
from dsl.check.intervals import Interval
from dsl.check.scope import ANY, NUMBER, Ty, Val
from dsl.syntax import nodes as n


def band_field(card: n.Scorecard, kind: str) -> n.FieldDecl | None:
    """The tiers (grades) of a scorecard as an enum, so tables and `match` can name them."""
    bands = card.tiers if kind == "tier" else card.grades
    if bands is None:
        return None
    values = tuple(n.EnumValue(b.id, None) for b in bands.bands)
    return n.FieldDecl(f"{card.id}.{kind}", n.FieldType(None, values, None, False))


def band_val(ctx: Ctx, card: n.Scorecard, kind: str, span: n.Span) -> Val:
    """`S[x].tier`: the band of another scorecard's result (missing where it has none)."""
    fd = band_field(card, kind)
    if fd is None:
        ctx.report("E115", span, f"scorecard '{card.id}' has no {kind}s")
        return Val(ANY)
    return Val(Ty("enum", None, fd), inputs=Counter({f"{card.id}.{kind}": 1}))


def table_val(ctx: Ctx, table: n.TableDecl) -> Val:
    """A table's value for a subject: within the hull of its rows (and `else`)."""
    ctx.used_tables.add(f"table:{table.id}")
    values = [r.value.value for r in table.rows]
    if table.else_ is not None:
        values.append(table.else_.value)
    if not values:
        return Val(NUMBER, inputs=Counter({f"table:{table.id}": 1}))
    iv = Interval(Fraction(min(values)), Fraction(max(values)))
    return Val(NUMBER, iv, Counter({f"table:{table.id}": 1}))
