"""Golden tests of the checker, the shipped rulesets, and coverage of every diagnostic code."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from dsl.check.checker import check
from dsl.syntax.codes import CODES
from dsl.syntax.program import load

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path("tests/dsl/check/golden")
CASES = sorted(
    p.name
    for p in (ROOT / GOLDEN).iterdir()
    if p.suffix == ".jx" or (p.is_dir() and any(p.glob("*.jx")))
)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnostics show paths relative to the working directory: the repository root."""
    monkeypatch.chdir(ROOT)


def _render(path: Path) -> str:
    loaded = load(path)
    return "".join(d.render(loaded.sources) + "\n" for d in check(loaded))


def _expected_file(case: str) -> Path:
    return GOLDEN / (case.removesuffix(".jx") + ".expected")


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    got = _render(GOLDEN / case)
    expected = _expected_file(case)
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(got, encoding="utf-8")
    assert got == expected.read_text(encoding="utf-8")


def test_every_code_has_a_golden_case() -> None:
    seen: set[str] = set()
    for f in (ROOT / GOLDEN).glob("*.expected"):
        seen.update(re.findall(r"^\S+:\d+:\d+: \w+\[(\w+)\]", f.read_text("utf-8"), re.M))
    assert sorted(set(CODES) - seen) == []
    assert sorted(seen - set(CODES)) == []


def test_every_golden_case_has_an_expected_file() -> None:
    files = {p.name for p in (ROOT / GOLDEN).glob("*.expected")}
    assert files == {_expected_file(c).name for c in CASES}


def test_clean_case_is_clean() -> None:
    assert _render(GOLDEN / "base_clean.jx") == ""


@pytest.mark.parametrize("year", ["2024", "2025"])
def test_shipped_rules_have_no_diagnostics(year: str) -> None:
    loaded = load(Path("rules") / year)
    assert [d.headline() for d in check(loaded)] == []


def test_misspelt_fact_type(tmp_path: Path) -> None:
    for f in (ROOT / "rules/2025").glob("*.jx"):
        shutil.copy(f, tmp_path / f.name)
    county = tmp_path / "county.jx"
    text = county.read_text("utf-8")
    county.write_text(text.replace("per inspection_issue", "per inspection_isue"), "utf-8")
    diags = check(load(tmp_path))
    assert [(d.code, d.span.line, d.span.column, d.span.end_column) for d in diags] == [
        ("E103", 26, 18, 33)
    ]
    assert diags[0].span.path.endswith("county.jx")
    assert diags[0].message == (
        "unknown fact type 'inspection_isue' (did you mean 'inspection_issue'?)"
    )


def test_check_sorts_and_keeps_syntax_diagnostics() -> None:
    loaded = load(GOLDEN / "e001_unexpected_token.jx")
    diags = check(loaded)
    assert [d.code for d in diags] == ["E001"]
    assert diags == loaded.diagnostics
