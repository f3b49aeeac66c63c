"""Checking facts before they are recorded: against the ruleset, the organisation, the facts
already recorded and the facts met earlier in the same import.

A fact whose client id is already recorded with the same content is unchanged (a no-op); with
other content it is a conflict. A correction must name a recorded fact that nothing else has
corrected yet. A single-valued period fact (one value per subject and period) may not add a
second live value: it must supersede the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app import exactjson
from app.services.frozen import place_late
from app.store import repository
from dsl.facts.records import Fact, FactProblem, Org
from dsl.facts.validate import FactSchema, FactValidator


def content_digest(f: Fact, texts: dict[int, list[str]] | None = None) -> str:
    """sha256 of what a fact says (not who recorded it or when); 97.0 and 97 say the same.

    `texts` keeps the text of each data dict by identity while the facts live: facts read
    whole share their data (a million work items, a few dozen dicts)."""
    when = f.date.isoformat() if f.date is not None else str(f.period)
    parts = [f.type, f.subject, when, f.evidence or "", f.supersedes or ""]
    data = texts.get(id(f.data)) if texts is not None else None
    if data is None:
        data = []
        for key in sorted(f.data):
            data.append(key)
            data.append(_value_text(f.data[key]))
        if texts is not None:
            texts[id(f.data)] = data
    return hashlib.sha256("\x1f".join(parts + data).encode()).hexdigest()


def _value_text(v: Any) -> str:
    """A data value as digest text, tagged by kind; numbers normalised."""
    if isinstance(v, str):
        return "s" + v
    if isinstance(v, Decimal):
        return "n" + format(v.normalize(), "f")
    return "j" + exactjson.canonical(v)


def fact_row(f: Fact, digest: str, by: str, at: datetime) -> dict[str, Any]:
    """The `facts` row of a validated fact."""
    quarter: int | None
    if f.date is not None:
        year, quarter, period = f.date.year, (f.date.month + 2) // 3, None
    else:
        assert f.period is not None
        year, quarter, period = f.period.year, f.period.quarter, str(f.period)
    return {
        "client_id": f.id,
        "type": f.type,
        "subject": f.subject,
        "date": f.date,
        "period": period,
        "year": year,
        "quarter": quarter,
        "data": f.data,
        "evidence": f.evidence,
        "supersedes_id": f.supersedes,
        "content_digest": digest,
        "recorded_by": by,
        "recorded_at": at,
    }


@dataclass
class Checked:
    """One chunk's outcome: rows to record, facts already recorded as they are, problems."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    problems: list[FactProblem] = field(default_factory=list)


@dataclass
class FactChecker:
    """Checks the chunks of one import in order, remembering what earlier chunks accepted."""

    schema: FactSchema
    org: Org
    source: str
    by: str
    at: datetime
    seen: dict[str, tuple[int, str]] = field(default_factory=dict)  # id → (line, digest)
    corrected: set[str] = field(default_factory=set)
    owners: dict[tuple[str, str, str], str] = field(default_factory=dict)
    validator: FactValidator = field(init=False)
    movable: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.validator = FactValidator(self.schema, self.org)
        # fact types whose late facts count in the next open period (docs/language.md §6.1)
        self.movable = {k for k, d in self.schema.types.items() if d.counts_in is not None}

    def check(self, session: Session, records: Sequence[tuple[int, Any]]) -> Checked:
        """Validates a chunk of (line, JSON object or `Fact` read by the validator's typed
        reader) and sorts it into rows and problems."""
        out = Checked()
        targets = {_key(r, "supersedes") for _, r in records} - {None}
        local = {_key(r, "id") for _, r in records}
        outside = {t for t in targets if isinstance(t, str) and t not in local}
        known = set(repository.recorded(session, outside - self.seen.keys()))
        known |= outside & self.seen.keys()
        checked = self.validator.validate(records, self.source, known)
        out.problems.extend(checked.problems)
        facts = checked.facts
        texts: dict[int, list[str]] = {}  # the facts (and so their data) live meanwhile
        digests = [content_digest(f, texts) for f in facts]
        in_db = repository.recorded(session, [f.id for f in facts])
        fresh: list[tuple[Fact, str]] = []
        for f, d in zip(facts, digests, strict=True):
            if f.id in self.seen:
                line, first = self.seen[f.id]
                if first == d:
                    out.unchanged += 1
                else:
                    out.problems.append(self._bad(f, "id", f"other content than line {line}"))
            elif f.id in in_db:
                seq, first = in_db[f.id]
                if first == d:
                    out.unchanged += 1
                    self.seen[f.id] = (f.line, d)
                else:
                    msg = f"already recorded (seq {seq}) with other content"
                    out.problems.append(self._bad(f, "id", msg))
            else:
                fresh.append((f, d))
        for f, d in self._links(session, fresh, out.problems):
            self.seen[f.id] = (f.line, d)
            out.rows.append(fact_row(f, d, self.by, self.at))
        if self.movable and out.rows:
            place_late(session, out.rows, self.movable)
        return out

    def _links(
        self, session: Session, facts: list[tuple[Fact, str]], problems: list[FactProblem]
    ) -> list[tuple[Fact, str]]:
        """Drops corrections of corrected facts and second live values of a period."""
        targets = {f.supersedes for f, _ in facts if f.supersedes is not None}
        taken = repository.correctors(session, targets - self.corrected)
        single = {k for k, d in self.schema.types.items() if d.kind == "period"}
        keyed = [f for f, _ in facts if f.type in single]
        db_owners = repository.live_period_values(
            session,
            {f.type for f in keyed},
            {f.subject for f in keyed},
            {str(f.period) for f in keyed},
        )
        ok: list[tuple[Fact, str]] = []
        for f, d in facts:
            sup = f.supersedes
            if sup is not None and (sup in self.corrected or sup in taken):
                by = taken.get(sup, "an earlier fact of this import")
                problems.append(self._bad(f, "supersedes", f"'{sup}' is already corrected by {by}"))
                continue
            if f.type in single:
                key = (f.type, f.subject, str(f.period))
                owner = self.owners.get(key) or db_owners.get(key)
                if owner is not None and owner != sup and owner not in self.corrected:
                    msg = f"a second live {f.type} for {f.subject} in {f.period} (the other is "
                    problems.append(self._bad(f, "period", msg + f"{owner}); supersede it instead"))
                    continue
                self.owners[key] = f.id
            if sup is not None:
                self.corrected.add(sup)
            ok.append((f, d))
        return ok

    def _bad(self, f: Fact, fld: str, msg: str) -> FactProblem:
        return FactProblem(self.source, f.line, f.id, fld, msg)


def _key(record: Any, name: str) -> Any:
    """A key of a JSON record, or the same attribute of a `Fact`."""
    return getattr(record, name) if type(record) is Fact else record.get(name)
