"""The analysis pages: lost points by indicator, warnings and risk grades, feedback reports
(a printable page and its PDF), from the same services as `/v1/analysis/…` (docs/analysis.md).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from app.errors import Invalid, NotFound
from app.services import analysis, exports
from app.services.context import parse_period, ruleset_for
from app.web import analysis_view, download, labels, scores_view
from app.web.deps import ScoreViewer, Svc, WebRoute, render, templates
from app.web.parts import kept_file, kept_part
from app.web.source import ruleset_ref
from dsl.analysis.render import file_name, render_html, render_pdf
from dsl.facts.periods import Period

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PeriodQ = Annotated[str, Query(max_length=20)]
RulesetQ = Annotated[str | None, Query(max_length=80)]
CardQ = Annotated[str, Query(max_length=80)]
DayQ = Annotated[str, Query(max_length=20)]
SubjectP = Annotated[str, Path(min_length=1, max_length=200)]


def _period(svc: Svc, text: str) -> Period:
    """The period asked for, else the newest quarter with facts, else the newest year's first."""
    if text:
        return parse_period(text)
    return analysis_view.latest_quarter(svc) or parse_period(scores_view.default_period(svc))


def _card(
    svc: Svc, period: Period, ruleset: str | None, card: str
) -> tuple[str, list[tuple[str, str]]]:
    """The scorecard asked for (the first unit scorecard by default) and the choices."""
    loaded = ruleset_for(svc, ruleset, period)
    cards = analysis_view.unit_cards(loaded)
    if not card:
        return cards[0][0], cards
    if card not in dict(cards):
        known = "、".join(f"{t}（{c}）" for c, t in cards)
        raise NotFound(f"scorecard：本规则中没有得分卡 '{card}'，可选：{known}")
    return card, cards


@router.get("/analysis/lost-points.xlsx")
def lost_points_xlsx(
    svc: Svc,
    viewer: ScoreViewer,
    period: PeriodQ = "",
    scorecard: CardQ = "",
    ruleset: RulesetQ = None,
) -> Response:
    """The lost-point analysis of the page as a workbook."""
    p = _period(svc, period)
    card, _ = _card(svc, p, ruleset, scorecard)
    src = analysis_view.source(svc)
    return download.xlsx(*exports.lost_points_of(svc.engine, src, p, card, ruleset))


@router.get("/analysis/lost-points")
def lost_points(
    request: Request,
    svc: Svc,
    viewer: ScoreViewer,
    period: PeriodQ = "",
    scorecard: CardQ = "",
    ruleset: RulesetQ = None,
) -> Response:
    """失分分析: per indicator across subjects (with a chart), per subject, per department."""
    p = _period(svc, period)
    card, cards = _card(svc, p, ruleset, scorecard)
    loaded = ruleset_for(svc, ruleset, p)
    ref = ruleset_ref(svc.registry, loaded)
    src = analysis_view.source(svc)
    view = analysis_view.lost_view(src, p, card, ruleset)
    context = {**view, "card": card, "ref": ref, "period": str(p)}
    tables = kept_part(
        src.require(p, ruleset),
        (card, ref),
        "lost_tables.html",
        lambda: context,
        keep=src.consistent(),
    )
    return render(
        request,
        viewer,
        "lost.html",
        ref=ref,
        ruleset_name=loaded.compiled.name,
        card=card,
        cards=cards,
        doc=view["doc"],
        tables=tables,
        **scores_view.choices(svc, str(p)),
    )


@router.get("/analysis/warnings")
def warnings(
    request: Request,
    svc: Svc,
    viewer: ScoreViewer,
    period: PeriodQ = "",
    as_of: DayQ = "",
    scorecard: CardQ = "",
    ruleset: RulesetQ = None,
) -> Response:
    """预警与风险分级: the warnings still open on a day, and each indicator's risk grade."""
    p = _period(svc, period)
    if p.quarter is None:
        raise NotFound("预警按季度查看：请选择一个季度")
    day = _day(as_of, p) if as_of else analysis_view.day_in(p, _today())
    card, cards = _card(svc, p, ruleset, scorecard)
    loaded = ruleset_for(svc, ruleset, p)
    ref = ruleset_ref(svc.registry, loaded)
    src = analysis_view.source(svc)
    context = {
        "warnings": analysis_view.warnings_view(src, p, day, ruleset),
        "risk": analysis_view.risk_view(src, p, day, card, ruleset),
        "period": str(p),
        "ref": ref,
        "as_of": day.isoformat(),
        "card": card,
        "cards": cards,
        "path": request.url.path,
    }
    tables = kept_part(
        src.held_as_of(p, day, ruleset),  # the day's entry: the period is not scored whole
        (day, card, ref),
        "warnings_tables.html",
        lambda: context,
        keep=src.consistent(),
    )
    return render(
        request,
        viewer,
        "warnings.html",
        ref=ref,
        ruleset_name=loaded.compiled.name,
        as_of=day.isoformat(),
        first_day=p.first_day().isoformat(),
        last_day=p.last_day().isoformat(),
        card=card,
        cards=cards,
        warnings=context["warnings"],
        tables=tables,
        **scores_view.choices(svc, str(p)),
    )


def _today() -> date:
    return date.today()


def _day(text: str, p: Period) -> date:
    """The `as_of` day, inside the period; Invalid naming the field otherwise."""
    try:
        day = date.fromisoformat(text)
    except ValueError as e:
        raise Invalid(f"as_of：日期应为 YYYY-MM-DD 格式，收到 '{text}'") from e
    if not p.contains(day):
        first, last = p.first_day(), p.last_day()
        raise Invalid(f"as_of：{day} 不在{labels.period(str(p))}（{first} 至 {last}）之内")
    return day


@router.get("/reports")
def reports(
    request: Request,
    svc: Svc,
    viewer: ScoreViewer,
    period: PeriodQ = "",
    ruleset: RulesetQ = None,
) -> Response:
    """绩效反馈报告: every unit of the period, each with its page and its PDF."""
    p = _period(svc, period)
    if p.quarter is None:
        raise NotFound("绩效反馈报告按季度编制：请选择一个季度")
    loaded = ruleset_for(svc, ruleset, p)
    ref = ruleset_ref(svc.registry, loaded)
    s = analysis_view.source(svc).require(p, ruleset)
    tables = kept_part(
        s,
        ref,
        "reports_tables.html",
        lambda: {"groups": analysis_view.report_units(s), "period": str(p), "ref": ref},
    )
    return render(
        request,
        viewer,
        "reports.html",
        ref=ref,
        ruleset_name=loaded.compiled.name,
        tables=tables,
        **scores_view.choices(svc, str(p)),
    )


def _report(svc: Svc, subject: str, period: str, ruleset: str | None) -> dict[str, Any]:
    p = parse_period(period) if period else _period(svc, "")
    if p.quarter is None:
        raise NotFound("绩效反馈报告按季度编制：请选择一个季度")
    return analysis.feedback_report(analysis_view.source(svc), subject, p, None, ruleset)


@router.get("/reports/{subject}.pdf")
def report_pdf(
    svc: Svc, viewer: ScoreViewer, subject: SubjectP, period: PeriodQ = "", ruleset: RulesetQ = None
) -> Response:
    """A unit's feedback report as PDF (the same page, its Chinese font embedded)."""
    report = _report(svc, subject, period, ruleset)
    name = file_name(report, "pdf")
    s = analysis_view.source(svc).require(parse_period(str(report["period"])), ruleset)
    data = kept_file(s, ("report.pdf", subject), lambda: render_pdf(report))
    return download.pdf(data, name, f"report-{subject}-{report['period']}.pdf")


@router.get("/reports/{subject}")
def report_page(
    svc: Svc, viewer: ScoreViewer, subject: SubjectP, period: PeriodQ = "", ruleset: RulesetQ = None
) -> Response:
    """A unit's feedback report as its printable page, with a bar to go back or download."""
    report = _report(svc, subject, period, ruleset)
    query = f"period={report['period']}&ruleset={report['ruleset']['year'] or ''}"
    bar = templates.get_template("report_bar.html").render(
        q=query, subject=subject, name=report["name"]
    )
    return HTMLResponse(render_html(report, before=Markup(bar)))
