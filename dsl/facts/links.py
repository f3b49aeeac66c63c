"""The checks across facts: what `supersedes` names, and one live value per subject and period."""

from __future__ import annotations

from collections.abc import Container, Set
from typing import Any

from dsl.facts.records import Fact, FactProblem


def link_problems(
    facts: list[Fact],
    single: Set[str],
    source: str,
    known: Container[str],
    rejected: dict[str, int],
    ids: set[str] | None = None,
    in_order: bool = False,
) -> list[FactProblem]:
    """`supersedes` names a fact (of the file, `known` elsewhere, or `rejected`) of the same
    type and subject, never itself nor a fact that corrects it in turn (a cycle); with
    `in_order` (facts to record one after the other), never a fact after it. At most one live
    fact of each type in `single` per subject and period. `ids` are the facts' ids, when the
    caller has them."""
    problems: list[FactProblem] = []
    ids = {f.id for f in facts} if ids is None else ids
    correcting = [f for f in facts if f.supersedes is not None]
    # The position of each fact a correction touches (the corrections and what they name):
    # following `supersedes` (`_cycle`) only ever meets these, and a million facts with a few
    # thousand corrections need no entry for the rest (a dict of them all took ~100 MB).
    touched = {f.supersedes for f in correcting} | {f.id for f in correcting}
    where = {f.id: (i, f) for i, f in enumerate(facts) if f.id in touched} if correcting else {}
    for f in correcting:
        # A correction of a fact that was itself rejected stands: it is what was meant.
        target = f.supersedes
        if target == f.id:
            why = "a fact cannot supersede itself"
            problems.append(FactProblem(source, f.line, f.id, "supersedes", why))
        elif target in ids:
            i, old = where[target]
            if in_order and i > where[f.id][0]:
                why = (
                    f"'{target}' comes later (line {old.line}): a correction must come after "
                    "the fact it corrects"
                )
                problems.append(FactProblem(source, f.line, f.id, "supersedes", why))
            elif _cycle(f, where):
                why = f"'{target}' corrects this fact in turn: corrections may not form a cycle"
                problems.append(FactProblem(source, f.line, f.id, "supersedes", why))
            else:
                problems.extend(same_kind(f, old.type, old.subject, source))
        elif not (target in known or target in rejected):
            why = f"names no fact: {target!r}"
            problems.append(FactProblem(source, f.line, f.id, "supersedes", why))
    dead = {f.supersedes for f in correcting}
    seen: dict[tuple[str, str, Any], Fact] = {}
    for f in [f for f in facts if f.type in single and f.id not in dead]:
        key = (f.type, f.subject, f.period)
        other = seen.setdefault(key, f)
        if other is not f:
            why = (
                f"a second live {f.type} for {f.subject} in {f.period} (the other is "
                f"{other.id} on line {other.line}); supersede it instead"
            )
            problems.append(FactProblem(source, f.line, f.id, "period", why))
    return problems


def _cycle(f: Fact, where: dict[str, tuple[int, Fact]]) -> bool:
    """True when following `supersedes` from `f` through the facts leads back to it."""
    seen = {f.id}
    cur = f.supersedes
    while cur is not None and cur in where:
        if cur in seen:
            return cur == f.id
        seen.add(cur)
        cur = where[cur][1].supersedes
    return False


def same_kind(f: Fact, ftype: str, subject: str, source: str) -> list[FactProblem]:
    """A correction keeps the type and subject of the fact it corrects (it says what that fact
    should have said): the problem if `f` does not."""
    out = []
    if f.type != ftype:
        why = f"a correction keeps the type of the fact it corrects ({ftype}), not {f.type}"
        out.append(FactProblem(source, f.line, f.id, "type", why))
    if f.subject != subject:
        why = f"a correction keeps the subject of the fact it corrects ({subject}), not {f.subject}"
        out.append(FactProblem(source, f.line, f.id, "subject", why))
    return out
