"""Evaluations kept in the database across processes: the score cache's second level.

A period's evaluation costs seconds on a province (its ~250,000 facts read and scored); a
process that starts cold (a restart, another worker) would make again what another process has
already made. So `ScoreCache` (with `keep`) stores each evaluation it makes, by ruleset digest,
period, scorecards scored and day (a period as of a day inside it, scored from the facts dated
by then, as the warnings read it), with what it is valid for (`basis`):

- `w:<watermark>`: the recorded facts and organisation it read. It serves while the database's
  watermark is the same, by the rule the cache applies to its entries in memory: only an
  evaluation read with no sequence number missing below its watermark is stored, so no fact can
  arrive later with a lower number. Any new fact, retraction or organisation revision moves
  the watermark: the row is not read again, and the next evaluation replaces it.
- `r:<receipt id>`: an approved receipt's replay (its facts and organisation revision are
  fixed, so it stays valid); read back, its results digest is checked against the receipt's
  as the replay's is.

One row per (ruleset, period, scorecards, day): a newer evaluation replaces the older, and
storing a day's deletes the days stored for another basis (stale). The row holds
every subject's results (units traced), the organisation at the period's end, the facts the
traces cite and the count of live facts, pickled and compressed, with the version of the code
that made it (`code_version`): a row made by other code is not read. The facts themselves
are not kept; an entry read back reads them again when a reader needs them (a person's
explanation). A row that cannot be read back is a miss; a row that cannot be written is left
unwritten (the evaluation is served all the same). The rows are the application's own: whoever
can write to its database can change the facts and results themselves.

Storing a quarter costs ~0.2 s on the province (its results pickled and compressed, then
written), which nobody asking needs: within `later()` (the API's and the web's answers) the
writes wait until the answer is made and are run after it is sent (`Later.run`).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import pickle
import threading
import zlib
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Engine, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.store.models import StoredEvaluation
from dsl.compile.cache import code_version as dsl_version
from dsl.engine.results import SubjectResult
from dsl.facts.inputs import gc_paused
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org

log = logging.getLogger("jixiao.stored")
_MARK = b"jixiao-stored-evaluation-1"
_APP = Path(__file__).resolve().parent.parent
# Besides the rule language's code: what reads the facts and organisation an evaluation scores.
_READERS = (
    "services/stored.py",
    "services/scoring.py",
    "services/org.py",
    "services/cache.py",
    "store/repository.py",
)


@cache
def code_version() -> str:
    """sha256 of the code a stored evaluation depends on: `dsl` (`dsl.compile.cache`) and the
    modules that read the facts and organisation from the database."""
    h = hashlib.sha256(_MARK + b"\0" + dsl_version().encode())
    for name in _READERS:
        h.update(b"\0" + name.encode() + b"\0" + (_APP / name).read_bytes())
    return h.hexdigest()


@dataclass
class Later:
    """Stored writes put off until an answer is sent (`later`)."""

    writes: list[Callable[[], bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, write: Callable[[], bool]) -> None:
        """Puts a write off (any thread of the answer may)."""
        with self.lock:
            self.writes.append(write)

    def run(self) -> int:
        """Runs the writes put off, in the order they came; how many were written."""
        with self.lock:
            writes, self.writes = self.writes, []
        return sum(1 for w in writes if w())


_LATER: ContextVar[Later | None] = ContextVar("jixiao_stored_later", default=None)


@contextmanager
def later() -> Iterator[Later]:
    """Within, `write` puts its rows off (threads started within with a copy of the context
    too) until the caller runs the `Later` yielded, once its answer is sent: rows stored for
    other processes need not hold up this one's answer. Nested, the outer one holds them."""
    outer = _LATER.get()
    if outer is not None:
        yield outer
        return
    pending = Later()
    token = _LATER.set(pending)
    try:
        yield pending
    finally:
        _LATER.reset(token)


class Answer(Protocol):
    """A web framework's response: what it runs once it is sent (Starlette awaits it)."""

    background: Any


A = TypeVar("A", bound=Answer)


async def stored_after(answer: Callable[[], Awaitable[A]]) -> A:
    """`answer()`'s response, the evaluations it stored for other processes (`later`) written
    after the response is sent (after any background work the response has); when it raises,
    written before the error is answered."""
    with later() as pending:
        try:
            response = await answer()
        except BaseException:
            await asyncio.to_thread(pending.run)
            raise
    if pending.writes:
        response.background = _Then(response.background, pending.run)
    return response


class _Then:
    """A response's background work, then the writes put off (on a worker thread)."""

    def __init__(self, first: Callable[[], Awaitable[Any]] | None, then: Callable[[], int]):
        self.first, self.then = first, then

    async def __call__(self) -> None:
        if self.first is not None:
            await self.first()
        await asyncio.to_thread(self.then)


@dataclass(frozen=True)
class Kept:
    """What a stored evaluation gives back."""

    results: list[SubjectResult]
    org: Org
    cited: dict[str, Fact]
    recorded: int


def cards_key(cards: Collection[str] | None) -> str:
    """The scorecards of an evaluation as a key: their ids sorted, comma separated ('' for an
    evaluation of every scorecard)."""
    return ",".join(sorted(cards)) if cards else ""


def _fraction(numerator: int, denominator: int) -> Fraction:
    """A fraction from its two integers."""
    return Fraction(numerator, denominator)


class _Pickler(pickle.Pickler):
    """Fractions as their two integers (the default pickles their text, and parses it back)."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is Fraction:
            return _fraction, (obj.numerator, obj.denominator)
        return NotImplemented


def dump(kept: Kept) -> bytes:
    """`kept` as a row's body."""
    buf = io.BytesIO()
    with gc_paused():  # the pickler's memo holds every object it has written
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(
            (kept.results, kept.org, kept.cited, kept.recorded)
        )
    return zlib.compress(buf.getvalue(), 1)


def load(body: bytes) -> Kept | None:
    """A row's body read back (None when it cannot be)."""
    try:
        with gc_paused():  # a period's results are ~200,000 objects, and build no cycles
            results, org, cited, recorded = pickle.loads(zlib.decompress(body))
    except Exception:  # cut short, corrupt, or of classes since changed: a miss
        return None
    return Kept(results, org, cited, recorded)


def read(
    engine: Engine,
    digest: str,
    period: Period,
    cards: Collection[str] | None,
    basis: str,
    day: date | None = None,
) -> Kept | None:
    """The stored evaluation of the period under the ruleset (as of `day`, if given), of these
    scorecards, if one is valid for `basis` and was made by this code."""
    got = _read(engine, digest, period, cards, basis, StoredEvaluation.as_of == _day(day))
    return None if got is None else got[1]


def read_as_of(
    engine: Engine, digest: str, period: Period, basis: str, day: date
) -> tuple[bool, Kept] | None:
    """The period as of `day` stored for `basis`: (False, the day's own evaluation), or (True,
    the whole period's) when it read no fact dated after the day, so it is the day's too."""
    whole = and_(
        StoredEvaluation.as_of == "",
        or_(StoredEvaluation.last_day.is_(None), StoredEvaluation.last_day <= str(day)),
    )
    got = _read(engine, digest, period, None, basis, or_(StoredEvaluation.as_of == str(day), whole))
    return None if got is None else (got[0] == "", got[1])


def _day(day: date | None) -> str:
    return str(day) if day else ""


def _read(
    engine: Engine,
    digest: str,
    period: Period,
    cards: Collection[str] | None,
    basis: str,
    which: ColumnElement[bool],
) -> tuple[str, Kept] | None:
    q = select(StoredEvaluation.as_of, StoredEvaluation.body).where(
        StoredEvaluation.ruleset_digest == digest,
        StoredEvaluation.period == str(period),
        StoredEvaluation.cards == cards_key(cards),
        StoredEvaluation.basis == basis,
        StoredEvaluation.code == code_version(),
        which,
    )
    try:
        with Session(engine) as session:
            row = session.execute(q.order_by(StoredEvaluation.as_of.desc()).limit(1)).first()
    except SQLAlchemyError as e:
        log.warning("stored evaluations not read (%s): %s", period, e)
        return None
    if row is None:
        return None
    kept = load(row[1])
    return None if kept is None else (row[0], kept)


def write(
    engine: Engine,
    digest: str,
    period: Period,
    cards: Collection[str] | None,
    basis: str,
    kept: Kept,
    day: date | None = None,
    last_day: date | None = None,
) -> bool:
    """Stores an evaluation, replacing the one stored for the same ruleset, period, scorecards
    and day; a day's deletes the days of the period stored for another basis. False when it
    could not be written. Within `later()`, put off (True)."""

    def store() -> bool:
        row = {
            "ruleset_digest": digest,
            "period": str(period),
            "cards": cards_key(cards),
            "as_of": _day(day),
            "basis": basis,
            "last_day": str(last_day) if last_day else None,
            "code": code_version(),
            "body": dump(kept),
            "stored_at": datetime.now(UTC),
        }
        dialect = engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(StoredEvaluation).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["ruleset_digest", "period", "cards", "as_of"],
            set_={k: stmt.excluded[k] for k in ("basis", "last_day", "code", "body", "stored_at")},
        )
        try:
            with Session(engine) as session, session.begin():
                if day is not None:
                    session.execute(
                        delete(StoredEvaluation).where(
                            StoredEvaluation.ruleset_digest == digest,
                            StoredEvaluation.period == str(period),
                            StoredEvaluation.as_of != "",
                            StoredEvaluation.basis != basis,
                        )
                    )
                session.execute(stmt)
        except SQLAlchemyError as e:
            log.warning("stored evaluation of %s not written: %s", period, e)
            return False
        return True

    pending = _LATER.get()
    if pending is not None:
        pending.add(store)
        return True
    return store()


def clear(engine: Engine) -> None:
    """Forgets every stored evaluation (the next evaluation of each period is made anew)."""
    with Session(engine) as session, session.begin():
        session.execute(delete(StoredEvaluation))
