"""What-if (模拟测算): a period's facts with hypothetical facts added, corrected or retracted,
nothing recorded. The facts are checked as recorded ones are; the changed set is scored by the
engine like any other (the service compares it with the recorded scores, as impact does).

- `add`: fact records as posted (`id` optional). A period value for a subject and period that
  already has one replaces it, as a correction would.
- `correct`: `{"fact": ID, ...}` with the parts that change (`data` keys are merged into the
  recorded ones; `date`, `period`, `evidence` replace theirs).
- `retract`: ids of facts taken out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec

from dsl.facts.records import Fact, FactProblem, InputError, Org, live
from dsl.facts.validate import FactSchema, FactValidator

PREFIX = "what-if-"


@dataclass
class Changes:
    """Hypothetical changes to a period's facts."""

    add: list[dict[str, Any]] = field(default_factory=list)
    correct: list[dict[str, Any]] = field(default_factory=list)
    retract: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, body: dict[str, Any]) -> Changes:
        """From `{"add": [...], "correct": [...], "retract": [...]}` (each optional)."""
        return cls(list(body.get("add") or []), list(body.get("correct") or []),
                   [str(x) for x in body.get("retract") or []])  # fmt: skip

    def __bool__(self) -> bool:
        return bool(self.add or self.correct or self.retract)


@dataclass
class Applied:
    """The facts with the changes made, and each change as it was made."""

    facts: list[Fact]
    changes: list[dict[str, Any]]


def apply_changes(facts: Sequence[Fact], changes: Changes, schema: FactSchema, org: Org) -> Applied:
    """The live facts with the changes made; InputError listing every change that does not fit
    (its list and index in `source` and `line`, the field as the validator names it)."""
    current = {f.id: f for f in live(facts)}
    check = FactValidator(schema, org)
    problems: list[FactProblem] = []
    done: list[dict[str, Any]] = []
    for i, ident in enumerate(changes.retract):
        gone = current.pop(ident, None)
        if gone is None:
            problems.append(FactProblem("retract", i, ident, "", f"no live fact '{ident}'"))
        else:
            done.append({"action": "retract", "fact": ident, "type": gone.type,
                         "subject": gone.subject, "replaces": ident})  # fmt: skip
    made = 0
    for source, items in (("correct", changes.correct), ("add", changes.add)):
        for i, item in enumerate(items):
            made += 1
            raw = _record(source, i, item, current, made, problems)
            if raw is None:
                continue
            fact, errs = check.check(raw, i, source)
            problems.extend(replace(p, source=source, line=i) for p in errs)
            if fact is None:
                continue
            old = fact.supersedes or _same_value(fact, current, schema)
            if old is not None:
                current.pop(old, None)
            current[fact.id] = msgspec.structs.replace(fact, supersedes=None)
            action = source if source == "correct" or old is None else "replace"
            done.append({"action": action, "fact": fact.id, "type": fact.type,
                         "subject": fact.subject, "replaces": old})  # fmt: skip
    if problems:
        raise InputError("hypothetical changes (nothing was scored)", problems)
    return Applied(list(current.values()), done)


def _record(
    source: str,
    i: int,
    item: dict[str, Any],
    current: dict[str, Fact],
    n: int,
    problems: list[FactProblem],
) -> dict[str, Any] | None:
    """The fact record a change stands for (a correction: the recorded fact, changed)."""
    if not isinstance(item, dict):
        problems.append(FactProblem(source, i, "", "", "not an object"))
        return None
    if source == "add":
        raw = dict(item)
        raw.setdefault("id", f"{PREFIX}{n}")
        raw.pop("supersedes", None)
        return raw
    target = item.get("fact")
    old = current.get(target) if isinstance(target, str) else None
    if old is None:
        problems.append(FactProblem(source, i, str(target), "fact", f"no live fact '{target}'"))
        return None
    raw = {"id": item.get("id") or f"{PREFIX}{n}", "type": old.type, "subject": old.subject,
           "data": {**old.data, **(item.get("data") or {})}, "supersedes": old.id}  # fmt: skip
    for key in ("date", "period"):
        value = item.get(key, old.date if key == "date" else old.period)
        if value is not None:
            raw[key] = str(value)
    evidence = item.get("evidence", old.evidence)
    if evidence is not None:
        raw["evidence"] = evidence
    return raw


def _same_value(fact: Fact, current: dict[str, Fact], schema: FactSchema) -> str | None:
    """The live value a new single-valued period fact replaces, if there is one."""
    if schema.types[fact.type].kind != "period":
        return None
    for f in current.values():
        key = (f.type, f.subject, f.period)
        if key == (fact.type, fact.subject, fact.period) and f.id != fact.id:
            return f.id
    return None
