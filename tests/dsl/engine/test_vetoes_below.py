"""Vetoes over the units below a subject (`veto any descendant(county_dept).major_violation`),
`veto when`, `any`/`all`/`count` of descendants' facts, and bands given directly
(`grade excellent when ...`, outside the quota).

Every expected value is worked by hand in the comments beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.facts.records import org_from_json
from dsl.fmt.formatter import format_source
from dsl.syntax.program import load
from tests.dsl.helpers import run_cli, score_json, write_facts

RULES = """\
ruleset "否决与直接定等（示例）" {
  year 2025
  periods quarter
  round 2 half_up
}

organisation {
  unit kinds {
    municipal_bureau "市局"
    county_bureau "县区局"
    county_dept "县区局股室"
  }
}

sequence bureaus "县区局" = unit county_bureau

fact revenue "收入完成率" period on unit {
  value: number in 0..100
}

fact major_violation "重大违纪" dated on unit {}

fact inspection_issue "督查问题" dated on unit {}

fact commendation "表彰" dated on unit {
  level: national "国家级" | provincial "省级"
}

scorecard county "县区局绩效" for bureaus {
  periods quarter

  component main "收入" weight 100% max 100 {
    score value(revenue.value)
  }

  rank by final desc

  # 一票否决: the bureau's own violations, and its departments'
  veto major_violation tier third
  veto any descendant(county_dept).major_violation tier third
  veto any descendant(county_dept).major_violation grade competent
  # two or more inspection issues in its departments: competent at best
  veto when count(descendant(county_dept).inspection_issue) >= 2 grade competent
  # a national commendation grades excellent directly, outside the quota
  grade excellent when count(commendation, level == national) > 0

  tiers round half_up {
    first "第一段": rank <= quota(30%)
    third "第三段": rank > n - quota(20%)
    second "第二段": otherwise
  }

  grades round half_up {
    excellent "优秀": rank <= quota(40%) and final >= 80
    competent "称职": otherwise
  }
}
"""

BUREAUS = "abcde"
ORG = {
    "units": [
        {"id": "hy", "name": "市局", "kind": "municipal_bureau", "parent": None},
        *({"id": b, "name": b.upper(), "kind": "county_bureau", "parent": "hy"} for b in BUREAUS),
        *(
            {"id": f"{b}-d", "name": f"{b.upper()} 股", "kind": "county_dept", "parent": b}
            for b in BUREAUS
        ),
        # a second department under b, and none at all under the municipal bureau itself
        {"id": "b-e", "name": "B 二股", "kind": "county_dept", "parent": "b"},
    ],
    "persons": [],
}
REVENUE = {"a": 95, "b": 90, "c": 85, "d": 80, "e": 70}


def _dated(ident: str, ftype: str, subject: str, **data: Any) -> dict[str, Any]:
    return {"id": ident, "type": ftype, "subject": subject, "date": "2025-02-01", "data": data}


BASE_FACTS = [
    *(
        {"id": f"r-{s}", "type": "revenue", "subject": s, "period": "2025Q1", "data": {"value": v}}
        for s, v in REVENUE.items()
    ),
    # b's department: a major violation (vetoes b, not the department's siblings' bureaus)
    _dated("v1", "major_violation", "b-d"),
    # a's own national commendation; e's provincial one does not grade directly
    _dated("k1", "commendation", "a", level="national"),
    _dated("k2", "commendation", "e", level="provincial"),
    # one inspection issue at c's department: fewer than two, no veto
    _dated("i1", "inspection_issue", "c-d"),
]


def _score(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    facts: list[dict[str, Any]],
    rules: str = RULES,
) -> dict[str, dict[str, Any]]:
    folder = tmp_path / "rules" / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.jx").write_text(rules, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir(exist_ok=True)
    (data / "org.json").write_text(json.dumps(ORG), encoding="utf-8")
    write_facts(data / "facts.jsonl", facts)
    got = score_json(capsys, folder, data, "2025Q1")
    return {r["subject"]: r for r in got["results"]}


def test_the_rules_check_cleanly_and_are_formatted(tmp_path: Path) -> None:
    (tmp_path / "rules.jx").write_text(RULES, encoding="utf-8")
    assert [d for d in check(load(tmp_path)) if d.is_error] == []
    assert format_source(RULES, "rules.jx") == RULES


def test_a_department_s_violation_vetoes_its_bureau(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = _score(tmp_path, capsys, BASE_FACTS)
    # finals 95, 90, 85, 80, 70: ranks 1..5; n = 5, quota(30%) = 1.5 → 2, quota(20%) = 1:
    # first is rank <= 2, third is rank > 4. b (rank 2) has a violation at its department
    # b-d: third by the veto, and it keeps its rank, so c (rank 3) does not move up to first.
    assert {s: (r["rank"], r["tier"]) for s, r in res.items()} == {
        "a": (1, "first"),
        "b": (2, "third"),
        "c": (3, "second"),
        "d": (4, "second"),
        "e": (5, "third"),
    }


def test_a_direct_grade_is_outside_the_quota(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = _score(tmp_path, capsys, BASE_FACTS)
    # quota(40%) of 5 = 2 places. a (rank 1) has a national commendation: excellent directly,
    # not taking a place. The places of the others are counted among b, c, d, e: 1, 2, 3, 4.
    # b is competent by the descendants' veto and keeps its place 1 (unused); c has place 2
    # and 85 >= 80: excellent; d (place 3) and e (place 4) are competent. e's commendation is
    # provincial: not direct. c's department has one inspection issue: fewer than 2, no veto.
    assert {s: r["grade"] for s, r in res.items()} == {
        "a": "excellent",
        "b": "competent",
        "c": "excellent",
        "d": "competent",
        "e": "competent",
    }


def test_without_the_commendation_the_places_are_the_ranks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = [f for f in BASE_FACTS if f["id"] != "k1"]
    res = _score(tmp_path, capsys, facts)
    # ranks 1..5: a (rank 1, 95) excellent; b (rank 2) vetoed competent; c (rank 3) > 2 places
    assert {s: r["grade"] for s, r in res.items()} == {
        "a": "excellent",
        "b": "competent",
        "c": "competent",
        "d": "competent",
        "e": "competent",
    }


def test_veto_when_counts_the_descendants_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a second inspection issue at c's department: count 2 >= 2, c competent by the veto
    # (its place 2 is then unused). a's own issue i3 is not a descendant's: a's departments
    # have one (i4), fewer than 2, and a stays excellent directly.
    facts = [
        *BASE_FACTS,
        _dated("i2", "inspection_issue", "c-d"),
        _dated("i3", "inspection_issue", "a"),
        _dated("i4", "inspection_issue", "a-d"),
    ]
    res = _score(tmp_path, capsys, facts)
    assert {s: r["grade"] for s, r in res.items()} == {
        "a": "excellent",
        "b": "competent",
        "c": "competent",
        "d": "competent",
        "e": "competent",
    }


def test_all_descendants_and_none_below(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = RULES.replace(
        "  veto any descendant(county_dept).major_violation tier third\n",
        "  veto all descendant(county_dept).major_violation tier third\n",
    )
    # b has two departments, b-d with a violation and b-e without: not all, no veto; b is
    # first (rank 2 <= 2). a's one department a-d with a violation: all, a is third.
    facts = [*BASE_FACTS, _dated("v2", "major_violation", "a-d")]
    res = _score(tmp_path, capsys, facts, rules)
    assert {s: res[s]["tier"] for s in "ab"} == {"a": "third", "b": "first"}
    # with b-e's violation too, every department of b has one: b third
    facts.append(_dated("v3", "major_violation", "b-e"))
    res = _score(tmp_path, capsys, facts, rules)
    assert {s: res[s]["tier"] for s in "ab"} == {"a": "third", "b": "third"}


def test_below_is_strict_and_by_kind() -> None:
    org = org_from_json(ORG)
    # the units of a kind under a unit, not itself, in order of ids; none under a department
    assert org.below("b", ("county_dept",)) == ["b-d", "b-e"]
    assert org.below("hy", ("county_bureau",)) == list(BUREAUS)
    assert org.below("hy", ("county_bureau", "county_dept"))[:3] == ["a", "a-d", "b"]
    assert org.below("b-d", ("county_dept",)) == []
    assert org.below("nobody", ("county_dept",)) == []


def test_explain_names_the_units_and_the_direct_grade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _score(tmp_path, capsys, BASE_FACTS)
    folder, data = tmp_path / "rules" / "2025", tmp_path / "ex"
    args: list[str | Path] = [
        "--org",
        data / "org.json",
        "--facts",
        data / "facts.jsonl",
        "--period",
        "2025Q1",
        "--format",
        "table",
    ]
    code, out, err = run_cli(capsys, "explain", folder, "--subject", "b", *args)
    assert code == 0, err
    assert "veto: any descendant(county_dept).major_violation" in out
    assert "b-d: v1" in out
    code, out, err = run_cli(capsys, "explain", folder, "--subject", "a", *args)
    assert code == 0, err
    assert "grade excellent directly" in out and "outside the quota" in out
    code, out, err = run_cli(capsys, "explain", folder, "--subject", "c", *args)
    assert code == 0, err
    # c is ranked 3 of 5, and takes place 2 among those not given a band directly
    assert "place 2 among those not given a band directly" in out


BAD = """\
ruleset "x" {
  year 2025
  periods quarter
  round 2 half_up
}

organisation {
  unit kinds {
    county_bureau
    county_dept
  }
}

sequence bureaus = unit county_bureau
sequence staff = person

fact v dated on unit {}

fact pv dated on person {}

scorecard county for bureaus {
  periods quarter

  component main weight 100% max 100 {
    score if any(descendant(county_dept).v) then 0 else 100
  }

  rank by final desc
  veto any descendant(county_office).v tier third
  veto any descendant(county_dept).pv tier third
  grade top when count(v) > 0
  round final 3 half_up
  round K9 1 half_up

  tiers round half_up {
    first: rank <= 1
    third: otherwise
  }
}

scorecard people for staff {
  periods quarter

  component main weight 100% max 100 {
    score 100
  }

  rank by final desc
  veto when any(descendant(county_dept).v) grade low

  grades round half_up {
    low: otherwise
  }
}
"""


def test_checker_errors_name_the_place_and_the_code(tmp_path: Path) -> None:
    (tmp_path / "bad.jx").write_text(BAD, encoding="utf-8")
    got = {(d.code, d.span.line, d.span.column) for d in check(load(tmp_path)) if d.is_error}
    path = str(tmp_path / "bad.jx")
    shown = {
        f"{d.span.path}:{d.span.line}:{d.span.column}: {d.code} {d.message}"
        for d in check(load(tmp_path))
    }
    assert all(s.startswith(path) for s in shown)
    assert ("E211", 25, 14) in got  # any() inside a component's rule
    assert ("E110", 29, 23) in got  # an unknown unit kind in descendant()
    assert ("E208", 30, 36) in got  # a fact type on persons read below a unit
    assert ("E115", 31, 9) in got  # a direct band that the tiers do not have
    assert ("E320", 32, 3) in got  # 3 places where the ruleset publishes 2
    assert ("E101", 33, 9) in got  # an unknown result
    assert ("E208", 49, 17) in got  # descendants of a person


def test_the_early_warning_names_the_units_below(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _score(tmp_path, capsys, BASE_FACTS)
    folder, data = tmp_path / "rules" / "2025", tmp_path / "ex"
    code, out, err = run_cli(
        capsys,
        *("analysis", "warnings", "--rules", folder, "--org", data / "org.json"),
        *("--facts", data / "facts.jsonl", "--period", "2025Q1", "--as-of", "2025-02-15"),
        *("--format", "table"),
    )
    assert code == 0, err
    # b is third by its department's violation, whatever its rank 2
    assert "B因下属单位的重大违纪被一票否决，本期定为第三段" in out
