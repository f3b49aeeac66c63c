"""The auditors' pages: two rulesets side by side, the impact of a change, receipts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.services import audit, exports, receipts
from app.services.context import parse_period, ruleset_for
from app.store.models import Receipt
from app.web import audit_view, download, labels
from app.web.deps import AuditViewer, Svc, WebRoute, checked_form, render
from app.web.evidence import names_of
from app.web.source import ruleset_ref

router = APIRouter(prefix="/audit", route_class=WebRoute, include_in_schema=False)
RefQ = Annotated[str, Query(max_length=80)]
ReceiptP = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _years(svc: Svc) -> list[str]:
    return [str(r.compiled.year) for r in svc.registry.in_service()]


@router.get("")
def audit_home(request: Request, svc: Svc, viewer: AuditViewer) -> Response:
    """Forms for a diff, an impact and a receipt; the receipts kept."""
    years = _years(svc)
    return render(
        request,
        viewer,
        "audit.html",
        years=years,
        periods=[f"{y}Q{q}" for y in reversed(years) for q in range(1, 5)] + list(reversed(years)),
        receipts=receipts.listing(svc.engine),
    )


@router.get("/diff")
def diff(
    request: Request,
    svc: Svc,
    viewer: AuditViewer,
    old: Annotated[str, Query(alias="from", max_length=80)],
    new: Annotated[str, Query(alias="to", max_length=80)],
) -> Response:
    """What changed in meaning, each change with the source lines of both sides."""
    a, b = svc.registry.resolve(old), svc.registry.resolve(new)
    d = audit.diff(svc.registry, old, new)
    refs = (ruleset_ref(svc.registry, a), ruleset_ref(svc.registry, b))
    return render(
        request,
        viewer,
        "diff.html",
        a=a.summary(),
        b=b.summary(),
        old=old,
        new=new,
        rows=audit_view.change_rows(d, a, b, refs),
    )


@router.get("/impact.xlsx")
def impact_xlsx(
    svc: Svc,
    viewer: AuditViewer,
    old: Annotated[str, Query(alias="from", max_length=80)],
    new: Annotated[str, Query(alias="to", max_length=80)],
    period: RefQ,
) -> Response:
    """The impact report of the page as a workbook (the API's `format=xlsx`)."""
    p = parse_period(period)
    report = audit.impact(svc.engine, svc.registry, old, new, p, attribution=False)
    compiled = svc.registry.resolve(new).compiled
    return download.xlsx(*exports.impact(svc.engine, report.as_json(), compiled))


@router.get("/impact")
def impact(
    request: Request,
    svc: Svc,
    viewer: AuditViewer,
    old: Annotated[str, Query(alias="from", max_length=80)],
    new: Annotated[str, Query(alias="to", max_length=80)],
    period: RefQ,
) -> Response:
    """The recorded facts of a period under both rulesets: deltas, tier moves, subjects."""
    p = parse_period(period)
    report = audit.impact(svc.engine, svc.registry, old, new, p, attribution=False)
    s = svc.cache.get(ruleset_for(svc, new, p), p)
    names = names_of(s.org) if s.org is not None else {}
    return render(
        request,
        viewer,
        "impact.html",
        old=old,
        new=new,
        period=str(p),
        period_label=labels.period(str(p)),
        changes=len(report.diff.changes),
        **audit_view.impact_view(report, names, _titles(svc, new)),
    )


def _titles(svc: Svc, ref: str) -> dict[str, str]:
    cards = svc.registry.resolve(ref).compiled.scorecards
    return {k: c.title or k for k, c in cards.items()}


@router.post("/receipts")
async def keep(request: Request, svc: Svc, viewer: AuditViewer) -> Response:
    """Keeps a receipt of a period's evaluation now; then shows it."""
    form = await checked_form(request)
    period = parse_period(form.get("period", ""), "period")
    loaded = ruleset_for(svc, form.get("ruleset") or None, period)
    note = form.get("note", "").strip()[:500] or None
    rid, _, _ = receipts.keep_period(
        svc.engine,
        loaded.compiled,
        period,
        viewer.who.name,
        published=form.get("publish") == "1",
        note=note,
    )
    return RedirectResponse(f"/audit/receipts/{rid}", status_code=303)


def _receipt(svc: Svc, receipt_id: int) -> Receipt:
    with Session(svc.engine) as session:
        r = session.get(Receipt, receipt_id)
    if r is None:
        raise NotFound(f"没有编号为 {receipt_id} 的评分凭证")
    return r


@router.get("/receipts/{receipt_id}")
def receipt(request: Request, svc: Svc, viewer: AuditViewer, receipt_id: ReceiptP) -> Response:
    """A receipt: what it names, and a button to replay it."""
    return render(request, viewer, "receipt.html", r=_receipt(svc, receipt_id), replay=None)


@router.post("/receipts/{receipt_id}/replay")
async def replay(request: Request, svc: Svc, viewer: AuditViewer, receipt_id: ReceiptP) -> Response:
    """Scores again exactly what the receipt names and compares the results digests."""
    await checked_form(request)
    r = _receipt(svc, receipt_id)
    got = receipts.replay(svc.engine, receipt_id)
    return render(request, viewer, "receipt.html", r=r, replay=got)
