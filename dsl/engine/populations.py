"""Who a sequence holds: units by kind, persons by their unit's kind, unions of sequences."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dsl.compile.ir import CSequence, CTable
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


# Whether a sequence's `where` admits a subject (in a period: it may read the subject's facts).
Admit = Callable[[CSequence, str], bool]


def part_of(
    seq: CSequence,
    org: Org,
    seqs: Mapping[str, CSequence],
    subject: str,
    admit: Admit | None = None,
) -> str | None:
    """The first part of a union that holds the subject (None: no part does); with `admit`,
    a part holds only the subjects its `where` admits."""
    for p in seq.parts:
        part = seqs[p]
        if holds(part, org, subject) and (admit is None or admit(part, subject)):
            return p
    return None


def members(
    seq: CSequence, org: Org, seqs: Mapping[str, CSequence], admit: Admit | None = None
) -> list[str]:
    """The subjects of a sequence, sorted by id; with `admit`, those its `where` admits."""
    pool = sorted(org.persons) if seq.subject == "person" else sorted(org.units)
    if seq.parts:
        return [s for s in pool if part_of(seq, org, seqs, s, admit) is not None]
    return [s for s in pool if holds(seq, org, s) and (admit is None or admit(seq, s))]


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


def table_keys(
    org: Org, tables: Mapping[str, CTable], seqs: Mapping[str, CSequence], source: str = "org"
) -> list[FactProblem]:
    """Persons whose attribute keys a table for their population, without a row for it."""
    problems = []
    for t in tables.values():
        if t.key_attr is None:
            continue
        seq = seqs.get(t.population) if t.population is not None else None
        rows = ", ".join(t.rows)
        for pid in sorted(org.persons):
            if seq is not None and not belongs(seq, org, seqs, pid):
                continue
            value = org.persons[pid].attrs.get(t.key_attr)
            who = f" for {seq.title or seq.id}" if seq is not None else ""
            if value is None:
                msg = f"required{who} by the table {t.title or t.id} (one of {rows})"
            elif value not in t.rows:
                msg = f"{value!r} is not in the table {t.title or t.id} ({rows})"
            else:
                continue
            problems.append(FactProblem(source, 0, pid, f"attrs.{t.key_attr}", msg))
    return problems


def belongs(seq: CSequence, org: Org, seqs: Mapping[str, CSequence], subject: str) -> bool:
    """Whether a sequence (a union or not) holds the subject."""
    if seq.parts:
        return part_of(seq, org, seqs, subject) is not None
    return holds(seq, org, subject)
