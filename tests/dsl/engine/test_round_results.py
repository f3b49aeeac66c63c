"""`round RESULT P MODE`: a result rounded where it is computed, so that later steps read the
rounded value; published with the header's places; explained with the exact value beside it.

Every expected value is worked by hand in the comments beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.fmt.formatter import format_source
from dsl.syntax.program import load
from tests.dsl.helpers import run_cli, score_json, write_facts

RULES = """\
ruleset "逐项保留两位小数（示例）" {
  year 2025
  periods quarter
  round 2 half_up
}

organisation {
  unit kinds {
    county_bureau "县区局"
  }
}

sequence bureaus "县区局" = unit county_bureau

fact revenue "收入完成率" period on unit {
  value: number in 0..100
}

fact quality "质量" period on unit {
  value: number in 0..100
}

scorecard county "县区局绩效" for bureaus {
  periods quarter

  category key "重点工作" weight 100% max 100 {
    indicator K1 "收入" points 50 {
      score value(revenue.value) / 2
    }

    indicator K2 "质量" points 50 {
      score value(quality.value) / 3 * 1.5
    }
  }

  rank by final desc

  round K1 1 half_up
  round K2 1 half_up
  round final 0 down
}
"""

ORG = {
    "units": [
        {"id": "a", "name": "A", "kind": "county_bureau", "parent": None},
        {"id": "b", "name": "B", "kind": "county_bureau", "parent": None},
    ],
    "persons": [],
}


def _value(ftype: str, subject: str, value: float) -> dict[str, Any]:
    return {
        "id": f"{ftype}-{subject}",
        "type": ftype,
        "subject": subject,
        "period": "2025Q1",
        "data": {"value": value},
    }


FACTS = [
    _value("revenue", "a", 66.5),
    _value("quality", "a", 77.7),
    _value("revenue", "b", 66.6),
    _value("quality", "b", 77.6),
]


def _setup(tmp_path: Path, rules: str = RULES) -> tuple[Path, Path]:
    folder = tmp_path / "rules" / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.jx").write_text(rules, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir(exist_ok=True)
    (data / "org.json").write_text(json.dumps(ORG), encoding="utf-8")
    write_facts(data / "facts.jsonl", FACTS)  # 66.5 is written and read as the decimal 66.5
    return folder, data


def test_the_rules_check_cleanly_and_are_formatted(tmp_path: Path) -> None:
    (tmp_path / "rules.jx").write_text(RULES, encoding="utf-8")
    assert [d for d in check(load(tmp_path)) if d.is_error] == []
    assert format_source(RULES, "rules.jx") == RULES


def test_each_indicator_is_rounded_before_the_category_adds_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, data = _setup(tmp_path)
    got = {r["subject"]: r for r in score_json(capsys, folder, data, "2025Q1")["results"]}
    a, b = got["a"], got["b"]
    # a: K1 = 66.5 / 2 = 33.25 → 33.3 (half up, 1 place); K2 = 77.7 / 3 × 1.5 = 38.85 → 38.9;
    # key = 33.3 + 38.9 = 72.2 (the exact scores add to 72.1); final = 72.2 → 72 (0 places,
    # down), published with the header's 2 places.
    assert (a["indicators"], a["categories"], a["base"], a["final"]) == (
        {"K1": "33.30", "K2": "38.90"},
        {"key": "72.20"},
        "72.20",
        "72.00",
    )
    # b: K1 = 33.3 exactly; K2 = 77.6 / 3 × 1.5 = 38.8 exactly; key 72.1; final 72.1 → 72.
    # a and b tie on the rounded final 72: both rank 1 (unrounded they would not tie).
    assert (b["categories"], b["final"]) == ({"key": "72.10"}, "72.00")
    assert (a["rank"], b["rank"]) == (1, 1)


def test_without_rounding_the_values_stay_exact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = RULES.replace("  round K1 1 half_up\n  round K2 1 half_up\n  round final 0 down\n", "")
    folder, data = _setup(tmp_path, plain)
    got = {r["subject"]: r for r in score_json(capsys, folder, data, "2025Q1")["results"]}
    # a: 33.25 + 38.85 = 72.1 exactly, published 72.10, and b 33.3 + 38.8 = 72.1: tied 1, 1
    assert (got["a"]["indicators"], got["a"]["final"]) == ({"K1": "33.25", "K2": "38.85"}, "72.10")
    assert (got["a"]["rank"], got["b"]["rank"]) == (1, 1)


def test_explain_shows_the_exact_and_the_rounded_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, data = _setup(tmp_path)
    args: list[str | Path] = [
        "--org",
        data / "org.json",
        "--facts",
        data / "facts.jsonl",
        "--period",
        "2025Q1",
    ]
    code, out, err = run_cli(
        capsys, "explain", folder, "--subject", "a", *args, "--format", "table"
    )
    assert code == 0, err
    assert "exact 33.25 → 33.3 (round K1 1 half_up)" in out
    assert "exact 38.85 → 38.9 (round K2 1 half_up)" in out
    assert "exact 72.2 → 72 (round final 0 down)" in out
    assert "floor applied" not in out  # there is no floor: the final was rounded, not floored


def test_a_rational_is_rounded_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = RULES.replace("score value(revenue.value) / 2", "score value(revenue.value) / 3")
    rules = rules.replace("round K1 1 half_up", "round K1 2 up")
    folder, data = _setup(tmp_path, rules)
    got = {r["subject"]: r for r in score_json(capsys, folder, data, "2025Q1")["results"]}
    # a: K1 = 66.5 / 3 = 22.1666… → 22.17 (up, away from zero); b: 66.6 / 3 = 22.2 exactly
    assert got["a"]["indicators"]["K1"] == "22.17"
    assert got["b"]["indicators"]["K1"] == "22.20"
    # a's key = 22.17 + 38.9 = 61.07, final 61 (down)
    assert (got["a"]["categories"]["key"], got["a"]["final"]) == ("61.07", "61.00")


POOL_RULES = """\
ruleset "奖金取整（示例）" {
  year 2025
  periods year
  round 2 half_up
}

organisation {
  unit kinds {
    cb
    cd
  }
}

sequence staff = person

fact score period on person {
  value: number in 0..100
}

scorecard person for staff {
  periods year

  component main weight 100% max 100 {
    score value(score.value)
  }

  rank year by final desc
}

pool bonus for person year within ancestor(cb) {
  show third = 1000 / 3
  amount 1000 * n / 3
  weight final
  allocate bonus_amount unit 0.01 largest remainder by final desc, subject asc
  round amount 0 down
  round third 2 half_up
}
"""


def test_a_pool_amount_is_rounded_before_it_is_shared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert format_source(POOL_RULES, "rules.jx") == POOL_RULES
    folder = tmp_path / "rules" / "2025"
    folder.mkdir(parents=True)
    (folder / "rules.jx").write_text(POOL_RULES, encoding="utf-8")
    assert [d for d in check(load(folder)) if d.is_error] == []
    data = tmp_path / "ex"
    data.mkdir()
    org = {
        "units": [
            {"id": "c", "name": "C", "kind": "cb", "parent": None},
            {"id": "c-d", "name": "C 股", "kind": "cd", "parent": "c"},
        ],
        "persons": [
            {"id": "p1", "name": "甲", "unit": "c-d", "attrs": {}},
            {"id": "p2", "name": "乙", "unit": "c-d", "attrs": {}},
        ],
    }
    (data / "org.json").write_text(json.dumps(org), encoding="utf-8")
    facts = [
        {"id": f"s{i}", "type": "score", "subject": p, "period": "2025", "data": {"value": v}}
        for i, (p, v) in enumerate((("p1", 60), ("p2", 40)))
    ]
    write_facts(data / "facts.jsonl", facts)
    got = {r["subject"]: r for r in score_json(capsys, folder, data, "2025")["results"]}
    # n = 2: the amount is 1000 × 2 / 3 = 666.666… → 666 (round amount 0 down); shared by
    # final 60 : 40, 399.60 and 266.40, adding up to 666.00. (Unrounded it would be 400.00 and
    # 266.67.) `third` = 333.333… → 333.33.
    pool = got["c-bonus"]
    assert (pool["amount"], pool["allocated"], pool["third"]) == ("666.00", "666.00", "333.33")
    assert (got["p1"]["bonus_amount"], got["p2"]["bonus_amount"]) == ("399.60", "266.40")
    args: list[str | Path] = ["--org", data / "org.json", "--facts", data / "facts.jsonl"]
    code, out, err = run_cli(
        capsys, "explain", folder, "--subject", "p1", *args, "--period", "2025", "--format", "table"
    )
    assert code == 0, err
    assert "amount: exact 666.666666… (= 2000/3) → 666 (round amount 0 down)" in out
