"""Scores kept in memory per ruleset digest and period, valid for one facts watermark.

The watermark is what the database has recorded: the highest fact sequence number, the newest
retraction and the newest organisation revision. Any new fact, retraction or organisation
change moves it, so the next read scores again; a read of an unchanged database answers from
memory. Reading it costs three index lookups.

On PostgreSQL a writer may commit sequence numbers lower than one already visible (two
concurrent imports). So an entry also remembers the numbers missing among the last `WINDOW`
below its highest (`gaps`: in-flight or rolled-back writes); while there are any, a read also
counts the facts in that range, and a gap filled since makes the entry stale.

An evaluation is loaded in one snapshot (REPEATABLE READ on PostgreSQL) together with the
watermark it names. Explanations need every subject's trace: the first one asked of an entry
scores the period again, traced, from the facts the entry kept, and keeps the traces.
Each process has its own cache (two uvicorn workers: two caches). With `keep` (the service's
and the command line's), each evaluation made is also stored in the database, and a process
starting cold reads back what another stored for the same watermark (or the same approved
receipt) instead of scoring again (`app.services.stored`).

A page reads several periods (a subject's trend reads eight quarters and the year). Within
`ScoreCache.one_look()` (every web page is answered in one) the watermark, the approved cycles
and which periods have facts are read once, and a period asked twice answers the same entry:
the page shows one state of the database, and its reads cost one look at it, not one per
period.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from app.errors import ReplayMismatch
from app.services import stored
from app.services.registry import LoadedRuleset
from app.services.scoring import PeriodInputs, load_period
from app.store import repository, seqcodec
from app.store.db import reading
from app.store.models import Cycle, OrgRevision, Receipt, Retraction
from app.store.models import Fact as FactRow
from dsl.analysis.view import PeriodScores, cited, keep_until
from dsl.compile.deps import needed
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.engine.report import explain_json, results_json
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org

WINDOW = 65_536
MAX_ENTRIES = 8


@dataclass(frozen=True)
class Watermark:
    """The state of the recorded facts and organisation an evaluation read."""

    facts: int
    retractions: int
    org_revision: int

    def __str__(self) -> str:
        return f"{self.facts}.{self.retractions}.{self.org_revision}"

    def as_json(self) -> dict[str, Any]:
        """The watermark's parts, and its text form as headers show it."""
        return {
            "token": str(self),
            "facts": self.facts,
            "retractions": self.retractions,
            "org_revision": self.org_revision,
        }


def read_watermark(session: Session) -> Watermark:
    """The current watermark (in the session's transaction)."""
    top = session.execute(
        select(
            select(func.max(FactRow.seq)).scalar_subquery(),
            select(func.max(Retraction.id)).scalar_subquery(),
            select(func.max(OrgRevision.id)).scalar_subquery(),
        )
    ).one()
    facts, retractions, org = (v or 0 for v in top)
    return Watermark(facts, retractions, org)


def count_from(session: Session, low: int, high: int) -> int:
    """How many facts carry a number in [low, high]."""
    q = select(func.count()).select_from(FactRow).where(FactRow.seq.between(low, high))
    return int(session.execute(q).scalar_one())


def first_gap(session: Session, top: int) -> tuple[int, int] | None:
    """The lowest number missing among the last WINDOW up to `top`, and how many facts are
    recorded from it to `top` (None: no number is missing)."""
    low = max(1, top - WINDOW + 1)
    # Counted in the database first: with no number missing (the usual case) the 65,536
    # numbers are not fetched (they cost 0.3-0.6 s a cold read on the province).
    if count_from(session, low, top) == top - low + 1:
        return None
    seqs = session.scalars(select(FactRow.seq).where(FactRow.seq.between(low, top))).all()
    if len(seqs) == top - low + 1:
        return None
    present = set(seqs)
    gap = next(n for n in range(low, top + 1) if n not in present)
    return gap, sum(1 for n in seqs if n >= gap)


@dataclass
class Scored:
    """One evaluation of a period under one ruleset, with what readers ask of it."""

    loaded: LoadedRuleset
    period: Period
    watermark: Watermark
    evaluation: Evaluation
    # The results JSON: made on first read (`document`, `body`, `by_subject`), since readers
    # such as the analysis need only the evaluation.
    doc: dict[str, Any] | None
    inputs: PeriodInputs | None
    gap: tuple[int, int] | None = None
    traced: Evaluation | None = None
    org: Org | None = None  # the organisation at the period's end (names for pages)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cited: dict[str, Fact] = field(default_factory=dict)  # the facts the traces name
    recorded: int = 0  # how many live facts the period has
    # What readers derive from this evaluation (the analysis), valid as long as it is.
    memo: dict[Any, Any] = field(default_factory=dict)
    # The approved cycle (审定) these results are, when they are: cycle, receipt, by, at.
    approved: dict[str, Any] | None = None
    # The scorecards scored when only some were asked for (`ScoreCache.get(cards=...)`):
    # their results are a full evaluation's, the others have none. None: every scorecard.
    cards: frozenset[str] | None = None
    # Reads the facts and organisation again, for an entry that does not hold them (one read
    # back from the database: `app.services.stored`).
    reload: Callable[[], PeriodInputs] | None = None

    _body: bytes | None = None
    _by_subject: dict[str, list[dict[str, Any]]] | None = None
    _doc_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def digest(self) -> str:
        """The ruleset digest that produced these results."""
        return self.loaded.compiled.digest

    @property
    def document(self) -> dict[str, Any]:
        """The results JSON as the score endpoints answer it (made on first read)."""
        with self._doc_lock:
            if self.doc is None:
                self.doc = _document(self.evaluation, self.watermark)
            return self.doc

    @property
    def body(self) -> bytes:
        """`document` serialised."""
        doc = self.document
        with self._doc_lock:
            if self._body is None:
                self._body = orjson.dumps(doc)
            return self._body

    @property
    def by_subject(self) -> dict[str, list[dict[str, Any]]]:
        """The results of `document` by subject."""
        doc = self.document
        with self._doc_lock:
            if self._by_subject is None:
                got: dict[str, list[dict[str, Any]]] = {}
                for r in doc["results"]:
                    got.setdefault(r["subject"], []).append(r)
                self._by_subject = got
            return self._by_subject

    def explanation(self, subject: str) -> dict[str, Any]:
        """A subject's results with their traces (every subject is traced on first use)."""
        mine = self.evaluation.for_subject(subject)
        if mine and all(r.trace is not None for r in mine):
            return explain_json(self.evaluation, subject)  # units are traced from the start
        return explain_json(self.traced_evaluation(), subject)

    def traced_evaluation(self) -> Evaluation:
        """The evaluation with every subject traced: scored again on first use, from the
        facts the entry kept (they are let go then), and kept."""
        with self.lock:
            if self.traced is None:
                if self.inputs is None:
                    assert self.reload is not None
                    self.inputs = self.reload()
                inp = self.inputs
                everyone = set(inp.org.units) | set(inp.org.persons)
                self.traced = evaluate(
                    self.loaded.compiled,
                    inp.org,
                    inp.facts,
                    self.period,
                    everyone,
                    org_at=inp.org_of,
                    facts_live=inp.live,
                )
                self.cited = cited(self.traced, inp.facts)
                self.inputs = None  # the facts are not needed any more
            return self.traced


@dataclass(frozen=True)
class Approval:
    """An approved cycle (审定) as the cache reads it."""

    cycle: int
    receipt: int
    by: str | None
    at: datetime | None
    watermark: str | None


def _approvals(session: Session) -> dict[tuple[str, str], Approval]:
    """Every approved cycle with its receipt, by (ruleset digest, period)."""
    rows = session.execute(
        select(
            Cycle.ruleset_digest,
            Cycle.period,
            Cycle.id,
            Cycle.receipt_id,
            Cycle.approved_by,
            Cycle.approved_at,
            Cycle.watermark,
        ).where(Cycle.state == "approved", Cycle.receipt_id.is_not(None))
    ).all()
    return {(d, p): Approval(c, r or 0, by, at, wm) for d, p, c, r, by, at, wm in rows}


@dataclass
class _Look:
    """What one request saw of the database (`ScoreCache.one_look`): read on first use."""

    cache: ScoreCache
    conn: Connection | None = None  # its reads' connection, without a transaction
    watermark: Watermark | None = None
    approvals: dict[tuple[str, str], Approval] | None = None
    entries: dict[tuple[Any, ...], Scored] = field(default_factory=dict)
    recorded: dict[Period, bool] = field(default_factory=dict)
    # A request may read two periods at once on two threads (the warnings read the quarters
    # before theirs beside their own): they take turns on the look's connection.
    lock: threading.RLock = field(default_factory=threading.RLock)


_LOOK: ContextVar[_Look | None] = ContextVar("jixiao_score_cache_look", default=None)


def _canonical(doc: dict[str, Any]) -> bytes:
    """The results JSON as `receipts.results_digest` hashes it."""
    import json

    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _parse_watermark(text: str | None) -> Watermark:
    """A watermark from its text form (`facts.retractions.org_revision`)."""
    parts = [int(x) for x in (text or "0.0.0").split(".")]
    return Watermark(parts[0], parts[1], parts[2])


def _document(ev: Evaluation, wm: Watermark) -> dict[str, Any]:
    return {**results_json(ev), "watermark": wm.as_json()}


@dataclass
class AsOf:
    """A period scored as of a day inside it, for one watermark (`ScoreCache.as_of`): what it
    holds (`value`) and what readers derive from it (`memo`), as a `Scored` keeps them."""

    watermark: Watermark
    gap: tuple[int, int] | None
    value: Any
    memo: dict[Any, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ScoreCache:
    """Evaluations by (ruleset digest, period), the least recently used dropped first."""

    def __init__(self, engine: Engine, max_entries: int = MAX_ENTRIES, keep: bool = False) -> None:
        self.engine = engine
        self.max_entries = max_entries
        # With `keep`, the evaluations made are stored in the database and those another
        # process stored are read back while valid (`app.services.stored`).
        self.keep = keep
        # By (digest, period), and (digest, period, scorecards) for the focused evaluations.
        self._entries: OrderedDict[tuple[Any, ...], Scored] = OrderedDict()
        self._locks: dict[tuple[Any, ...], threading.Lock] = {}  # per entry being scored
        self._guard = threading.Lock()
        self._frozen: dict[tuple[str, Period, int], Scored] = {}  # approved results
        # Periods as of a day inside them (warnings), by (digest, period, day).
        self._as_of: OrderedDict[tuple[str, Period, date], AsOf] = OrderedDict()
        self._recorded: set[Period] = set()  # periods with a fact (facts are never deleted)
        self.fills = 0  # how many evaluations were made (tests and benchmarks read it)
        self.restored = 0  # how many were read back from the database instead (with `keep`)
        self.looks = 0  # how many times the watermark was read (tests read it)

    @contextmanager
    def one_look(self) -> Iterator[None]:
        """Reads within share one look at the database: the watermark, the approved cycles and
        which periods have facts are read once, and a period asked again answers the entry
        it answered first. Nested looks are the outer one."""
        if self._look() is not None:
            yield
            return
        look = _Look(self)
        token = _LOOK.set(look)
        try:
            yield
        finally:
            _LOOK.reset(token)
            if look.conn is not None:
                look.conn.close()

    def _look(self) -> _Look | None:
        look = _LOOK.get()
        return look if look is not None and look.cache is self else None

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A session for the cache's small reads, outside any transaction (`db.reading`);
        within a look, every read shares one connection."""
        look = self._look()
        if look is None:
            with reading(self.engine) as session:
                yield session
            return
        with look.lock:
            if look.conn is None:
                look.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with Session(bind=look.conn) as session:
                yield session

    def watermark(self) -> Watermark:
        """The database's watermark now (within a look: when the look began)."""
        look = self._look()
        if look is not None and look.watermark is not None:
            return look.watermark
        self.looks += 1
        with self._reading() as session:
            wm = read_watermark(session)
        if look is not None:
            look.watermark = wm
        return wm

    def recorded(self, period: Period) -> bool:
        """True when any fact (live or not) belongs to the period. Facts are never deleted,
        so a period found with facts is remembered; one without is asked again (once a look)."""
        if period in self._recorded:
            return True
        look = self._look()
        if look is not None and period in look.recorded:
            return look.recorded[period]
        with self._reading() as session:
            got = repository.has_facts(session, period)
        if got:
            with self._guard:
                self._recorded.add(period)
        if look is not None:
            look.recorded[period] = got
        return got

    def recorded_among(self, periods: Collection[Period]) -> set[Period]:
        """Which of `periods` have any fact (`recorded` of each, in one look at the database
        for those not known to have one)."""
        look = self._look()
        seen = look.recorded if look is not None else {}
        unknown = [p for p in periods if p not in self._recorded and p not in seen]
        found: set[Period] = set()
        if unknown:
            with self._reading() as session:
                found = repository.periods_with_facts(session, unknown)
            with self._guard:
                self._recorded.update(found)
            if look is not None:
                look.recorded.update((p, p in found) for p in unknown)
        return {p for p in periods if p in found or p in self._recorded or seen.get(p)}

    def _approval(self, digest: str, period: Period) -> Approval | None:
        """The approved cycle of the period under the ruleset, if any (once a look)."""
        look = self._look()
        if look is not None:
            if look.approvals is None:
                with self._reading() as session:
                    look.approvals = _approvals(session)
            return look.approvals.get((digest, str(period)))
        with self._reading() as session:
            row = session.execute(
                select(
                    Cycle.id, Cycle.receipt_id, Cycle.approved_by, Cycle.approved_at,
                    Cycle.watermark,
                ).where(
                    Cycle.ruleset_digest == digest,
                    Cycle.period == str(period),
                    Cycle.state == "approved",
                    Cycle.receipt_id.is_not(None),
                )
            ).first()  # fmt: skip
        if row is None:
            return None
        cycle, receipt, by, at, wm = row
        return Approval(cycle, receipt or 0, by, at, wm)

    def _fresh(self, entry: Scored, wm: Watermark) -> bool:
        """True when the entry read what the database holds now."""
        return self._fresh_mark(entry.watermark, entry.gap, wm)

    def _fresh_mark(self, mark: Watermark, gap: tuple[int, int] | None, wm: Watermark) -> bool:
        """True when what was read at `mark` (with its `gap`) is what the database holds."""
        if mark != wm:
            return False
        if gap is None:
            return True
        low, count = gap
        with self._reading() as session:
            return count_from(session, low, wm.facts) == count

    def get(
        self, loaded: LoadedRuleset, period: Period, cards: Collection[str] | None = None
    ) -> Scored:
        """The evaluation for the current watermark: from memory, or scored now. A period
        approved under this ruleset answers its approved results, whatever was recorded since.
        Within a look, a period asked again answers the same entry.

        With `cards`, the results of those scorecards are all the caller reads: the full
        evaluation serves when it is at hand, else an entry of its own scores only them and
        the scorecards they read (`evaluate(cards=...)`; a unit's lost points need no person
        scored), kept beside the full entries and valid as they are."""
        compiled = loaded.compiled
        full = (compiled.digest, period)
        closed = None
        if cards is not None:
            closed = needed(compiled.scorecards, compiled.joints, cards)
            if closed >= set(compiled.scorecards):
                closed = None
        key = full if closed is None else (*full, closed)
        look = self._look()
        if look is not None:
            for k in (full, key):
                if k in look.entries:
                    return look.entries[k]
        got = self._get(loaded, period, key, closed)
        if look is not None:
            look.entries[key] = got
        return got

    def _get(
        self,
        loaded: LoadedRuleset,
        period: Period,
        key: tuple[Any, ...],
        cards: frozenset[str] | None = None,
    ) -> Scored:
        got = self._approved(loaded, period)
        if got is not None:
            return got
        full = (loaded.compiled.digest, period)
        keys = (full,) if key == full else (full, key)
        now = self.watermark()
        for k in keys:
            got = self._peek(k, now)
            if got is not None:
                return got
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            now = self.watermark()
            for k in keys:
                got = self._peek(k, now)
                if got is not None:
                    return got
            scored = self._restore(loaded, period, now, cards)
            if scored is None:
                scored = self._build(loaded, period, *self._load(loaded, period), cards)
                self._store(scored)
            with self._guard:
                self._entries[key] = scored
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return scored

    def kept(self, loaded: LoadedRuleset, period: Period) -> Scored | None:
        """The entry `get` would answer, if it needs no scoring: the approved results, or an
        evaluation of the current watermark in memory."""
        got = self._approved(loaded, period)
        if got is not None:
            return got
        return self._peek((loaded.compiled.digest, period), self.watermark())

    def held_as_of(self, loaded: LoadedRuleset, period: Period, day: date) -> AsOf | Scored | None:
        """What `as_of` would answer, if it needs no scoring (None otherwise)."""
        got = self.kept(loaded, period)
        if got is not None:
            return got
        with self._guard:
            held = self._as_of.get((loaded.compiled.digest, period, day))
        if held is not None and self._fresh_mark(held.watermark, held.gap, self.watermark()):
            return held
        return None

    def live_inputs(self, loaded: LoadedRuleset, period: Period) -> PeriodInputs | None:
        """The live facts and organisation of the period as its entry in memory read them,
        if that entry is of the current watermark and still holds them (not an approved
        entry: it holds the receipt's facts, not what is live)."""
        got = self._peek((loaded.compiled.digest, period), self.watermark())
        return got.inputs if got is not None and got.approved is None else None

    def as_of(
        self,
        loaded: LoadedRuleset,
        period: Period,
        day: date,
        make: Callable[[Watermark, PeriodInputs, list[Fact]], Any],
    ) -> AsOf | Scored:
        """The period as of `day` (dated facts after it left out) for the current watermark,
        without scoring the whole period first: an entry of its own holding
        `make(watermark, inputs, facts)`, kept per (ruleset, period, day) and valid for one
        watermark. When no fact is dated after `day` the period's own entry serves (scored
        from the same read) and is returned instead."""
        got = self.kept(loaded, period)
        if got is not None:
            return got
        key = (loaded.compiled.digest, period, day)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            wm = self.watermark()
            with self._guard:
                held = self._as_of.get(key)
            if held is not None and self._fresh_mark(held.watermark, held.gap, wm):
                return held
            back = self._restore_as_of(loaded, period, day, wm)
            if back is not None:
                return back
            wm, gap, inputs = self._load(loaded, period)
            facts = keep_until(inputs.facts, day)
            if len(facts) == len(inputs.facts):
                scored = self._build(loaded, period, wm, gap, inputs)
                self._store(scored)
                return self._insert(loaded, period, scored)
            held = AsOf(wm, gap, make(wm, inputs, facts))
            self.fills += 1
            if self.keep and gap is None and isinstance(held.value, PeriodScores):
                ps = held.value
                if not ps.evaluation.failed():
                    kept = stored.Kept(ps.evaluation.results, ps.org, dict(ps.facts), len(facts))
                    stored.write(self.engine, key[0], period, None, f"w:{wm}", kept, day)
            return self._keep_as_of(key, held)

    def _keep_as_of(self, key: tuple[str, Period, date], held: AsOf) -> AsOf:
        with self._guard:
            self._as_of[key] = held
            self._as_of.move_to_end(key)
            while len(self._as_of) > self.max_entries:
                self._as_of.popitem(last=False)
        return held

    def _restore_as_of(
        self, loaded: LoadedRuleset, period: Period, day: date, wm: Watermark
    ) -> AsOf | Scored | None:
        """The period as of `day` as another process stored it for this watermark (with
        `keep`): the day's own evaluation, or the whole period's when it read nothing dated
        after the day (it is then the period's entry too)."""
        if not self.keep:
            return None
        compiled = loaded.compiled
        got = stored.read_as_of(self.engine, compiled.digest, period, f"w:{wm}", day)
        if got is None:
            return None
        whole, back = got
        self.restored += 1
        if whole:
            return self._insert(loaded, period, self._restored(loaded, period, wm, None, back))
        ev = Evaluation(compiled, period, back.results)
        ps = PeriodScores(compiled, ev, back.org, back.cited, str(wm), back.recorded)
        return self._keep_as_of((compiled.digest, period, day), AsOf(wm, None, ps))

    def _insert(self, loaded: LoadedRuleset, period: Period, scored: Scored) -> Scored:
        key = (loaded.compiled.digest, period)
        with self._guard:
            self._entries[key] = scored
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return scored

    def _approved(self, loaded: LoadedRuleset, period: Period) -> Scored | None:
        """The approved results of the period under this ruleset, if it is approved: the
        approved receipt replayed (its facts, its organisation revision), its digest proved."""
        digest = loaded.compiled.digest
        cycle = self._approval(digest, period)
        if cycle is None:
            return None
        key = (digest, period, cycle.receipt)
        with self._guard:
            kept = self._frozen.get(key)
        if kept is not None:
            return kept

        def replayed() -> PeriodInputs:
            with Session(self.engine) as session, session.begin():
                receipt = session.get(Receipt, cycle.receipt)
                assert receipt is not None
                return load_period(
                    session,
                    loaded.compiled,
                    period,
                    org_cutoff=receipt.org_revision_id,
                    only=set(seqcodec.decode(receipt.fact_seqs)),
                )

        with Session(self.engine) as session:
            receipt = session.get(Receipt, cycle.receipt)
            assert receipt is not None
            receipt_id, results_digest = receipt.id, receipt.results_digest
        basis = f"r:{receipt_id}"
        back = stored.read(self.engine, digest, period, None, basis) if self.keep else None
        inputs: PeriodInputs | None = None
        if back is not None:  # the replay stored: proved again below, as a replay is
            ev = Evaluation(loaded.compiled, period, back.results)
            org, facts_cited, recorded = back.org, back.cited, back.recorded
            doc = results_json(ev)
            if hashlib.sha256(_canonical(doc)).hexdigest() == results_digest:
                self.restored += 1
            else:
                back = None
        if back is None:
            inputs = replayed()
            units = set(inputs.org.units)
            ev = evaluate(
                loaded.compiled, inputs.org, inputs.facts, period, units, org_at=inputs.org_of
            )
            doc = results_json(ev)
            if hashlib.sha256(_canonical(doc)).hexdigest() != results_digest:
                raise ReplayMismatch(
                    f"the approved receipt {receipt_id} of {period} does not replay to its results"
                )
            org, facts_cited, recorded = inputs.org, cited(ev, inputs.facts), len(inputs.facts)
            if self.keep:
                stored.write(
                    self.engine, digest, period, None, basis,
                    stored.Kept(ev.results, org, facts_cited, recorded),
                )  # fmt: skip
        wm = _parse_watermark(cycle.watermark)
        approval = {
            "cycle": cycle.cycle,
            "receipt": receipt_id,
            "by": cycle.by,
            "at": cycle.at.isoformat() if cycle.at else None,
        }
        doc = {**doc, "watermark": wm.as_json(), "state": "approved", "approved": approval}
        got = Scored(
            loaded, period, wm, ev, doc, inputs, None, org=org, approved=approval, reload=replayed
        )  # fmt: skip
        got.cited, got.recorded = facts_cited, recorded
        with self._guard:
            self._frozen = {k: v for k, v in self._frozen.items() if k[:2] != key[:2]}
            self._frozen[key] = got
        return got

    def _restore(
        self,
        loaded: LoadedRuleset,
        period: Period,
        wm: Watermark,
        cards: frozenset[str] | None,
    ) -> Scored | None:
        """The evaluation another process stored for this watermark, if any (with `keep`)."""
        if not self.keep:
            return None
        back = stored.read(self.engine, loaded.compiled.digest, period, cards, f"w:{wm}")
        if back is None:
            return None
        self.restored += 1
        return self._restored(loaded, period, wm, cards, back)

    def _restored(
        self,
        loaded: LoadedRuleset,
        period: Period,
        wm: Watermark,
        cards: frozenset[str] | None,
        back: stored.Kept,
    ) -> Scored:
        """An entry from a stored evaluation (its facts read again when needed)."""
        ev = Evaluation(loaded.compiled, period, back.results)
        got = Scored(
            loaded, period, wm, ev, None, None, None, org=back.org, cards=cards,
            reload=lambda: self._load(loaded, period)[2],
        )  # fmt: skip
        got.cited, got.recorded = back.cited, back.recorded
        return got

    def _store(self, scored: Scored) -> None:
        """Stores an evaluation just made for other processes (with `keep`), when it is valid
        by its watermark alone (no number missing below it) and no rule failed in it."""
        if not self.keep or scored.gap is not None or scored.evaluation.failed():
            return
        assert scored.org is not None and scored.inputs is not None
        kept = stored.Kept(scored.evaluation.results, scored.org, scored.cited, scored.recorded)
        last = max((f.date for f in scored.inputs.facts if f.date is not None), default=None)
        basis = f"w:{scored.watermark}"
        stored.write(
            self.engine, scored.digest, scored.period, scored.cards, basis, kept, last_day=last
        )

    def _peek(self, key: tuple[Any, ...], wm: Watermark) -> Scored | None:
        with self._guard:
            got = self._entries.get(key)
        if got is None or not self._fresh(got, wm):
            return None
        with self._guard:
            if key in self._entries:
                self._entries.move_to_end(key)
        return got

    def _load(
        self, loaded: LoadedRuleset, period: Period
    ) -> tuple[Watermark, tuple[int, int] | None, PeriodInputs]:
        """The period's inputs read in one snapshot with the watermark they are of."""
        with Session(self.engine) as session, session.begin():
            if self.engine.dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            wm = read_watermark(session)
            gap = first_gap(session, wm.facts)
            # no receipt is made from an entry: its facts' digests are not read
            inputs = load_period(session, loaded.compiled, period, digests=False)
        return wm, gap, inputs

    def _build(
        self,
        loaded: LoadedRuleset,
        period: Period,
        wm: Watermark,
        gap: tuple[int, int] | None,
        inputs: PeriodInputs,
        cards: frozenset[str] | None = None,
    ) -> Scored:
        # Units are few and their traces cheap (~5% on a province): the analysis and the
        # explanations of units read them; persons are traced on the first explanation asked.
        units = set(inputs.org.units)
        ev = evaluate(
            loaded.compiled,
            inputs.org,
            inputs.facts,
            period,
            units,
            org_at=inputs.org_of,
            cards=cards,
            facts_live=inputs.live,
        )
        self.fills += 1
        got = Scored(loaded, period, wm, ev, None, inputs, gap, org=inputs.org, cards=cards)
        got.cited, got.recorded = cited(ev, inputs.facts), len(inputs.facts)
        return got
