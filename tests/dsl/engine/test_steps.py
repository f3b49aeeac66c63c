"""`steps`: step tables (`>= 100: 30, >= 95: 25, ...`) and rank → points tables (`== 1: 60`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl.check.checker import check
from dsl.fmt.formatter import format_source
from dsl.syntax.program import load
from tests.dsl.helpers import (
    HANDWORKED,
    REPO,
    RULES_2025,
    copy_rules,
    score_json,
    write_facts,
)

RULES = """\
ruleset "steps" {
  year 2025
  periods quarter
  round 2 half_up
}

organisation {
  unit kinds {
    county_bureau
  }
}

sequence bureaus = unit county_bureau

fact revenue period on unit {
  value: number in 0..150
}

scorecard county for bureaus {
  periods quarter

  category key weight 100% max 100 {
    # 100 or more → 30, 95 → 25, 90 → 20, below → 10
    indicator K1 points 30 {
      score steps value(revenue.value) {
        >= 100: 30,
        >= 95: 25,
        >= 90: 20,
        else: 10
      }
    }

    # rank → points: 1st 60, 2nd 57, 3rd 54, the rest 50
    indicator K2 points 60 {
      score steps rank(value(revenue.value) desc) {
        == 1: 60,
        == 2: 57,
        == 3: 54,
        else: 50
      }
    }

    # an exact rational compared with a step: 90 / 3 is 30, not above it
    indicator K3 points 10 {
      score steps value(revenue.value) / 3 {
        > 30: 10,
        else: 0
      }
    }
  }
}
"""

VALUES = {"a": 100, "b": 97, "c": 90, "d": 89.99, "e": 95}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.jx").write_text(RULES, encoding="utf-8")
    return folder


def test_checks_cleanly_and_is_formatted(rules: Path) -> None:
    assert check(load(rules)) == []
    assert format_source(RULES, "rules.jx") == RULES


def test_steps_take_the_first_step_that_holds(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "ex"
    data.mkdir()
    units = [{"id": s, "name": s, "kind": "county_bureau", "parent": None} for s in VALUES]
    (data / "org.json").write_text(json.dumps({"units": units, "persons": []}), "utf-8")
    facts = [
        {"id": s, "type": "revenue", "subject": s, "period": "2025Q1", "data": {"value": v}}
        for s, v in VALUES.items()
    ]
    write_facts(data / "facts.jsonl", facts)
    got = score_json(capsys, rules, data, "2025Q1")
    inds = {r["subject"]: r["indicators"] for r in got["results"]}
    # K1: 100 → 30, 97 → 25, 95 → 25, 90 → 20, 89.99 → 10
    # K2 by rank: a 1st 60, b 2nd 57, e 3rd 54, c 4th and d 5th 50
    # K3: 100/3, 97/3, 95/3 are above 30 → 10; 90/3 = 30 and 89.99/3 are not → 0
    assert inds == {
        "a": {"K1": "30.00", "K2": "60.00", "K3": "10.00"},
        "b": {"K1": "25.00", "K2": "57.00", "K3": "10.00"},
        "e": {"K1": "25.00", "K2": "54.00", "K3": "10.00"},
        "c": {"K1": "20.00", "K2": "50.00", "K3": "0.00"},
        "d": {"K1": "10.00", "K2": "50.00", "K3": "0.00"},
    }


def test_the_documented_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/language.md §9.2.1 beside rules/2025, with the doc's numbers."""
    doc = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    start = doc.index("# Step tables: K1 by the satisfaction score")
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    (rules / "stepped.jx").write_text(doc[start : doc.index("```", start)], encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    scores = {"nanyue": 96, "hengshan": 91, "hengdong": 84}
    facts = [
        {"id": s, "type": "satisfaction", "subject": s, "period": "2025Q1", "data": {"value": v}}
        for s, v in scores.items()
    ]
    write_facts(data / "facts.jsonl", facts)
    got = score_json(capsys, rules, data, "2025Q1")
    inds = {r["subject"]: r["indicators"] for r in got["results"] if r["scorecard"] == "stepped"}
    assert inds == {
        "nanyue": {"S1": "40.00", "S2": "60.00"},
        "hengshan": {"S1": "35.00", "S2": "57.00"},
        "hengdong": {"S1": "20.00", "S2": "54.00"},
    }
