"""Joint-liability links: the graph of scorecards they form is acyclic, and their targets exist
in every organisation the schema allows (a target the schema does not guarantee passes nothing
where it is missing, silently).
"""

from __future__ import annotations

from dsl.syntax import nodes as n
from dsl.verify.model import Report, Row


def cycles(rep: Report) -> None:
    """V501 for links whose scorecards pass liability around a cycle."""
    edges: dict[str, list[tuple[str, n.Link]]] = {}
    for j in rep.ctx.prog.joints.values():
        for link in j.links:
            if link.source_kind == "joint":
                continue  # chains of blocks: the checker proves them acyclic (E402)
            edges.setdefault(link.scorecard.name, []).append((j.into.name, link))
    reported: set[frozenset[str]] = set()
    for start in sorted(edges):
        path = _cycle(edges, start)
        if path is None or frozenset(c for c, _ in path) in reported:
            continue
        reported.add(frozenset(c for c, _ in path))
        shown = " -> ".join([start, *(c for c, _ in path)])
        rep.find("V501", path[0][1].span, f"joint liability flows in a cycle: {shown}")


def _cycle(
    edges: dict[str, list[tuple[str, n.Link]]], start: str
) -> list[tuple[str, n.Link]] | None:
    stack: list[tuple[str, list[tuple[str, n.Link]]]] = [(start, [])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt, link in edges.get(node, ()):
            if nxt == start:
                return [*path, (nxt, link)]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, (nxt, link)]))
    return None


def targets(rep: Report) -> None:
    """A row per link; V502 where the schema does not guarantee the target."""
    prog = rep.ctx.prog
    for j in prog.joints.values():
        into = prog.scorecards.get(j.into.name)
        seq = prog.sequences.get(into.sequence.name) if into is not None else None
        kinds = " | ".join(k.name for k in seq.kinds) if seq is not None and seq.kinds else "any"
        for link in j.links:
            what = f"link {link.id}: {link.scorecard.name} {link.source_kind} {link.source.name}"
            target = _target(rep, link, kinds, j.into.name)
            rep.row(j.into.name, Row("links", what, target, f"into {j.into.name}"))


def _target(rep: Report, link: n.Link, kinds: str, into: str) -> str:
    e = link.target
    if e is None:
        return f"the same subject, {link.scorecard.name}'s deductions imported"
    if isinstance(e, n.Call) and e.func == "attr" and e.args:
        arg = e.args[0].value
        ident = arg.id if isinstance(arg, n.Name) else ""
        return f"the {ident} named in the source subject's attributes, when given"
    if isinstance(e, n.Call) and e.func == "lead" and e.args:
        arg = e.args[0].value
        ident = arg.id if isinstance(arg, n.Name) else ""
        ind = rep.ctx.prog.indicator(ident)
        if ind is not None:
            if ind.lead is None:
                rep.find(
                    "V502",
                    e.span,
                    f"indicator {ind.id} has no lead: link '{link.id}' never passes anything",
                )
                return "nobody (no lead)"
            rep.find(
                "V502",
                e.span,
                f"the target of link '{link.id}' is unit "
                f"'{ind.lead.name}', the lead of {ind.id}: the organisation schema does not "
                f"guarantee a unit '{ind.lead.name}' of kind {kinds}",
                f"where the organisation lacks it, the link passes nothing to '{into}'",
            )
            return f"unit {ind.lead.name} (lead of {ind.id})"
        return f"the lead of the indicator in the fact's '{ident}' field, if it has one"
    if isinstance(e, n.Name):
        return f"the {e.id} named in the fact, when given"
    return "computed"
