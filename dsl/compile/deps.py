"""Dependencies between scorecards: references, joint-liability links, peer ranking."""

from __future__ import annotations

from collections.abc import Iterable

from dsl.compile.ir import CJoint, CScorecard
from dsl.syntax import nodes as n
from dsl.syntax.program import Program


def uses_rank(sc: n.Scorecard) -> bool:
    """True when some rule of the scorecard reads its peers (rank(), peer_mean())."""
    return any(
        isinstance(x, n.Call)
        and x.func in ("rank", "peer_mean", "peer_max", "peer_min", "share_of_best")
        for x in n.walk((sc.categories, sc.components))
    )


def scorecard_refs(sc: n.Scorecard, program: Program) -> set[str]:
    """Scorecards whose results this one reads (`S[...]` in it or in a table it reads)."""
    nodes = list(n.walk(sc))
    tables = {x.id for x in nodes if isinstance(x, n.Name) and x.id in program.tables}
    for t in sorted(tables):
        nodes.extend(n.walk(program.tables[t].key))
    found = {
        x.obj.id
        for x in nodes
        if isinstance(x, n.Index) and isinstance(x.obj, n.Name) and x.obj.id in program.scorecards
    }
    found.discard(sc.id)
    return found


def scorecard_deps(cards: dict[str, CScorecard], joints: tuple[CJoint, ...]) -> dict[str, set[str]]:
    """The scorecards each one reads: its references and the sources of links into it."""
    deps = {k: set(c.refs) for k, c in cards.items()}
    blocks = {j.id: j for j in joints}
    for j in joints:
        for link in j.links:
            if link.source_kind == "joint":
                # a chain reads another block's amounts: the results its imports read
                deps[j.into] |= _imports(blocks, link.source, set()) - {j.into}
            elif link.scorecard != j.into:
                deps[j.into].add(link.scorecard)
    return deps


def needed(
    cards: dict[str, CScorecard], joints: tuple[CJoint, ...], wanted: Iterable[str]
) -> frozenset[str]:
    """`wanted` with every scorecard their results read, directly or through others: what a
    focused evaluation (`evaluate(cards=...)`) scores."""
    deps = scorecard_deps(cards, joints)
    todo, out = list(wanted), set[str]()
    while todo:
        k = todo.pop()
        if k not in out:
            out.add(k)
            todo.extend(deps.get(k, ()))
    return frozenset(out)


def dependency_order(cards: dict[str, CScorecard], joints: tuple[CJoint, ...]) -> tuple[str, ...]:
    """Scorecards in dependency order (references and joint links first); ties by id."""
    deps = scorecard_deps(cards, joints)
    out: list[str] = []
    done: set[str] = set()

    def visit(k: str, stack: tuple[str, ...]) -> None:
        if k in done or k in stack:
            return
        for d in sorted(deps.get(k, ())):
            visit(d, (*stack, k))
        done.add(k)
        out.append(k)

    for k in sorted(cards):
        visit(k, ())
    return tuple(out)


def _imports(blocks: dict[str, CJoint], block: str, seen: set[str]) -> set[str]:
    """The scorecards whose results a block reads (`import`), itself or through its chains."""
    j = blocks.get(block)
    if j is None or block in seen:
        return set()
    seen.add(block)
    out = {lk.scorecard for lk in j.links if lk.source_kind == "deductions"}
    for lk in j.links:
        if lk.source_kind == "joint":
            out |= _imports(blocks, lk.source, seen)
    return out
