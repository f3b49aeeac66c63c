"""The evaluation cycle's pages: a cycle (state, history, publish / approve / reopen), the
appeals inbox, filing an appeal from a score card line, an appeal with its ruling form and
the ruling's effect. Every write goes through `app.services.cycles`, as the API's do, with the
same checks of who may do it (docs/cycle.md); the page only adds the form token check and
shows the service's refusals in Chinese on the form, naming the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import OperationalError

from app.errors import AppError, Forbidden
from app.services import cycles
from app.services.cache import Scored
from app.services.context import Services, parse_period
from app.web import cycle_view, labels, scores_view
from app.web.cycle_view import FormError
from app.web.deps import Anyone, Svc, Viewer, WebRoute, checked_form, render
from app.web.evidence import facts_by_id, names_of
from app.web.source import ruleset_ref
from dsl.facts.periods import Period

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PeriodP = Annotated[str, Path(min_length=4, max_length=20)]
PeriodQ = Annotated[str, Query(max_length=20)]
RulesetQ = Annotated[str | None, Query(max_length=80)]
TextQ = Annotated[str | None, Query(max_length=200)]
AppealP = Annotated[int, Path(ge=1, le=2**31 - 1)]
StateQ = Annotated[str | None, Query(pattern="^(open|upheld|rejected)?$", max_length=10)]
BUSY = "数据库正忙（有其他写入正在进行），未作任何改动，请稍后重试"


def _actor(svc: Services, viewer: Viewer, request: Request) -> cycles.Actor:
    """Who acts, named as the API names it (the token's name; the demo's user)."""
    by = viewer.who.name if viewer.who.token_id is not None else svc.settings.user
    rid = request.headers.get("x-request-id")
    return cycles.Actor(viewer.who, by, rid[:100] if rid else None)


def _must(viewer: Viewer, capability: str, what: str) -> None:
    """Forbidden (403) unless the viewer's role may do it, as the API checks it."""
    if not viewer.can(capability):
        raise Forbidden(f"当前角色（{labels.role(viewer.who.role)}）无权{what}")


def _attempt(act: Callable[[], Any]) -> tuple[Any, FormError | None]:
    """The service's answer, or the form error its refusal shows as (never a 500: a SQLite
    writer that finds the database locked is told to try again)."""
    try:
        return act(), None
    except AppError as err:
        if isinstance(err, Forbidden):
            raise Forbidden(cycle_view.chinese(str(err))) from err
        return None, cycle_view.form_error(err)
    except OperationalError as err:
        if "locked" in str(err.orig):
            return None, FormError(BUSY, (), 409)
        raise


def _scored(svc: Services, ruleset: str | None, period: str) -> Scored:
    return scores_view.evaluation(svc, ruleset, period or scores_view.default_period(svc))


def _names(s: Scored) -> dict[str, str]:
    return names_of(scores_view.org_of(s))


# ---- the cycle ----------------------------------------------------------------------------------


def _cycle_page(
    request: Request,
    svc: Services,
    viewer: Viewer,
    s: Scored,
    error: FormError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    ref = ruleset_ref(svc.registry, s.loaded)
    return render(
        request,
        viewer,
        "cycle.html",
        error.status if error else 200,
        s=s,
        ref=ref,
        cycle=cycle_view.cycle_view(svc, s, _names(s)),
        sequences=_sequences(s),
        error=error,
        form=form or {},
        **scores_view.choices(svc, str(s.period)),
    )


def _sequences(s: Scored) -> list[tuple[str, str]]:
    c = s.loaded.compiled
    kind = s.period.kind
    out: dict[str, str] = {}
    for card in c.scorecards.values():
        if kind in card.periods or (kind == "year" and card.annual is not None):
            out.setdefault(card.sequence.id, scores_view.sequence_title(c, card))
    return list(out.items())


@router.get("/cycles/{period}")
def cycle(
    request: Request, svc: Svc, viewer: Anyone, period: PeriodP, ruleset: RulesetQ = None
) -> Response:
    """A cycle: its state, its history (who, when, what), its appeals and receipts; publish,
    approve and reopen for those allowed."""
    parse_period(period, "period")
    return _cycle_page(request, svc, viewer, _scored(svc, ruleset, period))


async def _transition(
    request: Request,
    svc: Services,
    viewer: Viewer,
    period: str,
    what: str,
    act: Callable[[Scored, dict[str, str], cycles.Actor], Any],
) -> Response:
    """A cycle's step by an admin, from its form; back to the cycle page (or the form's error)."""
    form = await checked_form(request)
    _must(viewer, "admin", what)
    ruleset = form.get("ruleset") or None
    p = parse_period(period, "period")
    s = _scored(svc, ruleset, period)
    loaded = s.loaded
    _, error = _attempt(lambda: act(s, form, _actor(svc, viewer, request)))
    if error is not None:
        return _cycle_page(request, svc, viewer, s, error, form)
    ref = ruleset_ref(svc.registry, loaded)
    return RedirectResponse(f"/cycles/{p}?ruleset={ref}", status_code=303)


def _notice_days(form: dict[str, str]) -> int | None:
    text = form.get("notice_days", "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= 366:
        raise cycle_view.refuse("query.notice_days", "公示天数须为 0 到 366 之间的整数")
    return int(text)


@router.post("/cycles/{period}/publish")
async def publish(request: Request, svc: Svc, viewer: Anyone, period: PeriodP) -> Response:
    """公示 (admin)."""

    def act(s: Scored, form: dict[str, str], a: cycles.Actor) -> Any:
        days = _notice_days(form)
        return cycles.publish(svc.engine, s.loaded.compiled, s.period, a, days)

    return await _transition(request, svc, viewer, period, "公示考评结果", act)


@router.post("/cycles/{period}/approve")
async def approve(request: Request, svc: Svc, viewer: Anyone, period: PeriodP) -> Response:
    """审定 (admin): refused while an appeal is open."""

    def act(s: Scored, form: dict[str, str], a: cycles.Actor) -> Any:
        return cycles.approve(svc.engine, s.loaded.compiled, s.period, a)

    return await _transition(request, svc, viewer, period, "审定考评结果", act)


@router.post("/cycles/{period}/reopen")
async def reopen(request: Request, svc: Svc, viewer: Anyone, period: PeriodP) -> Response:
    """Reopening (admin), with a reason."""

    def act(s: Scored, form: dict[str, str], a: cycles.Actor) -> Any:
        reason = form.get("reason", "").strip()
        if not reason:
            raise cycle_view.refuse("reason", "请填写重新开启的理由")
        if len(reason) > 4000:
            raise cycle_view.refuse("reason", "理由不能超过 4000 字")
        return cycles.reopen(svc.engine, s.loaded.compiled, s.period, a, reason)

    return await _transition(request, svc, viewer, period, "重新开启考评周期", act)


# ---- appeals ------------------------------------------------------------------------------------


@router.get("/appeals")
def inbox(
    request: Request,
    svc: Svc,
    viewer: Anyone,
    state: StateQ = None,
    subject: TextQ = None,
) -> Response:
    """The appeals, oldest first, by state and subject: subject and line by name, who filed,
    when, the state and the ruling's date."""
    got = cycles.list_appeals(svc.engine, state or None, subject or None)
    rows = []
    seen: dict[tuple[str, str], tuple[dict[str, str], Any]] = {}
    for a in got:
        key = (a["ruleset"], a["period"])
        if key not in seen:
            loaded = svc.registry.resolve(a["ruleset"])
            scored = svc.cache.get(loaded, Period.parse(a["period"]))
            seen[key] = (_names(scored), loaded.compiled)
        names, compiled = seen[key]
        rows.append(cycle_view.appeal_row(a, names, compiled))
    return render(
        request,
        viewer,
        "appeals.html",
        rows=rows,
        state=state or "",
        subject=subject or "",
        states=cycle_view.APPEAL_STATES,
    )


def _filing(
    request: Request,
    svc: Services,
    viewer: Viewer,
    s: Scored,
    values: dict[str, Any],
    error: FormError | None = None,
) -> Response:
    subject = values.get("subject") or ""
    names = _names(s)
    indicator = values.get("indicator") or None
    line = values.get("line") or None
    facts = []
    visible = bool(subject) and _sees_facts_of(viewer, s, subject)
    if visible and subject in s.by_subject:
        facts = cycle_view.line_facts(svc, s, subject, indicator, line)
    titles = cycle_view.line_titles(s.loaded.compiled)
    state = cycle_view.cycle_view(svc, s, names)
    return render(
        request,
        viewer,
        "appeal_new.html",
        error.status if error else 200,
        s=s,
        ref=ruleset_ref(svc.registry, s.loaded),
        v=values,
        name=names.get(subject, subject),
        facts=facts,
        visible=visible or not subject,
        chosen=set(values.get("facts") or []),
        line_title=titles.get(indicator, indicator) if indicator else _line_word(line),
        lines=sorted(titles.items()),
        cycle=state,
        error=error,
        period_label=labels.period(str(s.period)),
    )


def _sees_facts_of(viewer: Viewer, s: Scored, subject: str) -> bool:
    """Whether the viewer may read the subject's facts, as the API lets it: the roles that
    read explanations (which show the facts), and a recorder the facts under its units."""
    if viewer.can("scores"):
        return True
    if not viewer.can("facts:read"):
        return False
    units = viewer.who.units
    return units is None or bool(units.intersection(scores_view.org_of(s).chain(subject)))


def _line_word(line: str | None) -> str | None:
    return {"items": "加减分", "joint": "连带责任"}.get(line or "")


@router.get("/appeals/new")
def new_appeal(
    request: Request,
    svc: Svc,
    viewer: Anyone,
    subject: TextQ = None,
    period: PeriodQ = "",
    ruleset: RulesetQ = None,
    indicator: TextQ = None,
    line: TextQ = None,
) -> Response:
    """The filing form, prefilled from a score card line: subject, period, line and the facts
    the line counts (recorders and admins)."""
    _must(viewer, "appeal:file", "提交申诉")
    s = _scored(svc, ruleset, period)
    values = {
        "subject": subject or "",
        "indicator": indicator or "",
        "line": line or "",
        "facts": [],
        "fact_ids": "",
        "reason": "",
        "evidence": "",
    }
    return _filing(request, svc, viewer, s, values)


@router.post("/appeals")
async def file_appeal(request: Request, svc: Svc, viewer: Anyone) -> Response:
    """Files the appeal through the cycle service (which checks who may file for whom)."""
    form = await checked_form(request)
    _must(viewer, "appeal:file", "提交申诉")
    period = form.get("period", "")
    s = _scored(svc, form.get("ruleset") or None, period)
    body = await request.body()
    typed = [x.strip() for x in re.split(r"[,，\s]+", form.get("fact_ids", "")) if x.strip()]
    disputed = list(dict.fromkeys([*cycle_view.all_values(body, "facts"), *typed]))[:200]
    values: dict[str, Any] = {
        "subject": form.get("subject", "").strip(),
        "indicator": form.get("indicator", "").strip(),
        "line": form.get("line", "").strip(),
        "facts": disputed,
        "fact_ids": form.get("fact_ids", ""),
        "reason": form.get("reason", ""),
        "evidence": form.get("evidence", "").strip(),
    }

    def act() -> dict[str, Any]:
        if not values["subject"]:
            raise cycle_view.refuse("body.subject", "请填写申诉对象")
        if len(values["subject"]) > 200:
            raise cycle_view.refuse("body.subject", "申诉对象不能超过 200 字")
        if not values["reason"].strip():
            raise cycle_view.refuse("body.reason", "请填写申诉理由")
        if len(values["reason"]) > 4000:
            raise cycle_view.refuse("body.reason", "申诉理由不能超过 4000 字")
        if len(values["evidence"]) > 400:
            raise cycle_view.refuse("body.evidence", "证据文号不能超过 400 字")
        if len(values["indicator"]) > 100:
            raise cycle_view.refuse("body.indicator", "申诉项目不能超过 100 字")
        body = {
            "subject": values["subject"],
            "indicator": values["indicator"] or None,
            "facts": disputed,
            "reason": values["reason"],
            "evidence": values["evidence"] or None,
        }
        return cycles.file_appeal(
            svc.engine, s.loaded.compiled, s.period, _actor(svc, viewer, request), body
        )

    got, error = _attempt(act)
    if error is not None:
        return _filing(request, svc, viewer, s, values, error)
    return RedirectResponse(f"/appeals/{got['id']}", status_code=303)


def _appeal_page(
    request: Request,
    svc: Services,
    viewer: Viewer,
    appeal_id: int,
    error: FormError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    a = cycles.get_appeal(svc.engine, appeal_id)
    loaded = svc.registry.resolve(a["ruleset"])
    period = Period.parse(a["period"])
    s = svc.cache.get(loaded, period)
    names = _names(s)
    c = loaded.compiled
    row = cycle_view.appeal_row(a, names, c)
    visible = _sees_facts_of(viewer, s, a["subject"])
    shown = facts_by_id(svc.engine, c, a["facts"], names) if visible else {}
    ruling = a.get("ruling")
    candidates: list[dict[str, Any]] = []
    if a["state"] == "open" and viewer.can("appeal:rule"):
        line_facts = []
        if a["subject"] in s.by_subject:
            line_facts = cycle_view.line_facts(svc, s, a["subject"], a["indicator"], None)
        ids = list(dict.fromkeys([*a["facts"], *(f.id for f in line_facts)]))
        candidates = _candidates(svc, s, ids)
    return render(
        request,
        viewer,
        "appeal.html",
        error.status if error else 200,
        a=row,
        ref=ruleset_ref(svc.registry, loaded),
        facts=[shown[i] for i in a["facts"] if i in shown],
        ruling=ruling,
        decision=cycle_view.DECISIONS.get(ruling["decision"]) if ruling else None,
        effect=cycle_view.effect_rows(ruling["effect"], names, c) if ruling else [],
        corrections=cycle_view.correction_rows(ruling["corrections"] if ruling else [], c),
        candidates=candidates,
        decisions=cycle_view.DECISIONS,
        error=error,
        form=form or {},
        cycle_state=cycle_view.cycle_view(svc, s, names)["state_label"],
    )


def _candidates(svc: Services, s: Scored, ids: list[str]) -> list[dict[str, Any]]:
    """The facts the ruling form offers to correct or retract, with their editable fields."""
    c = s.loaded.compiled
    shown = facts_by_id(svc.engine, c, ids, _names(s))
    raw = cycle_view.raw_facts(svc.engine, ids)
    return [
        {
            "id": ident,
            "view": shown[ident],
            "fields": cycle_view.editable(c, raw[ident][0], raw[ident][1], _names(s)),
        }
        for ident in ids
        if ident in shown and ident in raw
    ]


@router.get("/appeals/{appeal_id}")
def appeal(request: Request, svc: Svc, viewer: Anyone, appeal_id: AppealP) -> Response:
    """An appeal: what was filed, by whom and when; the ruling form for the committee; once
    ruled, the decision, its reason and its effect on every subject it changed."""
    return _appeal_page(request, svc, viewer, appeal_id)


@router.post("/appeals/{appeal_id}/ruling")
async def rule(request: Request, svc: Svc, viewer: Anyone, appeal_id: AppealP) -> Response:
    """裁定 (committee, admin), through the cycle service."""
    form = await checked_form(request)
    _must(viewer, "appeal:rule", "裁定申诉")
    a = cycles.get_appeal(svc.engine, appeal_id)
    loaded = svc.registry.resolve(a["ruleset"])
    s = svc.cache.get(loaded, Period.parse(a["period"]))
    ids = [form.get(f"c{i}_id", "") for i in range(200) if f"c{i}_id" in form]
    candidates = [(c["id"], c["fields"]) for c in _candidates(svc, s, ids)]

    def act() -> dict[str, Any]:
        decision = form.get("decision", "")
        if decision not in cycle_view.DECISIONS:
            raise cycle_view.refuse("body.decision", "请选择维持申诉或驳回")
        reason = form.get("reason", "").strip()
        if not reason:
            raise cycle_view.refuse("body.reason", "请填写裁定理由")
        if len(reason) > 4000:
            raise cycle_view.refuse("body.reason", "裁定理由不能超过 4000 字")
        corrections = cycle_view.corrections_of(form, candidates)
        body = {"decision": decision, "reason": reason, "corrections": corrections}
        return cycles.rule(
            svc.engine,
            lambda digest: svc.registry.resolve(digest).compiled,
            appeal_id,
            _actor(svc, viewer, request),
            body,
        )

    _, error = _attempt(act)
    if error is not None:
        return _appeal_page(request, svc, viewer, appeal_id, error, form)
    return RedirectResponse(f"/appeals/{appeal_id}", status_code=303)
