"""Rankings, a subject's score card with its explanation, and the persons of a unit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from app.errors import NotFound
from app.services import exports
from app.web import analysis_view, cycle_view, download, labels, scores_view
from app.web.card import build_card
from app.web.deps import ScoreViewer, Svc, WebRoute, render
from app.web.evidence import facts_by_id, names_of
from app.web.parts import kept_part, kept_view
from app.web.source import ruleset_ref
from dsl.compile.ir import CompiledRuleset

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PeriodQ = Annotated[str, Query(max_length=20)]
RulesetQ = Annotated[str | None, Query(max_length=80)]
IdP = Annotated[str, Path(min_length=1, max_length=200)]
FACTS_SHOWN = 300  # facts a score card shows; the explanation API lists every one


@router.get("/results.xlsx")
def results_xlsx(
    svc: Svc, viewer: ScoreViewer, period: PeriodQ = "", ruleset: RulesetQ = None
) -> Response:
    """Every scorecard's results of the period as a workbook."""
    s = scores_view.evaluation(svc, ruleset, period or scores_view.default_period(svc))
    return download.xlsx(*exports.results(svc.engine, s))


@router.get("/rankings/{sequence}.xlsx")
def rankings_xlsx(
    svc: Svc, viewer: ScoreViewer, sequence: IdP, period: PeriodQ = "", ruleset: RulesetQ = None
) -> Response:
    """The ranking of a sequence as a workbook (what the rankings page shows)."""
    s = scores_view.evaluation(svc, ruleset, period or scores_view.default_period(svc))
    card = scores_view.ranking(s, sequence)["card"]
    return download.xlsx(*exports.ranking(svc.engine, s, card.id))


@router.get("/subjects/{subject}.xlsx")
def subject_xlsx(
    svc: Svc, viewer: ScoreViewer, subject: IdP, period: PeriodQ = "", ruleset: RulesetQ = None
) -> Response:
    """A subject's results and their explanation as a workbook."""
    s = scores_view.evaluation(svc, ruleset, period or scores_view.default_period(svc))
    if subject not in s.by_subject:
        raise NotFound(f"{labels.period(str(s.period))}没有得分卡为 '{subject}' 评分")
    return download.xlsx(*exports.explanation(svc.engine, s, subject))


@router.get("/units/{unit}/persons.xlsx")
def persons_xlsx(
    svc: Svc, viewer: ScoreViewer, unit: IdP, period: PeriodQ = "", ruleset: RulesetQ = None
) -> Response:
    """The year's results of a unit's persons as a workbook."""
    period = period or scores_view.default_period(svc)
    s, view = scores_view.persons_of(svc, ruleset, unit, period)
    return download.xlsx(*exports.persons(svc.engine, s, unit, [r["id"] for r in view["rows"]]))


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
    period = period or scores_view.default_period(svc)
    s = scores_view.evaluation(svc, ruleset, period)
    view = kept_view(s, ("ranking", sequence), lambda: scores_view.ranking(s, sequence))
    ref = ruleset_ref(svc.registry, s.loaded)
    context = {**view, "sequence_id": sequence, "period": str(s.period), "ref": ref}
    tables = kept_part(s, (sequence, ref), "rankings_tables.html", lambda: context)
    return render(
        request,
        viewer,
        "rankings.html",
        s=s,
        ref=ref,
        card=view["card"],
        rows=view["rows"],
        tables=tables,
        **scores_view.choices(svc, str(s.period)),
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
    period = period or scores_view.default_period(svc)
    s = scores_view.evaluation(svc, ruleset, period)
    if subject not in s.by_subject:
        raise NotFound(f"{labels.period(str(s.period))}没有得分卡为 '{subject}' 评分")
    org = scores_view.org_of(s)
    if subject not in org.units and subject not in org.persons:
        # A pool's result (`hengshan-pool`) is a group's, not a score card's.
        raise NotFound(f"'{subject}' 是奖金分配结果，不是单位或人员；请查看 /v1/scores/{subject}")
    names: dict[str, str] = kept_view(s, "names", lambda: names_of(org))
    c = s.loaded.compiled
    ref = ruleset_ref(svc.registry, s.loaded)

    def score_cards() -> dict[str, Any]:
        traced = s.traced_evaluation().for_subject(subject)
        cited = dict.fromkeys(i for r in traced for t in r.trace or [] for i in t.facts)
        facts = facts_by_id(svc.engine, c, list(cited)[:FACTS_SHOWN], names)
        cards = [build_card(c, ref, r, facts, names) for r in traced]
        return {
            "cards": cards,
            "subject": subject,
            "period": str(s.period),
            "ref": ref,
            "appealable": appealable,
        }

    state = cycle_view.states(svc, [s.digest]).get((s.digest, str(s.period)), "open")
    # "申诉此项" on each line: while the results are published, for those who file appeals
    appealable = state == "published" and viewer.can("appeal:file")
    cards = kept_part(s, (subject, ref, appealable), "subject_cards.html", score_cards)
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
        quarters=analysis_view.subject_trend(svc, s.period, subject),
        report=unit is not None and s.period.quarter is not None,
        cycle_state=state,
        appealable=appealable,
        **scores_view.choices(svc, str(s.period)),
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
    period = period or scores_view.default_period(svc)
    s, view = scores_view.persons_of(svc, ruleset, unit, period)
    return render(
        request,
        viewer,
        "persons.html",
        s=s,
        ref=ruleset_ref(svc.registry, s.loaded),
        **view,
        **scores_view.choices(svc, period),
    )


def _kind_title(c: CompiledRuleset, kind: str) -> str:
    org = c.program.organisation
    for k in org.kinds if org is not None else ():
        if k.id == kind:
            return str(k.title or kind)
    return kind
