"""The demo data: valid against each year's rules; from 2026 agency staff, pools and amounts."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

from app.services import demo
from dsl.compile.compiler import compile_path
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period

RULES = Path(__file__).resolve().parents[3] / "rules"


def _write(tmp: Path, org: object, facts: list[dict[str, object]]) -> tuple[Path, Path]:
    org_path, facts_path = tmp / "org.json", tmp / "facts.jsonl"
    org_path.write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    lines = "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in facts)
    facts_path.write_text(lines, encoding="utf-8")
    return org_path, facts_path


def test_2026_has_agency_staff_pools_and_amounts(tmp_path: Path) -> None:
    org = demo.with_agency(demo.organisation(random.Random(demo.SEED)))
    agency = [p for p in org["persons"] if p["unit"].startswith("hy-")]
    assert agency and {p["attrs"]["post"] for p in agency} <= {
        "director",
        "deputy",
        "officer",
        "clerk",
    }
    facts = demo.facts(org, 2026)
    types = {f["type"] for f in facts}
    assert {"risk_closure", "assigned_task"} <= types
    assert any("supersedes" in f for f in facts if f["type"] == "assigned_task")
    compiled = compile_path(RULES / "2026")
    inputs = load_inputs(compiled, *_write(tmp_path, org, facts))  # every fact valid
    got = results_json(evaluate(compiled, inputs.org, inputs.facts, Period(2026)))["results"]
    pools = [r for r in got if r["scorecard"] == "pool"]
    assert len(pools) == len(demo.COUNTIES) + 1  # every county bureau has staff, and the agency
    for pool in pools:
        paid = sum(
            Decimal(r["bonus_amount"])
            for r in got
            if r["scorecard"] == "person" and _group(r["subject"], org) == pool["group"]
        )
        assert Decimal(pool["amount"]) == Decimal(pool["allocated"]) == paid
    agency_pool = next(p for p in pools if p["group"] == "hengyang")
    assert agency_pool["head_count"] == len(agency) and agency_pool["tier"] is None


def _group(person: str, org: dict[str, list[dict[str, str]]]) -> str:
    unit = next(p["unit"] for p in org["persons"] if p["id"] == person)
    return "hengyang" if unit.startswith("hy-") else unit.rsplit("-", 1)[0]


def test_years_before_2026_are_unchanged_by_the_agency_staff() -> None:
    org = demo.organisation(random.Random(demo.SEED))
    facts = demo.facts(org, 2025)
    assert not {"risk_closure", "assigned_task"} & {f["type"] for f in facts}
    assert not any(f["subject"].startswith("hy-") and "-" in f["subject"][3:] for f in facts)


def test_the_demo_year_has_its_own_period_values(tmp_path: Path) -> None:
    """The year's results of county bureaus and departments lack nothing, and spread: not the
    floor of 60 for everyone, as they did with only quarterly values."""
    for year in (2024, 2025, 2026):
        org = demo.organisation(random.Random(demo.SEED))
        if year >= 2026:
            org = demo.with_agency(org)
        facts = demo.facts(org, year)
        compiled = compile_path(RULES / str(year))
        folder = tmp_path / str(year)
        folder.mkdir()
        inputs = load_inputs(compiled, *_write(folder, org, facts))
        got = results_json(evaluate(compiled, inputs.org, inputs.facts, Period(year)))["results"]
        units = [r for r in got if r["scorecard"] in ("county", "dept")]
        assert len(units) == len(demo.COUNTIES) + len(demo.DEPTS)
        assert all(r["missing"] == [] for r in units), [r for r in units if r["missing"]]
        finals = {Decimal(r["final"]) for r in units if r["scorecard"] == "county"}
        assert len(finals) > 6 and max(finals) - min(finals) > 10
