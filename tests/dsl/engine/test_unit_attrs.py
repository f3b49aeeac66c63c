"""Unit attributes, `attr()` on units, sequences and ranking by a unit's class, and indicators
that apply to some units only (不涉及: left out, the category rescaled to the applicable points).

Every expected value is worked by hand in the comments beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.facts.fields import check_org
from dsl.facts.records import org_from_json
from dsl.fmt.formatter import format_source
from dsl.syntax.parser import parse_text
from dsl.syntax.program import Program, load
from tests.dsl.helpers import (
    HANDWORKED,
    REPO,
    RULES_2025,
    copy_rules,
    run_cli,
    score_json,
    write_facts,
)

RULES = """\
ruleset "分类考评" {
  year 2025
  periods quarter
  round 2 half_up
}

organisation {
  unit kinds {
    municipal_bureau "市局"
    county_bureau "县区局"
  }
  unit attrs {
    class "类别": large "一类" | small "二类"?
    staff "编制人数": integer?
  }
}

sequence bureaus "县区局" = unit county_bureau
# the large bureaus alone, by their class
sequence large_bureaus "一类县区局" = unit county_bureau where attr(class) == large

fact revenue "收入完成率" period on unit {
  value: number in 0..100
}

fact export_refund "出口退税" period on unit {
  value: number in 0..100
}

fact late "逾期" dated on unit {}

scorecard county "县区局绩效" for bureaus {
  periods quarter

  category key "重点工作" weight 60% max 100 {
    indicator K1 "收入" points 50 {
      score value(revenue.value) / 2
    }

    # only the large bureaus handle export refunds
    indicator K2 "出口退税" points 50 {
      applies when attr(class) == large
      score value(export_refund.value) / 2
    }
  }

  category general "一般工作" weight 40% max 100 {
    indicator G1 "时效" points 100 {
      applies when attr(staff) >= 50
      deduct per late 10 floor 0
    }
  }

  # ranked in classes by size
  rank within attr(class) by final desc
}

scorecard large "一类县区局绩效" for large_bureaus {
  periods quarter

  component revenue_only "收入" weight 100% max 100 {
    score value(revenue.value)
  }
}
"""

ORG = {
    "units": [
        {"id": "hy", "name": "市局", "kind": "municipal_bureau", "parent": None},
        {
            "id": "a",
            "name": "A",
            "kind": "county_bureau",
            "parent": "hy",
            "attrs": {"class": "large", "staff": 80},
        },
        {
            "id": "b",
            "name": "B",
            "kind": "county_bureau",
            "parent": "hy",
            "attrs": {"class": "large", "staff": 40},
        },
        {
            "id": "c",
            "name": "C",
            "kind": "county_bureau",
            "parent": "hy",
            "attrs": {"class": "small", "staff": 60},
        },
        {
            "id": "d",
            "name": "D",
            "kind": "county_bureau",
            "parent": "hy",
            "attrs": {"class": "small", "staff": 30},
        },
        # no class and no staff: its own ranking group; G1's condition is missing, so G1 applies
        {"id": "e", "name": "E", "kind": "county_bureau", "parent": "hy"},
    ],
    "persons": [],
}


def _period(i: int, subject: str, ftype: str, value: int) -> dict[str, Any]:
    return {
        "id": f"{ftype}-{i}",
        "type": ftype,
        "subject": subject,
        "period": "2025Q1",
        "data": {"value": value},
    }


FACTS = [
    _period(1, "a", "revenue", 90),
    _period(2, "b", "revenue", 80),
    _period(3, "c", "revenue", 70),
    _period(4, "d", "revenue", 100),
    _period(5, "e", "revenue", 60),
    _period(6, "a", "export_refund", 60),
    _period(7, "b", "export_refund", 100),
    # c is small: K2 does not apply to it, so this fact is never read
    _period(8, "c", "export_refund", 100),
    {"id": "l1", "type": "late", "subject": "a", "date": "2025-01-10", "data": {}},
    {"id": "l2", "type": "late", "subject": "c", "date": "2025-02-10", "data": {}},
    {"id": "l3", "type": "late", "subject": "c", "date": "2025-03-10", "data": {}},
    {"id": "l4", "type": "late", "subject": "e", "date": "2025-03-11", "data": {}},
]


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "rules" / "2025"
    rules.mkdir(parents=True)
    (rules / "rules.jx").write_text(RULES, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text(json.dumps(ORG), encoding="utf-8")
    write_facts(data / "facts.jsonl", FACTS)
    return rules, data


def _results(capsys: pytest.CaptureFixture[str], rules: Path, data: Path) -> dict[Any, Any]:
    got = score_json(capsys, rules, data, "2025Q1")
    return {(r["scorecard"], r["subject"]): r for r in got["results"]}


def test_the_rules_check_cleanly_and_are_formatted(example: tuple[Path, Path]) -> None:
    rules, _ = example
    diags = check(load(rules))
    assert [d for d in diags if d.is_error] == []
    assert format_source(RULES, "rules.jx") == RULES


def test_not_applicable_indicators_are_left_out_and_the_category_rescaled(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    res = _results(capsys, *example)
    a, b, c, d, e = (res[("county", s)] for s in "abcde")
    # a: large, 80 staff, everything applies: K1 = 90/2 = 45, K2 = 60/2 = 30, key 75;
    # G1 = 100 − 10 (one late) = 90; base = 0.6 × 75 + 0.4 × 90 = 81
    assert (a["indicators"], a["categories"], a["base"]) == (
        {"K1": "45.00", "K2": "30.00", "G1": "90.00"},
        {"key": "75.00", "general": "90.00"},
        "81.00",
    )
    assert "not_applicable" not in a
    # b: large, 40 staff: G1 does not apply, so general has no applicable indicator and is
    # left out; key = 40 + 50 = 90; base = 0.6 × 90 / 0.6 = 90
    assert b["indicators"] == {"K1": "40.00", "K2": "50.00"}
    assert b["categories"] == {"key": "90.00"}
    assert (b["base"], b["final"], b["not_applicable"]) == ("90.00", "90.00", ["G1", "general"])
    # c: small, 60 staff: K2 does not apply; key = 35 earned of 50 applicable × 100 = 70;
    # G1 = 100 − 20 = 80; base = 0.6 × 70 + 0.4 × 80 = 74
    assert c["indicators"] == {"K1": "35.00", "G1": "80.00"}
    assert (c["categories"]["key"], c["base"], c["not_applicable"]) == ("70.00", "74.00", ["K2"])
    # d: small, 30 staff: key = 50 of 50 × 100 = 100, general left out: base 100
    assert (d["categories"], d["base"]) == ({"key": "100.00"}, "100.00")
    assert d["not_applicable"] == ["G1", "K2", "general"]
    # e: no class, no staff. K2's condition reads a missing class, G1's a missing staff: both
    # stay applicable. K1 = 30, K2 missing (no export_refund) → 0, key = 30;
    # G1 = 100 − 10 = 90; base = 0.6 × 30 + 0.4 × 90 = 54
    assert (e["categories"], e["base"], e["missing"]) == (
        {"key": "30.00", "general": "90.00"},
        "54.00",
        ["K2"],
    )


def test_ranked_in_classes(example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    res = _results(capsys, *example)
    ranks = {s: (res[("county", s)]["rank"], res[("county", s)]["final"]) for s in "abcde"}
    # large: b 90 before a 81; small: d 100 before c 74; e, without a class, alone
    assert ranks == {
        "a": (2, "81.00"),
        "b": (1, "90.00"),
        "c": (2, "74.00"),
        "d": (1, "100.00"),
        "e": (1, "54.00"),
    }


def test_a_sequence_by_unit_attribute_holds_that_class_only(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    res = _results(capsys, *example)
    large = {s: r["final"] for (card, s), r in res.items() if card == "large"}
    assert large == {"a": "90.00", "b": "80.00"}


def test_explain_says_what_does_not_apply(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rules, data = example
    code, out, err = run_cli(
        capsys,
        "explain",
        rules,
        "--org",
        data / "org.json",
        "--facts",
        data / "facts.jsonl",
        "--period",
        "2025Q1",
        "--subject",
        "c",
    )
    assert code == 0, err
    assert "not applicable (不涉及)" in out
    assert "35 of 50 applicable points" in out


def test_unit_attributes_are_validated_against_their_declaration() -> None:
    prog = load_text(RULES)
    org = org_from_json(
        {
            "units": [
                {
                    "id": "x",
                    "name": "X",
                    "kind": "county_bureau",
                    "parent": None,
                    "attrs": {"class": "huge", "staff": 2.5},
                },
            ],
            "persons": [],
        }
    )
    problems = {(p.ident, p.field) for p in check_org(org, prog.organisation)}
    assert problems == {("x", "attrs.class"), ("x", "attrs.staff")}


def load_text(text: str) -> Program:
    module = parse_text(text, "rules.jx").module
    assert module is not None
    return Program.from_modules([module])


def test_diff_names_a_changed_applies_condition(tmp_path: Path) -> None:
    from dsl.audit.diff import diff_programs

    old = load_text(RULES)
    new = load_text(
        RULES.replace("applies when attr(staff) >= 50", "applies when attr(staff) >= 60")
    )
    changes = [c for c in diff_programs(old, new) if c.attr == "applies when"]
    assert [(c.old, c.new) for c in changes] == [("attr(staff) >= 50", "attr(staff) >= 60")]


PRESENCE = RULES.replace(
    "applies when attr(class) == large", "applies when present(value(export_refund.value))"
).replace(
    "score value(revenue.value) / 2",
    "score if missing(value(revenue.value)) then 25 else value(revenue.value) / 2",
)


def test_presence_in_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules" / "2025"
    rules.mkdir(parents=True)
    (rules / "rules.jx").write_text(PRESENCE, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text(json.dumps(ORG), encoding="utf-8")
    # e has no revenue this time
    write_facts(data / "facts.jsonl", [f for f in FACTS if f["id"] != "revenue-5"])
    res = _results(capsys, rules, data)
    got = {
        s: (r["base"], r["missing"], r.get("not_applicable", []))
        for (card, s), r in res.items()
        if card == "county"
    }
    assert got == {
        # K2 applies wherever an export refund rate is present
        "a": ("81.00", [], []),  # 0.6 × (45 + 30) + 0.4 × 90
        "b": ("90.00", [], ["G1", "general"]),  # 0.6 × (40 + 50) / 0.6
        "c": ("83.00", [], []),  # 0.6 × (35 + 50) + 0.4 × 80
        "d": ("100.00", [], ["G1", "K2", "general"]),  # 50 of 50 → 100
        # no revenue: K1 = 25, not missing; K2 does not apply: key = 25 of 50 × 100 = 50;
        # G1 = 90: base = 0.6 × 50 + 0.4 × 90 = 66
        "e": ("66.00", [], ["K2"]),
    }


def test_presence_of_a_let_is_refused(tmp_path: Path) -> None:
    text = RULES.replace(
        "score value(revenue.value) / 2",
        "let v = value(revenue.value)\n      score if present(v) then v / 2 else 0",
    )
    (tmp_path / "rules.jx").write_text(text, encoding="utf-8")
    diags = [(d.code, d.message.split(" (")[0]) for d in check(load(tmp_path))]
    assert diags == [("E211", "present() of the let 'v' always finds it present")]


def test_the_documented_presence_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/language.md §11.1's export scorecard beside rules/2025, with the doc's numbers."""
    doc = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    start = doc.index("# Export refunds (出口退税)")
    example = doc[start : doc.index("```", start)]
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    (rules / "export.jx").write_text(example, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    facts = [
        _period(1, "nanyue", "satisfaction", 90),
        _period(2, "nanyue", "export_refund", 70),
        _period(3, "hengshan", "satisfaction", 90),
    ]
    write_facts(data / "facts.jsonl", facts)
    res = _results(capsys, rules, data)
    got = {
        s: (r["categories"]["refunds"], r["missing"], r.get("not_applicable", []))
        for (card, s), r in res.items()
        if card == "export"
    }
    assert got == {
        "nanyue": ("80.00", [], []),  # 45 + 35
        "hengshan": ("90.00", [], ["R2"]),  # 45 of 50 × 100
        "hengdong": ("50.00", [], ["R2"]),  # 25 of 50 × 100
    }
