"""Early warnings on the hand-worked example, as of days inside its quarters."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dsl.analysis.bands import falls, project_year
from dsl.analysis.source import FileSource, sibling_years
from dsl.analysis.warnings import warnings_report
from dsl.compile.compiler import compile_path
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError
from tests.dsl.analysis.conftest import HANDWORKED, RULES, Make, handworked_facts

Q1, Q2 = Period(2025, 1), Period(2025, 2)


def _kinds(report: dict[str, Any], kind: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(w["subject"], w["indicator"]): w for w in report["warnings"] if w["kind"] == kind}


def test_every_missing_period_value_is_found(make_source: Make) -> None:
    # revenue of nanyue (f1 and its correction f2), satisfaction of hengshan (f5), style grade
    # of hengshan (f32), ability of nanyue-levy-1 (f59), key tasks of hy-policy (f46)
    dropped = ["f1", "f2", "f5", "f32", "f59", "f46"]
    report = warnings_report(make_source(drop=dropped), Q1, date(2025, 3, 20))
    assert (report["as_of"], report["days_left"]) == ("2025-03-20", 11)
    missing = _kinds(report, "missing_value")
    # missing before anything was dropped (expected-2025Q1.json), then those dropped
    assert set(missing) == {
        ("hengdong", "K1"), ("hengdong", "G3"), ("hy-revenue", "D2"), ("hy-risk", "D1"),
        ("hy-risk", "D2"), ("nanyue-levy-2", "ability"),
        ("nanyue", "K1"), ("hengshan", "K2"), ("hengshan", "G2"), ("nanyue-levy-1", "ability"),
        ("hy-policy", "D1"),
    }  # fmt: skip
    k1 = missing[("nanyue", "K1")]
    assert k1["severity"] == "medium" and k1["details"]["days_left"] == 11
    assert "南岳区税务局尚未报送 2025Q1 的「税收收入完成率」" in k1["message"]
    assert "还有 11 天" in k1["message"] and "将失 30.00 分" in k1["message"]


def test_days_left_set_the_severity_of_missing_values(make_source: Make) -> None:
    report = warnings_report(make_source(), Q1, date(2025, 3, 28))
    assert report["days_left"] == 3
    assert {w["severity"] for w in _kinds(report, "missing_value").values()} == {"high"}


def test_floors_near_and_reached(make_source: Make) -> None:
    # nanyue: seven more provincial issues make 8 × 3 + 1.5 = 25.5 deducted, 4.5 left
    extra = [
        {"id": f"x{i}", "type": "inspection_issue", "subject": "nanyue", "date": "2025-03-10",
         "data": {"level": "provincial"}}
        for i in range(7)
    ]  # fmt: skip
    report = warnings_report(make_source(extra=extra), Q1, date(2025, 3, 20))
    at = _kinds(report, "at_floor")
    assert set(at) == {("hengdong", "K4")} and at[("hengdong", "K4")]["severity"] == "high"
    near = _kinds(report, "near_floor")[("nanyue", "K4")]
    assert near["details"] == {"score": "4.50", "limit": "0.00"}
    assert "只剩 4.50 分可扣，再发生 2 项督察发现问题" in near["message"]


def test_bonus_cap_once_reached(make_source: Make) -> None:
    # hengshan: f43 national (3) by 20 March, f44 national (3 more, capped at 5) on 30 March
    early = warnings_report(make_source(), Q1, date(2025, 3, 20))
    assert ("hengshan", None) not in _kinds(early, "bonus_cap")
    late = warnings_report(make_source(), Q1, date(2025, 3, 31))
    cap = _kinds(late, "bonus_cap")[("hengshan", None)]
    assert cap["details"] == {"bonus": "5.00", "cap": "5.00"} and cap["severity"] == "low"


def test_last_tier_veto_and_boundaries(make_source: Make) -> None:
    report = warnings_report(make_source(), Q1, date(2025, 3, 20))
    last = _kinds(report, "last_tier")
    assert set(last) == {("hengdong", None), ("hy-risk", None)}
    assert "一票否决" in last[("hengdong", None)]["message"]
    bounds = _kinds(report, "tier_boundary")
    # hy-service (89.10, first) leads hy-policy (87.50, second) by 1.60 < 2: urgent
    assert bounds[("hy-service", None)]["severity"] == "medium"
    assert bounds[("hy-service", None)]["details"]["gap"] == "1.60"
    assert ("hengdong", None) not in bounds  # vetoed: its place does not decide its tier


def test_persons_whose_annual_grade_is_at_risk(make_source: Make) -> None:
    # Q2: nanyue-levy-2 works a full quarter (100 of 80 workload points, ratings of 90);
    # nanyue-levy-1 has nothing: 0.9 × 0 + 0.1 × nanyue's floor 60 = 6.00
    extra = [
        {"id": "q1", "type": "work_item", "subject": "nanyue-levy-2", "date": "2025-05-06",
         "data": {"points": 100, "quality": "normal"}},
    ] + [
        {"id": f"q{t}", "type": t, "subject": "nanyue-levy-2", "period": "2025Q2",
         "data": {"value": 90}}
        for t in ("ability_rating", "attitude_rating", "peer_rating")
    ]  # fmt: skip
    report = warnings_report(make_source(extra=extra), Q2, date(2025, 6, 20))
    risk = _kinds(report, "grade_risk")
    assert set(risk) == {("nanyue-levy-1", None)}
    w = risk[("nanyue-levy-1", None)]
    # (87.26 + 6.00) / 2 = 46.63 → incompetent (final < 60); levy-2 (82.94 + 93.30) / 2
    assert w["details"] == {"projected": "46.63", "grade": "incompetent", "rank": 2, "n": 2}
    assert w["severity"] == "high" and "不称职" in w["message"]


def test_a_day_outside_the_period_is_refused(make_source: Make) -> None:
    with pytest.raises(DslError, match="not inside 2025Q1"):
        warnings_report(make_source(), Q1, date(2025, 4, 1))


def _people(tmp_path: Path) -> Path:
    """The hand-worked organisation with three more persons in nanyue's levy department and a
    levy department of hengdong with two persons (every workload 100)."""
    org = json.loads((HANDWORKED / "org.json").read_text(encoding="utf-8"))
    org["units"].append(
        {"id": "hengdong-levy", "name": "衡东征收股", "kind": "county_dept", "parent": "hengdong"}
    )
    for pid, unit in [("p3", "nanyue-levy"), ("p4", "nanyue-levy"), ("p5", "nanyue-levy"),
                      ("q1", "hengdong-levy"), ("q2", "hengdong-levy")]:  # fmt: skip
        attrs = {"post": "tax_officer", "workload": 100}
        org["persons"].append({"id": pid, "name": pid, "unit": unit, "attrs": attrs})
    path = tmp_path / "org.json"
    path.write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    return path


def _worked(pid: str, points: int, rating: int) -> list[dict[str, Any]]:
    """A quarter's work items (normal quality) and the three ratings of a person in 2025Q1."""
    out: list[dict[str, Any]] = [
        {"id": f"{pid}-w", "type": "work_item", "subject": pid, "date": "2025-02-03",
         "data": {"points": points, "quality": "normal"}},
    ]  # fmt: skip
    for t in ("ability_rating", "attitude_rating", "peer_rating"):
        out.append({"id": f"{pid}-{t}", "type": t, "subject": pid, "period": "2025Q1",
                    "data": {"value": rating}})  # fmt: skip
    return out


def test_only_a_grade_below_the_default_is_a_fall(tmp_path: Path) -> None:
    """rules/2025 grades persons by annual score within their county bureau: excellent for
    the first quota(20%) at 85 or more, incompetent under 60, competent otherwise. Competent is
    what a quota leaves the others with, no fall, even where it is the lowest grade of a group;
    only incompetent warns.

    As of 2025Q1's last day the year is Q1 (the mean of one quarter). A person's Q1 final is
    0.9 × (0.7 × 100 × points / workload + 0.1 × (ability + attitude + peer)) + 0.1 × their
    county bureau's final (nanyue 86.93, hengdong 60.00):
      p3 (100 points, ratings 90): 0.9 × (70 + 27) + 8.693 = 95.993 → 95.99
      p4 (80, 80): 0.9 × (56 + 24) + 8.693 = 80.693 → 80.69
      p5 (70, 70): 0.9 × (49 + 21) + 8.693 = 71.693 → 71.69
      q1 (90, 90): 0.9 × (63 + 27) + 6.000 = 87.00
      q2 (20, 50): 0.9 × (14 + 15) + 6.000 = 32.10
    nanyue (n = 5, quota(20%) = 1): p3 95.99 excellent; nanyue-levy-1 87.26, nanyue-levy-2
    82.94, p4, p5 competent. hengdong (n = 2, quota(20%) = 0.4 → 0): q1 competent, q2
    incompetent (32.10 < 60). By the mean rank of their members, competent (1, 2, 3, 4, 5:
    3) came after incompetent (2): the worst grade present, so the five competent were warned
    and q2 was not."""
    people = [
        *_worked("p3", 100, 90), *_worked("p4", 80, 80), *_worked("p5", 70, 70),
        *_worked("q1", 90, 90), *_worked("q2", 20, 50),
    ]  # fmt: skip
    facts = tmp_path / "facts.jsonl"
    rows = handworked_facts() + people
    facts.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in rows))
    compiled = compile_path(RULES)
    source = FileSource(compiled, sibling_years(RULES, compiled), _people(tmp_path), facts)
    report = warnings_report(source, Q1, date(2025, 3, 31))
    risk = _kinds(report, "grade_risk")
    assert set(risk) == {("q2", None)}
    assert risk[("q2", None)]["details"] == {
        "projected": "32.10", "grade": "incompetent", "rank": 2, "n": 2,
    }  # fmt: skip
    assert "年度等次可能为「不称职」" in risk[("q2", None)]["message"]
    # the grades the projection gives, as worked out above
    ps = source.as_of(Q1, date(2025, 3, 31))
    _, cards = project_year(ps.compiled, ps.org, [ps], [])
    got = {
        s: (str(ps.pub(r.final)) if r.final is not None else None, r.rank, r.grade)
        for s, r in cards["person"].items()
    }
    assert got == {
        "p3": ("95.99", 1, "excellent"), "nanyue-levy-1": ("87.26", 2, "competent"),
        "nanyue-levy-2": ("82.94", 3, "competent"), "p4": ("80.69", 4, "competent"),
        "p5": ("71.69", 5, "competent"), "q1": ("87.00", 1, "competent"),
        "q2": ("32.10", 2, "incompetent"),
    }  # fmt: skip


def test_the_bands_that_are_a_fall_by_their_conditions() -> None:
    program = compile_path(RULES).program
    assert falls(program.scorecards["person"].grades) == {"incompetent"}
    assert falls(program.scorecards["county"].tiers) == {"third"}
    assert falls(program.scorecards["dept"].tiers) == {"third"}
    assert falls(None) == set()
