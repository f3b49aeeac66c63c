"""Fixtures of the Excel tests: the 2025 rules, the hand-worked example, and workbook helpers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from app.excel.columns import Vocabulary
from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import Org, read_org

HANDWORKED = Path(__file__).resolve().parents[2] / "examples" / "handworked"


@pytest.fixture(scope="session")
def rules_2025(repo_root: Path) -> CompiledRuleset:
    """The shipped 2025 ruleset, compiled."""
    return compile_path(repo_root / "rules" / "2025")


@pytest.fixture(scope="session")
def org() -> Org:
    """The hand-worked example's organisation."""
    return read_org(HANDWORKED / "org.json")


@pytest.fixture(scope="session")
def handworked_facts() -> list[dict[str, Any]]:
    """The hand-worked example's facts, as JSON records."""
    lines = (HANDWORKED / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture()
def vocab(rules_2025: CompiledRuleset, org: Org) -> Vocabulary:
    """The 2025 fact sheets over the hand-worked organisation."""
    return Vocabulary(rules_2025.schema, 2025, org=org)


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """A workbook made by openpyxl (not the library Jixiao writes with) from rows per sheet."""
    wb = openpyxl.Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture()
def make_xlsx() -> Callable[[dict[str, list[list[Any]]]], bytes]:
    """Builds a hand-made workbook with openpyxl."""
    return xlsx
