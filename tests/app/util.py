"""Helpers of the database tests: importing an example, scoring it from files and from the db."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.services.facts import ImportResult, import_facts
from app.services.org import import_org
from app.services.scoring import score
from app.store.chain import append_only_ddl, drop_append_only_ddl
from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from tests.app.conftest import EXAMPLES, RULES

USER = "tester"

# Every worked example: its name, the ruleset year and the periods with expected results.
CASES = [
    ("handworked", 2025, ["2025Q1", "2025"]),
    ("handworked", 2024, ["2025Q1"]),
    ("precision", 2025, ["2025Q1"]),
    ("random-2024", 2024, ["2024Q2", "2024"]),
    ("random-2025", 2025, ["2025Q1", "2025Q3", "2025"]),
    ("handworked-2026", 2026, ["2026Q1", "2026"]),
    ("random-2026", 2026, ["2026Q2", "2026"]),
]


def rules(year: int) -> CompiledRuleset:
    """The compiled ruleset of a year."""
    return compile_path(RULES / str(year))


def load_example(
    engine: Engine, name: str, compiled: CompiledRuleset, skip_invalid: bool = False
) -> ImportResult:
    """Imports an example's organisation and facts."""
    folder = EXAMPLES / name
    raw = json.loads((folder / "org.json").read_text(encoding="utf-8"))
    import_org(engine, raw, str(folder / "org.json"), USER)
    org, _ = org_now(engine)
    return import_facts(
        engine, folder / "facts.jsonl", compiled.schema, org, USER, skip_invalid, chunk=100
    )


def org_now(engine: Engine) -> Any:
    """The organisation with every unit and person ever recorded."""
    from datetime import date

    from sqlalchemy.orm import Session

    from app.services.org import org_at

    with Session(engine) as session:
        return org_at(session, date.max, closed=True)


def from_files(compiled: CompiledRuleset, org: Path, facts: Path, period: Period) -> dict[str, Any]:
    """The results JSON of scoring files."""
    inputs = load_inputs(compiled, org, facts)
    return results_json(evaluate(compiled, inputs.org, inputs.facts, period))


def from_db(engine: Engine, compiled: CompiledRuleset, period: Period) -> dict[str, Any]:
    """The results JSON of scoring the database."""
    ev, _ = score(engine, compiled, period)
    return results_json(ev)


@contextmanager
def append_only_lifted(engine: Engine, table: str = "facts") -> Iterator[None]:
    """Drops `table`'s append-only triggers inside the block (as someone with DDL rights
    could), and creates them again after it."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        for statement in drop_append_only_ddl(dialect, table):
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in append_only_ddl(dialect, table):
                conn.execute(text(statement))


def count_whole_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows of each chunk PostgreSQL's import writes while it checks the next
    (`app.services.facts._WholeWrite`), listed in the list returned as they are written."""
    from app.services import facts as service

    written: list[int] = []
    write = service._WholeWrite._write

    def counted(self: Any, rows: list[Any], fresh: bool, hashed: Any) -> None:
        written.append(len(rows))
        write(self, rows, fresh, hashed)

    monkeypatch.setattr(service._WholeWrite, "_write", counted)
    return written
