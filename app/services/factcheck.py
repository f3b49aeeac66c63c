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
from app.store.bulk import Row, as_dict
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
        data = _data_text(f.data)
        if texts is not None:
            texts[id(f.data)] = data
    text = f"{f.type}\x1f{f.subject}\x1f{when}\x1f{f.evidence or ''}\x1f{f.supersedes or ''}{data}"
    return hashlib.sha256(text.encode()).hexdigest()


def _data_text(data: dict[str, Any]) -> str:
    """The digest text of a fact's data: each key and value, sorted by key, after U+001F."""
    items: list[str] = []
    for key in sorted(data):
        items.append(key)
        items.append(_value_text(data[key]))
    return "".join("\x1f" + x for x in items)


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
class CheckedRows:
    """`Checked` with the rows as the writer takes them (`app.store.bulk.ROW` tuples)."""

    rows: list[Row] = field(default_factory=list)
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
    # the period values recorded before the import, by (type, subject, period) asked
    asked: set[tuple[str, str, str]] = field(default_factory=set)
    db_slots: dict[tuple[str, str, str], int] = field(default_factory=dict)
    db_owners: dict[tuple[str, str, str], str] = field(default_factory=dict)
    validator: FactValidator = field(init=False)
    movable: set[str] = field(init=False)
    single: frozenset[str] = field(init=False)
    provinces: dict[str, str] = field(init=False)  # subject → `province_of`
    quarters: dict[date, tuple[int, int]] = field(init=False)  # date → (year, quarter)

    def __post_init__(self) -> None:
        self.validator = FactValidator(self.schema, self.org)
        # fact types whose late facts count in the next open period (docs/language.md §6.1)
        self.movable = {k for k, d in self.schema.types.items() if d.counts_in is not None}
        self.single = frozenset(k for k, d in self.schema.types.items() if d.kind == "period")
        self.provinces, self.quarters = {}, {}

    def read_periods(self, session: Session, facts: Sequence[Fact]) -> None:
        """Reads at once the period values recorded before of every (type, subject, period)
        of single-valued facts among `facts` (an import read whole), which the chunks would
        read as they meet them (`check_rows`)."""
        single = self.single
        wanted = {(f.type, f.subject, str(f.period)) for f in facts if f.type in single}
        self._read_periods(session, wanted - self.asked)

    def _read_periods(self, session: Session, wanted: set[tuple[str, str, str]]) -> None:
        if not wanted:
            return
        keys = ({k[0] for k in wanted}, {k[1] for k in wanted}, {k[2] for k in wanted})
        # Slots before owners: a value recorded meanwhile is then either seen live (and this
        # one refused here) or not yet in the slots read (and this one given the same slot,
        # which the database refuses). Read the other way round, it could be neither.
        self.db_slots.update(repository.value_slots(session, *keys))
        self.db_owners.update(repository.live_period_values(session, *keys))
        self.asked.update(wanted)

    def check(self, session: Session, records: Sequence[tuple[int, Any]]) -> Checked:
        """Validates a chunk of (line, JSON object or `Fact` read by the validator's typed
        reader) and sorts it into rows (`fact_row`'s dicts) and problems."""
        got = self.check_rows(session, records)
        return Checked([as_dict(r) for r in got.rows], got.unchanged, got.problems)

    def check_rows(self, session: Session, records: Sequence[tuple[int, Any]]) -> CheckedRows:
        """`check` with the rows as tuples (`app.store.bulk.ROW`), in one pass over the facts:
        the content digest, the ids already seen or recorded, the links (`_link`, for
        corrections and single-valued period facts), the row."""
        out = CheckedRows()
        whole = all(type(r) is Fact for _, r in records)  # read whole: no odd values
        if whole:
            targets = {r.supersedes for _, r in records if r.supersedes is not None}
            local = {r.id for _, r in records}
        else:
            targets = {t for _, r in records if isinstance(t := _key(r, "supersedes"), str)}
            local = {i for _, r in records if isinstance(i := _key(r, "id"), str)}
        outside = {t for t in targets if t not in local and text_ok(t, MAX_ID)}
        in_db = repository.targets(session, outside - self.seen.keys())
        known = set(in_db) | (outside & self.seen.keys())
        if whole:  # the checks across facts (no fact to validate again)
            facts_read: list[Fact] = [r for _, r in records]
            checked = self.validator.validate_read(facts_read, self.source, known, in_order=True)
        else:
            checked = self.validator.validate(records, self.source, known, in_order=True)
        out.problems.extend(checked.problems)
        facts = checked.facts
        seen, single = self.seen, self.single
        recorded = repository.recorded(session, [f.id for f in facts])
        # What the links need, read for the facts neither seen nor recorded (as `_link` meets
        # them): who corrected their targets already, the period values' slots and owners.
        fresh_targets = {
            f.supersedes
            for f in facts
            if f.supersedes is not None and f.id not in seen and f.id not in recorded
        }
        keyed = [f for f in facts if f.type in single and f.id not in seen and f.id not in recorded]
        taken = repository.correctors(session, fresh_targets - self.corrected)
        # The period values recorded before, read once per (type, subject, period) an import
        # meets (the import's own are in `owners` and `slots`).
        met = {(f.type, f.subject, str(f.period)) for f in keyed}
        self._read_periods(session, met - self.asked)
        db_slots, db_owners = self.db_slots, self.db_owners
        links: list[FactProblem] = []  # after the problems of ids, as they were reported
        texts: dict[int, str] = {}  # each data dict's digest text (the facts live meanwhile)
        provinces, quarters = self.provinces, self.quarters
        by, at = self.by, self.at
        rows = out.rows
        append = rows.append
        for f in facts:
            fid, ftype, subject, day, sup, data = (
                f.id,
                f.type,
                f.subject,
                f.date,
                f.supersedes,
                f.data,
            )
            d = content_digest(f, texts)
            period = None if day is not None else str(f.period)
            if fid in seen:
                line, first = seen[fid][:2]
                if first == d:
                    out.unchanged += 1
                else:
                    out.problems.append(self._bad(f, "id", f"other content than line {line}"))
                continue
            got = recorded.get(fid)
            if got is not None:
                if got[1] == d:
                    out.unchanged += 1
                    seen[fid] = (f.line, d, ftype, subject, period)
                else:
                    msg = f"already recorded (seq {got[0]}) with other content"
                    out.problems.append(self._bad(f, "id", msg))
                continue
            slot: int | None = None
            if sup is not None or ftype in single:
                ok, slot = self._link(f, sup, period, taken, in_db, db_slots, db_owners, links)
                if not ok:
                    continue
            seen[fid] = (f.line, d, ftype, subject, period)
            province = provinces.get(subject)
            if province is None:
                province = provinces[subject] = province_of(self.org, subject)
            if day is not None:
                yq = quarters.get(day)
                if yq is None:
                    yq = quarters[day] = (day.year, (day.month + 2) // 3)
                append((fid, ftype, subject, day, None, yq[0], yq[1], data, f.evidence, sup, d,
                        by, at, slot, province))  # fmt: skip
            else:
                p = f.period
                assert p is not None
                append((fid, ftype, subject, None, period, p.year, p.quarter, data, f.evidence,
                        sup, d, by, at, slot, province))  # fmt: skip
        out.problems.extend(links)
        if self.movable and rows:
            place_late(session, rows, self.movable)
        return out

    def _link(
        self,
        f: Fact,
        sup: str | None,
        period: str | None,
        taken: dict[str, str],
        in_db: dict[str, tuple[str, str, str | None]],
        db_slots: dict[tuple[str, str, str], int],
        db_owners: dict[tuple[str, str, str], str],
        problems: list[FactProblem],
    ) -> tuple[bool, int | None]:
        """Refuses a correction of a corrected fact, of a fact not recorded, of a fact of
        another type or subject, and a second live value of a period; gives a value that
        starts a chain of corrections its slot (`Fact.value_slot`). (accepted, slot)."""
        target: tuple[str, str, str | None] | None = None
        if sup is not None:
            if sup in self.corrected or sup in taken:
                by = taken.get(sup, "an earlier fact of this import")
                problems.append(self._bad(f, "supersedes", f"'{sup}' is already corrected by {by}"))
                return False, None
            target = self.seen[sup][2:] if sup in self.seen else in_db.get(sup)
            if target is None:
                msg = f"'{sup}' is not recorded: it was refused (see its own problems)"
                problems.append(self._bad(f, "supersedes", msg))
                return False, None
            mismatch = same_kind(f, target[0], target[1], self.source)
            if mismatch:
                problems.extend(mismatch)
                return False, None
        slot: int | None = None
        if f.type in self.single:
            key = (f.type, f.subject, str(f.period))
            owner = self.owners.get(key) or db_owners.get(key)
            if owner is not None and owner != sup and owner not in self.corrected:
                msg = f"a second live {f.type} for {f.subject} in {f.period} (the other is "
                problems.append(self._bad(f, "period", msg + f"{owner}); supersede it instead"))
                return False, None
            self.owners[key] = f.id
            if target is None or target[2] != key[2]:
                last = self.slots.get(key, db_slots.get(key))
                slot = self.slots[key] = 0 if last is None else last + 1
        if sup is not None:
            self.corrected.add(sup)
        return True, slot

    def _bad(self, f: Fact, fld: str, msg: str) -> FactProblem:
        return FactProblem(self.source, f.line, f.id, fld, msg)


def _key(record: Any, name: str) -> Any:
    """A key of a JSON record, or the same attribute of a `Fact`."""
    return getattr(record, name) if type(record) is Fact else record.get(name)
