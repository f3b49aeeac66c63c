"""Trends over eight quarters on the hand-worked example with a quarter of 2024 beside it."""

from __future__ import annotations

from dsl.analysis.trends import indicator_trend, subject_trend
from dsl.facts.periods import Period
from tests.dsl.analysis.conftest import Make

EXTRA = [
    {"id": "p1", "type": "inspection_issue", "subject": "nanyue", "date": "2024-11-05",
     "data": {"level": "provincial"}},
]  # fmt: skip


def test_a_subjects_last_eight_quarters(make_source: Make) -> None:
    got = subject_trend(make_source(extra=EXTRA), Period(2025, 1), "nanyue")
    rows = got["quarters"]
    assert [r["period"] for r in rows] == [
        "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1",
    ]  # fmt: skip
    assert got["name"] == "南岳区税务局"
    assert not rows[0]["available"] and "2023" in rows[0]["reason"]  # no 2023 ruleset
    assert not rows[3]["available"] and "没有记录任何事实" in rows[3]["reason"]
    last = rows[-1]
    assert (last["final"], last["rank"], last["n"], last["tier"]) == ("86.93", 2, 3, "second")
    # 2024Q4, 2024 rules (no floor score): K4 27, G1 40, the rest missing:
    # 0.7 × 27 + 0.3 × 40 = 30.9, behind the two others' 0.7 × 30 + 0.3 × 40 = 33
    assert (rows[-2]["final"], rows[-2]["rank"]) == ("30.90", 3)


def test_an_indicators_mean_over_the_quarters(make_source: Make) -> None:
    k4 = indicator_trend(make_source(extra=EXTRA), Period(2025, 1), "K4")["quarters"]
    # 2025Q1: nanyue 25.5, hengshan 30, hengdong 0 (floored): 55.5 / 3
    assert (k4[-1]["mean"], k4[-1]["mean_lost"], k4[-1]["subjects"]) == ("18.50", "11.50", 3)
    # 2024Q4: nanyue 27, the others 30
    assert k4[-2]["mean"] == "29.00"
    g3 = indicator_trend(make_source(extra=EXTRA), Period(2025, 1), "G3")["quarters"]
    assert not g3[-2]["available"] and "没有指标 G3" in g3[-2]["reason"]
