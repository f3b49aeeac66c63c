"""Receipts: keep an evaluation of the recorded facts, read it, replay it (auditors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy.orm import Session

from app.api.deps import Auditor, ExactRoute, Svc, out, parse_period, ruleset_for
from app.api.schemas import ERRORS, ReceiptIn
from app.api.schemas_out import ReceiptKeptOut, ReceiptOut, ReplayOut
from app.errors import Conflict, NotFound
from app.services import receipts
from app.store.models import Receipt

router = APIRouter(prefix="/receipts", tags=["receipts"], route_class=ExactRoute, responses=ERRORS)
ReceiptId = Annotated[int, Path(ge=1, le=2**31 - 1)]
KEPT = {
    "id": 3,
    "ruleset": "3f2a…",
    "period": "2025Q1",
    "facts": 1204,
    "results_digest": "9b1c…",
    "published": True,
    "watermark": {"token": "1204.2.1", "facts": 1204, "retractions": 2, "org_revision": 1},
}


@router.post(
    "",
    summary="Keep the evaluation of a period as a receipt",
    response_model=ReceiptKeptOut,
    status_code=201,
    responses={201: {"content": {"application/json": {"example": KEPT}}}},
)
def keep(svc: Svc, who: Auditor, body: ReceiptIn) -> Response:
    """Scores the period from the database now and stores what it used and produced. With
    `watermark`, refuses (409) when the facts have changed since the caller's read."""
    period = parse_period(body.period, "body.period")
    loaded = ruleset_for(svc, body.ruleset, period)
    wm = svc.cache.watermark()
    if body.watermark is not None and body.watermark != str(wm):
        raise Conflict(f"the facts have changed since watermark {body.watermark} (now {wm})")
    by = who.name if who.token_id is not None else svc.settings.user
    rid, ev, inputs = receipts.keep_period(
        svc.engine, loaded.compiled, period, by, published=body.publish, note=body.note
    )
    kept = {
        "id": rid,
        "ruleset": loaded.compiled.digest,
        "period": str(period),
        "facts": len(inputs.seqs),
        "results_digest": receipts.results_digest(ev),
        "published": body.publish,
        "watermark": wm.as_json(),
    }
    return out(kept, 201)


@router.get(
    "/{receipt_id}",
    summary="A receipt",
    response_model=ReceiptOut,
)
def get_receipt(svc: Svc, who: Auditor, receipt_id: ReceiptId) -> Response:
    """What a receipt names: ruleset, period, organisation, facts and results digests."""
    with Session(svc.engine) as session:
        r = session.get(Receipt, receipt_id)
        if r is None:
            raise NotFound(f"no receipt {receipt_id}")
    return out(
        {
            "id": r.id,
            "ruleset": r.ruleset_digest,
            "period": r.period,
            "org_revision": r.org_revision_id,
            "org_digest": r.org_digest,
            "facts": r.fact_count,
            "facts_digest": r.facts_digest,
            "results_digest": r.results_digest,
            "published": r.published,
            "note": r.note,
            "created_by": r.created_by,
            "created_at": r.created_at.isoformat(),
        }
    )


@router.post(
    "/{receipt_id}/replay", summary="Recompute a receipt and compare", response_model=ReplayOut
)
def replay(svc: Svc, who: Auditor, receipt_id: ReceiptId) -> Response:
    """Scores again exactly what the receipt names; `same` says whether results match."""
    got = receipts.replay(svc.engine, receipt_id)
    return out(
        {
            "receipt": got.receipt,
            "ruleset": got.ruleset,
            "period": got.period,
            "facts": got.facts,
            "expected": got.expected,
            "got": got.got,
            "same": got.same,
        }
    )
