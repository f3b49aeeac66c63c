"""Rulesets: those in service, one with its indicators, checking a source, reloading, and the
auditors' diff and impact (the JSON of `jixiao diff` / `jixiao impact --format json`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from app.api.deps import Admin, Anyone, Auditor, ExactRoute, Svc, out, parse_period
from app.api.download import xlsx_response
from app.api.errors import diagnostic_details
from app.api.routes.scores import XLSX_DOC, FormatQ
from app.api.schemas import ERRORS, CheckIn, ImpactIn
from app.api.schemas_out import RulesetListOut
from app.errors import Invalid
from app.services import audit, exports
from dsl.compile.ir import CompiledRuleset
from dsl.syntax.errors import Diagnostic
from dsl.syntax.parser import parse_text
from dsl.syntax.program import Loaded

router = APIRouter(tags=["rulesets"], route_class=ExactRoute, responses=ERRORS)

SUMMARY = {
    "year": 2025,
    "digest": "3f2a…",
    "name": "衡阳市税务局 2025 年度绩效考评",
    "commit": "451fc49…",
    "folder": "rules/2025",
}


def _structure(c: CompiledRuleset) -> dict[str, Any]:
    cards = []
    for card in c.scorecards.values():
        parts = [
            {
                "id": p.id,
                "title": p.title,
                "weight": p.weight,
                "max": p.max,
                "component": p.is_component,
                "indicators": [
                    {"id": i.id, "title": i.title, "points": i.points, "lead": i.lead}
                    for i in p.indicators
                ],
            }
            for p in card.parts
        ]
        cards.append(
            {
                "id": card.id,
                "title": card.title,
                "sequence": card.sequence.id,
                "periods": sorted(card.periods),
                "floor": card.floor,
                "parts": parts,
            }
        )
    facts = [
        {"id": d.id, "title": d.title, "kind": d.kind, "subjects": list(d.subjects)}
        for d in c.schema.types.values()
    ]
    return {"scorecards": cards, "fact_types": facts}


@router.get(
    "/rulesets",
    summary="The rulesets in service (year, digest, commit)",
    response_model=RulesetListOut,
    responses={200: {"content": {"application/json": {"example": {"rulesets": [SUMMARY]}}}}},
)
def list_rulesets(svc: Svc, who: Anyone) -> Response:
    """One ruleset per year folder of the rules directory."""
    return out({"rulesets": [r.summary() for r in svc.registry.in_service()]})


@router.get(
    "/rulesets/diff",
    summary="What changed between two rulesets (auditors)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"old": {"label": "rules/2024"}, "new": {}, "changes": []}
                }
            }
        }
    },
)
def diff(
    svc: Svc,
    who: Auditor,
    old: Annotated[str, Query(alias="from", description="year or digest", examples=["2024"])],
    new: Annotated[str, Query(alias="to", description="year or digest", examples=["2025"])],
) -> Response:
    """`jixiao diff OLD NEW --format json`."""
    return out(audit.diff(svc.registry, old, new).as_json())


@router.post(
    "/impact",
    summary="Score a period's recorded facts under two rulesets (auditors)",
    responses={
        200: {"content": {"application/json": {"example": {"period": "2025Q1"}}, **XLSX_DOC}}
    },
)
def impact(svc: Svc, who: Auditor, body: ImpactIn, format: FormatQ = "json") -> Response:
    """`jixiao impact OLD NEW --db --period P --format json` (`format=xlsx`: the workbook)."""
    period = parse_period(body.period, "body.period")
    report = audit.impact(svc.engine, svc.registry, body.old, body.new, period, body.attribution)
    if format == "xlsx":
        new = svc.registry.resolve(body.new).compiled
        return xlsx_response(*exports.impact(svc.engine, report.as_json(), new))
    return out(report.as_json())


RulesetP = Annotated[str, Path(description="a year (2025) or a ruleset digest")]


@router.get(
    "/rulesets/{ruleset}/template.xlsx",
    summary="The fact template of a ruleset (a workbook to fill in)",
    responses={200: {"content": XLSX_DOC}},
)
def template(svc: Svc, who: Anyone, ruleset: RulesetP) -> Response:
    """A sheet per fact type with drop-down lists, the organisation's subjects by name, an
    instructions sheet (docs/excel.md). Fill it in and post it to `/v1/facts`."""
    compiled = svc.registry.resolve(ruleset).compiled
    headers = {"X-Jixiao-Ruleset": compiled.digest}
    return xlsx_response(*exports.template(svc.engine, compiled), headers)


@router.get(
    "/rulesets/{ruleset}/org-template.xlsx",
    summary="The organisation template of a ruleset, filled with the organisation in force",
    responses={200: {"content": XLSX_DOC}},
)
def org_template(svc: Svc, who: Anyone, ruleset: RulesetP) -> Response:
    """Units and persons with the attributes the ruleset declares (docs/excel.md)."""
    compiled = svc.registry.resolve(ruleset).compiled
    headers = {"X-Jixiao-Ruleset": compiled.digest}
    return xlsx_response(*exports.template(svc.engine, compiled, organisation=True), headers)


@router.get(
    "/rulesets/{ruleset}",
    summary="One ruleset with its scorecards, indicators and fact types",
    responses={200: {"content": {"application/json": {"example": SUMMARY}}}},
)
def get_ruleset(
    svc: Svc, who: Anyone, ruleset: Annotated[str, Path(description="year or digest")]
) -> Response:
    """A ruleset by year (the one in service) or digest."""
    r = svc.registry.resolve(ruleset)
    return out({**r.summary(), **_structure(r.compiled)})


@router.post(
    "/rulesets/check",
    summary="Check rule source (diagnostics as JSON; nothing is loaded)",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"ok": False, "errors": 1, "warnings": 0, "diagnostics": []}
                }
            }
        }
    },
)
def check(svc: Svc, who: Anyone, body: CheckIn) -> Response:
    """Parses and checks the files as one ruleset and returns every diagnostic, sorted."""
    from dsl.check.checker import check as run_check

    diags: list[Diagnostic] = []
    modules = []
    for name in sorted(body.files):
        result = parse_text(body.files[name], name)
        diags.extend(result.diagnostics)
        if result.module is not None:
            modules.append(result.module)
    from pathlib import Path as FsPath

    found = run_check(Loaded(FsPath("."), dict(body.files), modules, diags))
    errors = sum(d.is_error for d in found)
    return out(
        {
            "ok": errors == 0,
            "errors": errors,
            "warnings": len(found) - errors,
            "diagnostics": [d.as_json() for d in found],
        }
    )


@router.post(
    "/rulesets/reload",
    summary="Load the rules folder again (admins)",
    responses={200: {"content": {"application/json": {"example": {"folders": []}}}}},
)
def reload(svc: Svc, who: Admin) -> Response:
    """Each year folder is checked; one with errors is refused (422, with its diagnostics)
    and the ruleset in service before stays."""
    outcomes = svc.registry.reload()
    refused = [o for o in outcomes if o.status == "refused"]
    if refused:
        err = Invalid(
            f"{len(refused)} ruleset folder(s) refused: "
            + ", ".join(o.folder for o in refused)
            + "; the rulesets in service before stay"
        )
        err.details = [
            {**d, "folder": o.folder}
            for o in refused
            for d in diagnostic_details([x for x in o.diagnostics if x.is_error])
        ]
        raise err
    return out({"folders": [o.as_json() for o in outcomes]})
