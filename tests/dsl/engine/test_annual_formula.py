"""Annual results as any formula of the quarters (`q1` .. `q4`), and a ranking per period kind
(`rank quarter by ...` beside `rank year by ...`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.fmt.formatter import format_source
from dsl.syntax.parser import parse_text
from dsl.syntax.program import load
from tests.dsl.helpers import score_json, write_facts

RULES = """\
ruleset "annual" {
  year 2025
  periods quarter, year
  round 2 half_up
}

organisation {
  unit kinds {
    county_bureau
  }
}

sequence bureaus = unit county_bureau

fact score_fact period on unit {
  value: number in 0..100
  quality: number in 0..100
}

scorecard county for bureaus {
  periods quarter

  component main weight 60% max 100 {
    score value(score_fact.value)
  }

  component quality weight 40% max 100 {
    score value(score_fact.quality)
  }

  # 0.2 × Q1 + 0.2 × Q2 + 0.3 × Q3 + 0.3 × Q4
  annual 0.2 * q1 + 0.2 * q2 + 0.3 * q3 + 0.3 * q4

  # quarters by final, then quality; the year by final alone, lower id first on ties
  rank quarter by final desc, quality desc
  rank year by final desc

  grades year round half_up {
    good: final >= 70 and (q3 + q4) / 2 >= (q1 + q2) / 2
    other: otherwise
  }
}
"""

# (value, quality) per quarter; the final is 0.6 × value + 0.4 × quality
QUARTERS: dict[str, list[tuple[int, int] | None]] = {
    "a": [(80, 50), (80, 50), (90, 60), (90, 60)],  # 68, 68, 78, 78
    "b": [(70, 80), (70, 80), (60, 90), (60, 90)],  # 74, 74, 72, 72
    "c": [(70, 65), (100, 100), (100, 100), None],  # 68, 100, 100, 0 (nothing in Q4)
}


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "rules.jx").write_text(RULES, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir()
    units = [{"id": s, "name": s, "kind": "county_bureau", "parent": None} for s in QUARTERS]
    (data / "org.json").write_text(json.dumps({"units": units, "persons": []}), "utf-8")
    facts: list[dict[str, Any]] = []
    for s, qs in QUARTERS.items():
        for k, q in enumerate(qs, start=1):
            if q is not None:
                data_ = {"value": q[0], "quality": q[1]}
                facts.append(
                    {
                        "id": f"{s}{k}",
                        "type": "score_fact",
                        "subject": s,
                        "period": f"2025Q{k}",
                        "data": data_,
                    }
                )
    write_facts(data / "facts.jsonl", facts)
    return rules, data


def test_checks_and_is_formatted(example: tuple[Path, Path]) -> None:
    assert check(load(example[0])) == []
    assert format_source(RULES, "rules.jx") == RULES


def test_quarters_ranked_by_their_own_keys(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    got = score_json(capsys, *example, "2025Q1")
    ranks = {r["subject"]: (r["final"], r["rank"]) for r in got["results"]}
    # b 74 first; a and c both 68, c's quality 65 above a's 50
    assert ranks == {"b": ("74.00", 1), "c": ("68.00", 2), "a": ("68.00", 3)}


def test_the_year_as_a_weighted_formula_of_the_quarters(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    got = score_json(capsys, *example, "2025")
    res = {r["subject"]: (r["final"], r["rank"], r["grade"]) for r in got["results"]}
    # a: 0.2 × 68 + 0.2 × 68 + 0.3 × 78 + 0.3 × 78 = 74; second half 78 ≥ first 68: good
    # b: 0.4 × 74 + 0.6 × 72 = 72.8; second half 72 < 74: other
    # c: 0.2 × 68 + 0.2 × 100 + 0.3 × 100 + 0.3 × 0 = 63.6 (Q4 scored 0, its value missing)
    assert res == {
        "a": ("74.00", 1, "good"),
        "b": ("72.80", 2, "other"),
        "c": ("63.60", 3, "other"),
    }


def test_a_second_rank_for_the_same_period_kind_is_refused() -> None:
    text = RULES.replace("rank year by final desc", "rank quarter by final desc")
    got = parse_text(text, "rules.jx")
    assert [(d.code, d.message) for d in got.diagnostics] == [
        ("E003", "a second `rank quarter` statement")
    ]


def test_the_years_own_facts_with_the_quarters_mean(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rules, data = example
    text = RULES.replace("  periods quarter\n", "  periods quarter, year\n").replace(
        "annual 0.2 * q1 + 0.2 * q2 + 0.3 * q3 + 0.3 * q4",
        "annual 0.5 * final + 0.5 * mean(quarters)",
    )
    (rules / "rules.jx").write_text(text, encoding="utf-8")
    assert [d for d in check(load(rules)) if d.is_error] == []
    facts = (data / "facts.jsonl").read_text("utf-8")
    year = [
        {
            "id": "ay",
            "type": "score_fact",
            "subject": "a",
            "period": "2025",
            "data": {"value": 100, "quality": 100},
        },
        {
            "id": "by",
            "type": "score_fact",
            "subject": "b",
            "period": "2025",
            "data": {"value": 50, "quality": 50},
        },
    ]
    (data / "facts.jsonl").write_text(facts + "".join(json.dumps(f) + "\n" for f in year), "utf-8")
    got = score_json(capsys, rules, data, "2025")
    res = {r["subject"]: (r["final"], r["base"], r["grade"]) for r in got["results"]}
    # a: own final 100, quarters' mean (68 + 68 + 78 + 78) / 4 = 73: 0.5 × 100 + 0.5 × 73
    # b: own 50, mean (74 + 74 + 72 + 72) / 4 = 73: 61.5
    # c: no yearly facts, own 0 (listed missing), mean (68 + 100 + 100 + 0) / 4 = 67: 33.5
    assert res == {
        "a": ("86.50", "100.00", "good"),
        "b": ("61.50", "50.00", "other"),
        "c": ("33.50", "0.00", "other"),
    }
    assert next(r for r in got["results"] if r["subject"] == "a")["quarters"] == [
        "68.00",
        "68.00",
        "78.00",
        "78.00",
    ]
