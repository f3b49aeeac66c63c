"""Lost points on the hand-worked example, against the published results and hand computation."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from dsl.analysis.lost_report import lost_points
from dsl.facts.periods import Period
from tests.dsl.analysis.conftest import HANDWORKED, Make

Q1 = Period(2025, 1)
POINTS = {"K1": 30, "K2": 20, "K3": 20, "K4": 30, "G1": 40, "G2": 30, "G3": 30, "D1": 70, "D2": 30}


def _expected() -> dict[str, dict[str, Any]]:
    data = json.loads((HANDWORKED / "expected-2025Q1.json").read_text(encoding="utf-8"))
    return {r["subject"]: r for r in data["results"]}


def _report(make_source: Make, card: str = "county", **kw: Any) -> dict[str, Any]:
    src = make_source(**kw)
    ps = src.scores(Q1)
    assert ps is not None
    return lost_points(src, ps, card).as_json()


def _subject(report: dict[str, Any], subject: str) -> dict[str, Any]:
    return next(s for s in report["subjects"] if s["subject"] == subject)


def _indicator(subject: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(i for i in subject["indicators"] if i["indicator"] == ident)


def test_nanyue_k4_lost_four_fifty_to_two_inspection_issues(make_source: Make) -> None:
    k4 = _indicator(_subject(_report(make_source), "nanyue"), "K4")
    # f16 provincial (3) and f17 municipal (1.5): 30 − 4.5 = 25.5
    assert (k4["points"], k4["score"], k4["lost"]) == ("30.00", "25.50", "4.50")
    assert k4["facts"] == ["f16", "f17"]
    got = [(c["fact"], c["amount"], c["level"], c["evidence"]) for c in k4["causes"]]
    assert got == [("f16", "3.00", "省级", "湘税督〔2025〕12号"), ("f17", "1.50", "市级", None)]
    assert k4["weighted"] == "3.15"  # 70% of 4.5


def test_every_loss_is_points_minus_the_published_score(make_source: Make) -> None:
    expected = _expected()
    for card in ("county", "dept"):
        report = _report(make_source, card)
        assert {s["subject"] for s in report["subjects"]} == {
            k for k, v in expected.items() if v["scorecard"] == card
        }
        for s in report["subjects"]:
            want = expected[s["subject"]]
            assert s["final"] == want["final"] and s["base"] == want["base"]
            # the base with every indicator in full is 100 (weights × maxima)
            assert Decimal(s["lost"]) == 100 - Decimal(want["base"])
            for ind in s["indicators"]:
                score = Decimal(want["indicators"][ind["indicator"]])
                assert Decimal(ind["lost"]) == POINTS[ind["indicator"]] - score
                assert ind["missing"] == (ind["indicator"] in want["missing"])


def test_g3_loss_is_taken_from_the_published_score(make_source: Make) -> None:
    g3 = _indicator(_subject(_report(make_source), "nanyue"), "G3")
    # exactly 25.275, published 25.28: lost 30 − 25.28 = 4.72, not 4.725 rounded
    assert (g3["score"], g3["lost"]) == ("25.28", "4.72")
    assert g3["facts"] == ["f34", "f35", "f36", "f37"]


def test_missing_values_cost_all_points_without_a_fact(make_source: Make) -> None:
    k1 = _indicator(_subject(_report(make_source), "hengdong"), "K1")
    assert (k1["lost"], k1["missing"], k1["facts"]) == ("30.00", True, [])


def test_indicators_across_subjects(make_source: Make) -> None:
    rows = {r["indicator"]: r for r in _report(make_source)["indicators"]}
    # K4: nanyue 4.5, hengdong 36 deducted but floored at 0 → 30, hengshan 0
    assert rows["K4"]["total"] == "34.50" and rows["K4"]["lost_count"] == 2
    assert rows["K4"]["mean"] == "11.50"
    assert rows["K4"]["worst"] == {"lost": "30.00", "subjects": ["hengdong"]}
    assert (rows["K4"]["lead"], rows["K4"]["lead_name"]) == ("hy-policy", "税政科")
    # K1: nanyue 4.5 (98.5%), hengdong 30 (missing), hengshan 0 (101%)
    assert (rows["K1"]["total"], rows["K1"]["missing_count"]) == ("34.50", 1)


def test_departments_lost_and_joint_liability_by_source(make_source: Make) -> None:
    depts = {d["department"]: d for d in _report(make_source)["departments"]}
    policy = depts["hy-policy"]
    assert policy["lost"] == "34.50" and policy["units"] == 2
    joint = policy["joint"]
    # 12 provincial issues × 0.6 + 1 municipal × 0.3 + 50% of a 0.5 notice = 7.75, capped at 3
    assert (joint["received"], joint["before_cap"]) == ("3.00", "7.75")
    got = {(s["source"], s["link"]): (s["amount"], len(s["facts"])) for s in joint["sources"]}
    assert got == {
        ("hengdong", "dept_liability.issue"): ("6.60", 11),
        ("nanyue", "dept_liability.issue"): ("0.90", 2),
        ("nanyue", "dept_liability.notice"): ("0.25", 1),
    }
    # hy-office leads G1, G2, G3: 4 + (4.5 + 9) + (4.72 + 1.5 + 30)
    assert depts["hy-office"]["lost"] == "53.72"


def test_items_by_kind_and_level(make_source: Make) -> None:
    items = {(i["kind"], i["ref"], i["level"]): (i["count"], i["total"]) for i in
             _report(make_source)["items"]}  # fmt: skip
    assert items[("deduct", "K4", "省级")] == (12, "36.00")
    assert items[("deduct", "K4", "市级")] == (1, "1.50")
    assert items[("deduct", "G1", None)] == (2, "4.00")
    assert items[("penalty", "criticism_notice", "市级")] == (1, "0.50")
    # f39 and f40 share a matter: only f40 (national, 3) counts; hengshan has two national
    assert items[("bonus", "commendation", "国家级")] == (3, "9.00")


def test_against_the_previous_quarter_and_a_year_earlier(make_source: Make) -> None:
    extra = [
        {"id": "p1", "type": "inspection_issue", "subject": "nanyue", "date": "2024-11-05",
         "data": {"level": "provincial"}},
        {"id": "p2", "type": "revenue_completion", "subject": "nanyue", "period": "2024Q4",
         "data": {"value": 100}},
    ]  # fmt: skip
    report = _report(make_source, extra=extra)
    previous, year_ago = report["compared"]
    assert previous["available"] and previous["ruleset"]["year"] == 2024
    assert not year_ago["available"] and "2024Q1" in year_ago["reason"]
    nanyue = _subject(report, "nanyue")
    k4 = _indicator(nanyue, "K4")
    assert k4["previous"] == {
        "period": "2024Q4", "available": True, "points": "30.00", "score": "27.00",
        "lost": "3.00", "change": "1.50",
    }  # fmt: skip
    g3 = _indicator(nanyue, "G3")["previous"]
    assert not g3["available"] and "G3" in g3["reason"]  # 2024 has G4 instead
    k2 = _indicator(nanyue, "K2")["previous"]
    assert k2["points"] == "25.00" and "25.00 → 20.00" in k2["reason"]
    assert nanyue["previous"]["available"] and nanyue["previous"]["rank"] is not None
