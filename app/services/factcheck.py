"""Checking facts before they are recorded: against the ruleset, the organisation, the facts
already recorded and the facts met earlier in the same import.

A fact whose client id is already recorded with the same content is unchanged (a no-op); with
other content it is a conflict. A correction must name a fact recorded before it (in the
database, or earlier in the import) of the same type and subject that nothing else has
corrected yet. A single-valued period fact (one value per subject and period) may not add a
second live value: it must supersede the first. A value that starts a chain of corrections
takes the next `value_slot` of its (type, subject, period), which the database keeps unique:
of two writers racing to record a first value, one is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from typing import Any

from sqlalchemy.orm import Session

from app import exactjson
from app.services.frozen import place_late
from app.store import repository
from dsl.facts.limits import MAX_ID, text_ok
from dsl.facts.links import same_kind
from dsl.facts.records import Fact, FactProblem, Org
from dsl.facts.validate import FactSchema, FactValidator


def content_digest(f: Fact, texts: dict[int, str] | None = None) -> str:
    """sha256 of what a fact says (not who recorded it or when); 97.0 and 97 say the same:
    its type, subject, date or period, evidence, supersedes, then each data key and value
    (sorted by key), joined by U+001F.

    `texts` keeps the text of each data dict by identity while the facts live: facts read
    whole share their data (a million work items, a few dozen dicts)."""
    when_of = f.date if f.date is not None else f.period
    when = _WHEN.get(when_of)
    if when is None:
        when = _when(when_of)
    data = texts.get(id(f.data)) if texts is not None else None
    if data is None:
        items: list[str] = []
        for key in sorted(f.data):
            items.append(key)
            items.append(_value_text(f.data[key]))
        data = "".join("\x1f" + x for x in items)
        if texts is not None:
            texts[id(f.data)] = data
    text = f"{f.type}\x1f{f.subject}\x1f{when}\x1f{f.evidence or ''}\x1f{f.supersedes or ''}{data}"
    return hashlib.sha256(text.encode()).hexdigest()


_WHEN: dict[Any, str] = {}  # the text of dates and periods met (facts share them)


def _when(when: Any) -> str:
    text = when.isoformat() if isinstance(when, date) else str(when)
    if len(_WHEN) > 100_000:
        _WHEN.clear()
    _WHEN[when] = text
    return text


# Wide enough for every number a fact may hold (`dsl.facts.limits`): normalising never rounds.
_EXACT = Context(prec=100, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _value_text(v: Any) -> str:
    """A data value as digest text, tagged by kind; numbers normalised."""
    if isinstance(v, str):
        return "s" + v
    if isinstance(v, Decimal):
        return "n" + format(v.normalize(_EXACT), "f")
    return "j" + exactjson.canonical(v)


def province_of(org: Org, subject: str) -> str:
    """The province a subject's facts are kept under: the root unit of its tree ('' for a
    subject outside the organisation)."""
    units = org.chain(subject)
    return units[-1] if units else ""


def fact_row(
    f: Fact, digest: str, by: str, at: datetime, slot: int | None = None, province: str = ""
) -> dict[str, Any]:
    """The `facts` row of a validated fact (`province`: see `province_of`)."""
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
        "value_slot": slot,
        "province": province,
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
    # id → (line, digest, type, subject, period) of the facts accepted or found recorded
    seen: dict[str, tuple[int, str, str, str, str | None]] = field(default_factory=dict)
    corrected: set[str] = field(default_factory=set)
    owners: dict[tuple[str, str, str], str] = field(default_factory=dict)
    slots: dict[tuple[str, str, str], int] = field(default_factory=dict)  # the last given
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
        if all(type(r) is Fact for _, r in records):  # read whole: no odd values
            targets = {r.supersedes for _, r in records if r.supersedes is not None}
            local = {r.id for _, r in records}
        else:
            targets = {t for _, r in records if isinstance(t := _key(r, "supersedes"), str)}
            local = {i for _, r in records if isinstance(i := _key(r, "id"), str)}
        outside = {t for t in targets if t not in local and text_ok(t, MAX_ID)}
        in_db = repository.targets(session, outside - self.seen.keys())
        known = set(in_db) | (outside & self.seen.keys())
        checked = self.validator.validate(records, self.source, known, in_order=True)
        out.problems.extend(checked.problems)
        facts = checked.facts
        texts: dict[int, str] = {}  # the facts (and so their data) live meanwhile
        digests = [content_digest(f, texts) for f in facts]
        recorded = repository.recorded(session, [f.id for f in facts])
        fresh: list[tuple[Fact, str]] = []
        for f, d in zip(facts, digests, strict=True):
            if f.id in self.seen:
                line, first = self.seen[f.id][:2]
                if first == d:
                    out.unchanged += 1
                else:
                    out.problems.append(self._bad(f, "id", f"other content than line {line}"))
            elif f.id in recorded:
                seq, first = recorded[f.id]
                if first == d:
                    out.unchanged += 1
                    self.seen[f.id] = (f.line, d, f.type, f.subject, _period(f))
                else:
                    msg = f"already recorded (seq {seq}) with other content"
                    out.problems.append(self._bad(f, "id", msg))
            else:
                fresh.append((f, d))
        for f, d, slot in self._links(session, fresh, in_db, out.problems):
            out.rows.append(
                fact_row(f, d, self.by, self.at, slot, province_of(self.org, f.subject))
            )
        if self.movable and out.rows:
            place_late(session, out.rows, self.movable)
        return out

    def _links(
        self,
        session: Session,
        facts: list[tuple[Fact, str]],
        in_db: dict[str, tuple[str, str, str | None]],
        problems: list[FactProblem],
    ) -> list[tuple[Fact, str, int | None]]:
        """Drops corrections of corrected facts, of facts not recorded, of facts of another
        type or subject, and second live values of a period; gives each value that starts a
        chain of corrections its slot (`Fact.value_slot`)."""
        targets = {f.supersedes for f, _ in facts if f.supersedes is not None}
        taken = repository.correctors(session, targets - self.corrected)
        single = {k for k, d in self.schema.types.items() if d.kind == "period"}
        keyed = [f for f, _ in facts if f.type in single]
        keys = ({f.type for f in keyed}, {f.subject for f in keyed}, {str(f.period) for f in keyed})
        # Slots before owners: a value recorded meanwhile is then either seen live (and this
        # one refused here) or not yet in the slots read (and this one given the same slot,
        # which the database refuses). Read the other way round, it could be neither.
        db_slots = repository.value_slots(session, *keys)
        db_owners = repository.live_period_values(session, *keys)
        ok: list[tuple[Fact, str, int | None]] = []
        for f, d in facts:
            sup = f.supersedes
            target: tuple[str, str, str | None] | None = None
            if sup is not None:
                if sup in self.corrected or sup in taken:
                    by = taken.get(sup, "an earlier fact of this import")
                    msg = f"'{sup}' is already corrected by {by}"
                    problems.append(self._bad(f, "supersedes", msg))
                    continue
                target = self.seen[sup][2:] if sup in self.seen else in_db.get(sup)
                if target is None:
                    msg = f"'{sup}' is not recorded: it was refused (see its own problems)"
                    problems.append(self._bad(f, "supersedes", msg))
                    continue
                mismatch = same_kind(f, target[0], target[1], self.source)
                if mismatch:
                    problems.extend(mismatch)
                    continue
            slot: int | None = None
            if f.type in single:
                key = (f.type, f.subject, str(f.period))
                owner = self.owners.get(key) or db_owners.get(key)
                if owner is not None and owner != sup and owner not in self.corrected:
                    msg = f"a second live {f.type} for {f.subject} in {f.period} (the other is "
                    problems.append(self._bad(f, "period", msg + f"{owner}); supersede it instead"))
                    continue
                self.owners[key] = f.id
                if target is None or target[2] != key[2]:
                    last = self.slots.get(key, db_slots.get(key))
                    slot = self.slots[key] = 0 if last is None else last + 1
            if sup is not None:
                self.corrected.add(sup)
            self.seen[f.id] = (f.line, d, f.type, f.subject, _period(f))
            ok.append((f, d, slot))
        return ok

    def _bad(self, f: Fact, fld: str, msg: str) -> FactProblem:
        return FactProblem(self.source, f.line, f.id, fld, msg)


def _period(f: Fact) -> str | None:
    return None if f.period is None else str(f.period)


def _key(record: Any, name: str) -> Any:
    """A key of a JSON record, or the same attribute of a `Fact`."""
    return getattr(record, name) if type(record) is Fact else record.get(name)
