"""The evaluation cycle: 公示 (publish) → 申诉 (appeal) → 复核 / 裁定 (review, ruling) → 审定
(approve), per ruleset and period (docs/cycle.md).

- `publish`: the period is scored now and kept as a receipt; appeals may be filed until the end
  of the notice period (`notice_until`, inclusive).
- `file_appeal`: the subject's own recorder (a token scoped to the subject's unit or an
  ancestor), or the lead department of the named indicator, disputes a line of the result.
- `rule`: the committee upholds or rejects. An upheld appeal acts only through facts
  (corrections, retractions, new facts) recorded with the ruling as their evidence; the ruling
  shows each affected subject's old and new final, rank and tier.
- `approve`: refused while an appeal is open; the results become the approved receipt, score
  reads return them, and facts of the period are refused (`app.services.frozen`).
- `reopen`: an admin takes a published or approved cycle back to open, with a reason.

Every write goes through `_on_record` (with the event to the webhook outbox, `app.services.
webhooks`, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.services import receipts, trail, webhooks
from app.services.cache import read_watermark
from app.services.factcheck import FactChecker
from app.services.facts import record_rows
from app.services.frozen import refuse_frozen, slots_of_rows
from app.services.org import org_at
from app.services.scoring import PeriodInputs, load_period
from app.services.tokens import Principal
from app.store.db import transaction
from app.store.models import Appeal, Cycle, CycleRecord, ReceiptResult, Retraction
from app.store.models import Fact as FactRow
from dsl.audit.impact import compare, impact_order, standings
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.facts.periods import Period
from dsl.facts.records import Fact, FactProblem, Org

NOTICE_DAYS = 5
DECISIONS = ("upheld", "rejected")


@dataclass(frozen=True)
class Actor:
    """Who acts: the caller's principal, the name its writes are recorded under, the request."""

    who: Principal
    by: str
    request_id: str | None = None


def _on_record(
    session: Session,
    *,
    actor: str,
    role: str,
    kind: str,
    target: str,
    change: dict[str, object],
    request_id: str | None,
) -> None:
    """The one place every write of the cycle is recorded (transitions, appeals, rulings,
    webhook subscriptions), in the writer's transaction: the cycle's history, and the
    tamper-evident audit trail (`app.services.trail`)."""
    request_id = request_id or trail.current().request_id
    trail.record(
        session,
        actor=actor,
        role=role,
        kind=kind,
        target=target,
        change=change,
        request_id=request_id,
    )
    cycle = change.get("cycle")
    session.add(
        CycleRecord(
            cycle_id=cycle if isinstance(cycle, int) else None,
            kind=kind,
            target=target,
            actor=actor,
            role=role,
            change=dict(change),
            request_id=request_id,
            at=datetime.now(UTC),
        )
    )


def _record(session: Session, a: Actor, kind: str, target: str, change: dict[str, Any]) -> None:
    _on_record(
        session,
        actor=a.by,
        role=a.who.role,
        kind=kind,
        target=target,
        change=change,
        request_id=a.request_id,
    )


def recorder_for(a: Actor) -> webhooks.Recorder:
    """`_on_record` with the actor's request id (what the webhook subscriptions write with)."""

    def record(session: Session, **kw: Any) -> None:
        kw["request_id"] = a.request_id
        _on_record(session, **kw)

    return record


def _invalid(field: str, message: str) -> Invalid:
    err = Invalid(message)
    err.details = [{"field": field, "message": message}]
    return err


def today() -> date:
    """The date notice periods are judged by (UTC)."""
    return datetime.now(UTC).date()


# ---- reading --------------------------------------------------------------------------------


def find(session: Session, digest: str, period: Period) -> Cycle | None:
    """The cycle of a ruleset and period, if one was started."""
    return session.scalar(
        select(Cycle).where(Cycle.ruleset_digest == digest, Cycle.period == str(period))
    )


def approved(engine: Engine, digest: str, period: Period) -> Cycle | None:
    """The approved cycle of a ruleset and period (what score reads answer from), if any."""
    with Session(engine) as session:
        c = find(session, digest, period)
    return c if c is not None and c.state == "approved" else None


def _target(c: Cycle) -> str:
    return f"cycle/{c.id}"


def _cycle_json(c: Cycle) -> dict[str, Any]:
    return {
        "id": c.id,
        "ruleset": c.ruleset_digest,
        "period": c.period,
        "state": c.state,
        "receipt": c.receipt_id,
        "notice_until": c.notice_until.isoformat() if c.notice_until else None,
        "approved_by": c.approved_by,
        "approved_at": c.approved_at.isoformat() if c.approved_at else None,
    }


def appeal_json(a: Appeal, c: Cycle | None = None) -> dict[str, Any]:
    """An appeal as the API shows it, with its ruling once ruled."""
    out: dict[str, Any] = {
        "id": a.id,
        "cycle": a.cycle_id,
        "state": a.state,
        "subject": a.subject,
        "indicator": a.indicator,
        "facts": a.facts,
        "reason": a.reason,
        "evidence": a.evidence,
        "filed_by": a.filed_by,
        "filed_at": a.filed_at.isoformat(),
        "ruling": None,
    }
    if c is not None:
        out["ruleset"], out["period"] = c.ruleset_digest, c.period
    if a.decision is not None:
        out["ruling"] = {
            "decision": a.decision,
            "reason": a.ruling_reason,
            "by": a.ruled_by,
            "at": a.ruled_at.isoformat() if a.ruled_at else None,
            "corrections": a.corrections or [],
            "effect": a.effect or [],
        }
    return out


def status(engine: Engine, digest: str, period: Period) -> dict[str, Any]:
    """A cycle's state, its history (who, when, why), its appeals with their rulings and the
    receipts it kept; an unstarted cycle is `open` with nothing yet."""
    with Session(engine) as session:
        c = find(session, digest, period)
        if c is None:
            return {
                "id": None,
                "ruleset": digest,
                "period": str(period),
                "state": "open",
                "receipt": None,
                "notice_until": None,
                "approved_by": None,
                "approved_at": None,
                "history": [],
                "appeals": [],
                "receipts": [],
            }
        records = session.scalars(
            select(CycleRecord).where(CycleRecord.cycle_id == c.id).order_by(CycleRecord.id)
        ).all()
        appeals = session.scalars(
            select(Appeal).where(Appeal.cycle_id == c.id).order_by(Appeal.id)
        ).all()
        history = [
            {
                "kind": r.kind,
                "target": r.target,
                "by": r.actor,
                "role": r.role,
                "at": r.at.isoformat(),
                "why": r.change.get("reason"),
                "change": r.change,
            }
            for r in records
        ]
        kept = [
            {
                "receipt": r.change["receipt"],
                "kind": r.kind.removeprefix("cycle."),
                "by": r.actor,
                "at": r.at.isoformat(),
            }
            for r in records
            if r.kind in ("cycle.published", "cycle.approved") and "receipt" in r.change
        ]
        return {
            **_cycle_json(c),
            "history": history,
            "appeals": [appeal_json(a) for a in appeals],
            "receipts": kept,
        }


def list_appeals(
    engine: Engine, state: str | None, subject: str | None, limit: int = 500
) -> list[dict[str, Any]]:
    """Appeals, oldest first, filtered by state and subject."""
    q = select(Appeal, Cycle).join(Cycle, Cycle.id == Appeal.cycle_id)
    if state is not None:
        q = q.where(Appeal.state == state)
    if subject is not None:
        q = q.where(Appeal.subject == subject)
    with Session(engine) as session:
        rows = session.execute(q.order_by(Appeal.id).limit(limit)).all()
    return [appeal_json(a, c) for a, c in rows]


def get_appeal(engine: Engine, appeal_id: int) -> dict[str, Any]:
    """One appeal by id."""
    with Session(engine) as session:
        a = session.get(Appeal, appeal_id)
        if a is None:
            raise NotFound(f"no appeal {appeal_id}")
        c = session.get(Cycle, a.cycle_id)
        return appeal_json(a, c)


# ---- scoring --------------------------------------------------------------------------------


def _score(
    engine: Engine, compiled: CompiledRuleset, period: Period, traced: Sequence[str] = ()
) -> tuple[Evaluation, PeriodInputs, str]:
    """The period scored from the database now, with the watermark it read."""
    with Session(engine) as session, session.begin():
        if engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        wm = read_watermark(session)
        inputs = load_period(session, compiled, period)
    ev = evaluate(compiled, inputs.org, inputs.facts, period, traced, org_at=inputs.org_of)
    return ev, inputs, str(wm)


def _locked(session: Session, digest: str, period: Period, create: bool) -> Cycle:
    """The cycle row, locked for this transaction on PostgreSQL (created when asked)."""
    q = select(Cycle).where(Cycle.ruleset_digest == digest, Cycle.period == str(period))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    c = session.scalar(q)
    if c is None:
        if not create:
            raise Conflict(f"the cycle of {period} is open: nothing is published yet")
        c = Cycle(ruleset_digest=digest, period=str(period), state="open")
        session.add(c)
        session.flush()
    return c


# ---- transitions ----------------------------------------------------------------------------


def publish(
    engine: Engine, compiled: CompiledRuleset, period: Period, a: Actor, notice_days: int | None
) -> dict[str, Any]:
    """公示: scores the period, keeps the results as a receipt and opens the notice period."""
    days = NOTICE_DAYS if notice_days is None else notice_days
    if not 0 <= days <= 366:
        raise _invalid("query.notice_days", "the notice period is 0 to 366 days")
    ev, inputs, wm = _score(engine, compiled, period)
    with transaction(engine) as session:
        c = _locked(session, compiled.digest, period, create=True)
        if c.state != "open":
            raise Conflict(f"the cycle of {period} is {c.state}; reopen it first")
        receipt = receipts.add(session, ev, inputs, a.by, published=True, note=f"公示 {period}")
        c.state, c.receipt_id = "published", receipt.id
        c.notice_until = today() + timedelta(days=days)
        c.watermark = wm
        change: dict[str, Any] = {
            "cycle": c.id,
            "ruleset": c.ruleset_digest,
            "period": c.period,
            "state": "published",
            "receipt": receipt.id,
            "notice_until": c.notice_until.isoformat(),
            "watermark": wm,
        }
        _record(session, a, "cycle.published", _target(c), change)
        webhooks.emit(session, "cycle.published", change, datetime.now(UTC))
        return {**_cycle_json(c), "notice_until": c.notice_until.isoformat()}


def approve(engine: Engine, compiled: CompiledRuleset, period: Period, a: Actor) -> dict[str, Any]:
    """审定: refused while an appeal is open (or, for a year, before its four quarters are
    approved); otherwise the results now become the cycle's approved receipt."""
    ev, inputs, wm = _score(engine, compiled, period)
    with transaction(engine) as session:
        c = _locked(session, compiled.digest, period, create=False)
        if c.state != "published":
            raise Conflict(
                f"the cycle of {period} is {c.state}: only published results are approved"
            )
        open_ = session.scalars(
            select(Appeal.id).where(Appeal.cycle_id == c.id, Appeal.state == "open")
        ).all()
        if open_:
            ids = ", ".join(str(i) for i in open_)
            raise Conflict(f"appeal(s) {ids} of {period} are still open: rule on them first")
        if period.quarter is None:
            _quarters_approved(session, compiled.digest, period)
            _same_quarters(session, compiled.digest, period, ev)
        if read_watermark(session).__str__() != wm:
            # facts arrived while scoring: the approved results must be what is recorded
            raise Conflict("facts were recorded while approving; approve again")
        receipt = receipts.add(session, ev, inputs, a.by, published=True, note=f"审定 {period}")
        now = datetime.now(UTC)
        c.state, c.receipt_id = "approved", receipt.id
        c.approved_by, c.approved_at, c.watermark = a.by, now, wm
        change: dict[str, Any] = {
            "cycle": c.id,
            "ruleset": c.ruleset_digest,
            "period": c.period,
            "state": "approved",
            "receipt": receipt.id,
            "watermark": wm,
        }
        _record(session, a, "cycle.approved", _target(c), change)
        webhooks.emit(session, "cycle.approved", change, now)
        return _cycle_json(c)


def _quarters_approved(session: Session, digest: str, year: Period) -> None:
    got = {
        c.period: c.state
        for c in session.scalars(select(Cycle).where(Cycle.ruleset_digest == digest))
    }
    missing = [str(q) for q in year.quarters() if got.get(str(q)) != "approved"]
    if missing:
        raise Conflict(
            f"the year {year} is approved after its four quarters; not approved: "
            + ", ".join(missing)
        )


def _same_quarters(session: Session, digest: str, year: Period, ev: Evaluation) -> None:
    """A year's results are approved only when every annual result was computed from the
    approved quarterly finals (the quarters' approved receipts); Conflict naming the subjects
    whose quarters read otherwise (an organisation revision of the past, say)."""
    finals: dict[tuple[str, str], list[Decimal]] = {}
    for q in year.quarters():
        c = find(session, digest, q)
        assert c is not None and c.receipt_id is not None
        for row in session.scalars(
            select(ReceiptResult).where(ReceiptResult.receipt_id == c.receipt_id)
        ):
            if row.final is not None:
                finals.setdefault((row.scorecard, row.subject), []).append(row.final)
    wrong = [
        f"{r.subject} ({r.scorecard})"
        for r in ev.results
        if r.quarters is not None
        and [q.normalize() for q in r.quarters]
        != [q.normalize() for q in finals.get((r.scorecard, r.subject), [])]
    ]
    if wrong:
        shown = ", ".join(wrong[:20]) + (" …" if len(wrong) > 20 else "")
        raise Conflict(
            f"the year {year} would not use the approved quarterly finals of {shown}; "
            "reopen and approve those quarters again"
        )


def reopen(
    engine: Engine, compiled: CompiledRuleset, period: Period, a: Actor, reason: str
) -> dict[str, Any]:
    """An admin takes a published or approved cycle back to open; its receipts stay."""
    if not reason.strip():
        raise _invalid("body.reason", "a reopening needs a reason")
    with transaction(engine) as session:
        c = _locked(session, compiled.digest, period, create=False)
        if c.state == "open":
            raise Conflict(f"the cycle of {period} is already open")
        if period.quarter is not None:
            year = find(session, compiled.digest, Period(period.year, None))
            if year is not None and year.state == "approved":
                raise Conflict(f"the year {period.year} is approved: reopen the year first")
        change: dict[str, Any] = {
            "cycle": c.id,
            "ruleset": c.ruleset_digest,
            "period": c.period,
            "state": "open",
            "from": c.state,
            "receipt": c.receipt_id,
            "reason": reason,
        }
        c.state, c.notice_until = "open", None
        c.approved_by, c.approved_at = None, None
        _record(session, a, "cycle.reopened", _target(c), change)
        webhooks.emit(session, "cycle.reopened", change, datetime.now(UTC))
        return _cycle_json(c)


# ---- appeals --------------------------------------------------------------------------------


def _org(engine: Engine) -> Org:
    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
    return org


def _leads(compiled: CompiledRuleset) -> dict[str, str]:
    """Each indicator's lead department."""
    out: dict[str, str] = {}
    for card in compiled.scorecards.values():
        for part in card.parts:
            for ind in part.indicators:
                if ind.lead is not None:
                    out[ind.id] = ind.lead
    return out


def _lines(compiled: CompiledRuleset) -> set[str]:
    """The ids an appeal may name as the line it disputes: indicators and items (加减分)."""
    out = {i.id for card in compiled.scorecards.values() for p in card.parts for i in p.indicators}
    for card in compiled.scorecards.values():
        if card.items is not None:
            out.update(i.id for i in card.items.items)
    return out


def file_appeal(
    engine: Engine, compiled: CompiledRuleset, period: Period, a: Actor, body: dict[str, Any]
) -> dict[str, Any]:
    """申诉: checks the appeal (subject, indicator, facts, who may file) and records it."""
    subject = str(body["subject"])
    indicator = body.get("indicator")
    disputed = [str(x) for x in body.get("facts") or []]
    reason = str(body["reason"]).strip()
    evidence = body.get("evidence")
    if not reason:
        raise _invalid("body.reason", "an appeal needs a reason")
    with Session(engine) as session:
        c = find(session, compiled.digest, period)
        if c is None or c.state != "published":
            state = "open" if c is None else c.state
            raise Conflict(
                f"the results of {period} are not in their notice period (the cycle is {state})"
            )
        if c.notice_until is not None and today() > c.notice_until:
            raise Conflict(
                f"the notice period of {period} ended on {c.notice_until.isoformat()}; "
                "no appeal is filed after it"
            )
    if indicator is not None and indicator not in _lines(compiled):
        raise _invalid("body.indicator", f"no indicator or item '{indicator}' in this ruleset")
    org = _org(engine)
    if subject not in org.units and subject not in org.persons:
        raise _invalid("body.subject", f"no unit or person '{subject}'")
    _may_file(a.who, subject, indicator, compiled, org)
    ev, inputs, _ = _score(engine, compiled, period, traced=[subject])
    mine = [r for r in ev.results if r.subject == subject and r.kind != "pool"]
    if not mine:
        raise _invalid("body.subject", f"no scorecard scores '{subject}' in {period}")
    counted = {i for r in mine for t in r.trace or () for i in t.facts}
    known = {f.id for f in inputs.facts}
    problems = []
    for i, ident in enumerate(disputed):
        if ident not in known:
            problems.append((i, f"no live fact '{ident}' in {period}"))
        elif ident not in counted:
            problems.append((i, f"fact '{ident}' does not count in {subject}'s result"))
    if problems:
        err = Invalid(f"{len(problems)} disputed fact(s) not in the result; appeal not filed")
        err.details = [{"field": f"body.facts[{i}]", "message": m} for i, m in problems]
        raise err
    now = datetime.now(UTC)
    with transaction(engine) as session:
        c2 = _locked(session, compiled.digest, period, create=False)
        if c2.state != "published":
            raise Conflict(
                f"the cycle of {period} is {c2.state}: appeals are filed while published"
            )
        row = Appeal(
            cycle_id=c2.id,
            subject=subject,
            indicator=indicator,
            facts=disputed,
            reason=reason,
            evidence=evidence,
            state="open",
            filed_by=a.by,
            filed_at=now,
        )
        session.add(row)
        session.flush()
        change: dict[str, Any] = {
            "cycle": c2.id,
            "appeal": row.id,
            "ruleset": c2.ruleset_digest,
            "period": c2.period,
            "subject": subject,
            "indicator": indicator,
            "facts": disputed,
            "reason": reason,
            "evidence": evidence,
        }
        _record(session, a, "appeal.filed", f"appeal/{row.id}", change)
        webhooks.emit(session, "appeal.filed", change, now)
        return appeal_json(row, c2)


def _may_file(
    who: Principal, subject: str, indicator: str | None, compiled: CompiledRuleset, org: Org
) -> None:
    """Forbidden unless the caller is an admin, the subject's own recorder (a token scoped to
    the subject's unit or an ancestor) or the lead department of the named indicator."""
    if who.role == "admin":
        return
    if who.role != "recorder":
        raise Forbidden(f"the role '{who.role}' may not file appeals (recorders and admins do)")
    if who.units is None or who.units.intersection(org.chain(subject)):
        return
    lead = _leads(compiled).get(indicator or "")
    if lead is not None and lead in who.units:
        return
    raise Forbidden(
        f"'{subject}' is not under this token's units, and the token is not the lead "
        "department of the indicator named"
    )


# ---- rulings --------------------------------------------------------------------------------


def rule(
    engine: Engine, compiled_of: Any, appeal_id: int, a: Actor, body: dict[str, Any]
) -> dict[str, Any]:
    """裁定: upholds or rejects an open appeal with a reason. An upheld appeal's corrections
    (`{"supersedes": ID, "data": {...}}`, `{"retract": ID}` or a new fact) are recorded with
    the ruling as their evidence, in the ruling's transaction; the effect on every subject's
    final, rank and tier is kept with the ruling."""
    decision = body["decision"]
    reason = str(body["reason"]).strip()
    corrections = list(body.get("corrections") or [])
    if decision not in DECISIONS:
        raise _invalid("body.decision", "upheld or rejected")
    if not reason:
        raise _invalid("body.reason", "a ruling needs a reason")
    if decision == "rejected" and corrections:
        raise _invalid("body.corrections", "a rejected appeal changes no fact")
    if decision == "upheld" and not corrections:
        raise _invalid(
            "body.corrections",
            "an upheld appeal acts through facts: give the corrections, retractions or new facts",
        )
    with Session(engine) as session:
        ap = session.get(Appeal, appeal_id)
        if ap is None:
            raise NotFound(f"no appeal {appeal_id}")
        c = session.get(Cycle, ap.cycle_id)
        assert c is not None
    if ap.state != "open":
        raise Conflict(f"appeal {appeal_id} is already {ap.state}")
    if c.state == "approved":
        raise Conflict(f"the cycle of {c.period} is approved; reopen it to rule")
    compiled: CompiledRuleset = compiled_of(c.ruleset_digest)
    period = Period.parse(c.period)
    now = datetime.now(UTC)
    evidence = f"申诉第{appeal_id}号裁定（{now.date().isoformat()}）：{reason}"
    ev, inputs, _ = _score(engine, compiled, period)
    org = inputs.org
    raws, retracts = _corrections(engine, corrections, appeal_id, evidence, period)
    rows: list[dict[str, Any]] = []
    if raws:
        checker = FactChecker(compiled.schema, _org(engine), "corrections", a.by, now)
        with Session(engine) as session:
            checked = checker.check(session, list(enumerate(raws)))
        if checked.problems:
            raise _problems(checked.problems)
        rows = checked.rows
        if checked.unchanged:
            raise _invalid("body.corrections", "a correction names a fact id already recorded")
        outside = [r["client_id"] for r in rows if not _in_period(r, period)]
        if outside:
            msg = f"correction(s) {', '.join(outside)} fall outside {period}"
            raise _invalid("body.corrections", msg)
    effect = _effect(compiled, period, ev, inputs, org, rows, retracts)
    with transaction(engine) as session:
        ap2 = session.get(Appeal, appeal_id, with_for_update=True)
        assert ap2 is not None
        if ap2.state != "open":
            raise Conflict(f"appeal {appeal_id} is already {ap2.state}")
        c2 = _locked(session, c.ruleset_digest, period, create=False)
        if c2.state == "approved":
            raise Conflict(f"the cycle of {c.period} is approved; reopen it to rule")
        if rows:
            refuse_frozen(session, slots_of_rows(rows))
            # The facts first (their chain before the audit chain, as every writer takes them),
            # recorded in the trail as any write of facts is.
            record_rows(session, rows, None, f"appeal/{appeal_id}")
        for ident, seq in retracts:
            gone = Retraction(fact_seq=seq, reason=evidence, recorded_by=a.by, recorded_at=now)
            session.add(gone)
            session.flush()
            undo: dict[str, object] = {"retraction": gone.id, "seq": seq, "reason": evidence}
            trail.note(session, "fact.retract", f"fact:{ident}", undo, a.by)
        shown = [r["client_id"] for r in rows] + [i for i, _ in retracts]
        ap2.state, ap2.decision, ap2.ruling_reason = decision, decision, reason
        ap2.ruled_by, ap2.ruled_at = a.by, now
        ap2.corrections = corrections
        ap2.effect = effect
        change: dict[str, Any] = {
            "cycle": c2.id,
            "appeal": appeal_id,
            "ruleset": c2.ruleset_digest,
            "period": c2.period,
            "subject": ap2.subject,
            "decision": decision,
            "reason": reason,
            "facts": shown,
            "effect": effect,
        }
        _record(session, a, "appeal.ruled", f"appeal/{appeal_id}", change)
        webhooks.emit(session, "appeal.ruled", change, now)
        return appeal_json(ap2, c2)


def _in_period(row: dict[str, Any], period: Period) -> bool:
    if row["year"] != period.year:
        return False
    return period.quarter is None or row["quarter"] == period.quarter


def _problems(problems: Sequence[FactProblem]) -> Invalid:
    err = Invalid(f"{len(problems)} problem(s) in the corrections; nothing recorded", problems)
    err.details = [
        {"field": f"body.corrections[{p.line}]" + _field(p.field), "message": p.message}
        for p in problems
    ]
    return err


def _field(name: str) -> str:
    return f".{name}" if name not in ("", "-") else ""


def _corrections(
    engine: Engine,
    items: list[Any],
    appeal_id: int,
    evidence: str,
    period: Period,
) -> tuple[list[dict[str, Any]], list[tuple[str, int]]]:
    """The fact records a ruling writes, and the (id, seq) of the facts it retracts."""
    raws: list[dict[str, Any]] = []
    retracts: list[tuple[str, int]] = []
    with Session(engine) as session:
        for i, item in enumerate(items):
            where = f"body.corrections[{i}]"
            if not isinstance(item, dict):
                raise _invalid(where, "a correction is an object")
            for key in ("id", "type", "subject", "date", "period", "supersedes", "retract"):
                if key in item and not isinstance(item[key], str):
                    raise _invalid(f"{where}.{key}", f"{key} is a string")
            if "retract" in item:
                ident = str(item["retract"])
                row = _fact(session, ident, f"{where}.retract")
                if row[1] is not None:
                    raise _invalid(f"{where}.retract", f"fact '{ident}' is already retracted")
                slot = {"year": row[0].year, "quarter": row[0].quarter}
                if not _in_period(slot, period):
                    msg = f"fact '{ident}' does not belong to {period}"
                    raise _invalid(f"{where}.retract", msg)
                retracts.append((ident, row[0].seq))
                continue
            raw = {k: v for k, v in item.items() if v is not None}
            raw.setdefault("id", f"appeal-{appeal_id}-{i + 1}")
            raw["evidence"] = evidence
            sup = raw.get("supersedes")
            if sup is not None:
                old, _ = _fact(session, str(sup), f"{where}.supersedes")
                raw.setdefault("type", old.type)
                raw.setdefault("subject", old.subject)
                if "date" not in raw and "period" not in raw:
                    if old.date is not None:
                        raw["date"] = old.date.isoformat()
                    else:
                        raw["period"] = old.period
                given = raw.get("data") or {}
                if not isinstance(given, dict):
                    raise _invalid(f"{where}.data", "data is an object of field values")
                raw["data"] = {**old.data, **given}
            raws.append(raw)
    return raws, retracts


def _fact(session: Session, ident: str, field: str) -> tuple[FactRow, Retraction | None]:
    got = session.execute(
        select(FactRow, Retraction)
        .outerjoin(Retraction, Retraction.fact_seq == FactRow.seq)
        .where(FactRow.client_id == ident)
    ).first()
    if got is None:
        raise _invalid(field, f"no fact '{ident}'")
    return got[0], got[1]


def _effect(
    compiled: CompiledRuleset,
    period: Period,
    before: Evaluation,
    inputs: PeriodInputs,
    org: Org,
    rows: list[dict[str, Any]],
    retracts: list[tuple[str, int]],
) -> list[dict[str, Any]]:
    """Each subject whose final, rank or tier the ruling's facts change: old and new."""
    if not rows and not retracts:
        return []
    gone = {i for i, _ in retracts} | {r["supersedes_id"] for r in rows if r["supersedes_id"]}
    facts = [f for f in inputs.facts if f.id not in gone]
    top = max(inputs.seqs, default=0)
    for n, r in enumerate(rows, 1):
        when = Period.parse(r["period"]) if r["period"] is not None else None
        facts.append(
            Fact(r["client_id"], r["type"], r["subject"], r["date"], when, r["data"],
                 r["evidence"], r["supersedes_id"], top + n)
        )  # fmt: skip
    after = evaluate(compiled, org, facts, period, org_at=inputs.org_of)
    old, new = standings(before), standings(after)
    changed = [compare(k, old.get(k), new.get(k)) for k in {*old, *new}]
    shown = [s for s in changed if s.old != s.new]
    shown.sort(key=impact_order)
    return [
        {
            "subject": s.subject,
            "scorecard": s.scorecard,
            "old": None if s.old is None else s.old.as_json(),
            "new": None if s.new is None else s.new.as_json(),
            "delta": None if s.delta is None else str(s.delta),
            "moved": s.moved,
        }
        for s in shown
    ]
