"""Facts for one ruleset of a comparison: those of a type it does not declare are set aside.

The two rulesets of a comparison may not declare the same fact types (2024 scores
`info_adopted`; a later ruleset may not declare it at all). Such facts are counted by type
and left out of that ruleset's scoring, never silently and never failing the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsl.facts.records import Fact, FactProblem, InputError, Org
from dsl.facts.validate import FactSchema, validate_facts


@dataclass
class FactsFor:
    """The facts one ruleset scores, those set aside by type, and any other problems."""

    facts: list[Fact]
    unknown: dict[str, int] = field(default_factory=dict)
    problems: list[FactProblem] = field(default_factory=list)


def facts_for(
    records: Sequence[tuple[int, Any]],
    schema: FactSchema,
    org: Org,
    source: str,
    skip_invalid: bool,
    unreadable: Sequence[FactProblem] = (),
) -> FactsFor:
    """Validates with one ruleset; facts whose only problem is an unknown type are counted."""
    first = validate_facts(records, schema, org, source)
    problem_fields: dict[int, set[str]] = {}
    for p in first.problems:
        problem_fields.setdefault(p.line, set()).add(p.field)
    unknown: Counter[str] = Counter()
    dropped_lines: set[int] = set()
    dropped_ids: set[str] = set()
    for line, raw in records:
        ftype = raw.get("type")
        only_type = problem_fields.get(line) == {"type"}
        if isinstance(ftype, str) and ftype not in schema.types and only_type:
            unknown[ftype] += 1
            dropped_lines.add(line)
            if isinstance(raw.get("id"), str):
                dropped_ids.add(raw["id"])
    if dropped_lines:
        kept = [(line, raw) for line, raw in records if line not in dropped_lines]
        checked = validate_facts(kept, schema, org, source, known=dropped_ids)
    else:
        checked = first
    problems = sorted([*unreadable, *checked.problems], key=lambda p: (p.line, p.field))
    if problems and not skip_invalid:
        raise InputError("facts (nothing was scored; --skip-invalid scores the rest)", problems)
    return FactsFor(checked.facts, dict(sorted(unknown.items())), problems)


FactSource = Callable[[FactSchema, bool], FactsFor]
"""Gives the facts one ruleset scores; the flag asks to set invalid facts aside, not fail."""


def file_facts(
    records: Sequence[tuple[int, Any]],
    org: Org,
    source: str,
    skip_invalid: bool = False,
    unreadable: Sequence[FactProblem] = (),
) -> FactSource:
    """Facts read from a JSONL file (`dsl.facts.records.read_raw_facts`), validated per ruleset."""

    def provide(schema: FactSchema, lenient: bool) -> FactsFor:
        return facts_for(records, schema, org, source, skip_invalid or lenient, unreadable)

    return provide


def checked_facts(facts: Iterable[Fact]) -> FactSource:
    """Facts already validated (from the database): those of undeclared types are counted."""
    known = list(facts)

    def provide(schema: FactSchema, lenient: bool) -> FactsFor:
        del lenient  # nothing left to reject
        unknown = Counter(f.type for f in known if f.type not in schema.types)
        kept = [f for f in known if f.type in schema.types]
        return FactsFor(kept, dict(sorted(unknown.items())))

    return provide
