"""Recording facts: importing a JSONL file, posting a few, retracting one, reading a history.

An import is checked whole before anything is recorded: any invalid line rejects it (unless
`skip_invalid`, which records the rest and lists what it skipped). On SQLite the checked rows
are then written in chunks, one transaction each; on PostgreSQL each chunk is written as soon
as it is checked, on a thread of its own, in one transaction committed once the whole import
is checked (`_import_whole`: the server writes while the client checks). A chunk that meets
a concurrent writer's fact with the same id is checked again. Importing the same file twice
records nothing the second time, so an interrupted import is finished by running it again.
"""

from __future__ import annotations

import pickle
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.services import trail
from app.services.factcheck import FactChecker
from app.services.frozen import (
    Slot,
    approved_cycles,
    refuse_frozen,
    refuse_frozen_rows,
    slots_of,
)
from app.services.texts import require_text
from app.store import partitions, repository
from app.store.bulk import (
    BY,
    DIGEST,
    ID,
    PROVINCE,
    SUPERSEDES,
    YEAR,
    Hashed,
    Row,
    append_rows,
    as_row,
    bulk_indexes,
    hash_ahead,
    insert_rows,
    restore_indexes,
)
from app.store.chain import FactHasher, Head, head_now, lock_head, move_head
from app.store.db import transaction
from app.store.models import Fact, Retraction
from dsl.facts.inputs import gc_paused
from dsl.facts.limits import MAX_TEXT
from dsl.facts.records import Fact as ReadFact
from dsl.facts.records import FactProblem, Org, iter_jsonl, parse_fact_line
from dsl.facts.validate import FactSchema

CHUNK = 20_000
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class ImportResult:
    """How many facts were recorded, were already recorded, and were skipped (and why)."""

    added: int = 0
    unchanged: int = 0
    skipped: list[FactProblem] = field(default_factory=list)


def _records(path: Path, problems: list[FactProblem]) -> Iterator[tuple[int, int, Any]]:
    """(line, bytes read so far, JSON object) of each line that is a JSON object."""
    done = 0
    for line_no, line in iter_jsonl(path):
        done += len(line)
        try:
            obj = parse_fact_line(line)
        except ValueError as e:
            problems.append(FactProblem(str(path), line_no, "-", "-", f"not valid JSON: {e}"))
            continue
        if not isinstance(obj, dict):
            problems.append(FactProblem(str(path), line_no, "-", "-", "not a JSON object"))
            continue
        yield line_no, done, obj


def import_facts(
    engine: Engine,
    path: Path,
    schema: FactSchema,
    org: Org,
    by: str,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> ImportResult:
    """Checks a facts file whole, then records its new facts in chunks.

    A file the validator's typed reader takes whole is read at once (a large one by two
    processes where that pays: `dsl.facts.split`) and cut into chunks of its facts; any other
    is read line by line (`_records`), each record decided and worded."""
    problems: list[FactProblem] = []
    checker = FactChecker(schema, org, str(path), by, datetime.now(UTC))
    total = path.stat().st_size
    with gc_paused():  # a million facts built: see `_import`
        facts = checker.validator.read_typed(path, split=True)
    batches = (
        _fact_batches(facts, total, chunk) if facts else _batches(_records(path, problems), chunk)
    )
    return _import(
        engine, batches, total, str(path), skip_invalid, progress, problems, checker, facts
    )


Batches = Iterator[tuple[int | None, list[tuple[int, Any]]]]  # (progress so far, records)


def _fact_batches(facts: list[ReadFact], total: int, chunk: int) -> Batches:
    """The facts in chunks of (line, Fact), each full one with the share of the file it ends
    at (the last one, not full, with None)."""
    n = len(facts)
    for i in range(0, n, chunk):
        part = facts[i : i + chunk]
        done = total * (i + len(part)) // n if len(part) == chunk else None
        yield done, [(f.line, f) for f in part]


def _batches(records: Iterable[tuple[int, int, Any]], chunk: int) -> Batches:
    """(line, progress so far, record) records in chunks of (line, record), each full one with
    the progress it ends at (the last one, not full, with None)."""
    batch: list[tuple[int, Any]] = []
    for line_no, done, obj in records:
        batch.append((line_no, obj))
        if len(batch) >= chunk:
            yield done, batch
            batch = []
    yield None, batch


def import_records(
    engine: Engine,
    records: Iterable[tuple[int, int, Any]],
    total: int,
    source: str,
    schema: FactSchema,
    org: Org,
    by: str,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    problems: list[FactProblem] | None = None,
    checker: FactChecker | None = None,
) -> ImportResult:
    """Checks (line, progress so far, JSON object or checked Fact) records whole, then records
    the new facts in chunks. `problems` found before (reading the records) count as the
    checks' own."""
    checker = checker or FactChecker(schema, org, source, by, datetime.now(UTC))
    problems = [] if problems is None else problems
    batches = _batches(records, chunk)
    return _import(engine, batches, total, source, skip_invalid, progress, problems, checker)


def _import(
    engine: Engine,
    batches: Batches,
    total: int,
    source: str,
    skip_invalid: bool,
    progress: Progress | None,
    problems: list[FactProblem],
    checker: FactChecker,
    ahead: list[ReadFact] | None = None,
) -> ImportResult:
    """`import_records` of records in chunks (`ahead`: all of them, when read whole)."""
    if engine.dialect.name == "postgresql":
        return _import_whole(
            engine, batches, total, source, skip_invalid, progress, problems, checker, ahead
        )
    result = ImportResult()
    spooled: list[int] = []  # the rows of each chunk written to the spool
    years: set[int] = set()  # the years the rows belong to (approved periods refuse them)
    # No cyclic GC: what the import keeps (ids seen, owners of period values) only grows,
    # and each full collection walked all of it (it doubled the time of checking).
    with tempfile.TemporaryFile() as spool, gc_paused():
        with engine.connect() as conn, Session(conn) as session:
            for done, batch in batches:
                spooled.append(_check(session, checker, batch, spool, problems, result, years))
                if progress and done is not None:
                    progress("checked", done, total)
            if progress:
                progress("checked", total, total)
        _refuse_or_skip(problems, skip_invalid, source, result)
        if years:
            with Session(engine) as session:  # the whole import, before any chunk is written
                if approved_cycles(session, years):
                    refuse_frozen(session, _spooled_slots(spool, spooled))
        spool.seek(0)
        sizes = [n for n in spooled if n]
        result.added, repeated = _write(engine, spool, sizes, progress, source)
        result.unchanged += repeated
    if result.added:
        with transaction(engine) as session:
            repository.refresh_statistics(session)
    return result


def _check(
    session: Session,
    checker: FactChecker,
    batch: list[tuple[int, Any]],
    spool: IO[bytes],
    problems: list[FactProblem],
    result: ImportResult,
    years: set[int],
) -> int:
    """Checks a chunk and spools its rows to record; returns how many."""
    rows, _ = _check_rows(session, checker, batch, problems, result, years)
    if rows:  # tuples: what the writer takes, and a third of the pickled dicts' bytes
        pickle.dump(rows, spool, protocol=pickle.HIGHEST_PROTOCOL)
    return len(rows)


def _check_rows(
    session: Session,
    checker: FactChecker,
    batch: list[tuple[int, Any]],
    problems: list[FactProblem],
    result: ImportResult,
    years: set[int],
) -> tuple[list[Row], set[int]]:
    """Checks a chunk: its rows to record and their years."""
    if not batch:
        return [], set()
    checked = checker.check_rows(session, batch)
    problems.extend(checked.problems)
    result.unchanged += checked.unchanged
    chunk_years = {r[YEAR] for r in checked.rows}
    years.update(chunk_years)
    session.rollback()  # end the read transaction: readers must not hold SQLite's snapshot
    return checked.rows, chunk_years


def _spooled_slots(spool: IO[bytes], sizes: list[int]) -> dict[Slot, list[str]]:
    """The (year, quarter) of every spooled row, with their ids (`slots_of`)."""
    spool.seek(0)
    slots: dict[Slot, list[str]] = {}
    for _ in (n for n in sizes if n):
        for slot, ids in slots_of(pickle.load(spool)).items():
            slots.setdefault(slot, []).extend(ids)
    return slots


def _write(
    engine: Engine, spool: IO[bytes], sizes: list[int], progress: Progress | None, source: str
) -> tuple[int, int]:
    """Writes the spooled chunks (of `sizes` rows), one transaction each, reading one at a
    time; returns (added, already there)."""
    total = sum(sizes)
    added = repeated = 0
    restore_indexes(engine)  # after an import killed while they were being rebuilt
    with bulk_indexes(engine, total):
        for _ in sizes:
            a, r = write_tuples(engine, pickle.load(spool), "facts.import", source)
            added, repeated = added + a, repeated + r
            if progress:
                progress("written", added + repeated, total)
    return added, repeated


# ---- PostgreSQL: the import in one transaction, written while it is checked --------------


def _import_whole(
    engine: Engine,
    batches: Batches,
    total: int,
    source: str,
    skip_invalid: bool,
    progress: Progress | None,
    problems: list[FactProblem],
    checker: FactChecker,
    ahead: list[ReadFact] | None,
) -> ImportResult:
    """`_import` on PostgreSQL: each checked chunk is written at once, on a thread of its own
    (`_WholeWrite`), in one transaction that commits only once the whole import is checked.

    What is recorded is what the spooled import records: the same rows, numbers and hashes,
    one audit entry per chunk. An invalid fact (without `skip_invalid`), a fact of an approved
    period or any error rolls the whole import back, so nothing is recorded, as before any
    write (an interrupted import is run again whole). While the server writes a chunk the
    client checks and hashes the next: the two ~20 s of CPU overlap instead of adding up.
    """
    result = ImportResult()
    years: set[int] = set()
    restore_indexes(engine)  # as `_write`
    with gc_paused(), _WholeWrite(engine, source) as writer:
        with engine.connect() as conn, Session(conn) as session:
            if ahead:
                checker.read_periods(session, ahead)
                writer.ahead = head_now(session.connection(), "facts")
                session.rollback()
            else:
                writer.hold()
            for done, batch in batches:
                fresh = writer.locked.is_set()
                rows, chunk_years = _check_rows(session, checker, batch, problems, result, years)
                if rows and (skip_invalid or not problems):  # else the import is refused
                    writer.put(rows, chunk_years, fresh)
                if progress and done is not None:
                    progress("checked", done, total)
            if progress:
                progress("checked", total, total)
        _refuse_or_skip(problems, skip_invalid, source, result)
        result.added, repeated = writer.commit(progress)
        result.unchanged += repeated
    if result.added:
        with transaction(engine) as session:
            repository.refresh_statistics(session)
    return result


# A checked chunk for the writer: its rows, their years, whether it was checked under the
# writer's lock, and its rows hashed ahead.
_Chunk = tuple[list[Row], set[int], bool, Hashed | None]


class _WholeWrite:
    """Writes the chunks of one import on a thread of its own, in one transaction.

    The thread takes the chunks in order from a short queue (the checker waits when it is
    two chunks ahead) and writes each as `write_tuples` does in a transaction of its own
    (`_write`). The facts chain's lock is taken by the first chunk and held to the commit;
    the audit entries (one per chunk) are written at the end, so the trail's lock is held
    only then. A chunk of
    an approved period is not refused at once: its slots are gathered and `commit` refuses
    them all together, as before any write (and after the invalid facts).

    Partitions (`app.store.partitions`): when the first chunk's rows all go to one partition
    that is not there (a province's new year: a first import), the writer makes it in the
    import's transaction as a table of its own without indexes (`partitions.fill_ddl`), copies
    that partition's chunks into it, and attaches it, building its indexes once, before it
    writes any other row or at the commit (`attach`): half of the server's CPU was keeping the
    indexes of a million rows copied in, and a refused import leaves no partition. Other
    partitions the first chunk needs are made beforehand in a short transaction of their own
    (an empty partition records nothing). Making one takes an exclusive lock on `facts` to the
    end of the transaction, which the checker's reads would wait for: a later chunk that needs
    a new partition is kept, with the chunks after it, in a spool until the check is over.
    """

    def __init__(self, engine: Engine, source: str) -> None:
        self.engine = engine
        self.source = source
        self.session = Session(engine)
        self.queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=2)
        self.thread = threading.Thread(target=self._run, name="facts-import", daemon=True)
        self.error: BaseException | None = None
        self.added = self.repeated = 0
        self.written: queue.Queue[int] = queue.Queue()  # rows written (or found) per chunk
        self.notes: list[tuple[str, str, dict[str, object], str]] = []
        self.slots: dict[Slot, list[str]] = {}  # of chunks in years with an approved cycle
        self.partitioned: bool | None = None  # facts partitioned (None: not asked yet)
        self.made: set[str] = set()  # the partitions there
        self.kept: IO[bytes] | None = None  # the chunks held back to the end of the check
        self.kept_chunks = 0
        self.sizes: list[int] = []  # the rows of each chunk put
        self.started = False
        self.locked = threading.Event()  # the writer holds the facts chain's lock
        # The chain's head the next chunk is hashed onto, by the importing thread while the
        # writer writes the chunk before (None: hashed by the writer, under the lock).
        self.ahead: Head | None = None
        self.hasher = FactHasher()
        # What the writer knows under the lock: the chain's head after its last chunk, whether
        # `chain_heads` says so yet, and which years have an approved cycle.
        self.head: Head | None = None
        self.moved = True
        self.after_check = False
        self.approved: dict[int, bool] = {}
        # The (province, year) of a partition missing when the import began, filled as a table
        # of its own (`partitions.fill_ddl`) while `filling`, attached before anything else is
        # written or at the commit (`top_made`: the province's partition was made too).
        self.fill: tuple[str, int] | None = None
        self.filling = False
        self.top_made = False

    def __enter__(self) -> _WholeWrite:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.kept is not None:
            self.kept.close()
        self.session.close()  # rolls back what was not committed

    def hold(self) -> None:
        """Keeps every chunk until the check is over: the checker reads the period values
        recorded before as it meets them, and the scan of a quarter would walk through the
        rows of this import written meanwhile (not committed) one by one."""
        if self.kept is None:
            self.kept = tempfile.TemporaryFile()  # noqa: SIM115 (closed on leaving)

    def put(self, rows: list[Row], years: set[int], fresh: bool) -> None:
        """Hands a checked chunk to the writer (in order); `fresh`: checked after the writer
        took the chain's lock (`locked` was set when its check began)."""
        self.sizes.append(len(rows))
        hashed = None
        if self.ahead is not None:  # the chain's head after the chunks put before
            hashed = hash_ahead(rows, self.ahead, self.hasher)
            self.ahead = hashed.head()
        if self.kept is None and not self._partitions_there(rows):
            self.kept = tempfile.TemporaryFile()  # noqa: SIM115 (closed on leaving)
        if self.kept is not None:
            pickle.dump((rows, years, fresh, None), self.kept, protocol=pickle.HIGHEST_PROTOCOL)
            self.kept_chunks += 1
            return
        self._send((rows, years, fresh, hashed))

    def _send(self, item: _Chunk) -> None:
        if not self.started:
            self.thread.start()
            self.started = True
        self.queue.put(item)

    def _partitions_there(self, rows: list[Row]) -> bool:
        """True when the partitions the rows go to are there (made now before the first
        chunk is written)."""
        if self.partitioned is None:
            with self.engine.connect() as conn:
                self.partitioned = partitions.is_partitioned(conn)
                self.made = partitions.existing(conn) if self.partitioned else set()
        if not self.partitioned:
            return True
        pairs = {(str(r[PROVINCE]), int(r[YEAR])) for r in rows}
        if {partitions.names(p, y)[1] for p, y in pairs} <= self.made:
            return True
        if self.fill is not None and pairs == {self.fill}:
            return True  # the writer fills it while no other partition is written
        if self.started:
            return False
        if len(pairs) == 1:  # made by the writer, as a table of its own (`_fill`)
            self.fill = next(iter(pairs))
            return True
        with self.engine.begin() as conn:  # under the chain's lock, as `insert_rows` makes them
            lock_head(conn, "facts")
            partitions.ensure(conn, pairs)
            self.made = partitions.existing(conn)
        return True

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            try:
                self._gather(item[0], item[1])
                if self.error is None:
                    self._write(item[0], item[2], item[3])
            except BaseException as e:  # handed to the importing thread by `commit`
                if self.error is None:
                    self.error = e

    def _gather(self, rows: list[Row], years: set[int]) -> None:
        """Keeps the slots of rows in years with an approved cycle (for `commit`). The first
        reading shares the cycles' lock to the commit: what it says holds till then."""
        new = years - self.approved.keys()
        if new:
            got = {int(c.period[:4]) for c, _ in approved_cycles(self.session, new)}
            self.approved.update((y, y in got) for y in new)
        if any(self.approved[y] for y in years):
            for slot, ids in slots_of(rows).items():
                self.slots.setdefault(slot, []).extend(ids)

    def _write(self, rows: list[Row], fresh: bool, hashed: Hashed | None) -> None:
        """`write_tuples` under the chain's lock, held since the first chunk: a chunk checked
        since then (`fresh`) cannot meet a fact recorded meanwhile (every writer of facts
        takes that lock), and goes in without looking; the ids of one checked before are
        looked up first (no savepoint to roll back to: a refused row would roll back the
        whole import)."""
        session = self.session
        if not self.locked.is_set():
            lock_head(session.connection(), "facts")
            self.locked.set()
        found = 0
        if not fresh:
            new = _not_recorded(session, rows)
            found, rows = len(rows) - len(new), new
            hashed = hashed if not found else None
        if not rows:
            self.repeated += found
            self.written.put(found)
            return
        try:
            filled = self._fill(rows, hashed)
            if filled is not None:
                first, head = filled
                self.moved = False
            elif self.head is None or self.after_check:
                first, head = _insert_tuples(session, rows, hashed)
                self.moved = True
            else:
                first, head = self.head.last + 1, self._append(rows, self.head, hashed)
                self.moved = False
            self.head = head
        except _integrity_errors(self.engine) as e:
            raise Conflict(
                "another writer recorded meanwhile a correction of the same fact or a value of "
                "the same period; nothing was recorded (read what is recorded, then supersede it)"
            ) from e
        self._done(rows, first, head, len(rows), found)

    def _fill(self, rows: list[Row], hashed: Hashed | None) -> tuple[int, Head] | None:
        """Writes rows bound for the partition missing when the import began (`fill`) into
        it as a table of its own, made by the first of them (`partitions.fill_ddl`); returns
        the first number given and the chain's new head, or None for rows written otherwise
        (once any is, the table is attached first: `attach`). While the check goes on only;
        should the partition be there under the lock (made meanwhile by another writer), the
        rows take the usual way."""
        if self.fill is None:
            return None
        keys = {(str(r[PROVINCE]), int(r[YEAR])) for r in rows}
        if keys != {self.fill} or self.after_check:
            self.attach()
            return None
        conn = self.session.connection()
        top, leaf = partitions.names(*self.fill)
        if not self.filling:
            have = partitions.existing(conn)
            if leaf in have:
                self.made, self.fill = have, None
                return None
            for stmt in partitions.fill_ddl(*self.fill, have):
                conn.execute(text(stmt))
            self.filling, self.top_made = True, top not in have
            self.made = have | {top, leaf}
        if self.made - {top, leaf}:  # as `_other_partitions`
            _refuse_across_partitions(self.session, rows)
        after = self.head if self.head is not None else head_now(conn, "facts")
        return after.last + 1, append_rows(conn, rows, after, leaf, hashed)

    def attach(self) -> None:
        """Attaches the partition filled as a table of its own, if any (its indexes built
        then: `partitions.attach_ddl`)."""
        if self.fill is None:
            return
        if self.filling:
            conn = self.session.connection()
            for stmt in partitions.attach_ddl(*self.fill, self.top_made):
                conn.execute(text(stmt))
            self.filling = False
        self.fill = None

    def _append(self, rows: list[Row], after: Head, hashed: Hashed | None) -> Head:
        """`_insert_tuples` for a chunk after the first, checked while the writer holds the
        chain's lock, whose partitions are there (`bulk.append_rows`)."""
        table = "facts"
        if self.partitioned:
            keys = {(str(r[PROVINCE]), int(r[YEAR])) for r in rows}
            own = partitions.names(*next(iter(keys))) if len(keys) == 1 else None
            if own is None or self.made - set(own):  # as `_other_partitions`
                _refuse_across_partitions(self.session, rows)
            if own is not None:
                table = own[1]  # the year's partition (else routed by `facts`)
        return append_rows(self.session.connection(), rows, after, table, hashed)

    def _done(self, rows: Sequence[Row], first: int, head: Head, added: int, found: int) -> None:
        self.notes.append((*_change(rows, first, head, "facts.import", self.source), rows[0][BY]))
        self.added += added
        self.repeated += found
        self.written.put(added + found)

    def commit(self, progress: Progress | None) -> tuple[int, int]:
        """Writes what is left, refuses the facts of approved periods, writes the audit
        entries and commits; returns (added, already there)."""
        if self.kept is not None:
            self.kept.seek(0)
            self.after_check = True  # these may make partitions: written the long way
            for _ in range(self.kept_chunks):
                self._send(pickle.load(self.kept))
        if self.started:
            self.queue.put(None)
            total, written = sum(self.sizes), 0
            while self.thread.is_alive() or not self.written.empty():
                try:
                    written += self.written.get(timeout=0.1)
                except queue.Empty:
                    continue
                if progress:
                    progress("written", written, total)
            self.thread.join()
        session = self.session
        if self.error is not None:
            session.rollback()
            refuse_frozen(session, self.slots)
            raise self.error
        refuse_frozen(session, self.slots)
        try:
            self.attach()
        except _integrity_errors(self.engine) as e:
            raise Conflict(
                "another writer recorded meanwhile a correction of the same fact or a value of "
                "the same period; nothing was recorded (read what is recorded, then supersede it)"
            ) from e
        if self.head is not None and not self.moved:
            move_head(session.connection(), "facts", self.head)
        for kind, target, change, by in self.notes:
            trail.note(session, kind, target, change, by)
        session.commit()
        return self.added, self.repeated


def write_rows(
    engine: Engine, rows: Sequence[dict[str, Any]], kind: str | None = None, source: str = ""
) -> tuple[int, int]:
    """`write_tuples` for dict rows (`app.services.factcheck.fact_row`)."""
    return write_tuples(engine, [as_row(r) for r in rows], kind, source)


def write_tuples(
    engine: Engine, rows: Sequence[Row], kind: str | None = None, source: str = ""
) -> tuple[int, int]:
    """Inserts checked rows (`app.store.bulk.ROW` tuples) in one transaction, leaving out ids
    recorded meanwhile with the same content; returns (added, already there). Other content
    for an id is a Conflict.

    The transaction records one audit entry (`kind`; by default `fact.correct` for a lone
    correction, else `facts.record`) naming the rows' numbers, ids (up to ID_LIST) and the
    chain's head after them.

    The rows go in first without looking: should an id have been recorded meanwhile, the
    unique `client_id` refuses the whole chunk, which is then sorted out by looking the ids
    up (done for every chunk, the lookups cost ~3 s of a million-fact import).
    """
    try:
        with transaction(engine) as session:
            refuse_frozen_rows(session, rows)
            record_tuples(session, rows, kind, source)
        return len(rows), 0
    except _integrity_errors(engine):
        pass
    try:
        with transaction(engine) as session:
            refuse_frozen_rows(session, rows)
            new = _not_recorded(session, rows)
            if new:
                record_tuples(session, new, kind, source)
            return len(new), len(rows) - len(new)
    except _integrity_errors(engine) as e:
        # Not an id: a correction of a fact corrected meanwhile, or a period's value recorded
        # meanwhile (`uq_facts_supersedes_id`, `uq_facts_live_value_slot`).
        raise Conflict(
            "another writer recorded meanwhile a correction of the same fact or a value of the "
            "same period; nothing was recorded (read what is recorded, then supersede it)"
        ) from e


def _not_recorded(session: Session, rows: Sequence[Row]) -> list[Row]:
    """The rows whose ids are not recorded; Conflict for an id recorded meanwhile with other
    content (the same content: left out)."""
    there = repository.recorded(session, [r[ID] for r in rows])
    new = []
    for r in rows:
        got = there.get(r[ID])
        if got is None:
            new.append(r)
        elif got[1] != r[DIGEST]:
            raise Conflict(f"fact '{r[ID]}' was recorded meanwhile with other content")
    return new


ID_LIST = 100  # a write of up to this many facts lists their ids in its audit entry


def record_rows(
    session: Session, rows: Sequence[dict[str, Any]], kind: str | None, source: str
) -> None:
    """`record_tuples` for dict rows (`app.services.factcheck.fact_row`)."""
    record_tuples(session, [as_row(r) for r in rows], kind, source)


def record_tuples(session: Session, rows: Sequence[Row], kind: str | None, source: str) -> None:
    """Inserts the rows (`app.store.bulk.ROW` tuples) and records the write in the trail, in
    the session's transaction.

    On partitioned facts (PostgreSQL, `app.store.partitions`) the writer first takes the
    chain's lock and checks the keys that the database enforces per partition only: an id or
    a correction already recorded in another partition is refused as the unique index would
    refuse it (`insert_rows` then makes the partitions the rows need)."""
    first, head = _insert_tuples(session, rows)
    kind, target, change = _change(rows, first, head, kind, source)
    trail.note(session, kind, target, change, str(rows[0][BY]))


def _insert_tuples(
    session: Session, rows: Sequence[Row], ahead: Hashed | None = None
) -> tuple[int, Head]:
    """`record_tuples` without the trail: the first number given and the chain's new head
    (`ahead`: see `insert_rows`)."""
    conn = session.connection()
    if partitions.is_partitioned(conn):
        lock_head(conn, "facts")
        if _other_partitions(conn, rows):
            _refuse_across_partitions(session, rows)
    return insert_rows(conn, rows, ahead)


def _other_partitions(conn: Connection, rows: Sequence[Row]) -> bool:
    """False when the rows all go to one partition and no other partition of the facts is
    there: its unique indexes then refuse what `_refuse_across_partitions` would (an import
    into a new province's year looked up its million ids a second time for nothing)."""
    keys = {(str(r[PROVINCE]), int(r[YEAR])) for r in rows}
    if len(keys) != 1:
        return True
    return bool(partitions.existing(conn) - set(partitions.names(*next(iter(keys)))))


def _change(
    rows: Sequence[Row], first: int, head: Head, kind: str | None, source: str
) -> tuple[str, str, dict[str, object]]:
    """The audit entry of a write of `rows`: its kind, target and change."""
    corrections = [r[SUPERSEDES] for r in rows if r[SUPERSEDES] is not None]
    if kind is None:
        kind = "fact.correct" if len(rows) == 1 and corrections else "facts.record"
    change: dict[str, object] = {
        "count": len(rows),
        "first_seq": first,
        "last_seq": head.last,
        "head": head.hash,
        "corrections": len(corrections),
    }
    if len(rows) <= ID_LIST:
        change["ids"] = [r[ID] for r in rows]
        if corrections:
            change["supersedes"] = corrections
    target = f"fact:{corrections[0]}" if kind == "fact.correct" else source or "facts"
    return kind, target, change


class AcrossPartitions(IntegrityError):
    """An id or a correction recorded meanwhile in another partition of the facts."""


def _refuse_across_partitions(session: Session, rows: Sequence[Row]) -> None:
    ids = [r[ID] for r in rows]
    corrected = [r[SUPERSEDES] for r in rows if r[SUPERSEDES] is not None]
    if repository.recorded(session, ids) or repository.correctors(session, corrected):
        raise AcrossPartitions("facts: recorded meanwhile", None, Exception("across partitions"))


def _integrity_errors(engine: Engine) -> tuple[type[Exception], ...]:
    """A refused constraint, as the driver raises it (`insert_rows` uses the driver's own
    cursor) and as SQLAlchemy wraps it."""
    return (engine.dialect.loaded_dbapi.IntegrityError, IntegrityError)


def record_facts(
    engine: Engine, raws: Sequence[Any], schema: FactSchema, org: Org, by: str, source: str
) -> ImportResult:
    """Records a few facts in one transaction (all or none): what a service posts."""
    checker = FactChecker(schema, org, source, by, datetime.now(UTC))
    with Session(engine) as session:
        checked = checker.check(session, list(enumerate(raws, 1)))
    if checked.problems:
        raise Invalid(f"{len(checked.problems)} invalid fact(s); none recorded", checked.problems)
    added, repeated = write_rows(engine, checked.rows) if checked.rows else (0, 0)
    return ImportResult(added, checked.unchanged + repeated)


def retract(engine: Engine, client_id: str, by: str, reason: str) -> int:
    """Withdraws a fact (who and why are kept); returns the retraction's id."""
    if not reason.strip():
        raise Invalid("a retraction needs a reason")
    require_text(reason, "reason", MAX_TEXT)
    try:
        with transaction(engine) as session:
            found = session.execute(
                select(Fact.seq, Fact.year, Fact.quarter).where(Fact.client_id == client_id)
            ).first()
            if found is None:
                raise NotFound(f"no fact '{client_id}'")
            seq = found[0]
            refuse_frozen(session, {(found[1], found[2]): [client_id]})
            if session.scalar(select(Retraction.id).where(Retraction.fact_seq == seq)) is not None:
                raise Conflict(f"fact '{client_id}' is already retracted")
            at = datetime.now(UTC)
            r = Retraction(fact_seq=seq, reason=reason, recorded_by=by, recorded_at=at)
            session.add(r)
            session.flush()
            change: dict[str, object] = {"retraction": r.id, "seq": seq, "reason": reason}
            trail.note(session, "fact.retract", f"fact:{client_id}", change, by)
            return r.id
    except IntegrityError as e:  # retracted meanwhile by another writer
        raise Conflict(f"fact '{client_id}' is already retracted") from e


def history(engine: Engine, subject: str) -> list[dict[str, Any]]:
    """Every fact on a subject in recording order, with what became of it."""
    with Session(engine) as session:
        rows = session.execute(
            select(Fact, Retraction)
            .outerjoin(Retraction, Retraction.fact_seq == Fact.seq)
            .where(Fact.subject == subject)
            .order_by(Fact.seq)
        ).all()
        ids = [f.client_id for f, _ in rows]
        by = repository.correctors(session, ids)
    out = []
    for f, r in rows:
        item: dict[str, Any] = {
            "seq": f.seq,
            "id": f.client_id,
            "type": f.type,
            "when": f.date.isoformat() if f.date else f.period,
            "data": {k: str(v) if isinstance(v, Decimal) else v for k, v in f.data.items()},
            "evidence": f.evidence,
            "supersedes": f.supersedes_id,
            "recorded_by": f.recorded_by,
            "recorded_at": f.recorded_at.isoformat(),
            "status": "live",
        }
        if f.client_id in by:
            item["status"] = f"superseded by {by[f.client_id]}"
        if r is not None:
            item["status"] = "retracted"
            item["retracted"] = {
                "by": r.recorded_by,
                "at": r.recorded_at.isoformat(),
                "why": r.reason,
            }
        out.append(item)
    return out


def _refuse_or_skip(
    problems: list[FactProblem], skip_invalid: bool, source: str, result: ImportResult
) -> None:
    """Once the whole file is checked: the import refused when a fact is invalid (nothing
    recorded), else the invalid facts listed as skipped, in line order."""
    problems.sort(key=lambda p: (p.line, p.field))
    if problems and not skip_invalid:
        raise Invalid(
            f"{len(problems)} invalid fact(s) in {source}; nothing was imported "
            "(--skip-invalid imports the rest)",
            problems,
        )
    result.skipped = problems
