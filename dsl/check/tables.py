"""Tables keyed by a value of the subject, tiers and grades read from results, and pools."""

from __future__ import annotations

from collections import Counter

from dsl.check import below
from dsl.check.bands import band_field
from dsl.check.context import Ctx, head
from dsl.check.enums import check_keys
from dsl.check.exprs import Exprs, card_subject
from dsl.check.intervals import NONNEG
from dsl.check.scope import NUMBER, Scope, Ty, Val
from dsl.syntax import nodes as n


def check_table(ex: Exprs, table: n.TableDecl) -> None:
    """The key, the population, the rows: keys once each, covering an enum key's values."""
    ctx = ex.ctx
    subject = None
    if table.population is not None:
        seq = ctx.prog.sequences.get(table.population.name)
        if seq is None:
            ctx.unknown("E105", table.population, "sequence", ctx.prog.sequences)
        else:
            ctx.used_sequences.add(seq.id)
            subject = seq.subject
    elif table.else_ is not None:
        ctx.report("E211", table.else_.span, "`else` gives the value outside `for SEQUENCE`")
    key = ex.check(table.key, Scope("table", subject))
    keys = [(r.key, r.span) for r in table.rows]
    if key.ty.kind == "enum" and key.ty.field is not None:
        where = head(table.span, len("table"))
        check_keys(ctx, keys, key.ty.field, where, ("E205", "E206"), table.else_ is not None)
    elif key.ty.kind not in ("text", "any"):
        msg = f"a table is keyed by a text or enum value, found {key.ty.show()}"
        ctx.report("E201", table.key.span, msg)
    else:
        seen: set[str] = set()
        for k, span in keys:
            if k in seen:
                ctx.report("E102", head(span, len(k)), f"'{k}' appears twice")
            seen.add(k)


def check_pool(ex: Exprs, pool: n.PoolDecl) -> None:
    """A pool over a scorecard's results: its group, shown values, amount, weight and ties."""
    ctx = ex.ctx
    card = ctx.prog.scorecards.get(pool.card.name)
    if card is None:
        ctx.unknown("E104", pool.card, "scorecard", ctx.prog.scorecards)
        return
    subject = card_subject(ctx, card)
    within = ex.check(pool.within, Scope("within", subject, card))
    ex.expect(within, "unit", pool.within.span, "'within'")
    env: dict[str, Val] = {
        "group": Val(Ty("unit"), inputs=Counter({"group": 1})),
        "n": Val(NUMBER, NONNEG, Counter({"n": 1})),
    }
    group = Scope("pool", subject, card, env)
    for show in pool.shows:
        if show.name in env:
            ctx.report("E102", head(show.span, 4), f"'{show.name}' is already a name of the pool")
        v = ex.check(show.value, group)
        env[show.name] = Val(v.ty, v.iv, Counter({show.name: 1}), v.source)
    ex.expect(ex.check(pool.amount, group), "number", pool.amount.span, "'amount'")
    member = Scope("band", subject, card, _member_env(ctx, card))
    ex.expect(ex.check(pool.weight, member), "number", pool.weight.span, "'weight'")
    if pool.unit.value <= 0:
        ctx.report("E312", pool.unit.span, f"the unit must be positive, not {pool.unit.text}")
    below.round_names(ctx, pool.id, pool.rounds, ["amount", *(s.name for s in pool.shows)])
    known = ["subject", *_member_env(ctx, card)]
    for key in pool.ties:
        if key.name.name not in known:
            ctx.unknown("E101", key.name, "result", known, card.id)
        elif key.name.name == "subject" and key.order == "desc":
            ctx.report("E211", key.span, "subject ids are compared ascending only")


def _member_env(ctx: Ctx, card: n.Scorecard) -> dict[str, Val]:
    """What a member's weight reads: its published results, rank and bands."""
    env = {x: Val(NUMBER, inputs=Counter({x: 1})) for x in ("final", "rank")}
    for kind in ("tier", "grade"):
        fd = band_field(card, kind)
        if fd is not None:
            env[kind] = Val(Ty("enum", None, fd), inputs=Counter({kind: 1}))
    return env
