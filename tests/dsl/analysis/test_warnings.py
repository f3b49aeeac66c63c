"""Early warnings on the hand-worked example, as of days inside its quarters."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dsl.analysis.warnings import warnings_report
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError
from tests.dsl.analysis.conftest import Make

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
