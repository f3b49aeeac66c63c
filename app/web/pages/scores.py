"""Rankings, a subject's score card with its explanation, and the persons of a unit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from app.errors import NotFound
from app.web import labels, scores_view
from app.web.card import build_card
from app.web.deps import ScoreViewer, Svc, WebRoute, render
from app.web.evidence import facts_by_id, names_of
from app.web.source import ruleset_ref
from dsl.compile.ir import CompiledRuleset

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PeriodQ = Annotated[str, Query(max_length=20)]
RulesetQ = Annotated[str | None, Query(max_length=80)]
IdP = Annotated[str, Path(min_length=1, max_length=200)]
FACTS_SHOWN = 300  # facts a score card shows; the explanation API lists every one


def _choices(svc: Svc, current: str) -> dict[str, Any]:
    """The rulesets and periods the page's selector offers."""
    loaded = svc.registry.in_service()
    return {
        "rulesets": [(str(r.compiled.year), r.compiled.name) for r in loaded],
        "periods": {str(r.compiled.year): scores_view.periods_of(r) for r in loaded},
        "period": current,
        "period_label": labels.period(current),
    }


@router.get("/rankings/{sequence}")
def rankings(
    request: Request,
    svc: Svc,
    viewer: ScoreViewer,
    sequence: IdP,
    period: PeriodQ = "",
    ruleset: RulesetQ = None,
) -> Response:
    """A sequence's ranking: final, rank, tier and parts of every subject, with a chart."""
    period = period or _default_period(svc)
    s = scores_view.evaluation(svc, ruleset, period)
    view = scores_view.ranking(s, sequence)
    return render(
        request,
        viewer,
        "rankings.html",
        s=s,
        ref=ruleset_ref(svc.registry, s.loaded),
        sequence_id=sequence,
        **view,
        **_choices(svc, str(s.period)),
    )


@router.get("/subjects/{subject}")
def subject(
    request: Request,
    svc: Svc,
    viewer: ScoreViewer,
    subject: IdP,
    period: PeriodQ = "",
    ruleset: RulesetQ = None,
) -> Response:
    """A subject's score card: every line with its explanation, trend and lost points."""
    period = period or _default_period(svc)
    s = scores_view.evaluation(svc, ruleset, period)
    if subject not in s.by_subject:
        raise NotFound(f"{labels.period(str(s.period))}没有得分卡为 '{subject}' 评分")
    org = scores_view.org_of(s)
    if subject not in org.units and subject not in org.persons:
        # A pool's result (`hengshan-pool`) is a group's, not a score card's.
        raise NotFound(f"'{subject}' 是奖金分配结果，不是单位或人员；请查看 /v1/scores/{subject}")
    names = names_of(org)
    c = s.loaded.compiled
    ref = ruleset_ref(svc.registry, s.loaded)
    traced = s.traced_evaluation().for_subject(subject)
    cited = dict.fromkeys(i for r in traced for t in r.trace or [] for i in t.facts)
    facts = facts_by_id(svc.engine, c, list(cited)[:FACTS_SHOWN], org)
    cards = [build_card(c, ref, r, facts, names) for r in traced]
    chain = [(u, names.get(u, u)) for u in reversed(org.chain(subject)) if u != subject]
    unit = org.units.get(subject)
    return render(
        request,
        viewer,
        "subject.html",
        s=s,
        ref=ref,
        subject=subject,
        name=names.get(subject, subject),
        chain=chain,
        is_unit=unit is not None,
        kind=_kind_title(c, unit.kind) if unit else "人员",
        cards=cards,
        trend=scores_view.trend(svc, s.loaded, s.period.year, subject),
        **_choices(svc, str(s.period)),
    )


@router.get("/units/{unit}/persons")
def persons(
    request: Request,
    svc: Svc,
    viewer: ScoreViewer,
    unit: IdP,
    period: PeriodQ = "",
    ruleset: RulesetQ = None,
) -> Response:
    """The persons of a unit: components, quarterly finals, the year's final and grade."""
    period = period or _default_period(svc)
    s, view = scores_view.persons_of(svc, ruleset, unit, period)
    return render(
        request,
        viewer,
        "persons.html",
        s=s,
        ref=ruleset_ref(svc.registry, s.loaded),
        **view,
        **_choices(svc, period),
    )


def _kind_title(c: CompiledRuleset, kind: str) -> str:
    org = c.program.organisation
    for k in org.kinds if org is not None else ():
        if k.id == kind:
            return str(k.title or kind)
    return kind


def _default_period(svc: Svc) -> str:
    """The first quarter of the newest year in service."""
    loaded = svc.registry.in_service()
    if not loaded:
        raise NotFound("没有在用的规则")
    periods = scores_view.periods_of(loaded[-1])
    if not periods:
        raise NotFound("在用的规则没有考评期")
    return periods[0]
