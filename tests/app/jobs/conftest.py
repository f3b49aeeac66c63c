"""Small generated provinces (bench/generate.py, each under its own ids) for the jobs tests,
and the scores each one gets from its own files (the reference the jobs are held to)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from app.services import facts as fact_service
from app.services.org import import_org
from app.services.registry import Registry
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from tests.conftest import REPO_ROOT, generator

RULES = REPO_ROOT / "rules"
PREFIXES = ("p1_", "p2_", "p3_")


@dataclass
class Province:
    """One generated province: its root unit's id and its files."""

    root: str
    folder: Path

    @property
    def org(self) -> Path:
        return self.folder / "org.json"

    @property
    def facts(self) -> Path:
        return self.folder / "facts.jsonl"


def make_provinces(
    out: Path, prefixes: tuple[str, ...] = PREFIXES, facts: int = 3000, seed: int = 7
) -> list[Province]:
    """Provinces of 3 counties and 40 persons, each generated with its own seed."""
    gen = generator()
    made = []
    for i, prefix in enumerate(prefixes):
        org, rows = gen.prefixed(*gen.generate(3, 40, facts, 2025, seed + i), prefix)
        gen.write(out / prefix.rstrip("_"), org, rows)
        root = next(u["id"] for u in org["units"] if u["parent"] is None)
        made.append(Province(root, out / prefix.rstrip("_")))
    return made


def nation_org(provinces: list[Province]) -> dict[str, Any]:
    """The organisations of the provinces as one."""
    units: list[Any] = []
    persons: list[Any] = []
    for p in provinces:
        raw = json.loads(p.org.read_text(encoding="utf-8"))
        units += raw["units"]
        persons += raw["persons"]
    return {"units": units, "persons": persons}


def load_nation(
    engine: Engine,
    registry: Registry,
    provinces: list[Province],
    org_of: list[Province] | None = None,
) -> None:
    """Records the provinces' organisation (or that of `org_of`) and their facts."""
    import_org(engine, nation_org(org_of or provinces), "nation", "test")
    compiled = registry.for_year(2025)
    assert compiled is not None
    from datetime import date

    from sqlalchemy.orm import Session

    from app.services.org import org_at

    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
    for p in provinces:
        fact_service.import_facts(engine, p.facts, compiled.compiled.schema, org, "test")


def scored_from_files(compiled: CompiledRuleset, p: Province, period: str) -> Any:
    """The results JSON of a province scored from its own files (no database)."""
    inputs = load_inputs(compiled, p.org, p.facts)
    ev = evaluate(compiled, inputs.org, inputs.facts, Period.parse(period))
    return orjson.loads(json.dumps(results_json(ev), sort_keys=True, ensure_ascii=False))


@pytest.fixture
def registry(engine: Engine) -> Registry:
    """The shipped rulesets, registered in the test database."""
    reg = Registry(engine, RULES, "test")
    reg.reload()
    return reg


@pytest.fixture(scope="session")
def provinces(tmp_path_factory: pytest.TempPathFactory) -> list[Province]:
    """Three small provinces, generated once."""
    return make_provinces(tmp_path_factory.mktemp("nation"))
