"""Risk grades on the hand-worked example: declared risk, scoring method and status."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

from dsl.analysis.risk import risk_report
from dsl.analysis.source import FileSource, sibling_years
from dsl.compile.compiler import compile_path
from dsl.facts.periods import Period
from tests.dsl.analysis.conftest import HANDWORKED, RULES, Make

Q1 = Period(2025, 1)
K4 = '    indicator K4 "减税降费落实" points 30 lead hy-policy {\n'


def _grade(report: dict[str, Any], subject: str, ind: str) -> dict[str, Any]:
    row = next(s for s in report["subjects"] if s["subject"] == subject)
    return next(g for g in row["indicators"] if g["indicator"] == ind)


def _factors(g: dict[str, Any]) -> list[tuple[str, int]]:
    return [(r["factor"], r["points"]) for r in g["reasons"]]


def test_declared_risk_method_and_losses(tmp_path: Path) -> None:
    rules = tmp_path / "2025"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("tests"))
    county = rules / "county.jx"
    text = county.read_text(encoding="utf-8")
    county.write_text(text.replace(K4, K4 + "      risk difficulty high control low\n"))
    compiled = compile_path(rules)
    years = sibling_years(rules, compiled)
    src = FileSource(compiled, years, HANDWORKED / "org.json", HANDWORKED / "facts.jsonl")
    report = risk_report(src, Q1, date(2025, 3, 20), card="county")
    # 1 Jan – 20 Mar: 79 of 90 days
    assert (report["as_of"], report["elapsed"]) == ("2025-03-20", "0.88")
    k4 = _grade(report, "nanyue", "K4")
    # declared 2 + 2, deduction per event 1, 4.5 of 30 lost (15%) 1
    assert _factors(k4) == [("declared", 2), ("declared", 2), ("method", 1), ("lost", 1)]
    assert (k4["score"], k4["grade"]) == (6, "high")
    assert "本期已失 4.50 分（15%）" in k4["reasons"][3]["text"]
    # hengshan lost nothing on K4: declared and method only
    assert _grade(report, "hengshan", "K4")["score"] == 5


def test_grades_without_declarations(make_source: Make) -> None:
    report = risk_report(make_source(), Q1, date(2025, 3, 20), card="county")
    assert _grade(report, "nanyue", "K4")["grade"] == "medium"  # method 1 + lost 1
    assert _factors(_grade(report, "nanyue", "K1")) == [("lost", 1)]  # 4.5 of 30
    assert _factors(_grade(report, "hengdong", "K1")) == [("lost", 2)]  # all 30: missing
    assert _factors(_grade(report, "nanyue", "K2")) == [("method", 1), ("lost", 1)]  # ranked
    assert _grade(report, "hengshan", "G2")["grade"] == "low"  # nothing lost, own value
    counts = next(s for s in report["subjects"] if s["subject"] == "hengdong")["counts"]
    assert sum(counts.values()) == 7


def test_early_in_the_period_events_may_still_happen(make_source: Make) -> None:
    report = risk_report(make_source(), Q1, date(2025, 2, 1), card="county")
    assert report["elapsed"] == "0.36"  # 32 of 90 days
    # hengshan has no K4 issue by 1 February: deduction per event, 64% of the quarter left
    assert _factors(_grade(report, "hengshan", "K4")) == [("method", 1), ("exposure", 1)]
    assert "还剩 64%" in _grade(report, "hengshan", "K4")["reasons"][1]["text"]


def test_losses_in_earlier_periods(make_source: Make) -> None:
    extra = [
        {"id": "p1", "type": "inspection_issue", "subject": "nanyue", "date": "2024-11-05",
         "data": {"level": "provincial"}},
    ]  # fmt: skip
    report = risk_report(make_source(extra=extra), Q1, card="county")
    assert report["earlier"] == ["2024Q4"] and report["elapsed"] == "1.00"
    k4 = _grade(report, "nanyue", "K4")
    assert ("history", 1) in _factors(k4)
    assert "2024Q4" in k4["reasons"][-1]["text"]
