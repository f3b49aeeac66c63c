"""Whole-ruleset findings: cycles between scorecards, and declarations nothing uses."""

from __future__ import annotations

from dsl.check.context import Ctx


def check_cycles(ctx: Ctx) -> None:
    """A scorecard must not depend on itself through links or `S[...]` references."""
    order = list(ctx.prog.scorecards)
    done: set[str] = set()
    for start in order:
        if start in done:
            continue
        cycle = _cycle_from(ctx, start)
        done.add(start)
        if cycle is None:
            continue
        done.update(cycle)
        path = " -> ".join([*cycle, cycle[0]])
        _, span = next(d for d in ctx.deps[cycle[0]] if d[0] == (cycle[1:] or cycle)[0])
        ctx.report("E401", span, f"scorecards depend on each other in a cycle: {path}")


def _cycle_from(ctx: Ctx, start: str) -> list[str] | None:
    """The shortest cycle through `start`, as a list of scorecards (breadth first)."""
    came: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for dep, _ in ctx.deps.get(node, ()):
                if dep == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came[path[-1]])
                    return path[::-1]
                if dep not in came and dep in ctx.prog.scorecards:
                    came[dep] = node
                    nxt.append(dep)
        frontier = nxt
    return None


def check_usage(ctx: Ctx) -> None:
    """Fact types, sequences and item tables that nothing uses; `unscored` facts that are."""
    for fact in ctx.prog.facts.values():
        name = ctx.name_after(fact.span, fact.id)
        used = ctx.used_facts.get(fact.id)
        if used is None and not fact.unscored:
            msg = f"fact type '{fact.id}' is not used by any rule, item, link or veto"
            ctx.report("W101", name, msg, "mark it `unscored` if it is only recorded")
        elif used is not None and fact.unscored:
            for span in used:
                ctx.report("W102", span, f"fact type '{fact.id}' is declared `unscored`")
    for seq in ctx.prog.sequences.values():
        if seq.id not in ctx.used_sequences:
            where = ctx.name_after(seq.span, seq.id)
            ctx.report("W103", where, f"sequence '{seq.id}' is not used by any scorecard")
    for table in ctx.prog.item_tables.values():
        if table.id not in ctx.used_tables:
            where = ctx.name_after(table.span, table.id)
            ctx.report("W104", where, f"item table '{table.id}' is not used by any scorecard")
    for t in ctx.prog.tables.values():
        if f"table:{t.id}" not in ctx.used_tables:
            where = ctx.name_after(t.span, t.id)
            ctx.report("W104", where, f"table '{t.id}' is not used by any rule or pool")
