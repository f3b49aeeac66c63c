"""Each year's rules: scorecards and indicators, fact types, check results, highlighted source."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.services.org import org_at
from app.services.registry import LoadedRuleset, check_folder
from app.web import source
from app.web.deps import AdminViewer, Anyone, Svc, WebRoute, checked_form, render
from app.web.evidence import names_of
from dsl.compile.ir import CompiledRuleset
from dsl.syntax.errors import Diagnostic

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RefP = Annotated[str, Path(min_length=1, max_length=80)]

_checked: dict[str, list[Diagnostic]] = {}
_checked_lock = threading.Lock()


def diagnostics(loaded: LoadedRuleset) -> list[Diagnostic] | None:
    """The checker's findings on a ruleset's folder (kept per digest); None: no folder."""
    digest = loaded.compiled.digest
    with _checked_lock:
        if digest in _checked:
            return _checked[digest]
    folder = FsPath(loaded.folder)
    if not folder.is_dir():
        return None
    _, found = check_folder(folder)
    with _checked_lock:
        _checked[digest] = found
    return found


def structure(c: CompiledRuleset, lead_names: dict[str, str]) -> list[dict[str, Any]]:
    """Scorecards with their parts and indicators as the page lists them."""
    cards = []
    for card in c.scorecards.values():
        decl = c.program.sequences.get(card.sequence.id)
        cards.append(
            {
                "id": card.id,
                "title": card.title or card.id,
                "sequence": (decl.title if decl else None) or card.sequence.id,
                "periods": sorted(card.periods),
                "floor": card.floor,
                "annual": card.annual is not None,
                "parts": [
                    {
                        "id": p.id,
                        "title": p.title or p.id,
                        "weight": f"{p.weight:%}",
                        "max": p.max,
                        "component": p.is_component,
                        "indicators": [
                            {
                                "id": i.id,
                                "title": i.title or i.id,
                                "points": i.points,
                                "lead": lead_names.get(i.lead, i.lead) if i.lead else None,
                                "rule": source.source_ref(
                                    c, "", f"{i.span.path}:{i.span.line}", i.span.end_line
                                ),
                            }
                            for i in p.indicators
                        ],
                    }
                    for p in card.parts
                ],
                "items": card.items.id if card.items else None,
            }
        )
    return cards


@router.get("/rulesets")
def rulesets(request: Request, svc: Svc, viewer: Anyone) -> Response:
    """The rulesets in service."""
    return render(
        request,
        viewer,
        "rulesets.html",
        rulesets=[r.summary() for r in reversed(svc.registry.in_service())],
        outcomes=None,
    )


@router.post("/rulesets/reload")
async def reload(request: Request, svc: Svc, viewer: AdminViewer) -> Response:
    """Loads the rules folder again (admins); each folder's outcome is shown."""
    await checked_form(request)
    outcomes = svc.registry.reload()
    return render(
        request,
        viewer,
        "rulesets.html",
        rulesets=[r.summary() for r in reversed(svc.registry.in_service())],
        outcomes=outcomes,
    )


def _lead_names(svc: Svc) -> dict[str, str]:
    """Names of the units today (lead departments are shown by name)."""
    with Session(svc.engine) as session:
        org, _ = org_at(session, date.today(), closed=True)
    return names_of(org)


@router.get("/rulesets/{ref}")
def ruleset(request: Request, svc: Svc, viewer: Anyone, ref: RefP) -> Response:
    """A ruleset: scorecards, indicators, fact types, check results, files."""
    loaded = svc.registry.resolve(ref)
    c = loaded.compiled
    shown_ref = source.ruleset_ref(svc.registry, loaded)
    cards = structure(c, _lead_names(svc))
    for card in cards:
        for part in card["parts"]:
            for ind in part["indicators"]:
                if ind["rule"] is not None:
                    ind["url"] = (
                        f"/rulesets/{shown_ref}/files/{ind['rule'].file}#L{ind['rule'].line}"
                    )
    facts = [
        {
            "id": d.id,
            "title": d.title or d.id,
            "kind": d.kind,
            "subjects": d.subjects,
            "fields": [
                (
                    f.name,
                    ", ".join(f"{v.id}（{v.title}）" if v.title else v.id for v in f.type.values)
                    or (f.type.name or ""),
                )
                for f in d.fields
            ],
        }
        for d in c.schema.types.values()
    ]
    return render(
        request,
        viewer,
        "ruleset.html",
        r=loaded.summary(),
        ref=shown_ref,
        cards=cards,
        facts=facts,
        files=sorted(source.file_names(c).values()),
        diagnostics=diagnostics(loaded),
    )


@router.get("/rulesets/{ref}/files/{name:path}")
def ruleset_file(request: Request, svc: Svc, viewer: Anyone, ref: RefP, name: str) -> Response:
    """One rule file, highlighted, each line with an anchor (`#L12`)."""
    loaded = svc.registry.resolve(ref)
    key = source.key_of(loaded.compiled, name)
    if key is None:
        raise NotFound(f"规则中没有文件 '{name}'")
    return render(
        request,
        viewer,
        "source.html",
        r=loaded.summary(),
        ref=source.ruleset_ref(svc.registry, loaded),
        name=name,
        files=sorted(source.file_names(loaded.compiled).values()),
        lines=source.highlighted(loaded.compiled, key),
    )
