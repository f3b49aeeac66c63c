"""Against the best peer, a deviation from the peers' mean in full steps, days late from two
dates of a fact: docs/language.md's example beside rules/2025, with its numbers."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from dsl.compile.runtime import days, deviation, trunc
from tests.dsl.helpers import (
    HANDWORKED,
    REPO,
    RULES_2025,
    copy_rules,
    score_json,
    write_facts,
)

DOC = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
START = DOC.index("# Against the peers and by the day")
EXAMPLE = DOC[START : DOC.index("```", START)]


def test_the_runtime_pieces_are_exact() -> None:
    assert trunc(Fraction(-9, 5)) == -1 and trunc(Fraction(9, 5)) == 1
    assert deviation(80, 88) == Fraction(-1, 11)
    assert deviation(-5, -10) == Fraction(1, 2)  # 5 above a negative reference
    assert days("2025-02-27", "2025-03-02") == 3
    with pytest.raises(ZeroDivisionError):
        deviation(1, 0)


def test_the_documented_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    (rules / "relative.jx").write_text(EXAMPLE, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    scores = {"nanyue": 96, "hengshan": 80, "hengdong": 88}
    facts: list[dict[str, Any]] = [
        {"id": s, "type": "satisfaction", "subject": s, "period": "2025Q1", "data": {"value": v}}
        for s, v in scores.items()
    ]

    def filing(i: int, subject: str, due: str, filed: str) -> dict[str, Any]:
        return {
            "id": f"fl{i}",
            "type": "filing",
            "subject": subject,
            "date": filed,
            "data": {"due": due, "filed": filed},
        }

    facts += [
        filing(1, "nanyue", "2025-01-15", "2025-01-25"),  # 10 days late
        filing(2, "nanyue", "2025-01-31", "2025-01-20"),  # early: nothing
        filing(3, "hengshan", "2025-02-27", "2025-03-02"),  # 3 days (2025 is not a leap year)
    ]
    write_facts(data / "facts.jsonl", facts)
    got = score_json(capsys, rules, data, "2025Q1")
    res = {r["subject"]: r for r in got["results"] if r["scorecard"] == "relative"}
    # best 96, mean 88. S1: 30 × 96/96, 30 × 80/96 = 25, 30 × 88/96 = 27.5
    # S2: ±8/88 = ±9.09%: one full 5% step: 22 and 18; at the mean 20
    # S3: 30 − 0.5 × 10 = 25; 30 − 0.5 × 3 = 28.5; 30
    assert {s: r["indicators"] for s, r in res.items()} == {
        "nanyue": {"S1": "30.00", "S2": "22.00", "S3": "25.00"},
        "hengshan": {"S1": "25.00", "S2": "18.00", "S3": "28.50"},
        "hengdong": {"S1": "27.50", "S2": "20.00", "S3": "30.00"},
    }
    assert {s: r["final"] for s, r in res.items()} == {
        "nanyue": "77.00",
        "hengshan": "71.50",
        "hengdong": "77.50",
    }
