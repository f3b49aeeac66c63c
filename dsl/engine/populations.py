"""Who a sequence holds: units by kind, persons by their unit's kind, unions of sequences."""

from __future__ import annotations

from collections.abc import Mapping

from dsl.compile.ir import CSequence
from dsl.facts.records import FactProblem, Org


def holds(seq: CSequence, org: Org, subject: str) -> bool:
    """Whether a subject belongs to a sequence that is not a union (before any `where`)."""
    if seq.subject == "person":
        person = org.persons.get(subject)
        if person is None:
            return False
        unit = org.units.get(person.unit)
        if seq.kinds and (unit is None or unit.kind not in seq.kinds):
            return False
    else:
        unit = org.units.get(subject)
        if unit is None or (seq.kinds and unit.kind not in seq.kinds):
            return False
    return not seq.under or org.ancestor(subject, *seq.under) is not None


def part_of(seq: CSequence, org: Org, seqs: Mapping[str, CSequence], subject: str) -> str | None:
    """The first part of a union that holds the subject (None: no part does)."""
    return next((p for p in seq.parts if holds(seqs[p], org, subject)), None)


def members(seq: CSequence, org: Org, seqs: Mapping[str, CSequence]) -> list[str]:
    """The subjects of a sequence, sorted by id."""
    pool = sorted(org.persons) if seq.subject == "person" else sorted(org.units)
    if seq.parts:
        return [s for s in pool if part_of(seq, org, seqs, s) is not None]
    return [s for s in pool if holds(seq, org, s)]


def describe(seq: CSequence, org: Org) -> str:
    """How a message names a sequence: its title and what it holds."""
    what = f"{seq.subject}s"
    if seq.kinds:
        what += " in " + " | ".join(sorted(seq.kinds))
    if seq.under:
        what += " under " + " | ".join(sorted(seq.under))
    return f"{seq.title or seq.id} ({what})" if seq.title else f"{seq.id} ({what})"


def unplaced(
    org: Org, parts: tuple[str, ...], seqs: Mapping[str, CSequence], source: str = "org"
) -> list[FactProblem]:
    """Persons in none of the sequences `persons` names, each with their unit and its kind."""
    if not parts:
        return []
    problems = []
    wanted = " or ".join(describe(seqs[p], org) for p in parts)
    for pid in sorted(org.persons):
        if any(holds(seqs[p], org, pid) for p in parts):
            continue
        person = org.persons[pid]
        unit = org.units.get(person.unit)
        where = f"'{person.unit}' ({unit.kind})" if unit else f"'{person.unit}' (no such unit)"
        msg = f"{person.name}'s unit {where} places them in none of: {wanted}"
        problems.append(FactProblem(source, 0, pid, "unit", msg))
    return problems
