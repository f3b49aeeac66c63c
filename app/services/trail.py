"""The audit trail: one append-only, hash-chained entry per write, and verifying the chains.

Every write of the services (facts posted, imported or corrected, retractions, organisation
imports, tokens, rulesets registered or reloaded, receipts kept) calls `record` once, in the
write's own transaction, with who did it (the token's name and role), the request it came
in, what kind of write it was, on what, and what changed. `verify` walks the chains of facts
and audit entries and names the first row that does not hash as it should.

Who is acting is the caller's business: the API and the web pages set a `Context` per request
(`bind`; its actor and role are filled in once the token is known), the command line one per
command. A service that has no context records its own `by` with the role `local`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Text, cast, insert, select
from sqlalchemy.orm import Session

from app import exactjson
from app.errors import Invalid
from app.store import chain
from app.store.models import AuditEntry, ChainHead, Fact, Retraction

LOCAL = "local"  # the role of a command run where the database is (no token)
MAX_PAGE = 1000
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


@dataclass
class Context:
    """Who is writing and in which request. Mutable: the request's middleware binds it before
    the token is read, and authentication fills in `actor` and `role`."""

    request_id: str | None = None
    actor: str | None = None
    role: str | None = None


_CONTEXT: ContextVar[Context | None] = ContextVar("jixiao_trail", default=None)


def current() -> Context:
    """The context of the running request or command (empty outside one)."""
    return _CONTEXT.get() or Context()


@contextmanager
def bind(ctx: Context) -> Iterator[Context]:
    """Makes `ctx` the current context inside the block."""
    token = _CONTEXT.set(ctx)
    try:
        yield ctx
    finally:
        _CONTEXT.reset(token)


def request_id(offered: str | None) -> str:
    """The client's X-Request-ID when it is sane (1–128 of letters, digits and `._:-`),
    else a new one."""
    if offered is not None and _REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def acting_as(actor: str, role: str) -> None:
    """Names who acts in the current context (authentication calls it)."""
    ctx = _CONTEXT.get()
    if ctx is not None:
        ctx.actor, ctx.role = actor, role


def record(
    session: Session,
    *,
    actor: str,
    role: str,
    kind: str,
    target: str,
    change: dict[str, object],
    request_id: str | None,
) -> None:
    """Appends one audit entry in the session's transaction, chained onto the last one.

    It takes the audit chain's turn until the transaction ends: a transaction that writes
    facts too writes them first (the facts' chain is always taken before the audit chain)."""
    conn = session.connection()
    head = chain.lock_head(conn, "audit_entries")
    values: dict[str, Any] = {
        "id": head.last + 1,
        "at": datetime.now(UTC),
        "actor": actor[:200],
        "role": role[:20],
        "request_id": request_id,
        "kind": kind[:100],
        "target": target[:1000],
        "change": exactjson.dumps(change),
        "prev_hash": head.hash,
    }
    values["row_hash"] = chain.entry_hash(head.hash, values)
    conn.execute(insert(AuditEntry).values(**values))
    chain.move_head(conn, "audit_entries", chain.Head(values["id"], values["row_hash"]))


def note(session: Session, kind: str, target: str, change: dict[str, object], by: str) -> None:
    """`record` for the services: who acts comes from the current context, else `by` with
    the role `local`."""
    ctx = current()
    record(
        session,
        actor=ctx.actor or by,
        role=ctx.role or LOCAL,
        kind=kind,
        target=target,
        change=change,
        request_id=ctx.request_id,
    )


# ---- reading the trail ------------------------------------------------------------------


def entry_json(e: AuditEntry) -> dict[str, Any]:
    """An audit entry as the API and `jixiao audit log` show it."""
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "role": e.role,
        "request_id": e.request_id,
        "kind": e.kind,
        "target": e.target,
        "change": exactjson.loads(e.change),
        "hash": e.row_hash,
    }


def log(
    engine: Engine,
    *,
    actor: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """Entries in order after the entry `after`, filtered (`kind` ending in `.*`: that
    prefix; `since` inclusive, `until` exclusive); `next` continues the listing."""
    if since is not None and until is not None and until <= since:
        raise Invalid("'until' must be later than 'since'")
    q = select(AuditEntry).where(AuditEntry.id > after)
    if actor is not None:
        q = q.where(AuditEntry.actor == actor)
    if kind is not None:
        if kind.endswith(".*"):
            q = q.where(AuditEntry.kind.startswith(kind[:-1], autoescape=True))
        else:
            q = q.where(AuditEntry.kind == kind)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if until is not None:
        q = q.where(AuditEntry.at < until)
    limit = max(1, min(limit, MAX_PAGE))
    with Session(engine) as session:
        rows = list(session.scalars(q.order_by(AuditEntry.id).limit(limit + 1)))
    page = rows[:limit]
    nxt = page[-1].id if len(rows) > limit else None
    return {"entries": [entry_json(e) for e in page], "next": nxt}


# ---- verifying the chains ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A row of a chain that is not as it was written."""

    table: str
    row: int
    message: str

    def __str__(self) -> str:
        key = "seq" if self.table == "facts" else "id"  # retractions, audit_entries: id
        return f"{self.table} {key} {self.row}: {self.message}"


@dataclass
class Verified:
    """What `verify` walked and the first problem of each chain (empty: all hold)."""

    rows: dict[str, int]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """True when every chain holds."""
        return not self.problems


def _columns(table: str) -> tuple[tuple[str, ...], Any]:
    if table == "facts":
        t = Fact.__table__
        cols = [cast(t.c.data, Text) if c == "data" else t.c[c] for c in chain.FACT_HASHED]
        return chain.FACT_HASHED, select(*cols, t.c.prev_hash, t.c.row_hash).order_by(t.c.seq)
    t = AuditEntry.__table__
    cols = [t.c[c] for c in chain.ENTRY_HASHED]
    return chain.ENTRY_HASHED, select(*cols, t.c.prev_hash, t.c.row_hash).order_by(t.c.id)


def _walk(
    session: Session, table: str, expect: dict[int, tuple[int, str]]
) -> tuple[int, int, str, Problem | None]:
    """(rows, last row, its hash, first problem) of one chain; `expect` maps rows to the
    (audit entry, hash) that recorded them as the last of a write: what is left of it was not
    found with that hash."""
    names, q = _columns(table)
    hashed = chain.fact_hash if table == "facts" else chain.entry_hash
    prev, last, count = chain.GENESIS, 0, 0
    first: Problem | None = None
    for row in session.execute(q.execution_options(yield_per=5000)):
        count += 1
        values = dict(zip(names, row[: len(names)], strict=True))
        key, stored_prev, stored = int(values[names[0]]), row[-2], row[-1]
        wanted = expect.pop(key, None)
        if first is None:
            if hashed(stored_prev, values) != stored:
                first = Problem(
                    table,
                    key,
                    "altered: its content does not hash to its stored hash "
                    "(changed in place, or inserted out of band)",
                )
            elif stored_prev != prev:
                before = f"row {last}" if last else "the start of the chain"
                first = Problem(
                    table,
                    key,
                    f"the chain is broken before it: it follows a row hashed {stored_prev[:12]}, "
                    f"but {before} hashes {prev[:12]} (a row between them was deleted or "
                    "inserted, or the row before it was altered and hashed again)",
                )
            elif wanted is not None and wanted[1] != stored:
                first = Problem(
                    table, key, f"rehashed: audit entry {wanted[0]} recorded its hash otherwise"
                )
        prev, last = stored, key
    return count, last, prev, first


def verify(engine: Engine) -> Verified:
    """Walks the chains of facts and audit entries, checks their heads and that every facts
    write the trail records is still there; names the first problem of each chain."""
    out = Verified({}, [])
    with Session(engine) as session, session.begin():
        heads = {h.chain: h for h in session.scalars(select(ChainHead))}
        for table in chain.CHAINS:
            expect = _facts_written(session) if table == "facts" else {}
            count, last, last_hash, first = _walk(session, table, expect)
            out.rows[table] = count
            head = heads.get(table)
            if (
                first is None
                and head is not None
                and (head.last_id, head.hash)
                != (
                    last,
                    last_hash,
                )
            ):
                if head.last_id > last:
                    msg = (
                        f"the last rows were deleted: the chain's head names row "
                        f"{head.last_id}, the table ends at {last or 'nothing'}"
                    )
                    first = Problem(table, head.last_id, msg)
                else:
                    msg = (
                        f"not the chain's head: the head names row {head.last_id} "
                        f"(a row was added out of band, or the head was changed)"
                    )
                    first = Problem(table, last, msg)
            if first is None and expect:
                seq = min(expect)
                msg = (
                    f"missing: audit entry {expect[seq][0]} recorded it as the last row of "
                    "its write"
                )
                first = Problem(table, seq, msg)
            if first is not None:
                out.problems.append(first)
        retracted = _retractions(session, out)
        if retracted is not None:
            out.problems.append(retracted)
    return out


def _retractions(session: Session, out: Verified) -> Problem | None:
    """The first retraction the trail records otherwise than the table holds it (missing, or
    another fact or reason), or that the table holds and the trail does not (after the first
    the trail records: earlier ones were written before the trail began)."""
    q = select(AuditEntry.id, AuditEntry.change).where(AuditEntry.kind == "fact.retract")
    recorded: dict[int, tuple[int, object, object]] = {}
    for entry_id, change in session.execute(q.order_by(AuditEntry.id)):
        got = exactjson.loads(change)
        if isinstance(got, dict) and "retraction" in got:
            recorded[int(got["retraction"])] = (entry_id, got.get("seq"), got.get("reason"))
    rows = session.execute(
        select(Retraction.id, Retraction.fact_seq, Retraction.reason).order_by(Retraction.id)
    ).all()
    out.rows["retractions"] = len(rows)
    held = {rid: (seq, reason) for rid, seq, reason in rows}
    problems: list[Problem] = []
    for rid, (entry_id, seq, reason) in recorded.items():
        if rid not in held:
            msg = f"missing: audit entry {entry_id} recorded it (fact seq {seq})"
            problems.append(Problem("retractions", rid, msg))
        elif held[rid] != (seq, reason):
            msg = f"altered: audit entry {entry_id} recorded it as of fact seq {seq}, {reason!r}"
            problems.append(Problem("retractions", rid, msg))
    if recorded:
        start = min(recorded)
        for rid in held:
            if rid > start and rid not in recorded:
                problems.append(Problem("retractions", rid, "not in the audit trail"))
    return min(problems, key=lambda p: p.row) if problems else None


def _facts_written(session: Session) -> dict[int, tuple[int, str]]:
    """The last fact of each facts write the trail records: seq → (entry, hash). The facts'
    chain alone cannot tell its last rows deleted together with its head moved back."""
    q = (
        select(AuditEntry.id, AuditEntry.change)
        .where(AuditEntry.kind.in_(FACT_KINDS))
        .order_by(AuditEntry.id)
    )
    wanted: dict[int, tuple[int, str]] = {}
    for entry_id, change in session.execute(q):
        got = exactjson.loads(change)
        if isinstance(got, dict) and "last_seq" in got and "head" in got:
            wanted[int(got["last_seq"])] = (entry_id, str(got["head"]))
    return wanted


FACT_KINDS = ("facts.record", "facts.import", "fact.correct")


def facts_altered(session: Session, seqs: set[int], year: int) -> list[int]:
    """Those of `seqs` (facts of `year`) whose rows no longer hash as they were written."""
    names, q = _columns("facts")
    q = q.where(Fact.__table__.c.year == year)
    bad: list[int] = []
    for row in session.execute(q.execution_options(yield_per=5000)):
        values = dict(zip(names, row[: len(names)], strict=True))
        if values["seq"] in seqs and chain.fact_hash(row[-2], values) != row[-1]:
            bad.append(int(values["seq"]))
    return bad
