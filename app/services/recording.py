"""Facts over the API: posting a batch (all or none), corrections, retractions, reading back.

A posted batch is checked whole, each fact against the ruleset serving its year, then written
in one transaction. Problems name the item's index in the batch (`FactProblem.line`) and the
field. A token limited to fact types or units may not write outside them (Forbidden).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.services import facts as fact_service
from app.services.factcheck import FactChecker
from app.services.org import org_at
from app.services.registry import Registry
from app.services.texts import require_text
from app.services.tokens import Principal
from app.store import repository
from app.store.models import Fact, Retraction
from dsl.facts.limits import MAX_ID, printable, text_ok
from dsl.facts.periods import Period
from dsl.facts.records import FactProblem, Org

MAX_PAGE = 1000
MAX_SEQ = 2**63 - 1  # the largest sequence number a database holds (BIGINT)


def _year(raw: dict[str, Any]) -> int | None:
    when = raw.get("date") if raw.get("date") is not None else raw.get("period")
    if isinstance(when, str) and len(when) >= 4 and when[:4].isdigit():
        return int(when[:4])
    return None


def org_now(engine: Engine) -> Org:
    """Every unit and person ever recorded (facts may be about the past)."""
    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
    return org


Details = Callable[[Sequence[FactProblem]], list[dict[str, Any]]]


def _scope(
    engine: Engine,
    who: Principal,
    raws: Sequence[dict[str, Any]],
    org: Org,
    details: Details | None = None,
) -> None:
    """Forbidden unless the caller may write every fact of the batch and every recorded fact
    that one of them corrects."""
    if who.fact_types is None and who.units is None:
        return
    outside: list[FactProblem] = []
    wanted = {t for r in raws if isinstance(t := r.get("supersedes"), str) and text_ok(t, MAX_ID)}
    with Session(engine) as session:
        corrected = repository.targets(session, wanted)
    for i, raw in enumerate(raws):
        ident = printable(str(raw.get("id", "-")))
        ftype, subject = raw.get("type"), raw.get("subject")
        if isinstance(ftype, str) and isinstance(subject, str):
            why = _outside(who, ftype, subject, org)
            if why is not None:
                limited = who.fact_types is not None and ftype not in who.fact_types
                outside.append(FactProblem("body", i, ident, "type" if limited else "subject", why))
        sup = raw.get("supersedes")
        target = corrected.get(sup) if isinstance(sup, str) else None
        if target is not None:
            why = _outside(who, target[0], target[1], org)
            if why is not None:
                msg = f"corrects '{raw['supersedes']}' ({target[0]} on {target[1]}): {why}"
                outside.append(FactProblem("body", i, ident, "supersedes", msg))
    if outside:
        err = Forbidden(f"{len(outside)} fact(s) outside this token's scope; none recorded")
        err.details = (details or _where)(outside)
        raise err


def _outside(who: Principal, ftype: str, subject: str, org: Org) -> str | None:
    """Why the caller may not write a fact of this type on this subject (None: it may)."""
    if subject not in org.units and subject not in org.persons:
        return None  # an unknown subject: the checks say so (422)
    return who.may_write(ftype, subject, org)


def _where(problems: Sequence[FactProblem]) -> list[dict[str, Any]]:
    return [{"field": f"body[{p.line}].{p.field}", "message": p.message} for p in problems]


def post(
    engine: Engine,
    registry: Registry,
    who: Principal,
    raws: Sequence[dict[str, Any]],
    by: str,
    details: Details | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Checks and records a batch in one transaction; returns counts and sequence numbers.

    `details` says where each problem is (default: `body[3].data.level`); `dry_run` checks
    only."""
    org = org_now(engine)
    _scope(engine, who, raws, org, details)
    problems: list[FactProblem] = []
    groups: dict[int, list[tuple[int, Any]]] = {}
    for i, raw in enumerate(raws):
        year = _year(raw)
        if year is None:
            fld = "date" if "date" in raw else "period"
            why = "no date or period to tell the year by"
            problems.append(FactProblem("body", i, str(raw.get("id", "-")), fld, why))
            continue
        groups.setdefault(year, []).append((i, raw))
    rows: list[dict[str, Any]] = []
    unchanged = 0
    now = datetime.now(UTC)
    with Session(engine) as session:
        for year, records in sorted(groups.items()):
            loaded = registry.for_year(year)
            if loaded is None:
                for i, raw in records:
                    fld = "date" if "date" in raw else "period"
                    msg = f"no ruleset in service for {year}"
                    problems.append(FactProblem("body", i, str(raw.get("id", "-")), fld, msg))
                continue
            checker = FactChecker(loaded.compiled.schema, org, "body", by, now)
            checked = checker.check(session, records)
            problems.extend(checked.problems)
            rows.extend(checked.rows)
            unchanged += checked.unchanged
    if problems:
        problems.sort(key=lambda p: (p.line, p.field))
        message = f"{len(problems)} problem(s) in the posted facts; none recorded"
        err: Conflict | Invalid = (
            Conflict(message)
            if any(_conflicting(p) for p in problems)
            else Invalid(message, problems)
        )
        err.details = (details or problem_details)(problems)
        raise err
    if dry_run:
        return {"added": 0, "unchanged": unchanged, "facts": []}
    added, repeated = fact_service.write_rows(engine, rows) if rows else (0, 0)
    ids = [str(r.get("id")) for r in raws]
    with Session(engine) as session:
        seqs = repository.recorded(session, ids)
    return {
        "added": added,
        "unchanged": unchanged + repeated,
        "facts": [{"id": i, "seq": seqs[i][0] if i in seqs else None} for i in ids],
    }


CONFLICTS = ("already recorded", "already corrected", "a second live")


def _conflicting(p: FactProblem) -> bool:
    """A problem with what is recorded (an id's content, a correction, a period's value)."""
    return any(words in p.message for words in CONFLICTS)


def problem_details(problems: Sequence[FactProblem]) -> list[dict[str, Any]]:
    """Each problem's field path in the posted array (`body[3].data.level`) and message."""
    out = []
    for p in problems:
        where = f"body[{p.line}]" + (f".{p.field}" if p.field not in ("", "-") else "")
        out.append({"field": where, "message": p.message, "id": p.ident})
    return out


def _row(session: Session, client_id: str) -> tuple[Fact, Retraction | None]:
    if not text_ok(client_id, MAX_ID):
        raise NotFound(f"no fact {printable(client_id)}")
    got = session.execute(
        select(Fact, Retraction)
        .outerjoin(Retraction, Retraction.fact_seq == Fact.seq)
        .where(Fact.client_id == client_id)
    ).first()
    if got is None:
        raise NotFound(f"no fact '{client_id}'")
    return got[0], got[1]


def view(f: Fact, r: Retraction | None, corrector: str | None) -> dict[str, Any]:
    """A recorded fact as the API shows it, with its status."""
    item: dict[str, Any] = {
        "seq": f.seq,
        "id": f.client_id,
        "type": f.type,
        "subject": f.subject,
        "data": f.data,
        "evidence": f.evidence,
        "supersedes": f.supersedes_id,
        "recorded_by": f.recorded_by,
        "recorded_at": f.recorded_at.isoformat(),
        "status": "live",
        "superseded_by": corrector,
        "retraction": None,
    }
    if f.date is not None:
        item["date"] = f.date.isoformat()
    else:
        item["period"] = f.period
    if corrector is not None:
        item["status"] = "superseded"
    if r is not None:
        item["status"] = "retracted"
        item["retraction"] = {
            "by": r.recorded_by,
            "at": r.recorded_at.isoformat(),
            "reason": r.reason,
        }
    return item


def get(engine: Engine, client_id: str, who: Principal | None = None) -> dict[str, Any]:
    """One recorded fact by its id, with its status; NotFound, as if absent, for a fact
    outside a limited recorder's scope (it reads only the facts it may write)."""
    with Session(engine) as session:
        f, r = _row(session, client_id)
        by = repository.correctors(session, [client_id])
    if (
        who is not None
        and _limited(who)
        and _outside(who, f.type, f.subject, org_now(engine)) is not None
    ):
        raise NotFound(f"no fact '{client_id}'")
    return view(f, r, by.get(client_id))


def _limited(who: Principal) -> bool:
    return who.fact_types is not None or who.units is not None


def readable(session: Session, who: Principal, org: Org) -> ColumnElement[bool] | None:
    """The facts a limited recorder may read (those it may write); None: every fact."""
    conditions: list[ColumnElement[bool]] = []
    if who.fact_types is not None:
        conditions.append(Fact.type.in_(sorted(who.fact_types)))
    if who.units is not None:
        units = who.units
        subjects = [s for s in chain(org.units, org.persons) if units.intersection(org.chain(s))]
        conditions.append(repository.one_of(session, Fact.subject, subjects))
    return and_(*conditions) if conditions else None


def listing(
    engine: Engine,
    subject: str | None,
    ftype: str | None,
    period: Period | None,
    after: int,
    limit: int,
    who: Principal | None = None,
) -> dict[str, Any]:
    """Facts in recording order after a sequence number, filtered; `next` continues. A
    limited recorder sees only the facts it may write."""
    if subject is not None:
        require_text(subject, "query.subject", MAX_ID)
    if ftype is not None:
        require_text(ftype, "query.type", MAX_ID)
    q = (
        select(Fact, Retraction)
        .outerjoin(Retraction, Retraction.fact_seq == Fact.seq)
        .where(Fact.seq > after)
    )
    if subject is not None:
        q = q.where(Fact.subject == subject)
    if ftype is not None:
        q = q.where(Fact.type == ftype)
    if period is not None:
        q = q.where(repository.period_clause(period))
    limit = max(1, min(limit, MAX_PAGE))
    org = org_now(engine) if who is not None and _limited(who) else None
    with Session(engine) as session:
        if who is not None and org is not None:
            scope = readable(session, who, org)
            if scope is not None:
                q = q.where(scope)
        rows = session.execute(q.order_by(Fact.seq).limit(limit + 1)).all()
        page = rows[:limit]
        by = repository.correctors(session, [f.client_id for f, _ in page])
    items = [view(f, r, by.get(f.client_id)) for f, r in page]
    nxt = items[-1]["seq"] if len(rows) > limit else None
    return {"facts": items, "next": nxt}


def correct(
    engine: Engine,
    registry: Registry,
    who: Principal,
    target: str,
    body: dict[str, Any],
    by: str,
) -> dict[str, Any]:
    """Records a new fact superseding `target`; type, subject and when default to its own."""
    old = get(engine, target)
    raw = {k: v for k, v in body.items() if v is not None}
    raw["supersedes"] = target
    for key in ("type", "subject"):
        raw.setdefault(key, old[key])
    if "date" not in raw and "period" not in raw:
        raw["date" if "date" in old else "period"] = old.get("date") or old.get("period")
    _scope(engine, who, [{"type": old["type"], "subject": old["subject"]}], org_now(engine))
    return post(engine, registry, who, [raw], by)


def retract(engine: Engine, who: Principal, client_id: str, reason: str, by: str) -> dict[str, Any]:
    """Withdraws a fact the caller may write; returns it with its new status."""
    old = get(engine, client_id)
    _scope(engine, who, [{"type": old["type"], "subject": old["subject"]}], org_now(engine))
    fact_service.retract(engine, client_id, by, reason)
    return get(engine, client_id)
