"""What the rankings, subject and persons pages show, read from the cached evaluations.

Numbers are the published strings of the results JSON; charts get them as numbers too, but
every label and table cell shows the string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.errors import NotFound
from app.services.analysis import memo
from app.services.cache import Scored
from app.services.context import Services, parse_period, ruleset_for
from app.services.registry import LoadedRuleset, scorecard_for
from app.web import labels
from app.web.evidence import names_of
from dsl.compile.ir import CompiledRuleset, CScorecard
from dsl.facts.periods import Period
from dsl.facts.records import Org


@dataclass(frozen=True)
class Column:
    """A column of parts (categories or components) in a ranking."""

    key: str
    title: str
    weight: str


def evaluation(svc: Services, ruleset: str | None, period: str) -> Scored:
    """The cached evaluation of a period (`period` names the parameter in errors)."""
    p = parse_period(period)
    return svc.cache.get(ruleset_for(svc, ruleset, p), p)


def org_of(s: Scored) -> Org:
    """The organisation an evaluation read."""
    if s.org is None:
        raise NotFound("the organisation of this evaluation is not kept")
    return s.org


def sequence_title(c: CompiledRuleset, card: CScorecard) -> str:
    """The sequence's title (its id when it has none)."""
    decl = c.program.sequences.get(card.sequence.id)
    return (decl.title if decl else None) or card.sequence.id


def columns(card: CScorecard) -> list[Column]:
    """The parts a ranking shows, in the scorecard's order."""
    return [Column(p.id, p.title or p.id, f"{p.weight:%}") for p in card.parts]


def ranking(s: Scored, sequence: str) -> dict[str, Any]:
    """The ranking of a sequence (or scorecard) with names, parts and tiers."""
    c = s.loaded.compiled
    card = scorecard_for(c, sequence)
    if card is None:
        raise NotFound(f"本规则中没有序列或得分卡 '{sequence}'")
    names = names_of(org_of(s))
    rows = []
    for r in s.document["results"]:
        if r["scorecard"] != card.id:
            continue
        parts = r.get("categories") or r.get("components") or {}
        band = r.get("tier") or r.get("grade")
        rows.append(
            {
                **r,
                "name": names.get(r["subject"], r["subject"]),
                "parts": parts,
                "band": band,
                "band_label": labels.band(band),
            }
        )
    if not rows:
        raise NotFound(f"{labels.period(str(s.period))}没有 {card.title or card.id} 的结果")
    bands: dict[str, int] = {}
    for r in rows:
        if r["band"] is not None:
            bands[r["band"]] = bands.get(r["band"], 0) + 1
    chart = [
        {"name": r["name"], "final": r["final"], "band": r["band"], "label": r["band_label"]}
        for r in rows
        if r["final"] is not None
    ]
    return {
        "card": card,
        "sequence": sequence_title(c, card),
        "columns": columns(card) if s.period.kind in card.periods else [],
        "rows": rows,
        "bands": bands,
        "chart_data": chart,
        "annual": s.period.kind == "year" and s.period.kind not in card.periods,
        "missing_titles": {i.id: i.title or i.id for p in card.parts for i in p.indicators}
        | {"final": "最终得分"},
    }


def periods_of(loaded: LoadedRuleset) -> list[str]:
    """The periods a ruleset scores: its year's quarters, then the year."""
    c = loaded.compiled
    if c.year is None:
        return []
    kinds = c.program.header.periods if c.program.header is not None else ("quarter", "year")
    out = [f"{c.year}Q{q}" for q in range(1, 5)] if "quarter" in kinds else []
    return [*out, str(c.year)] if "year" in kinds else out


def trend(svc: Services, loaded: LoadedRuleset, year: int, subject: str) -> list[dict[str, Any]]:
    """A subject's quarterly results over the year, then the year's (final, rank, band)."""
    out = []
    kinds = loaded.compiled.program.header.periods if loaded.compiled.program.header else ()
    shown = [*Period(year).quarters(), *([Period(year)] if "year" in kinds else [])]
    for q in shown:
        s = svc.cache.get(loaded, q)
        for r in s.by_subject.get(subject, []):
            out.append(
                {
                    "period": str(q),
                    "label": labels.period(str(q)),
                    "scorecard": r["scorecard"],
                    "final": r["final"],
                    "rank": r["rank"],
                    "band": labels.band(r.get("tier") or r.get("grade")),
                    "annual": q.quarter is None,
                }
            )
    return out


def persons_of(
    svc: Services, ruleset: str | None, unit: str, period: str
) -> tuple[Scored, dict[str, Any]]:
    """The persons under a unit: each quarter's final, the year's final, rank and grade."""
    p = parse_period(period)
    loaded = ruleset_for(svc, ruleset, Period(p.year))
    year = svc.cache.get(loaded, Period(p.year))
    org = org_of(year)
    if unit not in org.units:
        raise NotFound(f"没有单位 '{unit}'")
    names: dict[str, str] = memo(year, ("view", "names"), lambda: names_of(org))
    staff = sorted(pid for pid in org.persons if unit in org.chain(pid))
    quarters = [svc.cache.get(loaded, q) for q in Period(p.year).quarters()]
    shown = svc.cache.get(loaded, p) if p.quarter is not None else None
    rows = []
    for pid in staff:
        annual = next(iter(year.by_subject.get(pid, [])), None)
        now = next(iter(shown.by_subject.get(pid, [])), None) if shown else None
        rows.append(
            {
                "id": pid,
                "name": names.get(pid, pid),
                "section": names.get(org.persons[pid].unit, org.persons[pid].unit),
                "quarters": [
                    next(iter(q.by_subject.get(pid, [])), {}).get("final") for q in quarters
                ],
                "annual": annual,
                "grade": labels.band(annual.get("grade")) if annual else "—",
                "grade_id": annual.get("grade") if annual else None,
                "components": (now or {}).get("components") or {},
                "now": now,
            }
        )
    person_cards = [
        c for c in loaded.compiled.scorecards.values() if c.sequence.subject == "person"
    ]
    pools = pools_of(year, loaded.compiled, org.chain(unit), names)
    for row in rows:
        row["amounts"] = {p["into"]: _paid(row["annual"], p["into"]) for p in pools}
    return year, {
        "pools": pools,
        "unit": unit,
        "unit_name": names.get(unit, unit),
        "rows": rows,
        "quarters": [str(q.period) for q in quarters],
        "columns": columns(person_cards[0]) if person_cards else [],
        "shown": str(p) if p.quarter is not None else None,
    }


def choices(svc: Services, current: str) -> dict[str, Any]:
    """The rulesets and periods the page's selector offers."""
    loaded = svc.registry.in_service()
    return {
        "rulesets": [(str(r.compiled.year), r.compiled.name) for r in loaded],
        "periods": {str(r.compiled.year): periods_of(r) for r in loaded},
        "period": current,
        "period_label": labels.period(current),
    }


def default_period(svc: Services) -> str:
    """The first quarter of the newest year in service."""
    loaded = svc.registry.in_service()
    if not loaded:
        raise NotFound("没有在用的规则")
    periods = periods_of(loaded[-1])
    if not periods:
        raise NotFound("在用的规则没有考评期")
    return periods[0]


def _paid(annual: Any, into: str) -> str | None:
    """What a pool paid a person (the published amount of its annual result), if anything."""
    return annual.get(into) if isinstance(annual, dict) else None


def pools_of(
    year: Scored, c: CompiledRuleset, chain: tuple[str, ...], names: dict[str, str]
) -> list[dict[str, Any]]:
    """The pools (bonus amounts shared by a group, 2026 rules §6) that pay a unit's persons:
    of each pool, the group nearest the unit in its `chain` (the unit, then the units above
    it). What the pool shows and paid, as published, and the result it writes."""
    out = []
    for pool in c.pools.values():
        by_group = {
            r.get("group"): r for r in year.document["results"] if r["scorecard"] == pool.id
        }
        group = next((g for g in chain if g in by_group), None)
        if group is None:
            continue
        r = by_group[group]
        shown = [
            (labels.pool_value(k), labels.band(v) if k == "tier" else v)
            for k, v in r.items()
            if k not in ("subject", "scorecard", "group")
        ]
        out.append(
            {
                "id": pool.id,
                "title": pool.title or pool.id,
                "into": pool.into,
                "group": group,
                "group_name": names.get(group, group),
                "shown": shown,
                "amount": r.get("amount"),
                "allocated": r.get("allocated"),
            }
        )
    return out
