"""A real office suite opens what Jixiao writes: LibreOffice's CSV of an export shows the
published values, and a filled-in template saved by LibreOffice (xlsx, ods) imports the same."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.excel.columns import Vocabulary
from app.excel.export import results_workbook
from app.excel.facts_in import parse_sheets
from app.excel.reader import read_sheets
from app.excel.template import facts_template
from app.excel.titles import titles_of
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import Org
from tests.app.excel.conftest import HANDWORKED
from tests.app.excel.test_roundtrip import fill

pytestmark = pytest.mark.libreoffice

# CSV of every sheet, UTF-8, cells as shown (LibreOffice's filter options, token 9 and 12).
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


def convert(src: Path, to: str, tmp: Path) -> Path:
    """`soffice --headless --convert-to`, with a profile of its own (others may run it too)."""
    out = tmp / "out"
    profile = (tmp / "profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out


def test_libreoffice_shows_the_published_values(
    rules_2025: CompiledRuleset, org: Org, tmp_path: Path
) -> None:
    inputs = load_inputs(rules_2025, HANDWORKED / "org.json", HANDWORKED / "facts.jsonl")
    doc = results_json(evaluate(rules_2025, org, inputs.facts, Period.parse("2025Q1")))
    src = tmp_path / "results.xlsx"
    src.write_bytes(results_workbook(doc, titles_of(rules_2025, org)))
    out = convert(src, CSV_ALL_SHEETS, tmp_path)
    seen = 0
    for card, title in (("county", "县区局组织绩效"), ("dept", "市局机关科室组织绩效")):
        text = (out / f"results-{title}.csv").read_text(encoding="utf-8")
        rows = list(csv.reader(text.splitlines()))
        ids = rows[1]
        for row in rows[2:]:
            got = dict(zip(ids, row, strict=False))
            want = next(r for r in doc["results"] if r["subject"] == got["subject"])
            assert want["scorecard"] == card
            assert got["final"] == want["final"]  # "60.00", "86.93": digit for digit
            for ind, value in want["indicators"].items():
                assert got[ind] == value
            seen += 1
    assert seen == 8


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_template_saved_by_libreoffice_imports_the_same(
    rules_2025: CompiledRuleset,
    org: Org,
    vocab: Vocabulary,
    handworked_facts: list[dict[str, Any]],
    tmp_path: Path,
    fmt: str,
) -> None:
    filled = fill(facts_template(vocab, rules_2025.name), vocab, handworked_facts, org)
    src = tmp_path / "ledger.xlsx"
    src.write_bytes(filled)
    saved = (convert(src, fmt, tmp_path) / f"ledger.{fmt}").read_bytes()
    ours = parse_sheets(read_sheets(filled, "ledger.xlsx"), vocab, "ledger.xlsx")
    theirs = parse_sheets(read_sheets(saved, f"ledger.{fmt}"), vocab, f"ledger.{fmt}")
    assert theirs.problems == []
    assert theirs.records == ours.records
    assert len(ours.records) == len(handworked_facts)
